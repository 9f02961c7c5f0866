/* The error plumbing: write_full names the kernel's errno (a full device,
 * a closed pipe), never a stale one left by an earlier call, and error_set
 * keeps the errno it was given in the message and the struct. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "tap.h"

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	char buf[8192];
	memset(buf, 'x', sizeof(buf));

	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		errno = EEXIST; /* what a mkdir before it may have left */
		int r = write_full(fd, buf, sizeof(buf));
		ok(r < 0 && errno == ENOSPC,
		   "write_full onto /dev/full: ENOSPC, not the stale EEXIST (%s)", strerror(errno));
		close(fd);
	} else {
		ok(1, "# SKIP no /dev/full");
	}

	int p[2];
	ok(pipe2(p, O_CLOEXEC) == 0, "a pipe");
	close(p[0]);
	errno = ENOENT;
	int r = write_full(p[1], buf, sizeof(buf));
	ok(r < 0 && errno == EPIPE, "write_full into a pipe whose reader is gone: EPIPE (%s)",
	   strerror(errno));
	close(p[1]);

	/* a pipe that takes only part of the data at a time: all of it arrives */
	ok(pipe2(p, O_CLOEXEC) == 0, "a second pipe");
	int wr = 0;
	if (fork() == 0) {
		close(p[0]);
		static char big[300000];
		_exit(write_full(p[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(p[1]);
	ssize_t n, total = 0;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		total += n;
	close(p[0]);
	int st;
	wait(&st);
	wr = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	ok(wr && total == 300000, "write_full through a pipe: every byte (%zd)", total);

	struct oci_error *e = NULL;
	error_set(&e, OCI_E_IO, ENOSPC, "write %s", "blob");
	ok(e && e->errnum == ENOSPC, "error_set keeps the errno");
	is_str(e ? e->msg : "", "write blob: No space left on device",
	       "and names it in the message");
	error_wrap(&e, "layout %s", "L");
	is_str(e ? e->msg : "", "layout L: write blob: No space left on device",
	       "error_wrap adds context before it");
	ok(e && e->errnum == ENOSPC, "error_wrap keeps the errno");
	oci_error_free(e);
	return done_testing();
}
