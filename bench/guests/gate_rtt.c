/* Gate round-trip microbenchmark (run under opsub only: vmcall faults natively).
 * Prints ns per hypercall and per getpid syscall, minus the empty loop.
 *   gate_rtt [N] [x87]   x87: format a float first (musl does it through
 *                        long double), which leaves the x87 state in use:
 *                        the full gate then keeps it too (gates/ctx.h) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline long hypercall0(long nr)
{
	long r = nr;
	__asm__ volatile("vmcall" : "+a"(r) : : "memory");
	return r;
}

static inline long syscall0(long nr)
{
	long r = nr;
	__asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
	return r;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	if (argc > 2 && !strcmp(argv[2], "x87"))
		fprintf(stderr, "x87 in use: %f\n", 1.5);
	volatile long sink = 0;
	uint64_t t0 = now();
	for (long i = 0; i < n; i++)
		sink += i;
	uint64_t t1 = now();
	for (long i = 0; i < n; i++)
		sink += hypercall0(0);   /* no such call: the bare gate round trip */
	uint64_t t2 = now();
	for (long i = 0; i < n; i++)
		sink += syscall0(39);    /* getpid */
	uint64_t t3 = now();
	double loop = (double)(t1 - t0) / n;
	printf("hypercall_ns %.1f\nsyscall_ns %.1f\n", (double)(t2 - t1) / n - loop, (double)(t3 - t2) / n - loop);
	return 0;
}
