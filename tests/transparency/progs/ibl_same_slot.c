// Indirect calls to functions whose addresses agree in their low 16 bits
// (one IBL slot): six small functions, each in its own 64 KiB, called in
// turn and alternately, so that the translator's slot chains fill, overflow
// and start again; then functions in the middle of a chain are rewritten,
// unmapped and mapped again with other code at the same address.  Every
// call must run the code that is there now: the sums come out as natively.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FUNCS 6
#define STRIDE 0x10000
#define AT 0x1230

typedef uint32_t (*fn)(void);

static unsigned char *region;

static fn func(int k) { return (fn)(void *)(region + (size_t)k * STRIDE + AT); }

/* mov eax, imm32; ret */
static void write_func(int k, uint32_t value)
{
	unsigned char *p = region + (size_t)k * STRIDE + AT;
	p[0] = 0xb8;
	memcpy(p + 1, &value, 4);
	p[5] = 0xc3;
	__builtin___clear_cache((char *)p, (char *)p + 6);
}

static uint64_t calls(const int *order, int n, long rounds)
{
	uint64_t sum = 0;
	for (long r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++)
			sum = sum * 31 + func(order[i])();
	return sum;
}

int main(void)
{
	/* 64 KiB-aligned so that every function's address ends in AT */
	unsigned char *raw = mmap(NULL, (FUNCS + 1) * STRIDE, PROT_READ | PROT_WRITE | PROT_EXEC,
	                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	region = (unsigned char *)(((uintptr_t)raw + STRIDE - 1) & ~(uintptr_t)(STRIDE - 1));
	for (int k = 0; k < FUNCS; k++)
		write_func(k, 100 + (uint32_t)k);

	static const int two[] = {0, 1}, four[] = {0, 1, 2, 3}, six[] = {0, 1, 2, 3, 4, 5};
	static const int mixed[] = {5, 0, 5, 1, 5, 2, 3, 5, 4};
	printf("two %llx\n", (unsigned long long)calls(two, 2, 200000));
	printf("four %llx\n", (unsigned long long)calls(four, 4, 100000));
	printf("six %llx\n", (unsigned long long)calls(six, 6, 50000));
	printf("mixed %llx\n", (unsigned long long)calls(mixed, 9, 30000));

	/* rewritten in place while in a chain: the new code must run */
	printf("four again %llx\n", (unsigned long long)calls(four, 4, 1000));
	write_func(1, 201);
	write_func(2, 202);
	printf("rewritten %llx\n", (unsigned long long)calls(four, 4, 1000));

	/* unmapped and mapped again with other code at the same address */
	unsigned char *page = region + 2 * STRIDE;
	if (munmap(page, STRIDE) ||
	    mmap(page, STRIDE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != page) {
		printf("remap failed\n");
		return 1;
	}
	write_func(2, 302);
	printf("remapped %llx\n", (unsigned long long)calls(four, 4, 1000));
	printf("six again %llx\n", (unsigned long long)calls(six, 6, 1000));
	return 0;
}
