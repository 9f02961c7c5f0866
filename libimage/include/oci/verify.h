/* fsck for image layouts and archives: verify everything reachable from
 * index.json once, in parallel; repair what can be repaired without
 * guessing or losing anything. */
#ifndef OCI_VERIFY_H
#define OCI_VERIFY_H

#include <stdbool.h>
#include <oci/layout.h>

struct oci_problem {
	char *kind;   /* layout, index, missing, size, digest, mediatype, json, diffid, tar, ... */
	char *digest; /* or "-" */
	char *refs;   /* "v1,v2", or "-" */
	char *detail;
	bool note;    /* unreferenced blobs, stray files: reported, not counted */
	bool fixable; /* --repair can fix it */
};

struct oci_verify_report {
	size_t n;
	struct oci_problem *p;
	size_t n_problems, n_notes;
	size_t blobs;	 /* distinct blobs checked */
	long long bytes; /* bytes read */
};

OCI_EXPORT int oci_layout_verify(struct oci_layout *l, struct oci_verify_report **out,
				 struct oci_error **err);
OCI_EXPORT void oci_verify_report_free(struct oci_verify_report *r);

struct oci_repair_opts {
	bool dry_run;
	bool gc;
	/* called for each fix (or would-be fix) */
	void (*report)(void *arg, const char *kind, const char *digest, const char *refs,
		       const char *detail);
	void *arg;
};

/* Repair the layout directory at path in place (archives: the caller copies
 * first). Fixes are reported through o->report. */
OCI_EXPORT int oci_layout_repair(const char *path, const struct oci_repair_opts *o,
				 struct oci_error **err);
/* copy an archive (any source) into a new layout directory, blobs as they are */
OCI_EXPORT int oci_layout_export_dir(struct oci_layout *l, const char *dest,
				     struct oci_error **err);
/* the layout directory at layout (every ref) into the archive dest, of kind
 * OCI_LAYOUT_OCI_ARCHIVE or OCI_LAYOUT_DOCKER_ARCHIVE, through oci_copy's
 * writer (dest NULL: none); with remove_layout the directory is removed after */
OCI_EXPORT int oci_layout_export_archive(const char *layout, const char *dest,
					 enum oci_layout_kind kind, bool remove_layout,
					 struct oci_error **err);

#endif
