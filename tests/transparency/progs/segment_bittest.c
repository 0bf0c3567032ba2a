// Bit tests (bt/bts/btr/btc) on gs:-relative memory with register and
// immediate bit offsets of every width, positive and negative, with base
// and index registers: the translator rewrites each through the emulated
// GS base and a 32-bit address, and the result must be the CPU's.
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_SET_GS 0x1001

static uint64_t area[64];

#define BT(op, width, off, base, index) ({                                             \
	uint8_t cf_;                                                                    \
	__asm__ volatile(op width " %1, %%gs:8(%2,%3,8)\n\tsetc %0"                     \
	                 : "=r"(cf_) : "r"(off), "r"(base), "r"(index) : "cc", "memory"); \
	cf_; })

int main(void)
{
	for (int i = 0; i < 64; i++)
		area[i] = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&area[16]) != 0)
		return 1;
	uint64_t sum = 0;
	static const int64_t offs[] = {0, 1, 63, 64, 65, 200, -1, -64, -65, -300, 511};
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		int64_t o = offs[i];
		uint64_t base = 8 * (i % 3), index = i % 2 ? 1 : (uint64_t)-1;
		sum = sum * 31 + BT("bt", "q", o, base, index);
		sum = sum * 31 + BT("bts", "q", o, base, index);
		sum = sum * 31 + BT("btr", "q", o + 3, base, index);
		sum = sum * 31 + BT("btc", "q", o + 7, base, index);
		sum = sum * 31 + BT("bt", "l", (uint32_t)o, base, index);
		sum = sum * 31 + BT("btc", "l", (uint32_t)o, base, index);
		sum = sum * 31 + BT("bt", "w", (uint16_t)o, base, index);
		sum = sum * 31 + BT("bts", "w", (uint16_t)o, base, index);
	}
	uint8_t cf;
	__asm__ volatile("lock btsq $37, %%gs:0\n\tsetc %0" : "=r"(cf) : : "cc", "memory");
	sum = sum * 31 + cf;
	__asm__ volatile("btl $5, %%gs:4\n\tsetc %0" : "=r"(cf) : : "cc");
	sum = sum * 31 + cf;
	for (int i = 0; i < 64; i++)
		sum = sum * 31 + area[i];
	printf("bit tests %016lx\n", (unsigned long)sum);
	return 0;
}
