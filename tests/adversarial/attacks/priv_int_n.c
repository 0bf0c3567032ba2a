// Attack: software interrupts other than the 32-bit system call: int 0x81,
// int 3 (cd 03 and cc), int1 (icebp), int 0x2e, int 0xff, into (invalid in
// 64-bit mode), ud2, and an undefined opcode (0f 0b prefixed, 0f ff).
// Natively: each faults (SIGSEGV/SIGTRAP/SIGILL) (native: faults).
// Under opsub: int n / breakpoint / undefined classes: guest fault.
// native: faults
// variants: int81 int3 int3_cc icebp int2e intff into ud2 ud0
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	if (!strcmp(v, "int81")) __asm__ volatile("int $0x81");
	else if (!strcmp(v, "int3")) __asm__ volatile(".byte 0xcd, 0x03");
	else if (!strcmp(v, "int3_cc")) __asm__ volatile("int3");
	else if (!strcmp(v, "icebp")) __asm__ volatile(".byte 0xf1");
	else if (!strcmp(v, "int2e")) __asm__ volatile("int $0x2e");
	else if (!strcmp(v, "intff")) __asm__ volatile("int $0xff");
	else if (!strcmp(v, "into")) __asm__ volatile(".byte 0xce");
	else if (!strcmp(v, "ud2")) __asm__ volatile("ud2");
	else __asm__ volatile(".byte 0x0f, 0xff, 0xc0");
	escaped("%s returned to the program", v);
	return 0;
}
