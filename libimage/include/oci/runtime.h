/* A minimal OCI runtime: containers created from a runtime-spec bundle,
 * started, signalled and deleted, with their state kept under a root
 * directory (one directory per container, like runc's). */
#ifndef OCI_RUNTIME_H
#define OCI_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <oci/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* /run/oci-runtime for root, $XDG_RUNTIME_DIR/oci-runtime otherwise */
OCI_EXPORT const char *oci_runtime_default_root(void);

/* Warnings (a config asks for something ignored, a poststart or poststop
 * hook failed) go to fn; without one they are dropped. */
OCI_EXPORT void oci_runtime_set_warn(void (*fn)(const char *msg));

struct oci_runtime_opts {
	const char *bundle;	    /* default "." */
	const char *pid_file;	    /* written (atomically) once created */
	const char *console_socket; /* where a terminal's master goes (create, run --detach) */
	char *const *args;	    /* when not NULL, replaces process.args */
	bool no_new_keyring;
	/* run in the foreground: the caller waits with oci_container_wait,
	 * which forwards signals and copies a terminal */
	bool foreground;
};

struct oci_container; /* a container this process created and is the parent of */

OCI_EXPORT int oci_runtime_create(const char *root, const char *id,
				  const struct oci_runtime_opts *opts, struct oci_container **out,
				  struct oci_error **err);
/* Wait for the container's init to end, forwarding SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it; *wstatus as from waitpid. */
OCI_EXPORT int oci_container_wait(struct oci_container *c, int *wstatus, struct oci_error **err);
OCI_EXPORT void oci_container_free(struct oci_container *c);

OCI_EXPORT int oci_runtime_start(const char *root, const char *id, struct oci_error **err);
/* The runtime-spec state of a container as a JSON document (malloc'd). */
OCI_EXPORT int oci_runtime_state(const char *root, const char *id, char **json,
				 struct oci_error **err);
OCI_EXPORT int oci_runtime_kill(const char *root, const char *id, int sig, struct oci_error **err);
/* Refused while the container runs, unless force (then SIGKILL and wait). */
OCI_EXPORT int oci_runtime_delete(const char *root, const char *id, bool force,
				  struct oci_error **err);

struct oci_runtime_entry {
	char *id;
	char *status;
	char *bundle;
	char *created;
	pid_t pid;
};
OCI_EXPORT int oci_runtime_list(const char *root, struct oci_runtime_entry **out, size_t *n,
				struct oci_error **err);
OCI_EXPORT void oci_runtime_entries_free(struct oci_runtime_entry *v, size_t n);

/* Send sig to every process of the container's cgroup (kill --all). */
OCI_EXPORT int oci_runtime_kill_all(const char *root, const char *id, int sig,
				    struct oci_error **err);
/* Freeze (pause) and thaw (resume) every process of a running container
 * through its freezer cgroup; a paused container's status is "paused". */
OCI_EXPORT int oci_runtime_pause(const char *root, const char *id, struct oci_error **err);
OCI_EXPORT int oci_runtime_resume(const char *root, const char *id, struct oci_error **err);
/* the host pids in the container's cgroup */
OCI_EXPORT int oci_runtime_ps(const char *root, const char *id, pid_t **pids, size_t *n,
			      struct oci_error **err);
/* runc's "events --stats" data (memory, cpu, pids) as JSON (malloc'd) */
OCI_EXPORT int oci_runtime_stats(const char *root, const char *id, char **json,
				 struct oci_error **err);
/* set linux.resources (a JSON object's text) on a running container */
OCI_EXPORT int oci_runtime_update(const char *root, const char *id, const char *resources,
				  struct oci_error **err);

struct oci_exec_opts {
	const char *process;  /* a runtime-spec process JSON file, or NULL */
	char *const *args;    /* replaces the process's args when not NULL */
	char *const *env;     /* K=V added to (or replacing in) its env; NULL-terminated */
	const char *cwd;      /* replaces process.cwd when not NULL */
	const char *user;     /* "UID" or "UID:GID", replaces process.user */
	const char *pid_file; /* the new process's host pid, written atomically */
	bool detach;	      /* do not wait for it */
	/* a new terminal of the container's devpts for it (process.terminal
	 * of a --process file asks the same): its master is copied to our
	 * stdin and stdout, or sent to console_socket as runc does */
	bool tty;
	const char *console_socket;
};
/* Run a process in a running container: its namespaces, cgroups and
 * confinement; *wstatus: the waitpid status of the helper, whose exit
 * status is the process's (128+N when killed by signal N). */
OCI_EXPORT int oci_runtime_exec(const char *root, const char *id, const struct oci_exec_opts *o,
				int *wstatus, struct oci_error **err);

/* "TERM", "SIGTERM", "15" -> 15; -1 when not a signal */
OCI_EXPORT int oci_signal_parse(const char *s);

/* Re-execute this program from a sealed copy in memory (a memfd), so that
 * a container cannot reach the runtime's binary through /proc/self/exe.
 * Returns 0 when already running from one; on success it does not return. */
OCI_EXPORT int oci_runtime_reexec_sealed(char **argv, struct oci_error **err);

#ifdef __cplusplus
}
#endif
#endif
