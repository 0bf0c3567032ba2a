// Attack: self-modifying code across a page boundary.  An instruction
// starts in the last byte of one page and ends in the next (0f | 1f 40 00:
// nop [rax+0]); after it has run (and been translated), only the second page
// is rewritten so that the same first byte now forms `syscall` (0f | 05),
// running creat(argv[1]).  A translator that only watches the page where a
// block starts would keep running the stale nop -- or, worse, would have to
// be trusted to re-check bytes it never looked at again.
// Natively: the rewritten instruction creates the file.
// Under opsub: the write to the second page invalidates the block; the new
// syscall goes through the gate: -EACCES, no file.
#include "attack.h"

int main(int argc, char **argv)
{
	(void)argc;
	uint8_t *p = rwx(0x2000, 0);
	uint8_t *entry = p + 0x1000 - 10;
	/* mov rax, rdi; mov rdi, rsi; mov rsi, rdx; (9 bytes) then 0f | 1f 40 00 c3 */
	static const uint8_t head[] = {0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x0f};
	static const uint8_t tail_nop[] = {0x1f, 0x40, 0x00, 0xc3};
	static const uint8_t tail_sys[] = {0x05, 0x90, 0x90, 0xc3};
	memcpy(entry, head, sizeof(head));
	memcpy(p + 0x1000, tail_nop, sizeof(tail_nop));
	long (*f)(long, const char *, long) = (void *)entry;
	long r = f(SYS_creat, argv[1], 0644);
	note("before the patch: %ld", r);
	memcpy(p + 0x1000, tail_sys, sizeof(tail_sys));
	r = f(SYS_creat, argv[1], 0644);
	if (r >= 0 && r != SYS_creat)
		escaped("cross-page patched syscall returned %ld", r);
	else
		note("after the patch: %ld%s", r, r == SYS_creat ? " (the stale nop ran)" : "");
	return 0;
}
