// Keeps the status flags, rcx and r11 live across an indirect jump to a target whose IBL table entry (the low 16 bits of its address) is held by another block, one whose own flags are dead at entry: that block's entry must find the target is not its own without touching the guest's state (an entry that compared with cmp once clobbered the flags here).
#include <stdint.h>
#include <stdio.h>

/* void conflict_run(uint64_t out[4]): out[0] the flags blk_t saw (pushfq,
 * arithmetic flags only), out[1] rcx, out[2] r11; out[3] the same flags
 * seen by blk_u, reached the same way with other flags. */
void conflict_run(uint64_t *out);

__asm__(
	".text\n"
	".globl conflict_run\n"
	".type conflict_run, @function\n"
	"conflict_run:\n"
	"  push %rbx\n"
	"  xor %edx, %edx\n"                 /* blk_x: back to conflict_back */
	"  lea blk_x(%rip), %rax\n"
	"  jmp *%rax\n"                      /* blk_x takes the table entry of its low 16 bits */
	"conflict_back:\n"
	"  movabs $0x1111222233334444, %rcx\n"
	"  movabs $0x5555666677778888, %r11\n"
	"  mov $0x7fffffff, %eax\n"
	"  add $1, %eax\n"                   /* OF 1, SF 1, ZF 0, CF 0, PF 1 */
	"  lea blk_t(%rip), %rbx\n"
	"  jmp *%rbx\n"                      /* blk_t: the same low 16 bits, its flags live */
	"conflict_t_back:\n"
	"  lea blk_x(%rip), %rax\n"
	"  mov $1, %edx\n"                   /* blk_x: on to conflict_u */
	"  jmp *%rax\n"                      /* blk_x again: it takes the entry back */
	"conflict_u:\n"
	"  xor %eax, %eax\n"
	"  sub $1, %eax\n"                   /* CF 1, SF 1, ZF 0, OF 0 */
	"  lea blk_u(%rip), %rbx\n"
	"  jmp *%rbx\n"
	"  .balign 65536\n"
	"blk_x:\n"
	"  xor %ecx, %ecx\n"                 /* writes every status flag first: dead at entry */
	"  test %rdx, %rdx\n"
	"  jz conflict_back\n"
	"  xor %edx, %edx\n"
	"  jmp conflict_u\n"
	"  .balign 65536\n"
	"blk_t:\n"
	"  pushfq\n"
	"  pop %rax\n"
	"  and $0x8d5, %eax\n"               /* CF PF AF ZF SF OF */
	"  mov %rax, 0(%rdi)\n"
	"  mov %rcx, 8(%rdi)\n"
	"  mov %r11, 16(%rdi)\n"
	"  jmp conflict_t_back\n"
	"  .balign 65536\n"
	"blk_u:\n"
	"  pushfq\n"
	"  pop %rax\n"
	"  and $0x8d5, %eax\n"
	"  mov %rax, 24(%rdi)\n"
	"  pop %rbx\n"
	"  ret\n"
);

int main(void)
{
	uint64_t out[4] = {0};
	conflict_run(out);
	printf("flags at blk_t %#llx, rcx %#llx, r11 %#llx; flags at blk_u %#llx\n", (unsigned long long)out[0],
	       (unsigned long long)out[1], (unsigned long long)out[2], (unsigned long long)out[3]);
	return 0;
}
