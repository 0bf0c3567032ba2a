/* Native cost of one getpid system call, for comparison with the gate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		long r = 39;
		__asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("syscall_ns %.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
