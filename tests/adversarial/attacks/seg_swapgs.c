// Attack: swapgs, which would swap in the kernel's GS base (and, under a
// translator that keeps its runtime context behind GS, would swap that too).
// Natively: privileged: the kernel sends SIGSEGV (native: faults).
// Under opsub: privileged class: guest fault.
// native: faults
#include "attack.h"

int main(void)
{
	__asm__ volatile("swapgs" ::: "memory");
	escaped("swapgs executed");
	return 0;
}
