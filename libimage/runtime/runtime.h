/* What the runtime's files share: the parsed config.json, the container's
 * init (the child between clone and execve), its conversation with the
 * runtime over a socket, and the record of what it created in the rootfs. */
#ifndef OCI_RUNTIME_INT_H
#define OCI_RUNTIME_INT_H

#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include <oci/runtime.h>
#include "../internal.h"

/* ---- config.json ---- */

struct rt_mount {
	char *dest; /* cleaned, relative to the root ("proc", "dev/pts") */
	char *type;
	char *source;
	unsigned long flags;	     /* MS_* to set */
	unsigned long prop;	     /* MS_PRIVATE, MS_SHARED, ... (with MS_REC) */
	uint64_t attr_set, attr_clr; /* recursive MOUNT_ATTR_* (rro, rnosuid, ...) */
	char *data;		     /* the options that are not flags */
	bool bind, rec;
};

struct rt_hook {
	char *path;
	char **args; /* NULL-terminated, argv[0] included */
	char **env;  /* NULL: the runtime's environment */
	int timeout; /* seconds, 0: none */
};

enum rt_hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_N,
};

struct rt_hooks {
	struct rt_hook *v;
	size_t n;
};

struct rt_ns {
	int type; /* CLONE_NEW* */
	char *path;
};

struct rt_idmap {
	uint32_t container, host, size;
};

struct rt_rlimit {
	int resource;
	struct rlimit lim;
};

