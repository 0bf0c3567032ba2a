// Attack: `syscall` with prefixes a decoder might not expect (REX.W, 66,
// F3, F2, a segment override, a stack of redundant prefixes) running
// creat(argv[1]), in case a translator or its decoder misclassifies the
// prefixed form and lets it run natively.
// Natively: the CPU ignores the prefixes and creates the file.
// Under opsub: the syscall class matches with any prefix: the gate answers
// -EACCES (or the form is refused with a guest fault).
// variants: rex opsize rep repne cs manyprefixes
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	long r;
#define SC(bytes) __asm__ volatile(bytes : "=a"(r) : "a"((long)SYS_creat), "D"(argv[1]), "S"(0644L) : "rcx", "r11", "memory")
	if (!strcmp(v, "rex")) SC(".byte 0x48, 0x0f, 0x05");
	else if (!strcmp(v, "opsize")) SC(".byte 0x66, 0x0f, 0x05");
	else if (!strcmp(v, "rep")) SC(".byte 0xf3, 0x0f, 0x05");
	else if (!strcmp(v, "repne")) SC(".byte 0xf2, 0x0f, 0x05");
	else if (!strcmp(v, "cs")) SC(".byte 0x2e, 0x0f, 0x05");
	else SC(".byte 0x66, 0x2e, 0x3e, 0x26, 0x36, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0x0f, 0x05");
	if (r >= 0)
		escaped("prefixed syscall (%s) returned %ld", v, r);
	else
		note("prefixed syscall (%s) returned %ld", v, r);
	return 0;
}
