// Instruction-pointer-relative operands with a 32-bit address size (eip
// instead of rip): lea, load, store and an indirect jump through memory.
// Not as a PIE: natively a PIE lies above 4 GiB, where eip cannot reach.
// variants: O0 O2 O3
#include <stdio.h>

int counter = 40;
void *target_slot;

int main(void)
{
	long at_eip, at_rip;
	int loaded;
	__asm__ volatile("lea 0(%%eip), %0\n\tlea 0(%%rip), %1" : "=r"(at_eip), "=r"(at_rip));
	__asm__ volatile("movl counter(%%eip), %0" : "=r"(loaded));
	__asm__ volatile("addl $2, counter(%%eip)" ::: "memory");
	static volatile int skipped = 0;
	target_slot = &&landed;
	__asm__ volatile goto("jmp *target_slot(%%eip)" :::: landed);
	skipped = 1;
landed:
	printf("eip to rip %ld, loaded %d, stored %d, jump skipped the store: %s\n", at_rip - at_eip, loaded,
	       counter, skipped ? "no" : "yes");
	return 0;
}
