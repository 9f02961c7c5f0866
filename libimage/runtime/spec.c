/* config.json: runc's defaults, and the image-spec's conversion of an image
 * config (Entrypoint+Cmd, Env, WorkingDir, User, Labels, StopSignal,
 * ExposedPorts, Volumes, and the image's identity as annotations). */
#include <errno.h>
#include <fcntl.h>
#include <oci/spec.h>
#include "../inroot.h"

static const char *spec_caps[] = {
    "CAP_AUDIT_WRITE", "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",	"CAP_FSETID",
    "CAP_KILL",	       "CAP_MKNOD",   "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",	"CAP_SETFCAP",
    "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID",	      "CAP_SYS_CHROOT",
};

static const char *spec_masked[] = {
    "/proc/acpi",	   "/proc/asound",     "/proc/kcore",	    "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",	   "/proc/scsi",
};

static const char *spec_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static cJSON *spec_strings(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void spec_mount(cJSON *mounts, const char *dest, const char *type, const char *source,
		       const char *const *opts, size_t n)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "destination", dest);
	cJSON_AddStringToObject(m, "type", type);
	cJSON_AddStringToObject(m, "source", source);
	if (n)
		cJSON_AddItemToObject(m, "options", spec_strings(opts, n));
	cJSON_AddItemToArray(mounts, m);
}

