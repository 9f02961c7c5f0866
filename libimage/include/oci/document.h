/* Image documents: index (and Docker manifest list), manifest (OCI and
 * Docker schema 2) and config, parsed from bytes that were already verified
 * against their descriptor, validated before any field is used. */
#ifndef OCI_DOCUMENT_H
#define OCI_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <oci/digest.h>
#include <oci/error.h>

struct oci_platform {
	char *os;
	char *architecture;
	char *variant; /* NULL if none */
	char *os_version;
};

struct oci_descriptor {
	char *media_type;
	struct oci_digest digest;
	int64_t size;
	struct oci_platform *platform; /* NULL if none */
	char *ref_name;		       /* org.opencontainers.image.ref.name, or NULL */
	const cJSON *annotations;      /* borrowed from the owning document, or NULL */
};

struct oci_index {
	int schema_version;
	char *media_type; /* NULL when absent */
	size_t n_manifests;
	struct oci_descriptor *manifests;
	cJSON *root;
	char *raw; /* the exact bytes */
	size_t raw_len;
};

struct oci_manifest {
	int schema_version;
	char *media_type; /* the document's mediaType, or NULL when absent */
	struct oci_descriptor config;
	size_t n_layers;
	struct oci_descriptor *layers;
	cJSON *root;
	char *raw;
	size_t raw_len;
};

struct oci_config {
	char *os;
	char *architecture;
	char *variant;
	char *created;
	char *author;
	char **entrypoint; /* NULL-terminated, or NULL */
	char **cmd;
	char **env;
	char *workdir;
	char *user;
	char *stop_signal;
	const cJSON *labels;	    /* object, or NULL */
	const cJSON *exposed_ports; /* object, or NULL */
	const cJSON *volumes;	    /* object, or NULL */
	const cJSON *history;	    /* array, or NULL */
	size_t n_diff_ids;
	struct oci_digest *diff_ids;
	cJSON *root;
	char *raw;
	size_t raw_len;
};

/* The parsers copy buf. media_type is what the descriptor said (may be NULL). */
OCI_EXPORT int oci_index_parse(const char *buf, size_t len, const char *media_type,
			       struct oci_index **out, struct oci_error **err);
OCI_EXPORT int oci_manifest_parse(const char *buf, size_t len, const char *media_type,
				  struct oci_manifest **out, struct oci_error **err);
OCI_EXPORT int oci_config_parse(const char *buf, size_t len, struct oci_config **out,
				struct oci_error **err);
OCI_EXPORT void oci_index_free(struct oci_index *idx);
OCI_EXPORT void oci_manifest_free(struct oci_manifest *m);
OCI_EXPORT void oci_config_free(struct oci_config *c);

/* Descriptor helpers */
OCI_EXPORT int oci_descriptor_parse(const cJSON *obj, struct oci_descriptor *out,
				    struct oci_error **err);
OCI_EXPORT void oci_descriptor_release(struct oci_descriptor *d);
/* a deep copy, except annotations: still borrowed from src's document */
OCI_EXPORT void oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src);

/* Platforms: "os/arch[/variant]" */
OCI_EXPORT int oci_platform_parse(const char *s, struct oci_platform *out, struct oci_error **err);
OCI_EXPORT void oci_platform_host(struct oci_platform *out);
OCI_EXPORT void oci_platform_release(struct oci_platform *p);
/* does the descriptor's platform p satisfy the wanted one? (arm64 without variant = v8) */
OCI_EXPORT int oci_platform_match(const struct oci_platform *want, const struct oci_platform *p);
/* "linux/arm64/v8" into buf */
OCI_EXPORT const char *oci_platform_format(const struct oci_platform *p, char *buf, size_t len);

#endif
