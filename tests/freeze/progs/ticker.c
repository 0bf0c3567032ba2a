/*
 * ticker: a guest whose output depends on everything a saved state must
 * carry.  Each step mixes busy loops (a pause then finds it in translated
 * code), sleeps (a pause finds it inside a system call), vector registers
 * live across both (x87, SSE and AVX state; values on the x87 stack
 * across sleeps), a heap grown with brk and
 * mmap'd blocks freed again (page protections, holes), the FS base (the
 * thread pointer), a monotonic clock that must never go back, and the
 * signal state: a signal pending while blocked, an alternate signal stack
 * and an armed interval timer, looked at after the last step.  Native and
 * migrated runs print the same lines.
 * Usage: ticker STEPS SLEEP_MS
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

static __thread uint64_t per_thread = 7;   /* reached through FS */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps with two values on the x87 register stack, so that a pause finds
 * them there, then makes another system call before it reads them back: on
 * the far side of a move the gates see no x87 code until that read. */
static void sleep_x87_live(long ns, long double out[2])
{
	struct timespec ts = {0, ns};
	struct timespec *req = &ts;
	long nr = 35;   /* nanosleep */
	__asm__ volatile("fldpi\n fld1\n"
	                 "mov %2, %%rdi\n xor %%esi, %%esi\n syscall\n"
	                 "mov $39, %%eax\n syscall\n"   /* getpid */
	                 "fstpt %0\n fstpt %1\n"
	                 : "=m"(out[0]), "=m"(out[1]), "+r"(req), "+a"(nr)
	                 :
	                 : "rcx", "rdi", "rsi", "r11", "memory");
}

static volatile sig_atomic_t usr1_ran;
static void on_usr1(int sig) { usr1_ran = sig; }
static char altstack[16384];

static void signals_begin(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);   /* pending until signals_end */
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	sigaltstack(&ss, NULL);
	struct itimerval it = {.it_value = {3600, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void signals_end(void)
{
	struct itimerval it;
	getitimer(ITIMER_REAL, &it);
	stack_t ss;
	sigaltstack(NULL, &ss);
	sigset_t s;
	sigpending(&s);
	int pending = sigismember(&s, SIGUSR1);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	printf("timer armed, 3000-3600 s left: %d; alternate stack kept: %d; SIGUSR1 pending %d, delivered once unblocked %d\n",
	       it.it_value.tv_sec >= 3000 && it.it_value.tv_sec <= 3600, ss.ss_sp == altstack && ss.ss_size == sizeof(altstack),
	       pending, usr1_ran == SIGUSR1);
}

int main(int argc, char **argv)
{
	int steps = argc > 1 ? atoi(argv[1]) : 20, sleep_ms = argc > 2 ? atoi(argv[2]) : 20;
	uint64_t last = now_ns(), hash = 1469598103934665603ull;
	double acc = 1.0;
	long double ext = 1.0L;
	uint8_t *heap = malloc(1 << 20);
	signals_begin();
	for (int step = 0; step < steps; step++) {
		/* busy: a few million iterations in a loop with no exit */
		double v = acc;
		for (uint32_t i = 0; i < 3000000u; i++) {
			hash = (hash ^ (i + (uint64_t)step)) * 1099511628211ull;
			v = v * 1.0000001 + 1e-9;
		}
		acc = v;
		ext = ext * 1.5L - 0.25L;
		/* memory: touch the heap, map and unmap a block */
		for (uint32_t i = 0; i < (1u << 20); i += 4096)
			heap[i] = (uint8_t)(heap[i] + step + 1);
		uint8_t *block = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (block == MAP_FAILED)
			return 3;
		memset(block, step, 1 << 16);
		hash ^= block[12345];
		munmap(block, 1 << 16);
		per_thread = per_thread * 3 + (uint64_t)step;
		/* sleeping */
		long double x87[2];
		sleep_x87_live(sleep_ms * 1000000L, x87);
		uint64_t t = now_ns();
		if (t < last) {
			printf("step %d: the monotonic clock went back by %lu ns\n", step, last - t);
			return 4;
		}
		last = t;
		uint32_t sum = 0;
		for (uint32_t i = 0; i < (1u << 20); i += 4096)
			sum += heap[i];
		printf("step %d hash %016lx acc %.12f ext %.6Lf x87 %.6Lf %.6Lf tls %lu heap %u\n", step, hash, acc, ext,
		       x87[0], x87[1], per_thread, sum);
		fflush(stdout);
	}
	signals_end();
	return 0;
}
