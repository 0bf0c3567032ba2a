/*
 * migprog: the migration suite's compute guest (tests/migrate/run.sh,
 * bench/migrate).  Plain static program: its output is the same natively
 * and under opsub, whatever happens to it in between (a snapshot and a
 * restore, a migration there and back).
 *
 *   migprog count N MS MIB   N lines, one every MS milliseconds of sleep
 *                            plus a burst of computation that writes all
 *                            over a buffer of MIB MiB (dirty pages, SSE and
 *                            x87 state, a deep-ish stack); each line a
 *                            digest of it all; then "done" and exit 3
 *   migprog idle MIB         touches MIB MiB, prints "touched MIB MiB",
 *                            then sleeps (1 s at a time) until killed
 *   migprog holdfile         writes /tmp/held and keeps it open, prints
 *                            "holding", then sleeps until killed (a guest
 *                            whose files cannot move)
 *   migprog threads          starts a second thread, prints "two threads",
 *                            then both sleep until killed (a guest that
 *                            cannot be saved: more than one thread)
 *
 * Each line also says whether CLOCK_MONOTONIC ever went back since the
 * start ("mono ok"): a restored clock must go on, never backwards.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* a little recursion, so that a pause can land with frames on the stack */
static uint64_t walk(uint64_t *buf, size_t words, uint64_t *s, int depth)
{
	if (depth == 0) {
		uint64_t acc = 0;
		for (int i = 0; i < 20000; i++) {
			size_t k = xs(s) % words;
			buf[k] = buf[k] * 6364136223846793005ull + (*s | 1);
			acc += buf[k] >> 7;
		}
		return acc;
	}
	return walk(buf, words, s, depth - 1) ^ ((uint64_t)depth << 56);
}

__attribute__((noreturn)) static void *sleep_forever(void *unused)
{
	(void)unused;
	for (;;) {
		struct timespec st = {1, 0};
		nanosleep(&st, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "count")) {
		long n = atol(argv[2]), ms = atol(argv[3]);
		size_t words = (size_t)atol(argv[4]) << 17;
		if (n <= 0 || ms < 0 || !words)
			return 2;
		uint64_t *buf = malloc(words * 8), s = 88172645463325252ull;
		if (!buf)
			return 1;
		for (size_t i = 0; i < words; i++)
			buf[i] = i * 0x9e3779b97f4a7c15ull;
		double x = 1.0, last = now();
		long double lx = 1.0L;
		int backwards = 0;
		for (long i = 1; i <= n; i++) {
			uint64_t d = 0;
			for (int r = 0; r < 10; r++) {
				d ^= walk(buf, words, &s, 8 + r);
				x = sin(x + (double)(d & 0xffff) / 65536.0) * 1.5 + sqrt(fabs(x) + 1.0);
				lx = lx * 1.0000001L + (long double)x;
			}
			uint64_t sum = 0;
			for (size_t k = 0; k < words; k += 509)
				sum += buf[k];
			double t = now();
			if (t < last)
				backwards = 1;
			last = t;
			printf("tick %ld digest %016llx sum %016llx x %.12f lx %.6Lf mono %s\n", i, (unsigned long long)d,
			       (unsigned long long)sum, x, lx, backwards ? "WENT BACK" : "ok");
			fflush(stdout);
			struct timespec st = {ms / 1000, (ms % 1000) * 1000000};
			while (nanosleep(&st, &st))
				;
		}
		printf("done\n");
		return 3;
	}
	if (argc == 3 && !strcmp(argv[1], "idle")) {
		size_t bytes = (size_t)atol(argv[2]) << 20;
		unsigned char *m = malloc(bytes);
		if (!m)
			return 1;
		for (size_t i = 0; i < bytes; i += 4096)
			m[i] = (unsigned char)(i >> 12) | 1;
		printf("touched %s MiB\n", argv[2]);
		fflush(stdout);
		for (;;) {
			struct timespec st = {1, 0};
			nanosleep(&st, NULL);
		}
	}
	if (argc == 2 && !strcmp(argv[1], "holdfile")) {
		FILE *f = fopen("/tmp/held", "w");
		if (!f || fputs("state\n", f) < 0 || fflush(f))
			return 1;
		printf("holding\n");
		fflush(stdout);
		for (;;) {
			struct timespec st = {1, 0};
			nanosleep(&st, NULL);
		}
	}
	if (argc == 2 && !strcmp(argv[1], "threads")) {
		pthread_t t;
		if (pthread_create(&t, NULL, sleep_forever, NULL))
			return 1;
		printf("two threads\n");
		fflush(stdout);
		sleep_forever(NULL);
	}
	fprintf(stderr, "usage: migprog count N MS MIB | migprog idle MIB | migprog holdfile | migprog threads\n");
	return 2;
}
