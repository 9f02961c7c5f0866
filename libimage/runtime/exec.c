/* exec: a new process in a running container. It joins the container's
 * cgroups, then every namespace of its init (the user namespace first,
 * the mount namespace last), forks once more so that it is inside the pid
 * namespace, and gets the same confinement as the init: rlimits, the
 * bounding set, seccomp, user and groups, capabilities, no_new_privs. No
 * fd of the runtime goes with it, and it is not dumpable until execve, so
 * the container cannot reach the runtime through /proc. With a terminal,
 * the process opens a new pty of the container's own devpts and sends its
 * master back to the runtime, which copies it or passes it on to a
 * --console-socket. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

/* the process's terminal: a new pty of the container's devpts (its
 * /dev/ptmx, opened inside its mount namespace, so that the process's
 * tty is one the container can see), the master to the runtime over
 * sock, the peer our controlling terminal and 0, 1, 2 */
static int exec_terminal(const struct rt_config *c, int sock, struct oci_error **err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return error_set(err, OCI_E_IO, errno,
				 "terminal: open the container's /dev/ptmx (is /dev/pts mounted?)");
	/* the container made its /dev: what we opened must be a pty
	 * multiplexer (5:2, /dev/ptmx or a devpts' ptmx), not any file */
	struct stat st;
	if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2)
		return error_set(err, OCI_E_INVALID, 0,
				 "terminal: the container's /dev/ptmx is not a pty multiplexer");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: unlock the pty");
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: open the peer");
	if (c->rows || c->cols) {
		struct winsize ws = {.ws_row = c->rows, .ws_col = c->cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	/* the process's own, as runc makes it: a program that reopens its
	 * tty (/dev/pts/N) as the process's user may */
	if (fchown(slave, c->uid, c->gid) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: give it to %u:%u",
				 (unsigned)c->uid, (unsigned)c->gid);
	if (rt_msg_send(sock, MSG_PTY, "", 0, master) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: pass the master");
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return error_set(err, OCI_E_IO, errno, "terminal: make it the controlling one");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return error_set(err, OCI_E_IO, errno, "terminal: dup");
	return 0;
}

/* in the process inside the namespaces: become the container's process */
static __attribute__((noreturn)) void exec_child(const struct rt_config *c, int errfd, int sock)
{
	struct oci_error *e = NULL;
	/* before privileges go: the pty is opened as the container's root */
	if (c->terminal && exec_terminal(c, sock, &e) < 0)
		exec_fail(errfd, e, "");
	close(sock);
	if (chdir(c->cwd) < 0) {
		error_set(&e, OCI_E_IO, errno, "process.cwd \"%s\"", c->cwd);
		exec_fail(errfd, e, "");
	}
	cleanup_free char *exe = rt_child_lookup(c, &e);
	if (!exe)
		exec_fail(errfd, e, "");
	char **env = rt_child_env(c);
	if (rt_child_confine(c, &e) < 0)
		exec_fail(errfd, e, "");
	rt_child_execve(c, exe, env, &e);
	exec_fail(errfd, e, "");
}

/* the first child: in the cgroups, then the namespaces, then the fork
 * that lands in the pid namespace; ends with the process's status */
static __attribute__((noreturn)) void exec_joiner(const struct rt_exec *x, int errfd, int sock)
{
	struct oci_error *e = NULL;
	int keep[] = {errfd, sock, x->statedir};
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
	bool userns = fds[0] >= 0; /* exec_ns[0]: joined, not shared */
	for (size_t i = 0; i < EXEC_NS_N; i++)
		if (fds[i] >= 0) {
			if (setns(fds[i], exec_ns[i].type) < 0) {
				error_set(&e, OCI_E_IO, errno, "join the container's %s namespace",
					  exec_ns[i].name);
				exec_fail(errfd, e, "");
			}
			close(fds[i]);
		}
	/* In the container's user namespace, its root, as the init is: what
	 * the process makes before it becomes its user (its terminal) is
	 * then owned by an id the namespace maps, which it may chown; our
	 * own uid 0 is not mapped there. */
	if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		error_set(&e, OCI_E_IO, errno, "become root of the container's user namespace");
		exec_fail(errfd, e, "");
	}
	pid_t p = fork();
	if (p < 0) {
		error_set(&e, OCI_E_IO, errno, "fork");
		exec_fail(errfd, e, "");
	}
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, x->detach ? 0 : SIGKILL, 0, 0, 0);
		exec_child(x->cfg, errfd, sock);
	}
	close(errfd);
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", (int)p);
	/* with a pidfd (p is our child, not reaped yet: the pid is its own),
	 * by which the runtime signals it without a pid's reuse race */
	int pidfd = (int)syscall(SYS_pidfd_open, p, 0);
	if (rt_msg_send(sock, MSG_PID, text, (size_t)n, pidfd) < 0)
		_exit(126);
	if (pidfd >= 0)
		close(pidfd);
	close(sock);
	if (x->detach)
		_exit(0);
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static int exec_pid_file(const char *path, pid_t pid, struct oci_error **err)
{
	char text[32];
	snprintf(text, sizeof(text), "%d", (int)pid);
	cleanup_free char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	cleanup_close int fd =
	    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return error_set(err, OCI_E_IO, e, "write pid file %s", path);
	}
	return 0;
}

