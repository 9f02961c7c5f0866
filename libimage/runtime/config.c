/* config.json as a whole: read strictly, then each part handed to the
 * file that owns it (process.c, ns.c, mount.c, hooks.c, cgroup.c,
 * seccomp.c); the linux object's small parts (maskedPaths, readonlyPaths,
 * devices, sysctl, rootfsPropagation) are parsed here. Nothing here is
 * called back by those files: the arrows run one way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "runtime.h"

/* ---- config.json: the whole document ---- */

void rt_config_free(struct rt_config *c)
{
	if (!c)
		return;
	rt_seccomp_free(c);
	cJSON_Delete(c->json);
	free(c->bundle);
	free(c->rootfs);
	rt_strv_free(c->args);
	rt_strv_free(c->env);
	free(c->cwd);
	free(c->apparmor);
	free(c->selinux);
	free(c->gids);
	free(c->rlimits);
	free(c->hostname);
	free(c->domainname);
	free(c->cg_path);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].dest);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].data);
	}
	free(c->mounts);
	for (size_t i = 0; i < c->n_join; i++)
		free(c->ns_join[i].path);
	free(c->ns_join);
	free(c->uidmap);
	free(c->gidmap);
	rt_strv_free(c->masked);
	rt_strv_free(c->readonly);
	for (size_t i = 0; i < c->n_devices; i++)
		free(c->devices[i].path);
	free(c->devices);
	rt_strv_free(c->sysctl);
	for (int k = 0; k < HOOK_N; k++) {
		for (size_t i = 0; i < c->hooks[k].n; i++) {
			free(c->hooks[k].v[i].path);
			rt_strv_free(c->hooks[k].v[i].args);
			rt_strv_free(c->hooks[k].v[i].env);
		}
		free(c->hooks[k].v);
	}
	free(c);
}

static int cfg_paths(const cJSON *lnx, const char *key, char ***out, struct oci_error **err)
{
	char **v;
	int r = rt_json_strings(lnx, key, &v, err);
	if (r < 0)
		return error_wrap(err, "linux");
	for (char **p = v; p && *p; p++) {
		if ((*p)[0] != '/') {
			r = error_set(err, OCI_E_INVALID, 0, "linux.%s: \"%s\" is not absolute",
				      key, *p);
			rt_strv_free(v);
			return r;
		}
		char *c = rt_clean_path(*p);
		free(*p);
		*p = c;
	}
	*out = v;
	return 0;
}

static int cfg_devices(struct rt_config *c, const cJSON *a, struct oci_error **err)
{
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return error_set(err, OCI_E_INVALID, 0, "linux.devices: not an array");
	c->devices = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(struct rt_device));
	const cJSON *o;
	cJSON_ArrayForEach (o, a) {
		size_t i = c->n_devices;
		struct rt_device *d = &c->devices[c->n_devices++];
		cleanup_free char *path = NULL, *type = NULL;
		uint32_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
		int r;
		if (!cJSON_IsObject(o))
			return error_set(err, OCI_E_INVALID, 0, "linux.devices[%zu]: not an object",
					 i);
		if ((r = rt_json_string(o, "path", true, &path, err)) < 0 ||
		    (r = rt_json_string(o, "type", true, &type, err)) < 0 ||
		    (r = rt_json_u32(o, "major", false, &major, err)) < 0 ||
		    (r = rt_json_u32(o, "minor", false, &minor, err)) < 0 ||
		    (r = rt_json_u32(o, "fileMode", false, &mode, err)) < 0 ||
		    (r = rt_json_u32(o, "uid", false, &uid, err)) < 0 ||
		    (r = rt_json_u32(o, "gid", false, &gid, err)) < 0)
			return error_wrap(err, "linux.devices[%zu]", i);
		if (path[0] != '/' || !type[0] || type[1] || !strchr("cbup", type[0]))
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.devices[%zu]: bad path or type", i);
		d->path = rt_clean_path(path);
		if (strncmp(d->path, "dev/", 4) != 0)
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.devices[%zu]: \"%s\" is not under /dev", i, path);
		d->type = type[0] == 'u' ? 'c' : type[0];
		d->major = major;
		d->minor = minor;
		d->mode = mode & 07777;
		d->uid = uid;
		d->gid = gid;
	}
	return 0;
}

