/* Media types, OCI and Docker, and what each means to a reader. */
#include "internal.h"

static const struct {
	const char *type;
	enum oci_media_kind kind;
	int compression;
	const char *name;
} media_table[] = {
    {OCI_MT_INDEX, OCI_MEDIA_INDEX, -1, "oci index"},
    {OCI_MT_DOCKER_LIST, OCI_MEDIA_INDEX, -1, "docker manifest list"},
    {OCI_MT_MANIFEST, OCI_MEDIA_MANIFEST, -1, "oci manifest"},
    {OCI_MT_DOCKER_MANIFEST, OCI_MEDIA_MANIFEST, -1, "docker manifest"},
    {OCI_MT_CONFIG, OCI_MEDIA_CONFIG, -1, "oci config"},
    {OCI_MT_DOCKER_CONFIG, OCI_MEDIA_CONFIG, -1, "docker config"},
    {OCI_MT_LAYER, OCI_MEDIA_LAYER, OCI_COMPRESS_NONE, "tar"},
    {OCI_MT_LAYER_GZIP, OCI_MEDIA_LAYER, OCI_COMPRESS_GZIP, "tar+gzip"},
    {OCI_MT_LAYER_ZSTD, OCI_MEDIA_LAYER, OCI_COMPRESS_ZSTD, "tar+zstd"},
    {OCI_MT_DOCKER_LAYER, OCI_MEDIA_LAYER, OCI_COMPRESS_NONE, "docker tar"},
    {OCI_MT_DOCKER_LAYER_GZIP, OCI_MEDIA_LAYER, OCI_COMPRESS_GZIP, "docker tar+gzip"},
    {OCI_MT_DOCKER_LAYER_ZSTD, OCI_MEDIA_LAYER, OCI_COMPRESS_ZSTD, "docker tar+zstd"},
};

#define N_MEDIA (sizeof(media_table) / sizeof(media_table[0]))

static int media_find(const char *mt)
{
	if (!mt)
		return -1;
	for (size_t i = 0; i < N_MEDIA; i++)
		if (strcmp(media_table[i].type, mt) == 0)
			return (int)i;
	return -1;
}

enum oci_media_kind oci_media_kind(const char *mt)
{
	int i = media_find(mt);
	return i < 0 ? OCI_MEDIA_UNKNOWN : media_table[i].kind;
}

int oci_media_layer_compression(const char *mt)
{
	int i = media_find(mt);
	return i < 0 ? -1 : media_table[i].compression;
}

bool oci_media_is_docker(const char *mt)
{
	return mt && strncmp(mt, "application/vnd.docker.", 23) == 0;
}

const char *oci_media_short(const char *mt)
{
	int i = media_find(mt);
	return i < 0 ? (mt ? mt : "(none)") : media_table[i].name;
}
