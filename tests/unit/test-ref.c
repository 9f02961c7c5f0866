/* Image names (PATH, PATH:REF, PATH@DIGEST), entry-name cleaning and
 * whiteout classification. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <oci/oci.h>
#include "tap.h"

#define HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char tmp[] = "/tmp/test-ref-XXXXXX";

static char *in_tmp(const char *name)
{
	size_t n = strlen(tmp) + strlen(name) + 2;
	char *s = malloc(n);
	snprintf(s, n, "%s/%s", tmp, name);
	return s;
}

/* parse spec; returns the status, fills *r (released by the caller) */
static int ref_parse(const char *spec, struct oci_image_ref *r)
{
	struct oci_error *err = NULL;
	int st = oci_image_ref_parse(spec, r, &err);
	if (st == 0 && err)
		st = 1000;
	if (st < 0 && (!err || err->status != st || !err->msg))
		st = 2000;
	oci_error_free(err);
	return st;
}

static void test_ref(void)
{
	struct oci_image_ref r;
	char *spec, *want;

	/* "x:y" split while it does not exist, whole once it does */
	spec = in_tmp("x:y");
	want = in_tmp("x");
	is_int(ref_parse(spec, &r), 0, "dir:ref parses");
	is_str(r.path, want, "path before the colon");
	is_str(r.ref, "y", "ref after the colon");
	ok(!r.has_digest, "no digest");
	oci_image_ref_release(&r);
	ok(mkdir(spec, 0700) == 0, "made a directory named x:y");
	is_int(ref_parse(spec, &r), 0, "existing x:y parses");
	is_str(r.path, spec, "an existing path wins: x:y is the whole path");
	ok(r.ref == NULL, "and there is no ref");
	oci_image_ref_release(&r);
	/* relative, from inside the temp dir */
	char *cwd = getcwd(NULL, 0);
	ok(chdir(tmp) == 0, "chdir into the temp dir");
	is_int(ref_parse("x:y", &r), 0, "relative existing x:y parses");
	is_str(r.path, "x:y", "relative x:y is the whole path");
	ok(r.ref == NULL, "no ref for relative x:y");
	oci_image_ref_release(&r);
	is_int(ref_parse("x:y:z", &r), 0, "x:y:z parses");
	is_str(r.path, "x:y", "x:y:z splits at the last colon");
	is_str(r.ref, "z", "ref z");
	oci_image_ref_release(&r);
	if (cwd && chdir(cwd) != 0)
		ok(0, "chdir back");
	free(cwd);
	rmdir(spec);
	free(spec);
	free(want);

	spec = in_tmp("dir@sha256:" HEX);
	want = in_tmp("dir");
	is_int(ref_parse(spec, &r), 0, "dir@digest parses");
	is_str(r.path, want, "path before the @");
	ok(r.has_digest, "has a digest");
	is_str(r.digest.str, "sha256:" HEX, "the digest");
	is_int(r.digest.algo, OCI_DIGEST_SHA256, "digest algorithm");
	ok(r.ref == NULL, "no ref with a digest");
	oci_image_ref_release(&r);
	free(spec);
	free(want);

	spec = in_tmp("a/b:c/d");
	is_int(ref_parse(spec, &r), OCI_E_NOTFOUND, "a/b:c/d: ':' before the last '/' is no ref");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("nosuchdir");
	is_int(ref_parse(spec, &r), OCI_E_NOTFOUND, "missing path without ref is not found");
	oci_image_ref_release(&r);
	free(spec);

	is_int(ref_parse("-", &r), 0, "- parses");
	is_str(r.path, "-", "- is the path (stdin)");
	ok(r.ref == NULL && !r.has_digest, "- has no ref");
	oci_image_ref_release(&r);

	is_int(ref_parse("", &r), OCI_E_USAGE, "empty spec refused");
	oci_image_ref_release(&r);
	spec = in_tmp("dir:");
	is_int(ref_parse(spec, &r), OCI_E_USAGE, "empty ref after ':' refused");
	oci_image_ref_release(&r);
	free(spec);
	is_int(ref_parse(":tag", &r), OCI_E_USAGE, "no path before ':' refused");
	oci_image_ref_release(&r);
	is_int(ref_parse("@sha256:" HEX, &r), OCI_E_USAGE, "no path before '@' refused");
	oci_image_ref_release(&r);

	spec = in_tmp("dir@sha256:abc");
	is_int(ref_parse(spec, &r), OCI_E_INVALID, "short digest after @ refused");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("dir@sha256:..");
	is_int(ref_parse(spec, &r), OCI_E_INVALID, "dots as digest after @ refused");
	oci_image_ref_release(&r);
	free(spec);
	/* the split is after the last '/': "@sha256:../../etc/passwd" is part of the path */
	spec = in_tmp("dir@sha256:../../etc/passwd");
	is_int(ref_parse(spec, &r), OCI_E_NOTFOUND, "a '/' after the '@' makes it all path");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("dir@md5:d41d8cd98f00b204e9800998ecf8427e");
	is_int(ref_parse(spec, &r), OCI_E_UNSUPPORTED, "md5 after @ is unsupported");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("dir@");
	ok(ref_parse(spec, &r) < 0, "empty digest after @ refused");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("dir:t\x01g");
	is_int(ref_parse(spec, &r), OCI_E_USAGE, "control character in ref refused");
	oci_image_ref_release(&r);
	free(spec);
	/* a ref may hold '/' and ':' (docker RepoTags): when the path split at
	 * the last ':' does not exist, the first ':' whose left side does wins */
	want = in_tmp("lay");
	ok(mkdir(want, 0700) == 0, "made a directory lay");
	spec = in_tmp("lay:example/app:1.0");
	is_int(ref_parse(spec, &r), 0, "lay:example/app:1.0 parses");
	is_str(r.path, want, "path is the existing lay");
	is_str(r.ref, "example/app:1.0", "ref is the whole RepoTag");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("lay:app:1.0");
	is_int(ref_parse(spec, &r), 0, "lay:app:1.0 parses");
	is_str(r.path, want, "path is lay, not lay:app");
	is_str(r.ref, "app:1.0", "ref app:1.0");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("lay:v1");
	is_int(ref_parse(spec, &r), 0, "lay:v1 parses");
	is_str(r.ref, "v1", "plain tag unchanged");
	oci_image_ref_release(&r);
	free(spec);
	/* the control-character rule holds for a ref found either way */
	spec = in_tmp("lay:a\x1b[31mb/c:tag");
	is_int(ref_parse(spec, &r), OCI_E_USAGE, "escape sequence in a RepoTag-style ref refused");
	oci_image_ref_release(&r);
	free(spec);
	spec = in_tmp("lay:x\ny/z:1");
	is_int(ref_parse(spec, &r), OCI_E_USAGE, "newline in a RepoTag-style ref refused");
	oci_image_ref_release(&r);
	free(spec);
	rmdir(want);
	free(want);
	spec = in_tmp("nope:example/app:1.0");
	want = in_tmp("nope:example/app");
	is_int(ref_parse(spec, &r), 0, "nothing exists: split at the last ':'");
	is_str(r.path, want, "path up to the last ':'");
	is_str(r.ref, "1.0", "ref after it");
	oci_image_ref_release(&r);
	free(spec);
	free(want);

	spec = in_tmp("dir:v1.0-rc_1");
	is_int(ref_parse(spec, &r), 0, "ordinary tag parses");
	is_str(r.ref, "v1.0-rc_1", "tag kept as written");
	oci_image_ref_release(&r);
	free(spec);
}

