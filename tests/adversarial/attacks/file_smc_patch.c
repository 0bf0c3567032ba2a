// Attack: self-modifying code.  A function in .text runs once (so opsub has
// translated it), then its page is made writable and the function body is
// overwritten with `syscall; ret`, and it runs again with creat(argv[1]).
// Natively: the patched function creates the file.
// Under opsub: the write to translated code invalidates the translation, the
// new bytes are translated under the same policy: -EACCES, no file.
#include "attack.h"

long victim(long nr, const char *path, long mode);
__asm__(".text\n"
        ".p2align 6\n"
        "victim:\n"
        "  mov $-1, %rax\n"
        "  ret\n"
        "  .fill 48, 1, 0x90\n");

int main(int argc, char **argv)
{
	(void)argc;
	long r = victim(SYS_creat, argv[1], 0644);
	note("victim before the patch returned %ld", r);
	uintptr_t page = (uintptr_t)victim & ~0xfffull;
	if (mprotect((void *)page, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
		note("mprotect: %s", strerror(errno));
	static const uint8_t code[] = {0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x0f, 0x05, 0xc3};
	memcpy((void *)victim, code, sizeof(code));
	__asm__ volatile("" ::: "memory");
	r = victim(SYS_creat, argv[1], 0644);
	if (r >= 0)
		escaped("patched function's syscall returned %ld", r);
	else
		note("patched function returned %ld", r);
	return 0;
}
