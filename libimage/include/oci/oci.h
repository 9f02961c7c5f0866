/* libimage: reading, verifying and writing OCI images. */
#ifndef OCI_OCI_H
#define OCI_OCI_H

#include <oci/error.h>
#include <oci/digest.h>
#include <oci/json.h>
#include <oci/media.h>
#include <oci/document.h>
#include <oci/layout.h>
#include <oci/image.h>
#include <oci/layer.h>
#include <oci/snapshot.h>
#include <oci/rootfs.h>
#include <oci/spec.h>
#include <oci/bundle.h>
#include <oci/changeset.h>
#include <oci/layout_write.h>
#include <oci/commit.h>
#include <oci/copy.h>
#include <oci/merge.h>
#include <oci/verify.h>
#include <oci/usage.h>

OCI_EXPORT const char *oci_version(void);

#endif