static int cfg_sysctl(struct rt_config *c, const cJSON *o, struct oci_error **err)
{
	if (!o)
		return 0;
	if (!cJSON_IsObject(o))
		return error_set(err, OCI_E_INVALID, 0, "linux.sysctl: not an object");
	c->sysctl = xcalloc(2 * (size_t)cJSON_GetArraySize(o) + 1, sizeof(char *));
	size_t n = 0;
	const cJSON *kv;
	cJSON_ArrayForEach (kv, o) {
		const char *k = kv->string;
		if (!cJSON_IsString(kv))
			return error_set(err, OCI_E_INVALID, 0, "linux.sysctl.%s: not a string", k);
		if (!*k || strstr(k, "..") || strchr(k, '/') || k[0] == '.')
			return error_set(err, OCI_E_INVALID, 0, "linux.sysctl: bad key \"%s\"", k);
		/* only what the container's own namespaces hold */
		int need = 0;
		static const char *ipc[] = {
		    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
		for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
			if (strcmp(k, ipc[i]) == 0)
				need = CLONE_NEWIPC;
		if (strncmp(k, "fs.mqueue.", 10) == 0)
			need = CLONE_NEWIPC;
		if (strncmp(k, "net.", 4) == 0)
			need = CLONE_NEWNET;
		if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
			need = CLONE_NEWUTS;
		if (!need)
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "linux.sysctl: \"%s\" is not namespaced: refused", k);
		if (!(c->ns_new & need))
			return error_set(err, OCI_E_INVALID, 0,
					 "linux.sysctl: \"%s\" needs a namespace of its own", k);
		c->sysctl[n++] = xstrdup(k);
		c->sysctl[n++] = xstrdup(kv->valuestring);
	}
	return 0;
}

static int cfg_linux(struct rt_config *c, const cJSON *lnx, struct oci_error **err)
{
	int r;
	if (lnx && !cJSON_IsObject(lnx))
		return error_set(err, OCI_E_INVALID, 0, "linux: not an object");
	if ((r = rt_config_ns(c, lnx, err)) < 0)
		return r;
	if (!lnx)
		return 0;
	if ((r = cfg_paths(lnx, "maskedPaths", &c->masked, err)) < 0 ||
	    (r = cfg_paths(lnx, "readonlyPaths", &c->readonly, err)) < 0 ||
	    (r = cfg_devices(c, cJSON_GetObjectItemCaseSensitive(lnx, "devices"), err)) < 0 ||
	    (r = cfg_sysctl(c, cJSON_GetObjectItemCaseSensitive(lnx, "sysctl"), err)) < 0)
		return r;
	cleanup_free char *prop = NULL;
	if ((r = rt_json_string(lnx, "rootfsPropagation", false, &prop, err)) < 0)
		return error_wrap(err, "linux");
	if (prop && *prop) {
		c->rootprop = rt_mount_prop(prop) & ~(unsigned long)MS_REC;
		if (!c->rootprop)
			return error_set(err, OCI_E_UNSUPPORTED, 0,
					 "linux.rootfsPropagation \"%s\" is not supported", prop);
	}
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(lnx, "seccomp");
	if (sc && !cJSON_IsNull(sc) && (r = rt_seccomp_build(c, sc, err)) < 0)
		return r;
	if ((r = rt_config_cgroup(c, lnx, err)) < 0)
		return r;
	static const char *refused[] = {"intelRdt", "timeOffsets", "netDevices", "memoryPolicy"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(lnx, refused[i]))
			return error_set(err, OCI_E_UNSUPPORTED, 0, "linux.%s is not supported",
					 refused[i]);
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(lnx, "mountLabel");
	if (cJSON_IsString(ml) && *ml->valuestring)
		rt_warn("linux.mountLabel: SELinux labels are not implemented: ignored");
	const cJSON *pers = cJSON_GetObjectItemCaseSensitive(lnx, "personality");
	if (pers)
		return error_set(err, OCI_E_UNSUPPORTED, 0, "linux.personality is not supported");
	return 0;
}

