/*
 * unit_seccomp [--deny NAME,...] PROGRAM [ARGS...]: runs PROGRAM under the seccomp-based
 * settings of dist/opsub.service.in, as systemd 252 installs them, so that
 * tests/install/run.sh can show the daemon works inside its unit without a
 * running systemd:
 *   MemoryDenyWriteExecute=yes   mmap writable and executable, mprotect or
 *                                pkey_mprotect to executable, shmat with
 *                                SHM_EXEC: EPERM
 *   RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
 *                                socket() of any other family: EAFNOSUPPORT
 *   RestrictNamespaces=yes       unshare, setns, clone with a CLONE_NEW* flag:
 *                                EPERM; clone3: ENOSYS (its flags are out of
 *                                a filter's reach, so the C library falls back)
 *   SystemCallArchitectures=native  any other ABI kills the process
 *   SystemCallFilter=~...        with SystemCallErrorNumber=EPERM: each
 *                                system call named by --deny (the test
 *                                expands the unit's groups with systemd-analyze)
 *   NoNewPrivileges=yes          libseccomp sets no_new_privs with the filter
 * Keep it in step with the unit when either changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

static const int allowed_families[] = {AF_UNIX, AF_INET, AF_INET6};
static const unsigned long namespace_flags[] = {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                                                CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME};

static int deny_write_execute(scmp_filter_ctx f)
{
	const scmp_datum_t wx = PROT_WRITE | PROT_EXEC;
	int rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
		                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
		                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(shmat), 1,
		                      SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
	return rc;
}

/* socket(domain, ...) is refused unless domain is one of the allowed
 * families: one rule per disallowed range between them. */
static int restrict_families(scmp_filter_ctx f)
{
	scmp_datum_t lo = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i <= sizeof(allowed_families) / sizeof(allowed_families[0]); i++) {
		scmp_datum_t hi = i < sizeof(allowed_families) / sizeof(allowed_families[0])
		                      ? (scmp_datum_t)allowed_families[i] : AF_MAX;
		for (scmp_datum_t fam = lo; !rc && fam < hi; fam++)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
			                      SCMP_A0(SCMP_CMP_EQ, fam));
		lo = hi + 1;
	}
	if (!rc)   /* anything at or beyond AF_MAX */
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
		                      SCMP_A0(SCMP_CMP_GE, AF_MAX));
	return rc;
}

static int restrict_namespaces(scmp_filter_ctx f)
{
	int rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0);
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0);
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (size_t i = 0; !rc && i < sizeof(namespace_flags) / sizeof(namespace_flags[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]));
	return rc;
}

/* names: comma-separated; names this architecture lacks are skipped */
static int deny_syscalls(scmp_filter_ctx f, char *names)
{
	int rc = 0;
	for (char *save, *name = strtok_r(names, ",", &save); !rc && name; name = strtok_r(NULL, ",", &save)) {
		int nr = seccomp_syscall_resolve_name(name);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	return rc;
}

int main(int argc, char **argv)
{
	char *deny = NULL;
	if (argc > 2 && !strcmp(argv[1], "--deny")) {
		deny = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: unit_seccomp [--deny NAME,...] PROGRAM [ARGS...]\n");
		return 2;
	}
	/* the default action allows; a foreign ABI is killed (libseccomp's
	 * default for architectures not in the filter) */
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int rc = f ? 0 : -ENOMEM;
	if (!rc)
		rc = deny_write_execute(f);
	if (!rc)
		rc = restrict_families(f);
	if (!rc)
		rc = restrict_namespaces(f);
	if (!rc && deny)
		rc = deny_syscalls(f, deny);
	if (!rc)
		rc = seccomp_load(f);
	if (rc) {
		fprintf(stderr, "unit_seccomp: cannot install the filter: %s\n", strerror(-rc));
		return 1;
	}
	seccomp_release(f);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "unit_seccomp: cannot run %s: %s\n", argv[1], strerror(errno));
	return 127;
}
