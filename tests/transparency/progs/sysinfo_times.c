// sysinfo, times and what the C library builds on them (sysconf's
// _SC_PHYS_PAGES and _SC_AVPHYS_PAGES, clock ticks): old benchmarks time
// themselves with times(), and glibc's sysconf asks sysinfo for memory.
#include <stdio.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <unistd.h>

int main(void)
{
	struct sysinfo si;
	struct tms t0, t1;
	int r = sysinfo(&si);
	clock_t c0 = times(&t0);
	volatile double x = 0;
	for (long i = 0; i < 30000000; i++)
		x += (double)i;
	clock_t c1 = times(&t1);
	printf("sysinfo %d: ram %s, mem_unit %u, procs %s, uptime %s\n", r, si.totalram > 0 ? "yes" : "no",
	       si.mem_unit, si.procs > 0 ? "yes" : "no", si.uptime >= 0 ? "yes" : "no");
	printf("times: %s, elapsed ticks never back %d, user ticks never back %d, null buffer %s\n",
	       c0 != (clock_t)-1 ? "yes" : "no", c1 >= c0, t1.tms_utime >= t0.tms_utime,
	       times(NULL) != (clock_t)-1 ? "yes" : "no");
	printf("sysconf: phys pages %s, available %s, clock ticks %ld\n", sysconf(_SC_PHYS_PAGES) > 0 ? "yes" : "no",
	       sysconf(_SC_AVPHYS_PAGES) > 0 ? "yes" : "no", sysconf(_SC_CLK_TCK));
	return 0;
}