static int cfg_parse(struct rt_config *c, char *const *args, struct oci_error **err)
{
	cJSON *j = c->json;
	int r;
	if (!cJSON_IsObject(j))
		return error_set(err, OCI_E_INVALID, 0, "not a JSON object");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "ociVersion");
	if (!cJSON_IsString(ver) || strncmp(ver->valuestring, "1.", 2) != 0)
		return error_set(err, OCI_E_UNSUPPORTED, 0, "ociVersion: missing or not 1.x");
	if (args) {
		cJSON *a = cJSON_CreateArray();
		size_t na = 0;
		for (char *const *p = args; *p; p++, na++)
			cJSON_AddItemToArray(a, cJSON_CreateString(*p));
		c->args = xcalloc(na + 1, sizeof(char *));
		for (size_t i = 0; i < na; i++)
			c->args[i] = xstrdup(args[i]);
		cJSON *proc = cJSON_GetObjectItemCaseSensitive(j, "process");
		if (cJSON_IsObject(proc) && cJSON_GetObjectItemCaseSensitive(proc, "args"))
			cJSON_ReplaceItemInObjectCaseSensitive(proc, "args", a);
		else if (cJSON_IsObject(proc))
			cJSON_AddItemToObject(proc, "args", a);
		else
			cJSON_Delete(a);
	}
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(j, "root");
	if (!cJSON_IsObject(root))
		return error_set(err, OCI_E_INVALID, 0, "root: missing or not an object");
	cleanup_free char *rp = NULL;
	if ((r = rt_json_string(root, "path", true, &rp, err)) < 0 ||
	    (r = rt_json_bool(root, "readonly", &c->root_ro, err)) < 0)
		return error_wrap(err, "root");
	c->rootfs = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", c->bundle, rp);
	if ((r = rt_config_process(c, cJSON_GetObjectItemCaseSensitive(j, "process"), err)) < 0 ||
	    (r = rt_json_string(j, "hostname", false, &c->hostname, err)) < 0 ||
	    (r = rt_json_string(j, "domainname", false, &c->domainname, err)) < 0 ||
	    (r = rt_config_mounts(c, cJSON_GetObjectItemCaseSensitive(j, "mounts"), err)) < 0 ||
	    (r = cfg_linux(c, cJSON_GetObjectItemCaseSensitive(j, "linux"), err)) < 0 ||
	    (r = rt_config_hooks(c, cJSON_GetObjectItemCaseSensitive(j, "hooks"), err)) < 0)
		return r;
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(j, "annotations"), *a;
	if (ann && !cJSON_IsObject(ann))
		return error_set(err, OCI_E_INVALID, 0, "annotations: not an object");
	cJSON_ArrayForEach (a, ann) {
		if (!cJSON_IsString(a))
			return error_set(err, OCI_E_INVALID, 0, "annotations.%s: not a string",
					 a->string);
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "solaris") ||
	    cJSON_GetObjectItemCaseSensitive(j, "windows") ||
	    cJSON_GetObjectItemCaseSensitive(j, "vm") || cJSON_GetObjectItemCaseSensitive(j, "zos"))
		return error_set(err, OCI_E_UNSUPPORTED, 0,
				 "a config for another platform (solaris, windows, vm, zos)");
	return 0;
}

int rt_config_load(const char *bundle, char *const *args, struct rt_config **out,
		   struct oci_error **err)
{
	cleanup_free char *abs = realpath(bundle, NULL);
	if (!abs)
		return error_set(err, OCI_E_NOTFOUND, errno, "bundle \"%s\"", bundle);
	cleanup_free char *path = xasprintf("%s/config.json", abs);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_set(err, errno == ENOENT ? OCI_E_NOTFOUND : OCI_E_IO, errno, "open %s",
				 path);
	if (!S_ISREG(st.st_mode) || st.st_size > OCI_JSON_MAX)
		return error_set(err, OCI_E_INVALID, 0,
				 "%s: not a regular file of at most %u bytes", path, OCI_JSON_MAX);
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read_full(fd, buf, (size_t)st.st_size);
	if (n < 0)
		return error_set(err, OCI_E_IO, errno, "read %s", path);
	int r = rt_config_parse(buf, (size_t)n, abs, args, out, err);
	if (r < 0)
		return error_wrap(err, "%s", path);
	return 0;
}

int rt_config_parse(const char *buf, size_t len, const char *bundle, char *const *args,
		    struct rt_config **out, struct oci_error **err)
{
	*out = NULL;
	struct rt_config *c = xcalloc(1, sizeof(*c));
	c->bundle = xstrdup(bundle);
	int r = oci_json_parse(buf, len, &c->json, err);
	if (r == 0)
		r = cfg_parse(c, args, err);
	if (r < 0) {
		rt_config_free(c);
		return r;
	}
	*out = c;
	return 0;
}
