/* linux.seccomp: the filter built from config.json with libseccomp when
 * the runtime is parsed, loaded by the init just before the container's
 * program runs. Without libseccomp only a filter that allows everything is
 * accepted: a filter we cannot apply is refused, never silently dropped. */
#include <errno.h>
#include "runtime.h"
#if HAVE_SECCOMP
#include <seccomp.h>
#endif

#if HAVE_SECCOMP
/* errnoRet (defaultErrnoRet for the default action): an errno, read
 * exactly; the kernel's filter result has room for 16 bits, an errno is
 * below 4095 (MAX_ERRNO) and libseccomp refuses 4095 itself with a bare
 * EINVAL, so the bound is said here with its numbers */
static int sc_action(const char *name, const cJSON *rule, const char *errkey, uint32_t *out,
		     struct oci_error **err)
{
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(rule, errkey);
	uint64_t e = EPERM;
	if (er && !cJSON_IsNull(er) && !oci_json_uint64(er, 4094, &e))
		return error_set(err, OCI_E_INVALID, 0,
				 "linux.seccomp: %s: not an integer in 0..4094", errkey);
	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO((uint32_t)e);
	else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE((uint32_t)e);
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else
		return error_set(err, OCI_E_UNSUPPORTED, 0,
				 "linux.seccomp: action \"%s\" is not supported", name);
	return 0;
}

static int sc_op(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *n;
		enum scmp_compare op;
	} ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
		   {"SCMP_CMP_LT", SCMP_CMP_LT},
		   {"SCMP_CMP_LE", SCMP_CMP_LE},
		   {"SCMP_CMP_EQ", SCMP_CMP_EQ},
		   {"SCMP_CMP_GE", SCMP_CMP_GE},
		   {"SCMP_CMP_GT", SCMP_CMP_GT},
		   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].n, name)) {
			*out = ops[i].op;
			return 0;
		}
	return -1;
}

/* One argument comparison. Its values are 64-bit integers read exactly
 * from their text: through a double, 0xFFFFFFFFFFFFFFFF (the usual mask)
 * would become 0 and the filter would not be the config's. */
static int sc_arg(const cJSON *a, struct scmp_arg_cmp *out, struct oci_error **err)
{
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(a, "index");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(a, "value");
	const cJSON *val2 = cJSON_GetObjectItemCaseSensitive(a, "valueTwo");
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(a, "op");
	uint64_t i, v = 0, v2 = 0;
	enum scmp_compare cmp;
	if (!cJSON_IsObject(a))
		return error_set(err, OCI_E_INVALID, 0, "not an object");
	if (!oci_json_uint64(idx, 5, &i))
		return error_set(err, OCI_E_INVALID, 0, "index: not an integer in 0..5");
	if (!cJSON_IsString(op) || sc_op(op->valuestring, &cmp) < 0)
		return error_set(err, OCI_E_INVALID, 0, "op: missing or unknown");
	if (val && !cJSON_IsNull(val) && !oci_json_uint64(val, UINT64_MAX, &v))
		return error_set(err, OCI_E_INVALID, 0, "value: not an integer in 0..2^64-1");
	if (val2 && !cJSON_IsNull(val2) && !oci_json_uint64(val2, UINT64_MAX, &v2))
		return error_set(err, OCI_E_INVALID, 0, "valueTwo: not an integer in 0..2^64-1");
	*out = (struct scmp_arg_cmp){
	    .arg = (unsigned)i, .op = cmp, .datum_a = (scmp_datum_t)v, .datum_b = (scmp_datum_t)v2};
	return 0;
}

