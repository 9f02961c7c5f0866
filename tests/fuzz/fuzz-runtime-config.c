/* Fuzz the runtime's reading of config.json (rt_config_parse: the document
 * into the structures create works from; nothing is created or run). No
 * crash, leak or hang; an accepted config holds what the runtime relies on
 * (relative cleaned paths, absolute hook paths, bounded numbers), and a
 * refused one says why. */
#include <limits.h>
#include <oci/oci.h>
#include "fuzz.h"
#include "runtime/runtime.h"

static void check_rel(const char *p)
{
	CHECK(p != NULL);
	CHECK(p[0] != '/');
	CHECK(strstr(p, "//") == NULL);
}

static void check_config(const struct rt_config *c)
{
	CHECK(c->json != NULL);
	CHECK(c->rootfs != NULL && c->rootfs[0]);
	CHECK(c->args != NULL && c->args[0] != NULL);
	CHECK(c->cwd != NULL && c->cwd[0] == '/');
	for (char **e = c->env; e && *e; e++)
		CHECK(strchr(*e, '=') != NULL);
	CHECK(c->n_gids <= NGROUPS_MAX);
	CHECK(!c->has_umask || c->umask <= 0777);
	CHECK(!c->has_oom || (c->oom_score_adj >= -1000 && c->oom_score_adj <= 1000));
	for (size_t i = 0; i < c->n_rlimits; i++) {
		CHECK(c->rlimits[i].resource >= 0);
		CHECK(c->rlimits[i].lim.rlim_cur <= c->rlimits[i].lim.rlim_max);
	}
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rt_mount *m = &c->mounts[i];
		check_rel(m->dest);
		CHECK(m->dest[0] != 0);
		CHECK(m->data != NULL);
		CHECK(!m->bind || (m->source && m->source[0] == '/'));
		CHECK(m->bind || (m->type && m->type[0]));
	}
	for (char **p = c->masked; p && *p; p++)
		check_rel(*p);
	for (char **p = c->readonly; p && *p; p++)
		check_rel(*p);
	for (size_t i = 0; i < c->n_devices; i++) {
		CHECK(strncmp(c->devices[i].path, "dev/", 4) == 0);
		CHECK(strchr("cbp", c->devices[i].type) != NULL);
		CHECK(c->devices[i].mode <= 07777);
	}
	for (char **p = c->sysctl; p && *p; p += 2)
		CHECK(p[1] != NULL && strchr(p[0], '/') == NULL);
	for (int k = 0; k < HOOK_N; k++)
		for (size_t i = 0; i < c->hooks[k].n; i++) {
			const struct rt_hook *h = &c->hooks[k].v[i];
			CHECK(h->path && h->path[0] == '/');
			CHECK(h->args && h->args[0]);
			CHECK(h->timeout >= 0 && h->timeout <= 86400 * 365);
		}
	/* the state given to hooks is JSON again */
	char *st = rt_state_json(c, "fuzz", "creating", 1);
	cJSON *j = NULL;
	struct oci_error *err = NULL;
	CHECK(oci_json_parse(st, strlen(st), &j, &err) == 0);
	cJSON_Delete(j);
	free(st);
}

static void quiet(const char *msg)
{
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const args[] = {"sh", "-c", "true", NULL};
	oci_runtime_set_warn(quiet);
	struct rt_config *c = NULL;
	struct oci_error *err = NULL;
	/* -- CMD replacing process.args, on half the inputs */
	char *const *a = size && (data[size - 1] & 1) ? args : NULL;
	int r = rt_config_parse((const char *)data, size, "/bundle", a, &c, &err);
	if (r == 0) {
		CHECK(c != NULL);
		CHECK(err == NULL);
		check_config(c);
		if (a)
			CHECK(strcmp(c->args[0], "sh") == 0 && c->args[3] == NULL);
		rt_config_free(c);
	} else {
		CHECK(r < 0);
		CHECK(c == NULL);
		CHECK_ERR(r, err);
	}
	oci_error_free(err);
	return 0;
}
