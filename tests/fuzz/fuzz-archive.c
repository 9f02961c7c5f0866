/* Fuzzed bytes as an archive (oci-archive or docker-save tar): open it,
 * select every ref, load the node tree of the whole layout and the image
 * of each entry, read a few blobs, verify. Nothing may crash, leak, hang
 * or cost more than the bounds of the walks allow; every failure fills
 * its error. */
#include <fcntl.h>
#include <unistd.h>
#include <oci/oci.h>
#include <oci/verify.h>
#include "fuzz.h"

static char path[64];

static void walk_nodes(const struct oci_node *n, size_t *count)
{
	(*count)++;
	if (n->same) {
		CHECK(n->children == NULL && n->image == NULL);
		CHECK(n->same->id == n->id);
		return;
	}
	if (n->kind == OCI_MEDIA_MANIFEST)
		CHECK(n->image && n->image->manifest && n->image->config);
	for (size_t i = 0; i < n->n_children; i++)
		walk_nodes(&n->children[i], count);
}

static void try_image(struct oci_layout *l, const struct oci_descriptor *d,
		      const struct oci_platform *p)
{
	struct oci_image *img = NULL;
	struct oci_error *err = NULL;
	int r = oci_image_load(l, d, p, &img, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		oci_error_free(err);
		return;
	}
	CHECK(img->config->n_diff_ids == img->manifest->n_layers);
	/* a few layer blobs, bounded */
	for (size_t i = 0; i < img->manifest->n_layers && i < 3; i++) {
		char *buf = NULL;
		size_t len;
		err = NULL;
		r = oci_blob_read_all(l, &img->manifest->layers[i], 1 << 20, &buf, &len, &err);
		if (r < 0)
			CHECK_ERR(r, err);
		oci_error_free(err);
		free(buf);
	}
	oci_image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/fuzz-archive-%d.tar", (int)getpid());
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);

	struct oci_layout *l = NULL;
	struct oci_error *err = NULL;
	int r = oci_layout_open(path, &l, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		oci_error_free(err);
		return 0;
	}
	const struct oci_index *idx = oci_layout_index(l);
	/* every entry, selected as a user would: by ref, then by digest */
	for (size_t i = 0; i < idx->n_manifests && i < 16; i++) {
		const struct oci_descriptor *d = &idx->manifests[i];
		struct oci_image_ref ref = {.path = (char *)path};
		if (d->ref_name) {
			ref.ref = d->ref_name;
		} else {
			ref.has_digest = true;
			ref.digest = d->digest;
		}
		struct oci_descriptor sel;
		err = NULL;
		r = oci_layout_select(l, &ref, &sel, &err);
		if (r < 0) {
			CHECK_ERR(r, err);
			oci_error_free(err);
			continue;
		}
		struct oci_platform amd64 = {.os = "linux", .architecture = "amd64"};
		try_image(l, &sel, NULL);
		try_image(l, &sel, &amd64);
		oci_descriptor_release(&sel);
	}
	/* the whole layout as one tree */
	struct oci_node *nodes = NULL;
	err = NULL;
	r = oci_nodes_load(l, idx->manifests, idx->n_manifests, NULL, &nodes, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		oci_error_free(err);
	} else {
		size_t count = 0;
		for (size_t i = 0; i < idx->n_manifests; i++)
			walk_nodes(&nodes[i], &count);
		CHECK(count <= OCI_MAX_WALK_EDGES + idx->n_manifests);
		oci_nodes_free(nodes, idx->n_manifests);
	}
	struct oci_verify_report *rep = NULL;
	err = NULL;
	r = oci_layout_verify(l, &rep, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		oci_error_free(err);
	} else {
		CHECK(rep->n == rep->n_problems + rep->n_notes);
		oci_verify_report_free(rep);
	}
	oci_layout_free(l);
	return 0;
}
