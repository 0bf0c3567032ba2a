// Attack: write `syscall; ret` at run time into an RWX mmap page (a JIT) and
// call it with creat(argv[1]).
// Natively: the JIT code creates the file.
// Under opsub: the JIT code is translated like any code; its syscall goes
// through the gate: -EACCES, no file.
#include "attack.h"

int main(int argc, char **argv)
{
	(void)argc;
	uint8_t *p = rwx(4096, 0);
	/* mov rax, rdi; mov rdi, rsi; mov rsi, rdx; syscall; ret */
	static const uint8_t code[] = {0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x0f, 0x05, 0xc3};
	memcpy(p, code, sizeof(code));
	long (*f)(long, const char *, long) = (void *)p;
	long r = f(SYS_creat, argv[1], 0644);
	if (r >= 0)
		escaped("JIT syscall returned %ld", r);
	else
		note("JIT syscall returned %ld", r);
	return 0;
}