cJSON *oci_spec_default(bool rootless)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "ociVersion", "1.0.2");
	cJSON *proc = cJSON_AddObjectToObject(s, "process");
	cJSON_AddBoolToObject(proc, "terminal", 0);
	cJSON *user = cJSON_AddObjectToObject(proc, "user");
	cJSON_AddNumberToObject(user, "uid", 0);
	cJSON_AddNumberToObject(user, "gid", 0);
	const char *args[] = {"sh"};
	cJSON_AddItemToObject(proc, "args", spec_strings(args, 1));
	const char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			     "TERM=xterm"};
	cJSON_AddItemToObject(proc, "env", spec_strings(env, 2));
	cJSON_AddStringToObject(proc, "cwd", "/");
	cJSON *caps = cJSON_AddObjectToObject(proc, "capabilities");
	cJSON_AddItemToObject(caps, "bounding", spec_strings(spec_caps, N(spec_caps)));
	cJSON_AddItemToObject(caps, "effective", spec_strings(spec_caps, N(spec_caps)));
	cJSON_AddItemToObject(caps, "permitted", spec_strings(spec_caps, N(spec_caps)));
	cJSON *rl = cJSON_AddArrayToObject(proc, "rlimits");
	cJSON *nofile = cJSON_CreateObject();
	cJSON_AddStringToObject(nofile, "type", "RLIMIT_NOFILE");
	cJSON_AddNumberToObject(nofile, "hard", 1024);
	cJSON_AddNumberToObject(nofile, "soft", 1024);
	cJSON_AddItemToArray(rl, nofile);
	cJSON_AddBoolToObject(proc, "noNewPrivileges", 1);
	cJSON *root = cJSON_AddObjectToObject(s, "root");
	cJSON_AddStringToObject(root, "path", "rootfs");
	cJSON_AddBoolToObject(root, "readonly", 0);
	cJSON_AddStringToObject(s, "hostname", "oci");

	cJSON *mounts = cJSON_AddArrayToObject(s, "mounts");
	spec_mount(mounts, "/proc", "proc", "proc", NULL, 0);
	const char *dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
	spec_mount(mounts, "/dev", "tmpfs", "tmpfs", dev, N(dev));
	const char *pts[] = {"nosuid",	      "noexec",	   "newinstance",
			     "ptmxmode=0666", "mode=0620", "gid=5"};
	spec_mount(mounts, "/dev/pts", "devpts", "devpts", pts, rootless ? N(pts) - 1 : N(pts));
	const char *shm[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
	spec_mount(mounts, "/dev/shm", "tmpfs", "shm", shm, N(shm));
	const char *mq[] = {"nosuid", "noexec", "nodev"};
	spec_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", mq, N(mq));
	if (rootless) {
		const char *sys[] = {"rbind", "nosuid", "noexec", "nodev", "ro"};
		spec_mount(mounts, "/sys", "none", "/sys", sys, N(sys));
	} else {
		const char *sys[] = {"nosuid", "noexec", "nodev", "ro"};
		spec_mount(mounts, "/sys", "sysfs", "sysfs", sys, N(sys));
		const char *cg[] = {"nosuid", "noexec", "nodev", "relatime", "ro"};
		spec_mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", cg, N(cg));
	}

	cJSON *linux_ = cJSON_AddObjectToObject(s, "linux");
	if (rootless) {
		cJSON *um = cJSON_AddArrayToObject(linux_, "uidMappings");
		cJSON *gm = cJSON_AddArrayToObject(linux_, "gidMappings");
		cJSON *u = cJSON_CreateObject(), *g = cJSON_CreateObject();
		cJSON_AddNumberToObject(u, "containerID", 0);
		cJSON_AddNumberToObject(u, "hostID", (double)geteuid());
		cJSON_AddNumberToObject(u, "size", 1);
		cJSON_AddNumberToObject(g, "containerID", 0);
		cJSON_AddNumberToObject(g, "hostID", (double)getegid());
		cJSON_AddNumberToObject(g, "size", 1);
		cJSON_AddItemToArray(um, u);
		cJSON_AddItemToArray(gm, g);
	}
	cJSON *ns = cJSON_AddArrayToObject(linux_, "namespaces");
	const char *nss_root[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
	const char *nss_rootless[] = {"pid", "ipc", "uts", "mount", "cgroup", "user"};
	const char *const *nss = rootless ? nss_rootless : nss_root;
	for (size_t i = 0; i < 6; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", nss[i]);
		cJSON_AddItemToArray(ns, o);
	}
	cJSON_AddItemToObject(linux_, "maskedPaths", spec_strings(spec_masked, N(spec_masked)));
	cJSON_AddItemToObject(linux_, "readonlyPaths",
			      spec_strings(spec_readonly, N(spec_readonly)));
	return s;
}

/* ---- users and groups, from the rootfs ---- */

#define SPEC_DB_MAX (16u << 20)

static bool spec_number(const char *s, uint32_t *out)
{
	if (!*s)
		return false;
	char *e;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (*e || errno || v > UINT32_MAX || *s == '-' || *s == '+')
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Look up a line of a colon-separated database (name:x:id:gid-or-members:...):
 * by name when name is not NULL, else by the numeric id in field 2.
 * Returns a malloc'd copy of the line split into fields, or NULL. */
static char *spec_db_lookup(const char *db, const char *name, uint32_t id, char *f[4])
{
	for (const char *line = db; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		char *l = xstrndup(line, ll);
		int n = 0;
		for (char *p = l; p && n < 4; n++) {
			f[n] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		if (n == 4 && f[0][0] != '#') {
			char *colon = strchr(f[3], ':');
			if (colon)
				*colon = 0;
			uint32_t v;
			if (name ? strcmp(f[0], name) == 0 : (spec_number(f[2], &v) && v == id))
				return l;
		}
		free(l);
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static int spec_read_db(int rootfd, const char *path, char **out)
{
	size_t len;
	struct oci_error *e = NULL;
	int r = inroot_read_file(rootfd, path, SPEC_DB_MAX, out, &len, &e);
	oci_error_free(e);
	if (r < 0)
		*out = NULL;
	return r;
}

/* "user[:group]" -> uid, gid, additional gids, per the image-spec: names
 * are looked up in the rootfs's own /etc/passwd and /etc/group. */
static int spec_user(const char *spec, int rootfd, cJSON *user, struct oci_error **err)
{
	uint32_t uid = 0, gid = 0;
	cleanup_free char *copy = xstrdup(spec ? spec : "");
	char *gpart = strchr(copy, ':');
	if (gpart)
		*gpart++ = 0;
	const char *upart = copy;
	cleanup_free char *passwd = NULL, *group = NULL, *uname = NULL;
	spec_read_db(rootfd, "etc/passwd", &passwd);
	spec_read_db(rootfd, "etc/group", &group);
	if (*upart) {
		char *f[4];
		bool numeric = spec_number(upart, &uid);
		cleanup_free char *line =
		    passwd ? spec_db_lookup(passwd, numeric ? NULL : upart, uid, f) : NULL;
		if (line) {
			if (!spec_number(f[2], &uid) || !spec_number(f[3], &gid))
				return error_set(err, OCI_E_INVALID, 0,
						 "user \"%s\": bad line in the image's /etc/passwd",
						 upart);
			uname = xstrdup(f[0]);
		} else if (!numeric) {
			return error_set(err, OCI_E_NOTFOUND, 0,
					 "user \"%s\": not found in the image's /etc/passwd",
					 upart);
		}
	}
	if (gpart && *gpart) {
		char *f[4];
		if (!spec_number(gpart, &gid)) {
			cleanup_free char *line = group ? spec_db_lookup(group, gpart, 0, f) : NULL;
			if (!line || !spec_number(f[2], &gid))
				return error_set(
				    err, OCI_E_NOTFOUND, 0,
				    "group \"%s\": not found in the image's /etc/group", gpart);
		}
	}
	cJSON_ReplaceItemInObject(user, "uid", cJSON_CreateNumber(uid));
	cJSON_ReplaceItemInObject(user, "gid", cJSON_CreateNumber(gid));
	/* supplementary groups: those of /etc/group that list the user by name.
	 * conversion.md says both that a converter SHOULD set them and that it
	 * SHOULD NOT when the user is numeric or a group is named: we take the
	 * narrower rule, as runc's and Docker's "uid" users get no groups from
	 * the image, so that "1000" means exactly uid 1000 (see docs) */
	if (uname && group && !(gpart && *gpart) && !spec_number(upart, &(uint32_t){0})) {
		cJSON *add = cJSON_CreateArray();
		for (const char *line = group; line && *line;) {
			const char *nl = strchr(line, '\n');
			size_t ll = nl ? (size_t)(nl - line) : strlen(line);
			cleanup_free char *l = xstrndup(line, ll);
			line = nl ? nl + 1 : NULL;
			char *p1 = strchr(l, ':'), *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
			char *p3 = p2 ? strchr(p2 + 1, ':') : NULL;
			if (!p3)
				continue;
			*p3 = 0;
			uint32_t g;
			if (!spec_number(p2 + 1, &g) || g == gid)
				continue;
			char *save = NULL;
			for (char *m = strtok_r(p3 + 1, ",", &save); m;
			     m = strtok_r(NULL, ",", &save))
				if (strcmp(m, uname) == 0) {
					cJSON_AddItemToArray(add, cJSON_CreateNumber(g));
					break;
				}
		}
		if (cJSON_GetArraySize(add) > 0)
			cJSON_AddItemToObject(user, "additionalGids", add);
		else
			cJSON_Delete(add);
	}
	return 0;
}

static void spec_annotate(cJSON *ann, const char *k, const char *v)
{
	if (v && !cJSON_GetObjectItemCaseSensitive(ann, k))
		cJSON_AddStringToObject(ann, k, v);
}

/* an object's keys, comma-separated, as one annotation (ExposedPorts, Volumes) */
static void spec_annotate_keys(cJSON *ann, const char *key, const cJSON *obj)
{
	if (!obj || cJSON_GetArraySize(obj) == 0)
		return;
	size_t len = 1;
	const cJSON *k;
	cJSON_ArrayForEach (k, obj)
		len += strlen(k->string) + 1;
	char *v = xmalloc(len), *w = v;
	cJSON_ArrayForEach (k, obj) {
		size_t n = strlen(k->string);
		if (w != v)
			*w++ = ',';
		memcpy(w, k->string, n);
		w += n;
	}
	*w = 0;
	spec_annotate(ann, key, v);
	free(v);
}

/* an array of strings, comma-separated, as one annotation (os.features) */
static void spec_annotate_strings(cJSON *ann, const char *key, const cJSON *arr)
{
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return;
	size_t len = 1;
	const cJSON *it;
	cJSON_ArrayForEach (it, arr)
		if (cJSON_IsString(it))
			len += strlen(it->valuestring) + 1;
	char *v = xmalloc(len), *w = v;
	cJSON_ArrayForEach (it, arr) {
		if (!cJSON_IsString(it))
			continue;
		size_t n = strlen(it->valuestring);
		if (w != v)
			*w++ = ',';
		memcpy(w, it->valuestring, n);
		w += n;
	}
	*w = 0;
	if (w != v)
		spec_annotate(ann, key, v);
	free(v);
}

int oci_spec_from_image(const struct oci_config *cfg, int rootfd, bool rootless, cJSON **out,
			struct oci_error **err)
{
	cJSON *s = oci_spec_default(rootless);
	cJSON *proc = cJSON_GetObjectItemCaseSensitive(s, "process");
	/* args: Entrypoint then Cmd */
	cJSON *args = cJSON_CreateArray();
	for (char **p = cfg->entrypoint; p && *p; p++)
		cJSON_AddItemToArray(args, cJSON_CreateString(*p));
	for (char **p = cfg->cmd; p && *p; p++)
		cJSON_AddItemToArray(args, cJSON_CreateString(*p));
	if (cJSON_GetArraySize(args) == 0)
		cJSON_AddItemToArray(args, cJSON_CreateString("sh"));
	cJSON_ReplaceItemInObject(proc, "args", args);
	if (cfg->env) {
		cJSON *env = cJSON_CreateArray();
		bool has_path = false;
		for (char **p = cfg->env; *p; p++) {
			cJSON_AddItemToArray(env, cJSON_CreateString(*p));
			has_path |= strncmp(*p, "PATH=", 5) == 0;
		}
		if (!has_path)
			cJSON_AddItemToArray(
			    env, cJSON_CreateString("PATH=/usr/local/sbin:/usr/local/bin:/usr/"
						    "sbin:/usr/bin:/sbin:/bin"));
		cJSON_ReplaceItemInObject(proc, "env", env);
	}
	if (cfg->workdir && *cfg->workdir)
		cJSON_ReplaceItemInObject(proc, "cwd", cJSON_CreateString(cfg->workdir));
	int r = spec_user(cfg->user, rootfd, cJSON_GetObjectItemCaseSensitive(proc, "user"), err);
	if (r < 0) {
		cJSON_Delete(s);
		return error_wrap(err, "config User");
	}
	cJSON *ann = cJSON_AddObjectToObject(s, "annotations");
	if (cfg->labels) {
		const cJSON *l;
		cJSON_ArrayForEach (l, cfg->labels) {
			spec_annotate(ann, l->string, l->valuestring);
		}
	}
	spec_annotate(ann, "org.opencontainers.image.os", cfg->os);
	spec_annotate(ann, "org.opencontainers.image.architecture", cfg->architecture);
	spec_annotate(ann, "org.opencontainers.image.variant", cfg->variant);
	/* not parsed into struct oci_config: straight from the document */
	const cJSON *osv = cJSON_GetObjectItemCaseSensitive(cfg->root, "os.version");
	if (cJSON_IsString(osv) && *osv->valuestring)
		spec_annotate(ann, "org.opencontainers.image.os.version", osv->valuestring);
	spec_annotate_strings(ann, "org.opencontainers.image.os.features",
			      cJSON_GetObjectItemCaseSensitive(cfg->root, "os.features"));
	spec_annotate(ann, "org.opencontainers.image.author", cfg->author);
	spec_annotate(ann, "org.opencontainers.image.created", cfg->created);
	spec_annotate(ann, "org.opencontainers.image.stopSignal", cfg->stop_signal);
	spec_annotate_keys(ann, "org.opencontainers.image.exposedPorts", cfg->exposed_ports);
	/* Volumes: mount points the runtime should provide; record them (a
	 * runtime-spec has no anonymous volumes) so that a caller can bind them,
	 * under our own key: the image-spec defines no volumes annotation, and
	 * org.opencontainers.image.* is reserved to the keys it defines */
	spec_annotate_keys(ann, OCI_ANNOTATION_VOLUMES, cfg->volumes);
	*out = s;
	return 0;
}
