// x87 environment stores the translator scrubs (their saved instruction
// pointer) through unusual addresses, both found by tests/oracle, where the
// guest stopped with an internal error: a displacement near 2^31, which the
// scrub wraps past 2^31 (rcx + 0x7fffffff names the same buffer natively,
// with a 64-bit wrap, and in the sandbox); and a 32-bit address with a SIB
// without base and REX.B set, which Zydis decodes as [r13d + index].
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static uint8_t area[512] __attribute__((aligned(64)));

int main(void)
{
	uintptr_t rcx = (uintptr_t)area - 0x7fffffffu;
	memset(area, 0xaa, sizeof(area));
	__asm__ volatile("fninit\n\tfld1\n\tfnsave 0x7fffffff(%0)" : : "r"(rcx) : "memory", "st");
	uint16_t cw, sw, tw;
	memcpy(&cw, area, 2);
	memcpy(&sw, area + 4, 2);
	memcpy(&tw, area + 8, 2);
	printf("fnsave: control %04x status %04x tags %04x\n", cw, sw, tw);
	__asm__ volatile("fninit\n\tfnstenv 0x7fffffff(%0)" : : "r"(rcx) : "memory");
	memcpy(&cw, area, 2);
	printf("fnstenv: control %04x\n", cw);
	__asm__ volatile("fxsave 0x7fffffff(%0)" : : "r"(rcx) : "memory");
	uint32_t mxcsr;
	memcpy(&mxcsr, area + 24, 4);
	printf("fxsave: mxcsr %08x\n", mxcsr);
	/* 67 41 dd 34 05 00000000: fnsave [eax*1 + 0], REX.B set and ignored;
	 * the buffer below 2 GiB natively too */
	uint8_t *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED)
		return 1;
	__asm__ volatile("fninit\n\tfld1\n\t.byte 0x67, 0x41, 0xdd, 0x34, 0x05, 0, 0, 0, 0"
	                 : : "a"((uint64_t)(uintptr_t)low) : "memory", "st");
	memcpy(&cw, low, 2);
	memcpy(&tw, low + 8, 2);
	printf("fnsave, no-base SIB with REX.B: control %04x tags %04x\n", cw, tw);
	return 0;
}
