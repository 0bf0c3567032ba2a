/*
 * Times the three return shapes of return_shapes.S (see there) under three
 * patterns of call sites: a fixed cycle of 16 (every return predictable
 * from history), random among 16 and random among 4.  Prints ns a call.
 * Native code only: it measures what a translation of each shape would
 * cost on this CPU before anyone builds one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

long run_native(long n, const uint8_t *seq, uint64_t *ctx);
long run_ibl(long n, const uint8_t *seq, uint64_t *ctx);
long run_ring(long n, const uint8_t *seq, uint64_t *ctx);
extern const uint64_t ibl_landings[16];

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000000;
	static uint64_t ctx[8 + 17] __attribute__((aligned(64)));
	for (int i = 0; i < 16; i++)
		ctx[8 + i + 1] = ibl_landings[i];
	/* the ring: 64 KiB on a 64 KiB boundary, with room below for a push at
	 * index 0 */
	uint8_t *ring = mmap(NULL, 4 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ring == MAP_FAILED)
		return 1;
	ctx[3] = ((uint64_t)(uintptr_t)ring + 0x10000 + 0xffff) & ~0xffffull;
	ctx[4] = 0x8000;
	static const char *const pattern[] = {"fixed cycle of 16", "random among 16", "random among 4"};
	static const char *const shape[] = {"native call/ret", "IBL (today)", "ring"};
	long (*const run[])(long, const uint8_t *, uint64_t *) = {run_native, run_ibl, run_ring};
	for (int p = 0; p < 3; p++) {
		uint8_t seq[4096];
		uint64_t x = 88172645463325252ull;
		for (int i = 0; i < 4096; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			seq[i] = (uint8_t)(p == 0 ? (uint64_t)i % 16 : p == 1 ? x % 16 : x % 4);
		}
		for (int s = 0; s < 3; s++) {
			double t = now();
			long done = run[s](n, seq, ctx);
			t = now() - t;
			if (done != n)
				return 1;
			printf("%-18s %-16s %6.2f ns a call\n", pattern[p], shape[s], t / (double)n * 1e9);
		}
	}
	return 0;
}