int rt_seccomp_build(struct rt_config *c, const cJSON *sc, struct oci_error **err)
{
	const cJSON *da = cJSON_GetObjectItemCaseSensitive(sc, "defaultAction");
	if (!cJSON_IsString(da))
		return error_set(err, OCI_E_INVALID, 0, "linux.seccomp: defaultAction is missing");
	uint32_t def;
	int r = sc_action(da->valuestring, sc, "defaultErrnoRet", &def, err);
	if (r < 0)
		return r;
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return error_set(err, OCI_E_INVALID, 0, "linux.seccomp: cannot make a filter");
	/* the filter must not stop the kernel from refusing what it does not
	 * know: no-new-privs is set (or not) by the runtime itself */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	const cJSON *arch;
	cJSON_ArrayForEach (arch, cJSON_GetObjectItemCaseSensitive(sc, "architectures")) {
		if (!cJSON_IsString(arch))
			continue;
		const char *n = arch->valuestring;
		if (!strncmp(n, "SCMP_ARCH_", 10))
			n += 10;
		char lower[32];
		size_t i = 0;
		for (; n[i] && i + 1 < sizeof(lower); i++)
			lower[i] = (char)((n[i] >= 'A' && n[i] <= 'Z') ? n[i] + 32 : n[i]);
		lower[i] = 0;
		uint32_t a = seccomp_arch_resolve_name(lower);
		if (a && a != seccomp_arch_native()) {
			int ar = seccomp_arch_add(ctx, a);
			if (ar < 0 && ar != -EEXIST)
				rt_warn("linux.seccomp: architecture %s: %s", arch->valuestring,
					strerror(-ar));
		}
	}
	const cJSON *rule;
	cJSON_ArrayForEach (rule, cJSON_GetObjectItemCaseSensitive(sc, "syscalls")) {
		const cJSON *act = cJSON_GetObjectItemCaseSensitive(rule, "action");
		uint32_t action;
		if (!cJSON_IsString(act) ||
		    (r = sc_action(act->valuestring, rule, "errnoRet", &action, err)) < 0) {
			seccomp_release(ctx);
			return r < 0 ? r
				     : error_set(err, OCI_E_INVALID, 0,
						 "linux.seccomp: a rule has no action");
		}
		struct scmp_arg_cmp args[6];
		unsigned n_args = 0;
		const cJSON *a;
		cJSON_ArrayForEach (a, cJSON_GetObjectItemCaseSensitive(rule, "args")) {
			if (n_args >= 6) {
				seccomp_release(ctx);
				return error_set(err, OCI_E_INVALID, 0,
						 "linux.seccomp: more than 6 argument rules");
			}
			if (sc_arg(a, &args[n_args], err) < 0) {
				seccomp_release(ctx);
				return error_wrap(err, "linux.seccomp: args[%u]", n_args);
			}
			n_args++;
		}
		const cJSON *nm;
		cJSON_ArrayForEach (nm, cJSON_GetObjectItemCaseSensitive(rule, "names")) {
			if (!cJSON_IsString(nm))
				continue;
			int nr = seccomp_syscall_resolve_name(nm->valuestring);
			if (nr == __NR_SCMP_ERROR)
				continue; /* a syscall this kernel or libseccomp does not know */
			if (action == def)
				continue; /* libseccomp refuses rules that change nothing */
			int ar = seccomp_rule_add_array(ctx, action, nr, n_args, args);
			if (ar < 0 && n_args > 1 && ar == -EINVAL) {
				/* several conditions on one argument: one rule each, as runc does
				 */
				for (unsigned k = 0; k < n_args && ar < 0; k++)
					ar = seccomp_rule_add_array(ctx, action, nr, 1, &args[k]);
			}
			if (ar < 0) {
				seccomp_release(ctx);
				return error_set(err, OCI_E_INVALID, -ar,
						 "linux.seccomp: rule for %s", nm->valuestring);
			}
		}
	}
	c->seccomp = ctx;
	return 0;
}

int rt_seccomp_load(const struct rt_config *c, struct oci_error **err)
{
	if (!c->seccomp)
		return 0;
	int r = seccomp_load(c->seccomp);
	if (r < 0)
		return error_set(err, OCI_E_IO, -r, "load the seccomp filter");
	return 0;
}

void rt_seccomp_free(struct rt_config *c)
{
	if (c->seccomp)
		seccomp_release(c->seccomp);
	c->seccomp = NULL;
}
#else
int rt_seccomp_build(struct rt_config *c, const cJSON *sc, struct oci_error **err)
{
	(void)c;
	const cJSON *da = cJSON_GetObjectItemCaseSensitive(sc, "defaultAction");
	bool allow = cJSON_IsString(da) && strcmp(da->valuestring, "SCMP_ACT_ALLOW") == 0;
	const cJSON *s;
	cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(sc, "syscalls")) {
		const cJSON *act = cJSON_GetObjectItemCaseSensitive(s, "action");
		if (!cJSON_IsString(act) || strcmp(act->valuestring, "SCMP_ACT_ALLOW") != 0)
			allow = false;
	}
	if (!allow)
		return error_set(
		    err, OCI_E_UNSUPPORTED, 0,
		    "linux.seccomp: built without libseccomp: only a filter that allows "
		    "everything is accepted");
	return 0;
}

int rt_seccomp_load(const struct rt_config *c, struct oci_error **err)
{
	(void)c;
	(void)err;
	return 0;
}

void rt_seccomp_free(struct rt_config *c)
{
	(void)c;
}
#endif
