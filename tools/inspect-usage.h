/* oci-inspect --usage: the printing of where an image's bytes go, and the
 * CI gates over it (oci-inspect.c parses the options and dispatches). */
#ifndef INSPECT_USAGE_H
#define INSPECT_USAGE_H

#include <stdbool.h>
#include "common.h"

struct usage_gates {
	bool max_bytes_set, max_percent_set, min_eff_set;
	long long max_bytes;
	double max_percent, min_eff;
};

/* parse a gate option's value; 0, or a usage error's exit status */
int usage_gate_option(struct usage_gates *g, const char *opt, const char *val);
bool usage_gates_any(const struct usage_gates *g);
/* print img's usage (text or JSON) and check the gates: 0, 1 when a gate
 * fails (one line on stderr for each), 2 trouble */
int inspect_usage(const char *spec, const struct oci_image *img, bool json,
		  const struct usage_gates *g);

#endif
