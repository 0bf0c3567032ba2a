// Attack: reach another host process (the parent that started the guest):
// signal it (kill/tgkill with signal 0, which only checks permission), read
// its memory (process_vm_readv), get a handle on it (pidfd_open), read its
// resource limits (prlimit64 on its pid), read its CPU clock
// (clock_gettime on a process CPU clock id).
// Natively: these succeed for a process of the same user (ESCAPED).
// Under opsub: -EPERM / -ENOSYS / -EINVAL: the guest may only signal itself.
// variants: kill tgkill process_vm_readv pidfd_open prlimit64 cpuclock
#include "attack.h"
#include <sys/uio.h>
#include <time.h>

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	long pp = sc0(SYS_getppid), r;
	if (!strcmp(v, "kill"))
		r = sc2(SYS_kill, pp, 0);
	else if (!strcmp(v, "tgkill"))
		r = sc3(SYS_tgkill, pp, pp, 0);
	else if (!strcmp(v, "process_vm_readv")) {
		/* a readable address of the parent: its first mapping (natively
		 * from /proc; under opsub open() is refused and 0x400000 is tried) */
		char path[64], line[256], buf[8];
		unsigned long lo = 0x400000;
		snprintf(path, sizeof(path), "/proc/%ld/maps", pp);
		FILE *f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f))
			sscanf(line, "%lx", &lo);
		if (f)
			fclose(f);
		struct iovec l = {buf, 8}, rem = {(void *)lo, 8};
		r = sc6(SYS_process_vm_readv, pp, &l, 1, &rem, 1, 0);
		note("process_vm_readv(%ld, %#lx) = %ld", pp, lo, r);
		r = r == 8 ? 0 : r;
	} else if (!strcmp(v, "pidfd_open"))
		r = sc2(434, pp, 0) >= 0 ? 0 : -1;
	else if (!strcmp(v, "prlimit64")) {
		uint64_t lim[2];
		r = sc4(SYS_prlimit64, pp, 7 /* RLIMIT_NOFILE */, 0, lim);
	} else {
		struct timespec ts;
		long clk = (~pp << 3) | 2;   /* MAKE_PROCESS_CPUCLOCK(ppid, CPUCLOCK_SCHED) */
		r = sc2(SYS_clock_gettime, clk, &ts);
	}
	if (r == 0)
		escaped("%s on the parent process %ld succeeded", v, pp);
	else
		note("%s on the parent process %ld returned %ld", v, pp, r);
	return 0;
}
