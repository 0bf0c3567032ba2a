// Attack: create a host file with `sysenter` (eax=8 creat, 32-bit ABI) from
// 64-bit code.
// Natively (Intel, with IA-32 emulation; AMD raises #UD): the kernel runs the call, creates argv[1], then returns
// into a 32-bit landing pad that does not exist in a 64-bit process, so the
// program dies by SIGSEGV afterwards; the created file is the proof.
// Under opsub: sysenter is subtracted: guest fault, no file.
// native-needs: compat sysenter
#include "attack.h"

static char path[256];
uint32_t se_ustack[64];
uint64_t se_saved_rsp;

int main(int argc, char **argv)
{
	(void)argc;
	strncpy(path, argv[1], sizeof(path) - 1);
	long r;
	__asm__ volatile("mov %%rsp, se_saved_rsp(%%rip)\n"
	                 "mov %3, %%rbp\n"
	                 "sysenter\n"
	                 "mov se_saved_rsp(%%rip), %%rsp\n"
	                 : "=a"(r)
	                 : "a"(8L), "b"(path), "r"((uint64_t)(uintptr_t)(se_ustack + 32)), "c"(0644L)
	                 : "memory", "rbp", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
	if ((int)r >= 0)
		escaped("sysenter creat returned %d", (int)r);
	else
		note("sysenter returned %d", (int)r);
	return 0;
}
