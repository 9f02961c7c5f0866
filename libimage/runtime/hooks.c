/* Hooks: programs run at the points of a container's life the
 * runtime-spec names, each given the state on stdin, each bounded by its
 * timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "runtime.h"

extern char **environ;

static const char *hook_keys[HOOK_N] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int hook_parse(struct rt_hook *h, const cJSON *o, struct oci_error **err)
{
	if (!cJSON_IsObject(o))
		return error_set(err, OCI_E_INVALID, 0, "not an object");
	int r = rt_json_string(o, "path", true, &h->path, err);
	if (r < 0)
		return r;
	if (h->path[0] != '/')
		return error_set(err, OCI_E_INVALID, 0, "path \"%s\": not absolute", h->path);
	if ((r = rt_json_strings(o, "args", &h->args, err)) < 0 ||
	    (r = rt_json_strings(o, "env", &h->env, err)) < 0)
		return r;
	if (!h->args) {
		h->args = xcalloc(2, sizeof(char *));
		h->args[0] = xstrdup(h->path);
	} else if (!h->args[0]) {
		free(h->args);
		h->args = xcalloc(2, sizeof(char *));
		h->args[0] = xstrdup(h->path);
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "timeout");
	if (t) {
		int64_t x;
		if (!oci_json_int64(t, 1, 86400 * 365, &x))
			return error_set(
			    err, OCI_E_INVALID, 0,
			    "timeout: not an integer number of seconds in 1..31536000");
		h->timeout = (int)x;
	}
	return 0;
}

int rt_config_hooks(struct rt_config *c, const cJSON *hooks, struct oci_error **err)
{
	if (!hooks)
		return 0;
	if (!cJSON_IsObject(hooks))
		return error_set(err, OCI_E_INVALID, 0, "hooks: not an object");
	for (int k = 0; k < HOOK_N; k++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(hooks, hook_keys[k]);
		if (!a)
			continue;
		if (!cJSON_IsArray(a))
			return error_set(err, OCI_E_INVALID, 0, "hooks.%s: not an array",
					 hook_keys[k]);
		int n = cJSON_GetArraySize(a);
		c->hooks[k].v = xcalloc((size_t)n, sizeof(struct rt_hook));
		const cJSON *o;
		cJSON_ArrayForEach (o, a) {
			struct rt_hook *h = &c->hooks[k].v[c->hooks[k].n++];
			int r = hook_parse(h, o, err);
			if (r < 0)
				return error_wrap(err, "hooks.%s[%zu]", hook_keys[k],
						  c->hooks[k].n - 1);
		}
	}
	return 0;
}

static double hook_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run one hook: fork, state on a pipe to its stdin, its stdout and stderr
 * to ours (stderr: stdout is the container's or the caller's data). */
static int hook_run(const struct rt_hook *h, const char *state, struct oci_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return error_set(err, OCI_E_IO, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return error_set(err, OCI_E_IO, e, "fork");
	}
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(p[0], 0) < 0 || dup2(2, 1) < 0)
			_exit(127);
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(h->path, h->args, h->env ? h->env : environ);
		dprintf(2, "hook %s: exec: %s\n", h->path, strerror(errno));
		_exit(127);
	}
	close(p[0]);
	cleanup_close int wfd = p[1];
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fcntl(wfd, F_SETFL, O_NONBLOCK);
	double deadline = h->timeout ? hook_now() + h->timeout : 0;
	size_t len = strlen(state), off = 0;
	bool timed_out = false;
	for (;;) {
		struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN},
				       {.fd = -1, .events = POLLOUT}};
		if (wfd >= 0 && off < len)
			pf[1].fd = wfd;
		else if (wfd >= 0) {
			close(wfd);
			wfd = -1;
		}
		int ms = -1;
		if (deadline) {
			double left = deadline - hook_now();
			if (left <= 0) {
				timed_out = true;
				break;
			}
			ms = (int)(left * 1000) + 1;
		}
		if (pidfd < 0)
			break; /* no pidfd: just wait below */
		int n = poll(pf, 2, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (pf[0].revents)
			break; /* exited */
		if (pf[1].revents & (POLLERR | POLLHUP)) {
			close(wfd);
			wfd = -1;
		} else if (pf[1].revents & POLLOUT) {
			ssize_t w = write(wfd, state + off, len - off);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(wfd);
				wfd = -1;
			}
		}
	}
	if (timed_out)
		kill(pid, SIGKILL);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return error_set(err, OCI_E_IO, 0, "%s: timed out after %d s", h->path, h->timeout);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		return error_set(err, OCI_E_IO, 0, "%s: killed by signal %d", h->path,
				 WTERMSIG(st));
	return error_set(err, OCI_E_IO, 0, "%s: exit status %d", h->path, WEXITSTATUS(st));
}

int hooks_run(const struct rt_hooks *h, const char *name, const char *state, struct oci_error **err)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	int r = 0;
	for (size_t i = 0; i < h->n && r == 0; i++) {
		r = hook_run(&h->v[i], state, err);
		if (r < 0)
			error_wrap(err, "%s hook %zu", name, i);
	}
	sigaction(SIGPIPE, &old, NULL);
	return r;
}

/* poststart and poststop: a failing hook is a warning, and the remaining
 * hooks and the lifecycle go on (runtime-spec, "Lifecycle") */
void hooks_run_warn(const struct rt_hooks *h, const char *name, const char *state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	for (size_t i = 0; i < h->n; i++) {
		struct oci_error *e = NULL;
		if (hook_run(&h->v[i], state, &e) < 0) {
			error_wrap(&e, "%s hook %zu", name, i);
			rt_warn("%s", e->msg);
		}
		oci_error_free(e);
	}
	sigaction(SIGPIPE, &old, NULL);
}
