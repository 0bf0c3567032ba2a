// Attack (denial of service / escape from translation): set the trap flag
// with popf (pushfq; or [rsp], 0x100; popfq), 64- and 16-bit forms, so that
// the CPU would single-step the translated code and opsub's gates.
// Natively: SIGTRAP after the next instruction (native: faults).
// Under opsub: TF is masked out of every popf: the program goes on (exit 0)
// or faults as a guest; a trap inside opsub would be an internal error.
// native: faults
// variants: popfq popfw
#include "attack.h"

int main(int argc, char **argv)
{
	if (!strcmp(variant(argc, argv), "popfw"))
		__asm__ volatile("pushfw\n orw $0x100, (%%rsp)\n popfw\n nop\n nop" ::: "memory", "cc");
	else
		__asm__ volatile("pushfq\n orq $0x100, (%%rsp)\n popfq\n nop\n nop" ::: "memory", "cc");
	/* a system call and an indirect call while (possibly) trapping */
	sc0(SYS_getpid);
	int (*volatile f)(const char *) = puts;
	f("note: still running after setting TF");
	uint64_t fl;
	__asm__ volatile("pushfq\n pop %0" : "=r"(fl));
	note("rflags now %#lx", fl);
	return 0;
}
