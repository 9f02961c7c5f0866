/* Runtime-spec config.json: runc-like defaults, and the conversion of an
 * image config per the image-spec's conversion rules. */
#ifndef OCI_SPEC_H
#define OCI_SPEC_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include <oci/document.h>

/* config.json's annotation for the image's Volumes (comma-separated): our
 * own key, as the image-spec defines none and reserves its namespace */
#define OCI_ANNOTATION_VOLUMES "org.oci-tools.image.volumes"

/* A default config.json (what `runc spec [--rootless]` gives). */
OCI_EXPORT cJSON *oci_spec_default(bool rootless);
/* The config.json for an image config, users and groups resolved from the
 * rootfs's own /etc/passwd and /etc/group (rootfd), never the host's. */
OCI_EXPORT int oci_spec_from_image(const struct oci_config *cfg, int rootfd, bool rootless,
				   cJSON **out, struct oci_error **err);

#endif
