/* An image's root filesystem computed from its layers in memory (path ->
 * metadata and content digest), without unpacking: for diffs between
 * images, `oci-inspect --merged` and the merged tar stream. */
#ifndef OCI_MERGE_H
#define OCI_MERGE_H

#include <oci/changeset.h>
#include <oci/image.h>

/* the merged tree as a snapshot (ino/ctime unset; digests of regular files set) */
OCI_EXPORT int oci_image_merge(const struct oci_image *img, struct oci_snapshot **out,
			       struct oci_error **err);
/* the same, with every regular file's content kept in an unlinked spool file
 * (in $TMPDIR, else /tmp) that the snapshot carries (see struct
 * oci_snapshot): for writing a changeset between images as a layer, each
 * layer read once. Memory stays bounded by the number of paths. */
OCI_EXPORT int oci_image_merge_content(const struct oci_image *img, struct oci_snapshot **out,
				       struct oci_error **err);
/* two images' trees compared (content by digest) */
OCI_EXPORT int oci_changeset_images(const struct oci_image *a, const struct oci_image *b,
				    const struct oci_diff_opts *o, struct oci_changeset **out,
				    struct oci_error **err);
/* two trees known only by their snapshots (both taken over by the changeset) */
OCI_EXPORT int oci_changeset_snapshots(struct oci_snapshot *a, struct oci_snapshot *b,
				       const struct oci_diff_opts *o, struct oci_changeset **out,
				       struct oci_error **err);
/* the merged root filesystem as one tar stream on out_fd, whiteouts applied */
OCI_EXPORT int oci_image_export(const struct oci_image *img, int out_fd, struct oci_error **err);

#endif
