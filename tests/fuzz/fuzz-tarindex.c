/* Fuzz the tar member index: any bytes, no crash, no unbounded
 * allocation; an index that is built is sorted, unique, cleaned and points
 * inside the archive. */
#include "tarindex.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_index ix = {0};
	struct oci_error *err = NULL;
	int r = tar_index_build_mem(data, size, &ix, &err);
	if (r < 0) {
		CHECK_ERR(r, err);
		CHECK(r == OCI_E_INVALID || r == OCI_E_LIMIT);
		CHECK(ix.n == 0 && ix.m == NULL && ix.n_bad == 0);
		oci_error_free(err);
		return 0;
	}
	CHECK(err == NULL);
	for (size_t i = 0; i < ix.n; i++) {
		const struct tar_member *m = &ix.m[i];
		CHECK(m->name != NULL);
		if (i)
			CHECK(strcmp(ix.m[i - 1].name, m->name) < 0);
		CHECK(tar_index_find(&ix, m->name) == m);
		/* names are stored cleaned */
		char *c = oci_path_clean(m->name);
		CHECK(strcmp(c, m->name) == 0);
		free(c);
		/* data starts after a header that was read in full, on a block */
		CHECK(m->off >= 512 && m->off % 512 == 0);
		CHECK((uint64_t)m->off <= size);
		CHECK(m->size >= 0);
	}
	/* a refused link is no member, and says why */
	for (size_t i = 0; i < ix.n_bad; i++) {
		CHECK(ix.bad[i].name != NULL && ix.bad[i].why != NULL);
		CHECK(tar_index_find(&ix, ix.bad[i].name) == NULL);
		CHECK(tar_index_refused(&ix, ix.bad[i].name) != NULL);
	}
	tar_index_release(&ix);
	CHECK(ix.n == 0 && ix.m == NULL && ix.n_bad == 0 && ix.bad == NULL);
	return 0;
}
