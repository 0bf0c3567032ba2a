// Attack: self-modifying code inside the running block.  The code stores
// `syscall` over the two-byte nop right after the store, in the same
// straight-line block, hoping a translator keeps running a stale copy that
// was checked while the bytes were still a nop -- or runs the new bytes
// without checking them.
// Natively: x86 sees the store at once; the syscall runs creat(argv[1]).
// Under opsub: either the stale nop or the gated syscall: no file.
#include "attack.h"

long patchme(long nr, const char *path, long mode);
__asm__(".text\n"
        ".p2align 6\n"
        "patchme:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  lea patch_site(%rip), %rcx\n"
        "  movw $0x050f, (%rcx)\n"
        "patch_site:\n"
        "  .byte 0x66, 0x90\n"            /* xchg ax, ax: the nop to be overwritten */
        "  ret\n");

int main(int argc, char **argv)
{
	(void)argc;
	uintptr_t page = (uintptr_t)patchme & ~0xfffull;
	if (mprotect((void *)page, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
		note("mprotect: %s", strerror(errno));
	long r = patchme(SYS_creat, argv[1], 0644);
	if (r >= 0 && r != SYS_creat)
		escaped("same-block patched syscall returned %ld", r);
	else
		note("same-block patch returned %ld", r);
	return 0;
}
