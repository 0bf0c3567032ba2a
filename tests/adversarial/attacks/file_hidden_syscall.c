// Attack: a `syscall` instruction hidden in another instruction's immediate
// (mov rax, imm64 whose bytes contain 0f 05 c3) and reached by jumping into
// the middle of that instruction.
// Natively: the hidden syscall runs creat(argv[1]) and the file appears.
// Under opsub: the translator decodes from the jump target, so it finds the
// syscall and gates it into the personality: -EACCES, no file.
#include "attack.h"

long hidden(long nr, const char *path, long mode);
__asm__(".text\n"
        "hidden:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  jmp hidden_entry\n"
        "  .byte 0x48, 0xb8\n"            /* movabs rax, imm64: */
        "hidden_entry = . \n"
        "  .byte 0x0f, 0x05, 0xc3, 0x90, 0x90, 0x90, 0x90, 0x90\n"
        "  ret\n");

int main(int argc, char **argv)
{
	(void)argc;
	long r = hidden(SYS_creat, argv[1], 0644);
	if (r >= 0)
		escaped("hidden syscall in an immediate returned %ld", r);
	else
		note("hidden syscall returned %ld", r);
	return 0;
}
