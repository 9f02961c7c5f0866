/* Naming and resolving an image: "PATH", "PATH:REF", "PATH@DIGEST", then
 * index -> (nested indexes, by platform) -> manifest -> config. */
#ifndef OCI_IMAGE_H
#define OCI_IMAGE_H

#include <stdbool.h>
#include <oci/layout.h>
#include <oci/media.h>

/* Bounds of every walk from a descriptor through indexes (resolution, node
 * loading, verify, repair): far above real images, and what keeps a small
 * hostile layout (an index naming one child many times, a DAG whose paths
 * number 2^40) from costing more than its size. Past one: OCI_E_LIMIT. */
#define OCI_MAX_INDEX_DEPTH 8	   /* indexes nested in indexes */
#define OCI_MAX_WALK_NODES  10000  /* distinct indexes and manifests one walk loads */
#define OCI_MAX_WALK_EDGES  100000 /* descriptors one walk follows */

struct oci_image_ref {
	char *path;
	char *ref; /* NULL when none */
	bool has_digest;
	struct oci_digest digest;
};

/* Splits spec per the contract: when spec as a whole exists it is the path;
 * otherwise at the last ':' or '@' after the last '/'. */
OCI_EXPORT int oci_image_ref_parse(const char *spec, struct oci_image_ref *out,
				   struct oci_error **err);
OCI_EXPORT void oci_image_ref_release(struct oci_image_ref *r);

/* Longest ref a tool writes; the grammar has no bound, our index.json has. */
#define OCI_REF_NAME_MAX 4096
/* 0 when ref matches the image-spec's ref grammar (annotations.md,
 * org.opencontainers.image.ref.name); else OCI_E_USAGE naming it. Every
 * writer of a ref checks it before it writes anything. */
OCI_EXPORT int oci_ref_name_check(const char *ref, struct oci_error **err);

/* The top-level descriptor named by ref (REF, @DIGEST, or the only one). */
OCI_EXPORT int oci_layout_select(struct oci_layout *l, const struct oci_image_ref *r,
				 struct oci_descriptor *out, struct oci_error **err);

struct oci_image {
	struct oci_layout *layout;    /* borrowed */
	struct oci_descriptor top;    /* what the ref named (index or manifest) */
	struct oci_descriptor desc;   /* the manifest chosen */
	struct oci_platform platform; /* the platform it was chosen for (or its own) */
	struct oci_manifest *manifest;
	struct oci_config *config;
};

/* Fetch and validate an index blob. */
OCI_EXPORT int oci_index_load(struct oci_layout *l, const struct oci_descriptor *d,
			      struct oci_index **out, struct oci_error **err);
/* Load the manifest described by d (resolving indexes for platform; NULL =
 * host) and its config; both verified and validated. */
OCI_EXPORT int oci_image_load(struct oci_layout *l, const struct oci_descriptor *d,
			      const struct oci_platform *platform, struct oci_image **out,
			      struct oci_error **err);
OCI_EXPORT void oci_image_free(struct oci_image *img);

/* Everything at once: open spec's layout, select, load. The layout is owned by the image. */
OCI_EXPORT int oci_image_open(const char *spec, const struct oci_platform *platform,
			      struct oci_layout **layout, struct oci_image **out,
			      struct oci_error **err);

/* Everything reachable from a descriptor, loaded and validated: indexes
 * with their children (only those for filter when not NULL; attestation
 * entries for unknown/unknown are skipped), manifests with their configs.
 * Indexes may name one child many times (a DAG): each distinct document is
 * read, verified and parsed once per load (nodes showing it share it: index
 * and image belong to the load, valid until it is freed), and a descriptor
 * met again below the same top-level entry is a node with `same` set
 * (pointing to the node that shows the content) and nothing below it, so
 * that the result (and anything printed from it) stays proportional to the
 * layout, not to its number of paths. The walk bounds hold for a whole
 * load. */
struct oci_node {
	struct oci_descriptor desc;
	enum oci_media_kind kind;
	struct oci_index *index;   /* kind INDEX */
	struct oci_node *children; /* kind INDEX */
	size_t n_children;
	struct oci_image *image;     /* kind MANIFEST */
	const struct oci_node *same; /* a repeat: the first node of this content, or NULL */
	size_t id;		     /* distinct contents numbered from 0 in load order */
};

OCI_EXPORT int oci_node_load(struct oci_layout *l, const struct oci_descriptor *d,
			     const struct oci_platform *filter, struct oci_node **out,
			     struct oci_error **err);
/* n descriptors (a layout's top level) in one load: each is shown whole
 * (repeats are marked below each one), documents are shared between them,
 * the bounds count them all. *out is an array of n nodes, freed with
 * oci_nodes_free(*out, n); oci_node_free() frees what oci_node_load gave. */
OCI_EXPORT int oci_nodes_load(struct oci_layout *l, const struct oci_descriptor *d, size_t n,
			      const struct oci_platform *filter, struct oci_node **out,
			      struct oci_error **err);
OCI_EXPORT void oci_node_free(struct oci_node *n);
OCI_EXPORT void oci_nodes_free(struct oci_node *v, size_t n);

#endif
