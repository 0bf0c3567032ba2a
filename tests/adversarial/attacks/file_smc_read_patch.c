// Attack: self-modifying code through the kernel.  A function that already
// ran is overwritten by the `read` system call, which reads `syscall; ret`
// (fed on stdin by run.sh) straight into the code page; then it is called
// with creat(argv[1]).
// Natively: the patched function creates the file.
// Under opsub: the personality's read invalidates the translations of the
// page before writing it; the new code is translated under the policy:
// -EACCES, no file.
// stdin: hex 4889f84889f74889d60f05c3
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
	long n = sc3(SYS_read, 0, (void *)victim, 12);
	note("read into the code returned %ld", n);
	r = victim(SYS_creat, argv[1], 0644);
	if (r >= 0)
		escaped("function patched by read() made a syscall that returned %ld", r);
	else
		note("patched function returned %ld", r);
	return 0;
}
