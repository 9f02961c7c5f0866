/* What the merge engine tells an observer as it builds the tree (usage.c's
 * accounting of where an image's bytes go), so that such an analysis runs on
 * the very model `--merged` and the image diff use, never a copy of its rules. */
#ifndef OCI_MERGE_INT_H
#define OCI_MERGE_INT_H

#include "internal.h"

struct merge_observer {
	/* a regular file's inode made by layer li (0-based), size bytes */
	void (*file_added)(void *arg, size_t li, int64_t size);
	/* a regular file's inode gone with its last name (path as the tree
	 * spelled it then): made by layer added_li, removed by layer removed_li,
	 * by a whiteout or by an entry written over it */
	void (*file_dropped)(void *arg, const char *path, int64_t size, size_t added_li,
			     size_t removed_li, bool by_whiteout);
	/* a whiteout entry of layer li that removed hidden names */
	void (*whiteout)(void *arg, size_t li, size_t hidden);
	void *arg;
};

/* merge img's layers (each read once, file data skipped) with o told */
HIDDEN int merge_observe(const struct oci_image *img, const struct merge_observer *o,
			 struct oci_error **err);

#endif
