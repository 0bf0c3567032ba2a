// Attack: iretq, which loads CS, SS, RSP and RFLAGS from the stack in one
// go (here to the current 64-bit segments, with the trap flag clear).  With
// iret a guest could change code segment, stack segment and flags such as
// TF/AC/IOPL bits at once.
// Natively: iretq to the same privilege level executes (ESCAPED).
// Under opsub: iret is subtracted as a far transfer: guest fault.
#include "attack.h"

int main(void)
{
	uint64_t done = 0;
	__asm__ volatile("mov %%ss, %%eax\n push %%rax\n"
	                 "lea 8(%%rsp), %%rax\n push %%rax\n"
	                 "pushfq\n"
	                 "mov %%cs, %%eax\n push %%rax\n"
	                 "lea 1f(%%rip), %%rax\n push %%rax\n"
	                 "iretq\n"
	                 "1: mov $1, %0\n"
	                 : "=r"(done) : : "rax", "memory");
	if (done)
		escaped("iretq executed and returned to 64-bit code");
	return 0;
}
