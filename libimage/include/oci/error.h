/* Errors of the library: a status, the errno that caused it, and a message
 * that names its subject ("layer sha256:ab..: open: permission denied").
 * The library never prints; tools turn an oci_error into one line. */
#ifndef OCI_ERROR_H
#define OCI_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_EXPORT __attribute__((visibility("default")))

enum oci_status {
	OCI_OK = 0,
	OCI_E_IO = -1,		/* reading or writing failed */
	OCI_E_INVALID = -2,	/* bad, malformed or unsafe input */
	OCI_E_NOTFOUND = -3,	/* a ref, blob, platform or file does not exist */
	OCI_E_MISMATCH = -4,	/* digest, size or diff_id mismatch */
	OCI_E_UNSUPPORTED = -5, /* a media type, algorithm or feature we do not handle */
	OCI_E_USAGE = -6,	/* the caller asked for something that cannot be */
	OCI_E_LIMIT = -7,	/* input exceeds a bound we set */
	OCI_E_INTERRUPTED = -8, /* cancelled by a signal */
};

struct oci_error {
	enum oci_status status;
	int errnum; /* saved errno, 0 if none */
	char *msg;
};

OCI_EXPORT void oci_error_free(struct oci_error *err);
OCI_EXPORT const char *oci_status_name(enum oci_status st);
/* Long operations (spooling stdin, applying layers, committing) stop with
 * OCI_E_INTERRUPTED once *flag becomes non-zero (a tool's signal handler). */
#include <signal.h>
OCI_EXPORT void oci_set_cancel_flag(volatile sig_atomic_t *flag);

#ifdef __cplusplus
}
#endif
#endif
