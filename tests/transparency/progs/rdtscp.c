// rdtscp as a program sees it: rdx:rax is the time stamp counter (between two rdtsc reads, and increasing), and the instruction writes all of rax, rcx and rdx (upper halves cleared).
// Where the host lacks rdtscp (the matrix suite: OPSUB_HOST_HIDE=rdtscp) the translator emulates it (lfence; rdtsc; ecx = 0) and the output must not change.
// ecx (TSC_AUX) is only on stderr, which is not compared: natively it is whatever the host put there (under this repository's first hypervisor, not even the guest's CPU number), in the sandbox it must be 0; the matrix suite checks "ecx 0" under opsub.
// The native run needs rdtscp (every x86-64 CPU since 2008 executes it; a hypervisor may hide its CPUID bit).
// variants: O2 pie
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct tscp {
	uint64_t rax, rcx, rdx;
};

/* rdtscp with all-ones in the registers it writes, so that a 16-bit or
 * 8-bit write would show */
static struct tscp rdtscp(void)
{
	struct tscp r = {~0ull, ~0ull, ~0ull};
	__asm__ volatile("rdtscp" : "+a"(r.rax), "+c"(r.rcx), "+d"(r.rdx));
	return r;
}

static uint64_t tsc(struct tscp r) { return r.rdx << 32 | (uint32_t)r.rax; }

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int main(void)
{
	/* between two rdtsc reads (retried: a move to another CPU between the
	 * three reads could see TSCs that are not in step) */
	int between = 0;
	for (int i = 0; i < 100 && !between; i++) {
		uint64_t a = rdtsc();
		uint64_t b = tsc(rdtscp());
		uint64_t c = rdtsc();
		between = a <= b && b <= c;
	}

	struct tscp r0 = rdtscp();
	struct timespec pause = {0, 2000000};   /* 2 ms: millions of ticks */
	nanosleep(&pause, NULL);
	struct tscp r1 = rdtscp();
	int increases = tsc(r1) > tsc(r0);
	int cleared = (r0.rax >> 32) == 0 && (r0.rcx >> 32) == 0 && (r0.rdx >> 32) == 0;

	fprintf(stderr, "rdtscp: ecx %u; tsc %llu -> %llu\n", (unsigned)r0.rcx, (unsigned long long)tsc(r0),
	        (unsigned long long)tsc(r1));
	printf("rdtscp: rdx:rax lies between two rdtsc reads: %s\n", between ? "yes" : "no");
	printf("rdtscp: the TSC increases: %s\n", increases ? "yes" : "no");
	printf("rdtscp: upper halves of rax, rcx and rdx cleared: %s\n", cleared ? "yes" : "no");
	return between && increases && cleared ? 0 : 1;
}
