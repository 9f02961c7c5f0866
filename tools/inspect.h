/* oci-inspect's modes that live in files of their own (tools/inspect-*.c);
 * oci-inspect.c keeps the option parsing and the dispatch. */
#ifndef TOOLS_INSPECT_H
#define TOOLS_INSPECT_H

#include <stdbool.h>
#include <oci/oci.h>

/* --history: the config's history, one row per entry, each with the layer
 * it made (history entries that are not empty_layer take the manifest's
 * layers in order); as a table or as one JSON document. Returns the exit
 * status. */
int inspect_history(const struct oci_image *img, bool json);

#endif
