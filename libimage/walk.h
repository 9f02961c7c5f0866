/* The bounds every walk through indexes shares (image resolution, node
 * loading, verify, repair): depth, distinct nodes, descriptors followed,
 * loops, and the caller's cancel flag. The numbers are in oci/image.h. */
#ifndef OCI_WALK_H
#define OCI_WALK_H

#include "internal.h"

struct walk_bounds {
	size_t nodes, edges;
	struct oci_digest path[OCI_MAX_INDEX_DEPTH + 1]; /* the indexes above, for loops */
};

/* One more distinct node d, or edges more descriptors followed from d:
 * OCI_E_LIMIT past a bound. */
HIDDEN int walk_node(struct walk_bounds *b, const struct oci_descriptor *d, struct oci_error **err);
HIDDEN int walk_count(struct walk_bounds *b, const struct oci_descriptor *d, size_t edges,
		      struct oci_error **err);
/* d entered as an index at depth (0 = named from the top): refused when
 * cancelled (OCI_E_INTERRUPTED), too deep (OCI_E_LIMIT) or a loop
 * (OCI_E_INVALID); not counted. */
HIDDEN int walk_descend(struct walk_bounds *b, const struct oci_descriptor *d, int depth,
			struct oci_error **err);
/* the same, counted as a node: d entered as an index at depth (0 = named from the top): refused
 * when cancelled (OCI_E_INTERRUPTED), too deep or one node too many (OCI_E_LIMIT), or a loop
 * (OCI_E_INVALID); counts it as a node. */
HIDDEN int walk_enter(struct walk_bounds *b, const struct oci_descriptor *d, int depth,
		      struct oci_error **err);

#endif
