/* tool_platform in an object of its own: it is the one tools/common helper
 * that needs the image half of libimage (document.c, and through it digest.c
 * and libcrypto). oci-runtime links tools/common without libimage.so, and a
 * static archive pulls in whole objects, so keeping it out of common.c keeps
 * those out of the runtime (bench/runtime.sh: loader cost per exec). */
#include "common.h"

int tool_platform(const char *s, struct oci_platform *out)
{
	if (!s) {
		oci_platform_host(out);
		return 0;
	}
	struct oci_error *err = NULL;
	if (oci_platform_parse(s, out, &err) < 0)
		return tool_fail("--platform", err);
	return 0;
}
