/* The messages on the socket between the runtime (parent) and the
 * container's init: a type byte, a payload, and at most one fd
 * (SCM_RIGHTS). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "runtime.h"

/* ---- messages between the runtime and the init ---- */

int rt_msg_send(int sock, char type, const void *data, size_t len, int fd)
{
	if (len > 60000)
		len = 60000;
	char *buf = xmalloc(len + 1);
	buf[0] = type;
	if (len)
		memcpy(buf + 1, data, len);
	struct iovec iov = {.iov_base = buf, .iov_len = len + 1};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	free(buf);
	return n < 0 ? -1 : 0;
}

int rt_msg_recv(int sock, char *type, char **data, size_t *len, int *fd)
{
	char *buf = xmalloc(65536);
	struct iovec iov = {.iov_base = buf, .iov_len = 65535};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (fd)
		*fd = -1;
	if (n <= 0) {
		free(buf);
		return n < 0 ? -1 : 0;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int f;
			memcpy(&f, CMSG_DATA(cm), sizeof(int));
			if (fd)
				*fd = f;
			else
				close(f);
		}
	*type = buf[0];
	memmove(buf, buf + 1, (size_t)n - 1);
	buf[n - 1] = 0;
	*data = buf;
	if (len)
		*len = (size_t)n - 1;
	return 1;
}

/* --console-socket: the terminal's master to whoever listens at path, as
 * runc sends it (create and exec share it) */
int rt_console_send(const char *path, int master, struct oci_error **err)
{
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un {
		sa_family_t sun_family;
		char sun_path[108];
	} addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_set(err, OCI_E_INVALID, 0, "console socket %s: path too long", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return error_set(err, OCI_E_IO, errno, "connect to console socket %s", path);
	if (rt_msg_send(s, 'T', "/dev/ptmx", 9, master) < 0)
		return error_set(err, OCI_E_IO, errno, "send the terminal to %s", path);
	return 0;
}
