// Exercises deep stacks: ~100k-frame non-tail recursion with locals (fits an 8 MiB stack), deep mutual recursion through function pointers, alloca and VLAs; argv[1] = depth.
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long max_depth;

__attribute__((noinline)) static unsigned long deep(unsigned n, unsigned long acc)
{
	volatile unsigned long locals[3];
	locals[0] = n;
	locals[1] = acc ^ n;
	locals[2] = n * 2654435761u;
	if (n == 0)
		return locals[1];
	unsigned long r = deep(n - 1, acc + locals[2]);
	__asm__ volatile("" ::: "memory");
	return r + locals[0] + (locals[1] & 1);
}

typedef long (*step_fn)(int, int);
static long ping(int n, int d);
static long pong(int n, int d);
static step_fn volatile table[2] = {ping, pong};
__attribute__((noinline)) static long ping(int n, int d)
{
	volatile int x = n * 3;
	if ((unsigned long)d > max_depth)
		max_depth = (unsigned long)d;
	if (n <= 0)
		return 1;
	long r = table[1](n - 1, d + 1);
	return r + (x & 7);
}
__attribute__((noinline)) static long pong(int n, int d)
{
	volatile int y = n ^ 0x55;
	if (n <= 0)
		return 2;
	long r = table[0](n - 1, d + 1);
	return r * 1 + (y & 3);
}

/* each frame holds a small VLA */
__attribute__((noinline)) static uint32_t vla_rec(int n)
{
	int len = 4 + n % 5;
	volatile uint32_t v[len];
	for (int i = 0; i < len; i++)
		v[i] = (uint32_t)(n * 31 + i);
	if (n == 0)
		return v[0];
	uint32_t r = vla_rec(n - 1);
	return r * 3 + v[len - 1];
}

__attribute__((noinline)) static unsigned long use_alloca(size_t n)
{
	unsigned char *p = alloca(n);
	memset(p, 0x5a, n);
	unsigned long s = 0;
	for (size_t i = 0; i < n; i += 4096)
		s += p[i] + i;
	return s + p[n - 1];
}

int main(int argc, char **argv)
{
	unsigned depth = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	printf("deep(%u) = %lu\n", depth, deep(depth, 1));
	printf("deep(%u) again = %lu\n", depth / 2, deep(depth / 2, 7));
	long pp = ping((int)depth / 2, 0);
	printf("ping-pong(%u) = %ld, max depth %lu\n", depth / 2, pp, max_depth);
	printf("vla_rec(20000) = %u\n", vla_rec(20000));
	printf("alloca 1 MiB: %lu\n", use_alloca(1 << 20));
	for (int i = 1; i <= 4; i++)
		printf("deep(%d) = %lu\n", i * 25000, deep((unsigned)i * 25000, (unsigned long)i));
	return 0;
}