/* SIGKILL to the exec'd process: by its pidfd when the helper sent one */
static void exec_kill(pid_t p, int pidfd)
{
	if (pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	else
		kill(p, SIGKILL);
}

int rt_exec_run(const struct rt_exec *x, int *wstatus, struct oci_error **err)
{
	bool tty = x->cfg->terminal;
	if (tty && x->detach && !x->console_socket)
		return error_set(err, OCI_E_USAGE, 0,
				 "a terminal with --detach needs --console-socket (nothing would "
				 "read the terminal)");
	if (x->console_socket && !tty)
		return error_set(err, OCI_E_USAGE, 0,
				 "--console-socket needs a terminal (--tty or process.terminal)");
	/* in the foreground, the signals we get go to the process (with a
	 * terminal it is in a session of its own, where no key of ours
	 * reaches it; without, a kill of the runtime would otherwise end it
	 * by PDEATHSIG's SIGKILL, with no chance to clean up) */
	bool fg = !x->detach;
	sigset_t oldmask;
	cleanup_close int sigfd = -1;
	if (fg && (sigfd = rt_wait_signals(&oldmask, err)) < 0)
		return sigfd;
	int ep[2] = {-1, -1}, sv[2] = {-1, -1};
	pid_t j = -1;
	if (pipe2(ep, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || (j = fork()) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (ep[i] >= 0)
				close(ep[i]);
			if (sv[i] >= 0)
				close(sv[i]);
		}
		if (fg)
			sigprocmask(SIG_SETMASK, &oldmask, NULL);
		return error_set(err, OCI_E_IO, e, "start the exec helper");
	}
	if (j == 0) {
		close(ep[0]);
		close(sv[0]);
		exec_joiner(x, ep[1], sv[1]);
	}
	close(ep[1]);
	close(sv[1]);
	/* the helper's pid message, and the process's terminal: the socket
	 * ends when both have closed it (the process does before execve) */
	pid_t p = 0;
	cleanup_close int master = -1;
	cleanup_close int ppidfd = -1;
	for (;;) {
		char type, *data = NULL;
		int fd = -1;
		if (rt_msg_recv(sv[0], &type, &data, NULL, &fd) <= 0)
			break;
		if (type == MSG_PID) {
			p = (pid_t)atoi(data);
			if (fd >= 0 && ppidfd < 0) {
				ppidfd = fd;
				fd = -1;
			}
		}
		if (type == MSG_PTY && fd >= 0 && master < 0) {
			master = fd;
			fd = -1;
		}
		if (fd >= 0)
			close(fd);
		free(data);
	}
	close(sv[0]);
	/* the error pipe ends at the process's execve (O_CLOEXEC), or holds
	 * why it did not get there */
	char msg[512];
	ssize_t n = read_full(ep[0], msg, sizeof(msg) - 1);
	close(ep[0]);
	int r = 0;
	if (n > 0) {
		msg[n] = 0;
		r = error_set(err, OCI_E_IO, 0, "%s", msg);
	} else if (p <= 0) {
		r = error_set(err, OCI_E_IO, 0, "the exec helper died");
	} else if (tty && master < 0) {
		r = error_set(err, OCI_E_IO, 0, "terminal: no master received");
	}
	if (r == 0 && x->pid_file)
		r = exec_pid_file(x->pid_file, p, err);
	if (r == 0 && x->console_socket) {
		r = rt_console_send(x->console_socket, master, err);
		close(master);
		master = -1;
	}
	/* it runs, but nobody will hear of it: it goes */
	if (r < 0 && n == 0 && p > 0)
		exec_kill(p, ppidfd);
	int st = 0;
	/* the terminal is copied unless it went to a console socket */
	if (r == 0 && fg) {
		r = rt_wait_loop(j, p, ppidfd, sigfd, master, false, &st, err);
		if (r == 0)
			j = -1; /* reaped */
		else
			exec_kill(p, ppidfd);
	}
	while (j > 0 && waitpid(j, &st, 0) < 0)
		if (errno != EINTR)
			break;
	if (fg)
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (wstatus)
		*wstatus = st;
	return r;
}
