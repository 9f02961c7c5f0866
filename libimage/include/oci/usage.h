/* Where an image's bytes go: per layer the bytes its regular files add and
 * how many of them later layers (or the layer itself) overwrite or delete,
 * computed on the merge engine's model of the unpacked tree, each layer read
 * once and file data skipped. Bytes are regular files' sizes, uncompressed;
 * a file with several hard links counts once. */
#ifndef OCI_USAGE_H
#define OCI_USAGE_H

#include <oci/image.h>

struct oci_usage_layer {
	int64_t added;	  /* bytes of the regular files it wrote */
	int64_t wasted;	  /* of those, bytes that are not in the final tree */
	size_t files;	  /* regular files it wrote */
	size_t whiteouts; /* whiteout entries in it */
	size_t hidden;	  /* names its whiteouts removed (a directory's contents too) */
	long history;	  /* index of the config's history entry that made it, or -1 */
};

/* a file whose bytes are wasted */
struct oci_usage_waste {
	char *path;
	int64_t size;
	size_t added, removed; /* layers, 0-based; equal: written twice in one layer */
	bool by_whiteout;      /* deleted (else written over or replaced) */
};

struct oci_usage {
	size_t n_layers;
	struct oci_usage_layer *layers;
	int64_t total;	   /* all layers' added bytes */
	int64_t effective; /* the bytes of the final tree */
	int64_t wasted;	   /* total - effective */
	size_t n_waste;	   /* the wasted files, largest first (then by path, layer) */
	struct oci_usage_waste *waste;
};

OCI_EXPORT int oci_image_usage(const struct oci_image *img, struct oci_usage **out,
			       struct oci_error **err);
OCI_EXPORT void oci_usage_free(struct oci_usage *u);

#endif
