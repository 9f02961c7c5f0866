/* Committing: a changeset (bundle), a directory or a ready layer, with a
 * parent image or from scratch, into a new layer, config, manifest (and,
 * for a parent chosen from an index, a new index) and a ref. */
#ifndef OCI_COMMIT_H
#define OCI_COMMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <oci/changeset.h>
#include <oci/image.h>

struct oci_kv {
	const char *key;
	const char *value;
};

struct oci_commit_opts {
	/* the source: at most one of bundle, dir, layer_file ("-" = stdin) */
	const char *bundle;
	const char *dir;
	const char *layer_file;
	const char *from; /* the parent image (default for a bundle: where it came from) */
	const char *dest; /* IMAGE:REF */
	const struct oci_platform *platform; /* to choose the parent, and for a scratch image */

	int compression; /* OCI_COMPRESS_* */
	int level;
	int64_t timestamp; /* >= 0: reproducible, created = this, mtimes clamped */
	bool squash, allow_empty, single_platform;
	/* a bundle's record is left describing what it was unpacked from (by
	 * default it is rewritten to describe the committed image) */
	bool keep_record;

	/* config edits; NULL / 0 = unchanged */
	const char *entrypoint; /* a JSON array, or a string run by /bin/sh -c */
	const char *cmd;
	const char *const *env; /* K=V, NULL-terminated */
	const char *workdir;
	const char *user;
	const struct oci_kv *labels;
	size_t n_labels;
	const char *const *expose; /* PORT[/PROTO] */
	const char *const *volumes;
	const char *stop_signal;
	const char *author;
	const char *message; /* history comment */
	const char *created_by;
	const struct oci_kv *annotations;
	size_t n_annotations; /* on the manifest */
};

struct oci_commit_result {
	struct oci_digest manifest; /* the new manifest */
	struct oci_digest top;	    /* what REF points at (an index for a multi-platform parent) */
	bool layer_added;
	struct oci_layer_result layer;
	size_t changes;
};

/* Is key in the image-spec's reserved org.opencontainers.image.* namespace
 * without being one of the keys the spec defines (annotations.md and
 * conversion.md)? Such a key in --annotation or --label earns a warning. */
OCI_EXPORT bool oci_annotation_undefined(const char *key);

OCI_EXPORT int oci_commit(const struct oci_commit_opts *o, struct oci_commit_result *res,
			  struct oci_error **err);

#endif
