/* Strict JSON for image documents: bounded in size, parsed with cJSON, then
 * refused if it has trailing garbage, duplicate keys or embedded NULs. */
#ifndef OCI_JSON_H
#define OCI_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include <oci/error.h>

#define OCI_JSON_MAX (4u << 20) /* 4 MiB: far above any real manifest or config */

OCI_EXPORT int oci_json_parse(const char *buf, size_t len, cJSON **out, struct oci_error **err);

#endif
