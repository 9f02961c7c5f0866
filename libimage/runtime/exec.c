/* exec: a new process in a running container. It joins the container's
 * cgroups, then every namespace of its init (the user namespace first,
 * the mount namespace last), forks once more so that it is inside the pid
 * namespace, and gets the same confinement as the init: rlimits, the
 * bounding set, seccomp, user and groups, capabilities, no_new_privs. No
 * fd of the runtime goes with it, and it is not dumpable until execve, so
 * the container cannot reach the runtime through /proc. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "runtime.h"

static const struct {
	const char *name;
	int type;
} exec_ns[] = {
    /* the order to join: user first (it decides what we may do in the
     * others), mount last (its root becomes ours) */
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
    {"mnt", CLONE_NEWNS},
};
#define EXEC_NS_N (sizeof(exec_ns) / sizeof(exec_ns[0]))

/* report e on fd (the runtime reads it) and end */
static __attribute__((noreturn)) void exec_fail(int fd, struct oci_error *e, const char *what)
{
	const char *m = e && e->msg ? e->msg : what;
	if (write(fd, m, strlen(m)) < 0)
		_exit(126);
	_exit(126);
}

/* in the process inside the namespaces: become the container's process */
static __attribute__((noreturn)) void exec_child(const struct rt_config *c, int errfd)
{
	struct oci_error *e = NULL;
	if (chdir(c->cwd) < 0) {
		error_set(&e, OCI_E_IO, errno, "process.cwd \"%s\"", c->cwd);
		exec_fail(errfd, e, "");
	}
	cleanup_free char *exe = rt_child_lookup(c, &e);
	if (!exe)
		exec_fail(errfd, e, "");
	char **env = rt_child_env(c);
	for (size_t i = 0; i < c->n_rlimits; i++)
		if (setrlimit(c->rlimits[i].resource, &c->rlimits[i].lim) < 0) {
			error_set(&e, OCI_E_IO, errno, "set rlimit %d", c->rlimits[i].resource);
			exec_fail(errfd, e, "");
		}
	if (rt_child_caps(c, &e) < 0)
		exec_fail(errfd, e, "");
	if (!c->nnp && rt_seccomp_load(c, &e) < 0)
		exec_fail(errfd, e, "");
	if (rt_child_user(c, &e) < 0 || rt_child_capset(c, &e) < 0)
		exec_fail(errfd, e, "");
	if (c->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		error_set(&e, OCI_E_IO, errno, "set no_new_privs");
		exec_fail(errfd, e, "");
	}
	if (c->nnp && rt_seccomp_load(c, &e) < 0)
		exec_fail(errfd, e, "");
	umask(c->has_umask ? c->umask : 022);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(exe, c->args, env);
	error_set(&e, OCI_E_IO, errno, "exec \"%s\"", c->args[0]);
	exec_fail(errfd, e, "");
}

/* the first child: in the cgroups, then the namespaces, then the fork
 * that lands in the pid namespace; ends with the process's status */
static __attribute__((noreturn)) void exec_joiner(const struct rt_exec *x, int errfd, int pidfd)
{
	struct oci_error *e = NULL;
	int keep[] = {errfd, pidfd, x->statedir};
	rt_close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	/* nothing in the container may open our /proc/PID/exe or ptrace us */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (rt_cg_join(x->statedir, getpid(), &e) < 0)
		exec_fail(errfd, e, "");
	close(x->statedir);
	/* all opened before any is joined: once in its mount namespace,
	 * /proc is the container's */
	int fds[EXEC_NS_N];
	char path[64];
	for (size_t i = 0; i < EXEC_NS_N; i++) {
		struct stat a, b;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)x->init, exec_ns[i].name);
		char self[64];
		snprintf(self, sizeof(self), "/proc/self/ns/%s", exec_ns[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0 && errno == ENOENT) /* a kernel without it */
			continue;
		if (fds[i] < 0) {
			error_set(&e, OCI_E_IO, errno, "open %s", path);
			exec_fail(errfd, e, "");
		}
		/* one we share already is not joined (setns to our own user
		 * namespace fails) */
		if (stat(self, &a) == 0 && fstat(fds[i], &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (size_t i = 0; i < EXEC_NS_N; i++)
		if (fds[i] >= 0) {
			if (setns(fds[i], exec_ns[i].type) < 0) {
				error_set(&e, OCI_E_IO, errno, "join the container's %s namespace",
					  exec_ns[i].name);
				exec_fail(errfd, e, "");
			}
			close(fds[i]);
		}
	pid_t p = fork();
	if (p < 0) {
		error_set(&e, OCI_E_IO, errno, "fork");
		exec_fail(errfd, e, "");
	}
	if (p == 0) {
		close(pidfd);
		prctl(PR_SET_PDEATHSIG, x->detach ? 0 : SIGKILL, 0, 0, 0);
		exec_child(x->cfg, errfd);
	}
	close(errfd);
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", (int)p);
	if (write(pidfd, text, (size_t)n) < 0)
		_exit(126);
	close(pidfd);
	if (x->detach)
		_exit(0);
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int rt_exec_run(const struct rt_exec *x, int *wstatus, struct oci_error **err)
{
	int ep[2], pp[2];
	if (pipe2(ep, O_CLOEXEC) < 0)
		return error_set(err, OCI_E_IO, errno, "pipe");
	if (pipe2(pp, O_CLOEXEC) < 0) {
		int e = errno;
		close(ep[0]);
		close(ep[1]);
		return error_set(err, OCI_E_IO, e, "pipe");
	}
	pid_t j = fork();
	if (j < 0) {
		int e = errno;
		close(ep[0]);
		close(ep[1]);
		close(pp[0]);
		close(pp[1]);
		return error_set(err, OCI_E_IO, e, "fork");
	}
	if (j == 0) {
		close(ep[0]);
		close(pp[0]);
		exec_joiner(x, ep[1], pp[1]);
	}
	close(ep[1]);
	close(pp[1]);
	char pidtext[32] = "";
	ssize_t pn = read_full(pp[0], pidtext, sizeof(pidtext) - 1);
	close(pp[0]);
	/* the error pipe ends at the process's execve (O_CLOEXEC), or holds
	 * why it did not get there */
	char msg[512];
	ssize_t n = read_full(ep[0], msg, sizeof(msg) - 1);
	close(ep[0]);
	int r = 0;
	if (n > 0) {
		msg[n] = 0;
		r = error_set(err, OCI_E_IO, 0, "%s", msg);
	} else if (pn <= 0) {
		r = error_set(err, OCI_E_IO, 0, "the exec helper died");
	}
	if (r == 0 && x->pid_file) {
		pidtext[pn > 0 ? pn : 0] = 0;
		cleanup_free char *tmp = xasprintf("%s.%d.tmp", x->pid_file, (int)getpid());
		cleanup_close int fd =
		    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 || write(fd, pidtext, strlen(pidtext)) < 0 ||
		    rename(tmp, x->pid_file) < 0) {
			r = error_set(err, OCI_E_IO, errno, "write pid file %s", x->pid_file);
			unlink(tmp);
		}
	}
	int st = 0;
	while (waitpid(j, &st, 0) < 0)
		if (errno != EINTR)
			break;
	if (wstatus)
		*wstatus = st;
	return r;
}