static void clean_is(const char *in, const char *want)
{
	char *got = oci_path_clean(in);
	char name[300];
	snprintf(name, sizeof(name), "clean(\"%s\") = \"%s\"", in, want);
	is_str(got, want, name);
	/* cleaning is idempotent */
	char *again = got ? oci_path_clean(got) : NULL;
	snprintf(name, sizeof(name), "clean(\"%s\") is idempotent", in);
	is_str(again, want, name);
	free(again);
	free(got);
}

static void test_clean(void)
{
	clean_is("../../etc/passwd", "etc/passwd");
	clean_is("/a//b/./c/..", "a/b");
	clean_is(".", "");
	clean_is("a/../../b", "b");
	clean_is("", "");
	clean_is("/", "");
	clean_is("//", "");
	clean_is("./", "");
	clean_is("./etc/", "etc");
	clean_is("etc/passwd", "etc/passwd");
	clean_is("/etc/passwd", "etc/passwd");
	clean_is("a/b/../../..", "");
	clean_is("a/b/..", "a");
	clean_is("a/b/../c", "a/c");
	clean_is("..", "");
	clean_is("../..", "");
	clean_is("...", "...");
	clean_is("a/.../b", "a/.../b");
	clean_is("..a/b..", "..a/b..");
	clean_is(".hidden/./x", ".hidden/x");
	clean_is("a/./././b", "a/b");
	clean_is("abc/def/../../ghi/", "ghi");
	clean_is("x/..//..//y", "y");
	clean_is("usr/lib/../../../../../tmp/evil", "tmp/evil");
}

