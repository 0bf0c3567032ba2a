// Attack: system calls that write a structure to a guest pointer, given a
// host address (opsub's .data), a structure straddling 4 GiB, and one
// straddling the top of guest memory: getrandom, clock_gettime, uname,
// gettimeofday, time, clock_getres, getcwd, getrusage, prlimit64(old),
// rt_sigprocmask(old), rt_sigaction(old), arch_prctl(ARCH_GET_FS),
// sched_getaffinity, getcpu, sysinfo, times, getitimer, sigaltstack(old),
// rt_sigpending, rt_sigtimedwait(info), timer_create(id), timer_gettime,
// prctl(PR_GET_NAME), sched_getparam, getresuid.
// Natively: the host cases succeed (ESCAPED).
// Under opsub: -EFAULT (the time/clock ones may also return -EFAULT after
// doing nothing).
// variants: host edges
// stdin: hostaddr
#include "attack.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	map_4g_edge();
	uint64_t ps[2] = {T.rw, 0};
	if (strcmp(v, "host")) {
		ps[0] = FOUR_GIB - 1;       /* straddles 4 GiB */
		ps[1] = stack_top() - 1;    /* runs off the top of guest memory */
	}
	for (int i = 0; i < 2 && ps[i]; i++) {
	uint64_t p = ps[i];
	sys_case("getrandom", p, 64, sc3(SYS_getrandom, p, 64, 0), 64);
	sys_case("clock_gettime", p, 16, sc2(SYS_clock_gettime, CLOCK_MONOTONIC, p), 0);
	sys_case("uname", p, 390, sc1(SYS_uname, p), 0);
	sys_case("gettimeofday", p, 16, sc2(SYS_gettimeofday, p, 0), 0);
	sys_case("clock_getres", p, 16, sc2(SYS_clock_getres, CLOCK_MONOTONIC, p), 0);
	sys_case("getcwd", p, 64, sc2(SYS_getcwd, p, 64) > 0 ? 1 : 0, 1);
	sys_case("getrusage", p, 144, sc2(SYS_getrusage, RUSAGE_SELF, p), 0);
	sys_case("prlimit64", p, 16, sc4(SYS_prlimit64, 0, RLIMIT_STACK, 0, p), 0);
	sys_case("rt_sigprocmask", p, 8, sc4(SYS_rt_sigprocmask, SIG_BLOCK, 0, p, 8), 0);
	sys_case("rt_sigaction", p, 32, sc4(SYS_rt_sigaction, SIGUSR1, 0, p, 8), 0);
	sys_case("arch_prctl(GET_FS)", p, 8, sc2(SYS_arch_prctl, 0x1003, p), 0);
	sys_case("sched_getaffinity", p, 8, sc3(SYS_sched_getaffinity, 0, 8, p), 8);
	sys_case("getcpu", p, 4, sc3(SYS_getcpu, p, 0, 0), 0);
	sys_case("sysinfo", p, 112, sc1(SYS_sysinfo, p), 0);
	long ticks = sc1(SYS_times, p);
	sys_case("times", p, 32, ticks >= 0 ? 0 : ticks, 0);
	sys_case("getitimer", p, 32, sc2(SYS_getitimer, ITIMER_REAL, p), 0);
	sys_case("sigaltstack(old)", p, 24, sc2(SYS_sigaltstack, 0, p), 0);
	sys_case("rt_sigpending", p, 8, sc2(SYS_rt_sigpending, p, 8), 0);
	uint64_t usr2 = 1ull << (SIGUSR2 - 1), no_wait[2] = {0, 0};
	sc4(SYS_rt_sigprocmask, SIG_BLOCK, &usr2, 0, 8);
	sc2(SYS_tkill, sc0(SYS_gettid), SIGUSR2);   /* pending, for the wait to take */
	sys_case("rt_sigtimedwait(info)", p, 128, sc4(SYS_rt_sigtimedwait, &usr2, p, no_wait, 8), SIGUSR2);
	sys_case("timer_create(id)", p, 4, sc3(SYS_timer_create, CLOCK_MONOTONIC, 0, p), 0);
	sys_case("prctl(PR_GET_NAME)", p, 16, sc2(SYS_prctl, 16 /* PR_GET_NAME */, p), 0);
	sys_case("sched_getparam", p, 4, sc2(SYS_sched_getparam, 0, p), 0);
	sys_case("getresuid", p, 4, sc3(SYS_getresuid, p, p, p), 0);
	int timer = -1;
	if (sc3(SYS_timer_create, CLOCK_MONOTONIC, 0, &timer) == 0) {
		sys_case("timer_gettime", p, 32, sc2(SYS_timer_gettime, timer, p), 0);
		sc1(SYS_timer_delete, timer);
	}
	/* time(p) returns the time on success, -EFAULT otherwise */
	long t = sc1(SYS_time, p);
	sys_case("time", p, 8, t > 0 ? 0 : t, 0);
	}
	return 0;
}
