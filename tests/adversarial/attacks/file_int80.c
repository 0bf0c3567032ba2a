// Attack: create a host file through the 32-bit system call ABI, `int 0x80`
// (eax=5 open with O_CREAT, eax=8 creat), from 64-bit code.
// Natively (a kernel with usable IA-32 emulation): the kernel's IA-32 entry
// creates argv[1] (the path is copied to .bss, below 4 GiB, as the 32-bit ABI
// needs).
// Under opsub: `int n` is subtracted: guest fault, no file.
// variants: open creat
// native-needs: compat
#include "attack.h"

static char path[256];

int main(int argc, char **argv)
{
	strncpy(path, argv[1], sizeof(path) - 1);
	long nr = !strcmp(variant(argc, argv), "open") ? 5 : 8;
	long a2 = nr == 5 ? (O_CREAT | O_WRONLY) : 0644;
	long r;
	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(nr), "b"(path), "c"(a2), "d"(0644L)
	                 : "memory", "r8", "r9", "r10", "r11");
	if ((int)r >= 0)
		escaped("int 0x80 %s returned %d", nr == 5 ? "open" : "creat", (int)r);
	else
		note("int 0x80 returned %d", (int)r);
	return 0;
}
