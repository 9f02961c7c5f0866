/* Runtime bundles: rootfs/, config.json and the unpack record, created
 * under a temporary name and renamed into place only when whole. */
#ifndef OCI_BUNDLE_H
#define OCI_BUNDLE_H

#include <oci/image.h>
#include <oci/rootfs.h>

#define OCI_BUNDLE_RECORD "oci-unpack.record"

struct oci_unpack_opts {
	struct oci_apply_opts apply;
	bool rootfs_only;   /* the target is the root filesystem itself */
	const char *source; /* the image as the user named it, kept in the record */
};

OCI_EXPORT int oci_bundle_unpack(const struct oci_image *img, const char *path,
				 const struct oci_unpack_opts *opts, struct oci_error **err);

#endif