static void whiteout_is(const char *path, enum oci_whiteout want, const char *target)
{
	char *t = (char *)"unset";
	char name[300];
	enum oci_whiteout got = oci_whiteout_parse(path, &t);
	snprintf(name, sizeof(name), "whiteout(\"%s\") kind", path);
	is_int(got, want, name);
	snprintf(name, sizeof(name), "whiteout(\"%s\") target", path);
	if (target)
		is_str(t, target, name);
	else
		ok(t == NULL, "%s is NULL", name);
	if (target)
		free(t);
	/* target may be NULL */
	snprintf(name, sizeof(name), "whiteout(\"%s\") without target", path);
	is_int(oci_whiteout_parse(path, NULL), want, name);
}

static void test_whiteout(void)
{
	whiteout_is(".wh.foo", OCI_WHITEOUT_FILE, "foo");
	whiteout_is("dir/.wh.foo", OCI_WHITEOUT_FILE, "dir/foo");
	whiteout_is("a/b/.wh..hidden", OCI_WHITEOUT_FILE, "a/b/.hidden");
	whiteout_is(".wh.foo.wh.", OCI_WHITEOUT_FILE, "foo.wh.");
	whiteout_is("dir/.wh..wh..opq", OCI_WHITEOUT_OPAQUE, "dir");
	whiteout_is("a/b/.wh..wh..opq", OCI_WHITEOUT_OPAQUE, "a/b");
	whiteout_is(".wh..wh..opq", OCI_WHITEOUT_OPAQUE, "");
	whiteout_is(".wh.", OCI_WHITEOUT_INVALID, NULL);
	whiteout_is(".wh..", OCI_WHITEOUT_INVALID, NULL);
	whiteout_is(".wh...", OCI_WHITEOUT_INVALID, NULL);
	whiteout_is("dir/.wh.", OCI_WHITEOUT_INVALID, NULL);
	whiteout_is("dir/.wh..wh.foo", OCI_WHITEOUT_INVALID, NULL);
	whiteout_is("dir/.wh..wh..opqx", OCI_WHITEOUT_INVALID, NULL);
	whiteout_is("a/b", OCI_WHITEOUT_NONE, NULL);
	whiteout_is("foo", OCI_WHITEOUT_NONE, NULL);
	whiteout_is("", OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".whfoo", OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".WH.foo", OCI_WHITEOUT_NONE, NULL);
	whiteout_is("x.wh.foo", OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".wh.dir/foo", OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".wh..wh..opq/x", OCI_WHITEOUT_NONE, NULL);
}

/* the image-spec's ref grammar (annotations.md) */
static void test_ref_name(void)
{
	static const char *const good[] = {
	    "v1",
	    "0",
	    "a-b",
	    "a--b",
	    "a.b_c",
	    "A+B",
	    "x@y",
	    "a:b",
	    "example/app:1.0",
	    "registry.example.com:5000/ns/app:1.2.3",
	    "a/b/c",
	    "Z9",
	};
	static const char *const bad[] = {
	    "",	   "-a",   "a-",       "a..b", "a._b", "a---b", "a//b", "/a",	"a/",  ".",
	    "a b", "a\tb", "\xc3\xa9", "a:",   "@a",   "a@@b",	"a/-b", "a\\b", "a*b",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct oci_error *err = NULL;
		int r = oci_ref_name_check(good[i], &err);
		ok(r == 0 && !err, "ref \"%s\": allowed", good[i]);
		oci_error_free(err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct oci_error *err = NULL;
		int r = oci_ref_name_check(bad[i], &err);
		ok(r == OCI_E_USAGE && err && err->msg, "ref \"%s\": refused with a message",
		   bad[i]);
		oci_error_free(err);
	}
	char *longref = malloc(OCI_REF_NAME_MAX + 2);
	memset(longref, 'a', OCI_REF_NAME_MAX);
	longref[OCI_REF_NAME_MAX] = 0;
	ok(oci_ref_name_check(longref, NULL) == 0, "a ref of OCI_REF_NAME_MAX bytes: allowed");
	longref[OCI_REF_NAME_MAX] = 'a';
	longref[OCI_REF_NAME_MAX + 1] = 0;
	ok(oci_ref_name_check(longref, NULL) == OCI_E_USAGE, "one byte more: refused");
	free(longref);
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	test_ref();
	test_clean();
	test_whiteout();
	test_ref_name();
	rmdir(tmp);
	return done_testing();
}
