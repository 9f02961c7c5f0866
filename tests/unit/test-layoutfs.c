/* The one way into a layout's own files (libimage/layoutfs.c), with openat2
 * and with the walk used where the kernel lacks it: symlinks out of the
 * layout and FIFOs refused at once and named, symlinks inside followed (with
 * openat2 only), planted names never written through, listings that do not
 * move the held fd. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "layoutfs.h"
#include "tap.h"

static char tmp[] = "/tmp/test-layoutfs-XXXXXX";

static char *path_of(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static void put(const char *rel, const char *s)
{
	cleanup_free char *p = path_of(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
	close(fd);
}

static char *slurp(const char *rel)
{
	cleanup_free char *p = path_of(rel);
	char buf[256] = {0};
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xstrdup("(missing)");
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return xstrdup(n >= 0 ? buf : "(unreadable)");
}

/* open name (as a directory with dir); the status, and the message in msg */
static int try_open(int root, const char *name, bool dir, char **msg)
{
	struct oci_error *e = NULL;
	int fd = layoutfs_open(root, name, dir, NULL, &e);
	free(*msg);
	*msg = e ? xstrdup(e->msg) : NULL;
	oci_error_free(e);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return fd;
}

static void cases(int root, bool openat2)
{
	const char *mode = openat2 ? "openat2" : "walk";
	char *msg = NULL;
	layoutfs_set_openat2(openat2);

	is_int(try_open(root, "L/index.json", false, &msg), 0, "a regular file opens");
	is_int(try_open(root, "L/fifo", false, &msg), OCI_E_INVALID, "a FIFO is refused at once");
	is_str(msg, "L/fifo: not a regular file (FIFO)", "  and named");
	is_int(try_open(root, "L/blobs", true, &msg), 0, "a directory opens as one");
	is_int(try_open(root, "L/index.json", true, &msg), OCI_E_INVALID,
	       "a regular file is not a directory");
	is_str(msg, "L/index.json: not a directory (regular file)", "  and named");
	is_int(try_open(root, "L/nothere", false, &msg), OCI_E_NOTFOUND, "missing: NOTFOUND");

	/* the layout is L: root here is L's fd */
	int l = openat(root, "L", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	is_int(try_open(l, "abs", false, &msg), OCI_E_INVALID,
	       "an absolute symlink out is refused");
	is_str(msg,
	       openat2 ? "abs: symbolic link out of the layout"
		       : "abs: symbolic link (not followed: the kernel lacks openat2 to keep it "
			 "inside the layout)",
	       mode);
	is_int(try_open(l, "rel/x", false, &msg), OCI_E_INVALID,
	       "a file under a relative symlink out is refused");
	is_str(msg,
	       openat2 ? "rel: symbolic link out of the layout"
		       : "rel: symbolic link (not followed: the kernel lacks openat2 to keep it "
			 "inside the layout)",
	       "  the symlink is named, not the file under it");
	is_int(try_open(l, "inside", false, &msg), openat2 ? 0 : OCI_E_INVALID,
	       openat2 ? "a symlink inside the layout is followed"
		       : "walk: a symlink inside the layout is refused too");
	is_int(try_open(l, "blobs/sha256", true, &msg), 0, "blobs/sha256 opens");
	int bfd = layoutfs_blob_dir(l, "sha512", true, NULL);
	ok(bfd >= 0, "%s: blobs/sha512 made by layoutfs_blob_dir", mode);
	if (bfd >= 0)
		close(bfd);
	close(l);
	free(msg);
}

int main(void)
{
	alarm(60); /* a FIFO waited on would hang here: fail instead */
	if (!mkdtemp(tmp))
		return 1;
	int root = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *l = path_of("L"), *out = path_of("out"), *blobs = path_of("L/blobs"),
			  *sha = path_of("L/blobs/sha256"), *fifo = path_of("L/fifo");
	mkdir(l, 0755);
	mkdir(out, 0755);
	mkdir(blobs, 0755);
	mkdir(sha, 0755);
	mkfifo(fifo, 0644);
	put("L/index.json", "{}");
	put("out/x", "outside");
	put("out/victim", "victim");
	cleanup_free char *abs = path_of("L/abs"), *rel = path_of("L/rel"),
			  *inside = path_of("L/inside");
	if (symlink(out, abs) < 0 || symlink("../out", rel) < 0 ||
	    symlink("index.json", inside) < 0)
		return 1;

	cases(root, true);
	cases(root, false);
	layoutfs_set_openat2(true);

	/* replacing a name planted as a symlink out replaces the symlink */
	int lfd = openat(root, "L", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *planted = path_of("L/oci-layout");
	if (symlink("../out/victim", planted) < 0)
		return 1;
	is_int(layoutfs_replace(lfd, "oci-layout", "new", 3, NULL), 0, "replace over a symlink");
	cleanup_free char *v = slurp("out/victim"), *n = slurp("L/oci-layout");
	is_str(v, "victim", "  the file outside is untouched");
	is_str(n, "new", "  the layout has its own file");
	struct stat st;
	ok(fstatat(lfd, "oci-layout", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode),
	   "  a regular file now");

	/* temporaries: fresh names each time, never an existing one */
	char *t1 = NULL, *t2 = NULL;
	int f1 = layoutfs_create_tmp(lfd, ".x.tmp-", 0644, &t1, NULL);
	int f2 = layoutfs_create_tmp(lfd, ".x.tmp-", 0644, &t2, NULL);
	ok(f1 >= 0 && f2 >= 0 && strcmp(t1, t2) != 0, "two temporaries, two names");
	ok(t1 && strncmp(t1, ".x.tmp-", 7) == 0 && strlen(t1) == 13, "  prefix and six characters");
	close(f1);
	close(f2);
	free(t1);
	free(t2);

	/* the lock: a FIFO or a symlink is refused, a missing one made */
	struct oci_error *e = NULL;
	int lk = layoutfs_lock(lfd, &e);
	ok(lk >= 0, "the lock is made when missing");
	if (lk >= 0)
		close(lk);
	unlinkat(lfd, ".index.lock", 0);
	mkfifoat(lfd, ".index.lock", 0644);
	is_int(layoutfs_lock(lfd, &e), OCI_E_INVALID, "a FIFO lock is refused");
	is_str(e ? e->msg : NULL, ".index.lock: not a regular file (FIFO)", "  and named");
	unlinkat(lfd, ".index.lock", 0);
	if (symlinkat("../out/victim", lfd, ".index.lock") < 0)
		return 1;
	is_int(layoutfs_lock(lfd, &e), OCI_E_INVALID, "a symlink lock is refused");
	oci_error_free(e);

	/* listing twice through the same held fd gives the same names */
	size_t c1 = 0, c2 = 0;
	char **a = layoutfs_list(lfd, &c1), **b = layoutfs_list(lfd, &c2);
	ok(a && b && c1 == c2 && c1 >= 5, "a listing does not move the held fd (%zu, %zu)", c1, c2);
	for (size_t i = 0; i < c1; i++)
		free(a[i]);
	for (size_t i = 0; i < c2; i++)
		free(b[i]);
	free(a);
	free(b);
	close(lfd);
	close(root);

	cleanup_free char *cmd = xasprintf("rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
