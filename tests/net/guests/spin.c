/*
 * spin: keeps one CPU busy for SECONDS (default: until it is killed), for
 * the tests of the guests' CPU weight and cap (tests/net/cpu_service.sh).
 * It asks the time only every few million iterations: the loop itself is
 * plain arithmetic, as a guest that computes is.
 *
 *   spin [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("spin: spinning\n");
	fflush(stdout);
	volatile unsigned long sink = 0;
	for (;;) {
		for (unsigned long i = 0; i < 4000000; i++)
			sink += i ^ (sink >> 3);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (seconds > 0 && (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
			break;
	}
	printf("spin: done\n");
	return 0;
}
