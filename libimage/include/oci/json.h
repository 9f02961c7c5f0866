/* Strict JSON for image documents: bounded in size, parsed with cJSON, then
 * refused if it has trailing garbage, duplicate keys or embedded NULs. */
#ifndef OCI_JSON_H
#define OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <oci/error.h>

#define OCI_JSON_MAX (4u << 20) /* 4 MiB: far above any real manifest or config */

OCI_EXPORT int oci_json_parse(const char *buf, size_t len, cJSON **out, struct oci_error **err);

/* A number of a tree from oci_json_parse read exactly as an integer (its
 * text, never a double): false unless it is written as one (no fraction,
 * no exponent, no leading zeros) and lies within the bounds. */
OCI_EXPORT bool oci_json_int64(const cJSON *v, int64_t min, int64_t max, int64_t *out);
OCI_EXPORT bool oci_json_uint64(const cJSON *v, uint64_t max, uint64_t *out);

#endif
