// Attack: system calls that read a structure from a guest pointer, given a
// host address (opsub's ELF header), or a structure straddling 4 GiB or the
// top of guest memory: rt_sigaction(act), rt_sigprocmask(set), futex,
// nanosleep, clock_nanosleep, setitimer(new); and clock_gettime on another process's CPU
// clock (a negative clock id), which would read state outside the guest.
// Natively: the host cases succeed (ESCAPED).
// Under opsub: -EFAULT / -EINVAL.
// variants: host edges
// stdin: hostaddr
#include "attack.h"
#include <signal.h>
#include <time.h>

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	map_4g_edge();
	uint64_t ps[2] = {T.native ? T.rw : T.data, 0};
	if (strcmp(v, "host")) {
		ps[0] = FOUR_GIB - 1;       /* straddles 4 GiB */
		ps[1] = stack_top() - 1;    /* runs off the top of guest memory */
	}
	/* natively: something valid to read there (a zero timespec, an empty set) */
	if (T.native)
		memset((void *)(uintptr_t)ps[0], 0, 32);
	for (int i = 0; i < 2 && ps[i]; i++) {
	uint64_t p = ps[i];
	sys_case("rt_sigaction(act)", p, 32, sc4(SYS_rt_sigaction, SIGUSR2, p, 0, 8), 0);
	sys_case("rt_sigprocmask(set)", p, 8, sc4(SYS_rt_sigprocmask, SIG_BLOCK, p, 0, 8), 0);
	sys_case("futex(wake)", p, 4, sc3(SYS_futex, p, 1 /* FUTEX_WAKE */, 1), 0);
	sys_case("nanosleep", p, 16, sc2(SYS_nanosleep, p, 0), 0);
	sys_case("clock_nanosleep", p, 16, sc4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, 0), 0);
	sys_case("setitimer(new)", p, 32, sc3(SYS_setitimer, 2 /* ITIMER_PROF */, p, 0), 0);
	sc3(SYS_setitimer, 2, 0, 0);   /* whatever it set: off again */
	if (!strcmp(v, "host")) {
		struct timespec ts;
		long pid1_clock = (~1L << 3) | 2;   /* MAKE_PROCESS_CPUCLOCK(1, CPUCLOCK_SCHED) */
		sys_case("clock_gettime(pid 1's CPU clock)", (uint64_t)pid1_clock, 16,
		         sc2(SYS_clock_gettime, pid1_clock, &ts), 0);
	}
	}
	return 0;
}
