/* Media types of image documents and layers, OCI and Docker schema 2. */
#ifndef OCI_MEDIA_H
#define OCI_MEDIA_H

#include <stdbool.h>
#include <oci/error.h>

#define OCI_MT_INDEX		 "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST		 "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG		 "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER		 "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP	 "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD	 "application/vnd.oci.image.layer.v1.tar+zstd"
#define OCI_MT_DOCKER_LIST	 "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCI_MT_DOCKER_MANIFEST	 "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_MT_DOCKER_CONFIG	 "application/vnd.docker.container.image.v1+json"
#define OCI_MT_DOCKER_LAYER	 "application/vnd.docker.image.rootfs.diff.tar"
#define OCI_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define OCI_MT_DOCKER_LAYER_ZSTD "application/vnd.docker.image.rootfs.diff.tar.zstd"

enum oci_media_kind {
	OCI_MEDIA_UNKNOWN = 0,
	OCI_MEDIA_INDEX,
	OCI_MEDIA_MANIFEST,
	OCI_MEDIA_CONFIG,
	OCI_MEDIA_LAYER,
};

enum oci_compression {
	OCI_COMPRESS_NONE = 0,
	OCI_COMPRESS_GZIP,
	OCI_COMPRESS_ZSTD,
};

OCI_EXPORT enum oci_media_kind oci_media_kind(const char *media_type);
/* compression of a layer media type; -1 when it is not a layer type we read */
OCI_EXPORT int oci_media_layer_compression(const char *media_type);
OCI_EXPORT bool oci_media_is_docker(const char *media_type);
/* "tar+gzip" etc. for display */
OCI_EXPORT const char *oci_media_short(const char *media_type);

#endif
