/* Applying layers into a root filesystem, safely: every path resolved
 * inside the root through directory fds, whiteouts per the image-spec,
 * metadata set through fds; and the snapshot of what was written. */
#ifndef OCI_ROOTFS_H
#define OCI_ROOTFS_H

#include <signal.h>
#include <stdbool.h>
#include <oci/layout.h>
#include <oci/snapshot.h>

struct oci_apply_opts {
	bool rootless;		       /* no chown, no device nodes: both kept in the snapshot */
	volatile sig_atomic_t *cancel; /* when it becomes non-zero, stop with OCI_E_INTERRUPTED */
	/* called now and then: layer (1-based) of n, compressed bytes done of total */
	void (*progress)(void *arg, size_t layer, size_t n_layers, int64_t done, int64_t total);
	void *progress_arg;
	/* called with a message worth a note (a layer with duplicate entries) */
	void (*note)(void *arg, const char *msg);
	void *note_arg;
};

struct oci_rootfs;

/* dirfd: an existing, empty directory (duplicated; the caller keeps its fd) */
OCI_EXPORT int oci_rootfs_open(int dirfd, const struct oci_apply_opts *opts,
			       struct oci_rootfs **out, struct oci_error **err);
OCI_EXPORT void oci_rootfs_free(struct oci_rootfs *rf);
/* apply one layer; layer is 1-based of n_layers, for progress */
OCI_EXPORT int oci_rootfs_apply(struct oci_rootfs *rf, struct oci_layout *l,
				const struct oci_descriptor *layer,
				const struct oci_digest *diff_id, size_t layer_no, size_t n_layers,
				struct oci_error **err);
/* walk the result and record it (sorted); finishes rootless directory modes */
OCI_EXPORT int oci_rootfs_snapshot(struct oci_rootfs *rf, struct oci_snapshot **out,
				   struct oci_error **err);
/* the same written straight to dirfd/name as the record (oci_snapshot_write
 * of it, head giving source, manifest and config), without the snapshot in
 * memory: a million entries cost their directories' names, not 140 MB */
OCI_EXPORT int oci_rootfs_write_record(struct oci_rootfs *rf, const struct oci_snapshot *head,
				       int dirfd, const char *name, struct oci_error **err);
/* apply every layer of an image */
struct oci_image;
OCI_EXPORT int oci_rootfs_apply_image(struct oci_rootfs *rf, const struct oci_image *img,
				      struct oci_error **err);

#endif
