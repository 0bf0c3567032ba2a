#include "sandbox/jail.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/volume.h"

/* System calls a jailed guest process may make, and why. */
static const int allowed[] = {
	/* the guest's I/O on descriptors 0-2 (personality), the driver's link
	 * socket and interrupt eventfds, opsub's own reports */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(fcntl), SCMP_SYS(recvmsg), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(close), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	/* reading a volume's directories (fs/volume.h; openat2 is added below) */
	SCMP_SYS(getdents64),
	/* guest memory management (zeroing pages, the copy of mremap) and the
	 * C library's allocator; mmap/mprotect are added below, never PROT_EXEC */
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(fallocate), SCMP_SYS(pread64),
	SCMP_SYS(brk), SCMP_SYS(mremap),
	/* time, sleeping and scheduling for the guest; futex for the C library */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(sched_yield), SCMP_SYS(pause), SCMP_SYS(futex),
	SCMP_SYS(getrusage),
	/* the guest's interval timers, created before the jail (monitor/signals.h) */
	SCMP_SYS(timer_settime), SCMP_SYS(timer_gettime),
	/* identity and randomness the personality passes on */
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getrandom),
	SCMP_SYS(getpgrp), SCMP_SYS(getsid), SCMP_SYS(getgroups), SCMP_SYS(getresuid), SCMP_SYS(getresgid),
	/* the monitor's own signals: fault handling, abort on an internal error
	 * (tgkill is added below, to this process only) */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

int jail_enter(char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = f ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	/* mmap and mprotect, never executable: translated code was mapped
	 * before the jail closed */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort() signals this process; no other may be reached even by code
	 * that escaped the translator */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	_Static_assert(VOLUME_FD_BASE % FS_MAX_VOLUMES == 0, "the jail names the volumes by a mask");
	/* files beneath the read-only volumes only: openat2 relative to a
	 * volume's descriptor (the flags that keep it beneath are in a struct
	 * the filter cannot see: fs/volume.c always sets them), and readlink
	 * of a link such an open found (never relative to the working directory) */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(openat2), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)(FS_MAX_VOLUMES - 1), VOLUME_FD_BASE));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(readlinkat), 1, SCMP_A0(SCMP_CMP_LT, 65536));
	/* the two terminal queries of the personality */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TIOCGWINSZ));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (rc == 0)
		rc = seccomp_load(f);
	if (f)
		seccomp_release(f);
	if (rc) {
		snprintf(err, errlen, "cannot install the seccomp jail: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