struct rt_device {
	char *path; /* relative, "dev/fuse" */
	char type;  /* c, b, u, p */
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

enum { CAP_BOUNDING, CAP_EFFECTIVE, CAP_INHERITABLE, CAP_PERMITTED, CAP_AMBIENT, CAP_SETS };

struct rt_config {
	cJSON *json;  /* the document, owned */
	char *bundle; /* absolute */
	char *rootfs; /* absolute or relative to bundle, as opened */
	bool root_ro;
	/* process */
	char **args, **env; /* NULL-terminated */
	char *cwd;
	bool terminal;
	unsigned short rows, cols;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t n_gids;
	mode_t umask;
	bool has_umask;
	struct rt_rlimit *rlimits;
	size_t n_rlimits;
	bool nnp;
	uint64_t caps[CAP_SETS];
	int oom_score_adj;
	bool has_oom;
	/* process.apparmorProfile, process.selinuxLabel: NULL when not given */
	char *apparmor, *selinux;
	char *hostname, *domainname;
	/* mounts, in order */
	struct rt_mount *mounts;
	size_t n_mounts;
	/* linux */
	int ns_new; /* CLONE_NEW* to create */
	int ns_all; /* created or joined */
	struct rt_ns *ns_join;
	size_t n_join;
	struct rt_idmap *uidmap, *gidmap;
	size_t n_uidmap, n_gidmap;
	char **masked, **readonly; /* NULL-terminated, relative */
	struct rt_device *devices;
	size_t n_devices;
	unsigned long rootprop;
	char **sysctl; /* key, value, key, value, ..., NULL */
	struct rt_hooks hooks[HOOK_N];
	void *seccomp; /* a libseccomp filter, or NULL */
	/* cgroups */
	char *cg_path;		/* linux.cgroupsPath cleaned; NULL: the default */
	bool cg_abs;		/* from the cgroup mount, else from our own cgroup */
	const cJSON *resources; /* linux.resources, in json */
};

/* cgroup.c: one write of a cgroup file (ctrl is a static string) */
struct rt_cg_write {
	const char *ctrl;
	char *file, *value;
};
/* the hierarchies mounted: a v1 one per set of controllers, or v2 */
struct rt_cg_hier {
	char *mnt;   /* mount point */
	char *ctrls; /* v1: "cpu,cpuacct"; v2: "" */
	char *own;   /* our own cgroup in it, relative ("" the root) */
	bool v2;
};
struct rt_cg_layout {
	struct rt_cg_hier *h;
	size_t n;
	bool v1; /* a v1 hierarchy with a controller: controllers go through v1 */
};
HIDDEN int rt_config_cgroup(struct rt_config *c, const cJSON *lnx, struct oci_error **err);
/* linux.resources as writes for v1 or v2 (c: linux.devices, may be NULL) */
HIDDEN int rt_cg_writes(const cJSON *res, const struct rt_config *c, bool v2,
			struct rt_cg_write **out, size_t *n, struct oci_error **err);
HIDDEN void rt_cg_writes_free(struct rt_cg_write *v, size_t n);
/* from the texts of /proc/self/mountinfo and /proc/self/cgroup */
HIDDEN int rt_cg_layout_parse(const char *mountinfo, const char *selfcg, struct rt_cg_layout *out);
HIDDEN void rt_cg_layout_free(struct rt_cg_layout *l);
HIDDEN bool rt_cg_has(const char *ctrls, const char *ctrl);
/* the container's cgroup in h, relative to its mount; NULL if it would
 * leave it */
HIDDEN char *rt_cg_resolve(const struct rt_cg_hier *h, const char *cg_path, bool cg_abs,
			   const char *id);
/* make the cgroups, set the resources, put pid in them; recorded in the
 * state directory */
HIDDEN int rt_cg_create(const struct rt_config *c, const char *id, pid_t pid, int statedir,
			struct oci_error **err);
/* the record of them readable and sound (delete checks before it kills) */
HIDDEN int rt_cg_check(int statedir, struct oci_error **err);
/* kill what is left in them and remove what create made */
HIDDEN int rt_cg_destroy(int statedir, struct oci_error **err);
HIDDEN int rt_cg_freeze(int statedir, bool freeze, struct oci_error **err);
HIDDEN int rt_cg_join(int statedir, pid_t pid, struct oci_error **err);
HIDDEN int rt_cg_pids(int statedir, pid_t **pids, size_t *n, struct oci_error **err);
HIDDEN int rt_cg_update(int statedir, const cJSON *res, struct oci_error **err);
HIDDEN int rt_cg_stats(int statedir, char **json, struct oci_error **err);
/* v2: the writes' devices rules as an eBPF program attached to cgfd */
HIDDEN int rt_cg_devices_bpf(int cgfd, const struct rt_cg_write *w, size_t n,
			     struct oci_error **err);

/* seccomp.c: linux.seccomp built at parse time, loaded by the init */
HIDDEN int rt_seccomp_build(struct rt_config *c, const cJSON *sc, struct oci_error **err);
HIDDEN int rt_seccomp_load(const struct rt_config *c, struct oci_error **err);
HIDDEN void rt_seccomp_free(struct rt_config *c);

/* Parse config.json of bundle (args replaces process.args when not NULL);
 * warnings for what is ignored go through rt_warn. */
HIDDEN int rt_config_load(const char *bundle, char *const *args, struct rt_config **out,
			  struct oci_error **err);
/* The same from the document's bytes (bundle absolute): parsing only,
 * nothing created or run; what the fuzz target drives. */
HIDDEN int rt_config_parse(const char *buf, size_t len, const char *bundle, char *const *args,
			   struct rt_config **out, struct oci_error **err);
HIDDEN void rt_config_free(struct rt_config *c);
/* the parts of each file: process.c, ns.c, mount.c, hooks.c */
HIDDEN int rt_config_process(struct rt_config *c, const cJSON *proc, struct oci_error **err);
HIDDEN int rt_config_ns(struct rt_config *c, const cJSON *lnx, struct oci_error **err);
HIDDEN int rt_config_mounts(struct rt_config *c, const cJSON *mounts, struct oci_error **err);
HIDDEN int rt_config_hooks(struct rt_config *c, const cJSON *hooks, struct oci_error **err);
HIDDEN void rt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* jsonutil.c: small JSON helpers (a wrong type is an error naming the
 * key), used by every file and using none of them. The files' arrows:
 * state.c -> config.c, exec.c, cgroup.c, ns.c, process.c, hooks.c,
 * mount.c; config.c -> the parsers of process.c, ns.c, mount.c, hooks.c,
 * cgroup.c, seccomp.c; process.c (the init) -> ns.c, mount.c, hooks.c,
 * seccomp.c; exec.c -> process.c, cgroup.c; all -> jsonutil.c, msg.c. */
HIDDEN int rt_json_string(const cJSON *o, const char *key, bool required, char **out,
			  struct oci_error **err);
HIDDEN int rt_json_strings(const cJSON *o, const char *key, char ***out, struct oci_error **err);
HIDDEN int rt_json_u32(const cJSON *o, const char *key, bool required, uint32_t *out,
		       struct oci_error **err);
HIDDEN int rt_json_bool(const cJSON *o, const char *key, bool *out, struct oci_error **err);
HIDDEN void rt_strv_free(char **v);
static inline void rt_strv_freep(char ***v)
{
	rt_strv_free(*v);
}
/* a NULL-terminated string list freed with its scope, on every path */
#define cleanup_strv __attribute__((cleanup(rt_strv_freep)))
/* "/a/./b//c/" -> "a/b/c"; ".." kept (resolution stays in the root) */
HIDDEN char *rt_clean_path(const char *p);

/* ---- the state of a container ---- */

/* The runtime-spec state document, as given to hooks. */
HIDDEN char *rt_state_json(const struct rt_config *c, const char *id, const char *status,
			   pid_t pid);

/* ---- the container's init ---- */

/* messages on the socket between the runtime (parent) and the init */
enum {
	MSG_GO = 'G',	 /* parent: ids mapped, go on; payload: host pid */
	MSG_HOOKS = 'H', /* init: namespaces ready, run prestart/createRuntime */
	MSG_HOOKS_DONE = 'D',
	MSG_WARN = 'W',
	MSG_ERROR = 'E',
	MSG_PTY = 'T', /* init: the terminal's master, as SCM_RIGHTS */
	MSG_READY = 'R',
	MSG_COMMIT = 'C',  /* parent: the state is saved, wait for start */
	MSG_CREATE = 'M',  /* init: create "KIND MODE DEV NAME\0TARGET" in the dir passed */
	MSG_CREATED = 'K', /* parent: done, payload the errno */
	MSG_PID = 'P',	   /* exec's joiner: the process's host pid */
};

struct rt_child {
	const struct rt_config *cfg;
	const char *id;
	int sock;   /* to the runtime */
	int fifo;   /* exec.fifo, opened O_RDWR: read blocks until start writes */
	int record; /* append-only list of what we created in the rootfs */
	int nullfd; /* the host's /dev/null, O_PATH, for maskedPaths */
	pid_t hostpid;
	bool no_new_keyring;
};

/* msg.c */
HIDDEN int rt_msg_send(int sock, char type, const void *data, size_t len, int fd);
/* receive one message; *data is malloc'd and NUL-terminated; *fd when passed */
HIDDEN int rt_msg_recv(int sock, char *type, char **data, size_t *len, int *fd);
/* --console-socket: send a terminal's master to the listener at path */
HIDDEN int rt_console_send(const char *path, int master, struct oci_error **err);
/* the init's whole life; never returns */
HIDDEN __attribute__((noreturn)) void rt_child_main(struct rt_child *ch);
/* in the init: report a failure to the runtime and die */
HIDDEN __attribute__((noreturn)) void rt_child_fail(struct rt_child *ch, struct oci_error *e);

/* ns.c: start the init in its namespaces (joining those given by path);
 * fn runs in the child and never returns. */
HIDDEN int ns_spawn(const struct rt_config *c, void (*fn)(void *), void *arg, pid_t *pid,
		    struct oci_error **err);
HIDDEN int ns_write_idmaps(const struct rt_config *c, pid_t pid, struct oci_error **err);
HIDDEN int ns_setup_child(struct rt_child *ch, struct oci_error **err);

/* mount.c: the root filesystem, from inside the init's mount namespace */
HIDDEN int mount_rootfs(struct rt_child *ch, struct oci_error **err);
HIDDEN int mount_pivot(struct rt_child *ch, struct oci_error **err);
HIDDEN int mount_finish(struct rt_child *ch, struct oci_error **err);
/* remove what the record says the runtime created, restore parents' times */
HIDDEN int mount_undo_record(const char *rootfs, int recordfd, struct oci_error **err);
HIDDEN int mount_console(const char *slave, struct oci_error **err);

/* hooks.c */
HIDDEN int hooks_run(const struct rt_hooks *h, const char *name, const char *state,
		     struct oci_error **err);
/* each hook run; a failure is a warning and the next hook runs */
HIDDEN void hooks_run_warn(const struct rt_hooks *h, const char *name, const char *state);

/* mount.c: create name in dirfd: kind D (directory), F (empty file), N
 * (node), L (symlink to target); never through a symlink */
HIDDEN int rt_create_op(int dirfd, const char *name, char kind, mode_t mode, dev_t dev,
			const char *target);
/* mount.c: "rslave" -> MS_SLAVE|MS_REC, 0 when not a propagation */
HIDDEN unsigned long rt_mount_prop(const char *name);

/* process.c */
/* the signals a foreground run forwards (and SIGWINCH, SIGCHLD) blocked
 * and read from the returned signalfd; *old: the mask to restore */
HIDDEN int rt_wait_signals(sigset_t *old, struct oci_error **err);
/* wait for pid forwarding signals read from sigfd to target (the init is
 * both; exec waits for its helper and signals the process), copying a
 * terminal's master to stdout and stdin to it; reap_all when we are a
 * subreaper */
HIDDEN int rt_wait_loop(pid_t pid, pid_t target, int target_pidfd, int sigfd, int master,
			bool reap_all, int *wstatus, struct oci_error **err);
/* the init's steps, which exec repeats for its process */
HIDDEN void rt_close_all_but(int *keep, size_t n);
HIDDEN char *rt_child_lookup(const struct rt_config *c, struct oci_error **err);
HIDDEN int rt_child_caps(const struct rt_config *c, struct oci_error **err);
HIDDEN int rt_child_capset(const struct rt_config *c, struct oci_error **err);
/* in the init or an exec'd process, before execve: the AppArmor profile
 * and SELinux label it asked for, set for its execve */
HIDDEN int rt_child_lsm(const struct rt_config *c, struct oci_error **err);
/* the init's and an exec'd process's confinement, in its order: LSM label,
 * rlimits, bounding set, seccomp (before the user change without
 * no_new_privs, after it with), user and groups, capabilities */
HIDDEN int rt_child_confine(const struct rt_config *c, struct oci_error **err);
/* umask, an empty signal mask, execve; returns (err set) only when it failed */
HIDDEN void rt_child_execve(const struct rt_config *c, const char *exe, char **env,
			    struct oci_error **err);
HIDDEN int rt_child_user(const struct rt_config *c, struct oci_error **err);
HIDDEN char **rt_child_env(const struct rt_config *c);

/* exec.c: a process in a running container (init pid, state dir open) */
struct rt_exec {
	const struct rt_config *cfg; /* the container's config, process replaced */
	pid_t init;
	int statedir;
	bool detach;
	const char *pid_file;
	const char *console_socket; /* where the terminal's master goes, or NULL */
};
HIDDEN int rt_exec_run(const struct rt_exec *x, int *wstatus, struct oci_error **err);

HIDDEN int proc_stat_start(pid_t pid, unsigned long long *start, char *state);

#endif
