// Attack (denial of service): generate and run 1500000 distinct basic
// blocks (12 MiB of JIT code made of `inc eax; jmp next` chains, run twice
// times) so that opsub's translator tables and code cache fill up and get
// flushed while the guest keeps running, including in the middle of a call
// chain.
// Natively: completes (DONE).
// Under opsub: completes with the right count.
// native: completes
#include "attack.h"

#define BLOCKS 1500000

int main(void)
{
	size_t len = (size_t)BLOCKS * 8 + 64;
	uint8_t *p = rwx((len + 4095) & ~4095ull, 0);
	for (size_t i = 0; i < BLOCKS; i++) {
		uint8_t *b = p + 8 * i;
		b[0] = 0xff; b[1] = 0xc0;          /* inc eax */
		b[2] = 0xe9;                       /* jmp rel32 to the next block */
		int32_t rel = 8 - 7;
		memcpy(b + 3, &rel, 4);
		b[7] = 0x90;
	}
	p[8 * BLOCKS] = 0xc3;
	uint64_t total = 0;
	for (int round = 0; round < 2; round++) {
		uint32_t r;
		__asm__ volatile("xor %%eax, %%eax\n call *%1" : "=a"(r) : "r"(p) : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
		total += r;
	}
	printf("DONE %lu (expected %lu)\n", total, 2ul * BLOCKS);
	return 0;
}
