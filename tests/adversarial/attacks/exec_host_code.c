// Attack: transfer control to host code (the start of opsub's executable
// mapping): ret to it, jmp to it, call it.
// Natively: the target is a stub in the secret page that returns
// STUB_MAGIC, which comes back in eax (ESCAPED).
// Under opsub: control transfers go through the translator, which must
// refuse a target outside guest memory with a guest fault.
// variants: ret jmp call
// stdin: hostaddr
#include "attack.h"

uint64_t eh_target;

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	eh_target = T.code;
	uint32_t r = 0;
	if (!strcmp(v, "ret"))
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n push eh_target(%%rip)\n ret\n 1:"
		                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else if (!strcmp(v, "jmp"))
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n mov eh_target(%%rip), %%rax\n jmp *%%rax\n 1:"
		                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else
		__asm__ volatile("call *eh_target(%%rip)"
		                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	if (r == STUB_MAGIC)
		escaped("%s to %#lx ran host code (returned %#x)", v, T.code, r);
	else
		note("%s returned %#x", v, r);
	return 0;
}
