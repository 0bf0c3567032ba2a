// Keeps r11, rcx and the status flags live across indirect jumps into blocks of every IBL entry form (src/translator/translate.c, prologue): blocks that leave the guest's r11 in its slot, entered by lookup and directly; an interpreter's handler that jumps directly to such a block (its shared dispatch), linked with r11 still in its slot; blocks whose flags are dead at entry and live; and a code write, retried under the trap flag, inside a block that leaves r11 in its slot.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* uint64_t ibl_forms_run(uint64_t out[9], uint8_t *jit): jit holds
 * `mov eax, 1; ret`; returns the sum of the chain's adds. */
uint64_t ibl_forms_run(uint64_t *out, uint8_t *jit);

__asm__(
	".text\n"
	".globl ibl_forms_run\n"
	".type ibl_forms_run, @function\n"
	"ibl_forms_run:\n"
	"  push %rbx\n"
	"  movabs $0x1111222233334444, %rcx\n"
	"  movabs $0x5555666677778888, %r11\n"
	"  xor %edx, %edx\n"
	/* a chain of blocks that never touch r11, each entered by lookup */
	"  lea ibl_a1(%rip), %rax\n"
	"  jmp *%rax\n"
	"ibl_a1:\n"
	"  add $1, %rdx\n"
	"  lea ibl_a2(%rip), %rax\n"
	"  jmp *%rax\n"
	"ibl_a2:\n"
	"  add $2, %rdx\n"
	"  lea ibl_a3(%rip), %rax\n"
	"  jmp *%rax\n"
	"ibl_a3:\n"
	"  mov %r11, 0(%rdi)\n"
	"  mov %rcx, 8(%rdi)\n"
	/* flags live at the targets: read before anything writes them */
	"  movabs $0x0123456789abcdef, %r11\n"
	"  mov $0x7fffffff, %eax\n"
	"  add $1, %eax\n"                  /* OF 1, SF 1, ZF 0, CF 0 */
	"  lea ibl_b1(%rip), %rbx\n"
	"  jmp *%rbx\n"
	"ibl_b1:\n"
	"  seto 16(%rdi)\n"
	"  sets 17(%rdi)\n"
	"  setz 18(%rdi)\n"
	"  setc 19(%rdi)\n"
	"  stc\n"
	"  lea ibl_b2(%rip), %rbx\n"
	"  jmp *%rbx\n"
	"ibl_b2:\n"
	"  setc 20(%rdi)\n"
	"  mov %r11, 24(%rdi)\n"
	"  mov %rcx, 32(%rdi)\n"
	/* a block that never touches r11, entered directly */
	"  movabs $0x0f0e0d0c0b0a0908, %r11\n"
	"  jmp ibl_c1\n"
	"  ud2\n"
	"ibl_c1:\n"
	"  add $4, %rdx\n"
	"  lea ibl_c2(%rip), %rax\n"
	"  jmp *%rax\n"
	"ibl_c2:\n"
	"  mov %r11, 40(%rdi)\n"
	/* a code write in a block that never touches r11, entered by the
	 * return from the code it then changes */
	"  movabs $0x1234567890abcdef, %r11\n"
	"  call *%rsi\n"
	"  movb $2, 1(%rsi)\n"
	"  add $8, %rdx\n"
	"  lea ibl_d1(%rip), %rax\n"
	"  jmp *%rax\n"
	"ibl_d1:\n"
	"  mov %r11, 48(%rdi)\n"
	"  call *%rsi\n"
	"  mov %rax, 56(%rdi)\n"
	/* an interpreter: the dispatch block, translated first, leaves r11 in
	 * its slot; the handler never touches r11 and jumps back to it
	 * directly, a link made with r11 in the slot */
	"  movabs $0x2468ace013579bdf, %r11\n"
	"  lea ibl_e_table(%rip), %r9\n"
	"  mov $3, %ebx\n"
	"  lea ibl_e_dispatch(%rip), %rax\n"
	"  jmp *%rax\n"
	"ibl_e_dispatch:\n"
	"  mov (%r9,%rbx,8), %rax\n"
	"  dec %ebx\n"
	"  jmp *%rax\n"
	"ibl_e_handler:\n"
	"  add $16, %rdx\n"
	"  jmp ibl_e_dispatch\n"
	"ibl_e_done:\n"
	"  mov %r11, 64(%rdi)\n"
	"  mov %rdx, %rax\n"
	"  pop %rbx\n"
	"  ret\n"
	".size ibl_forms_run, .-ibl_forms_run\n"
	".section .data.rel.ro\n"
	".p2align 3\n"
	"ibl_e_table:\n"
	"  .quad ibl_e_done, ibl_e_handler, ibl_e_handler, ibl_e_handler\n"
	".text\n");

int main(void)
{
	uint8_t *jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (jit == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	static const uint8_t get_one[] = {0xb8, 1, 0, 0, 0, 0xc3};   /* mov eax, 1; ret */
	memcpy(jit, get_one, sizeof(get_one));
	for (int round = 0; round < 3; round++) {   /* the first round translates, the others hit */
		uint64_t out[9] = {0};
		jit[1] = 1;
		uint64_t sum = ibl_forms_run(out, jit);
		const uint8_t *flags = (const uint8_t *)&out[2];
		printf("round %d: sum %lu\n", round, sum);
		printf("  r11 through blocks that leave it in its slot: %016lx, rcx %016lx\n", out[0], out[1]);
		printf("  flags at a target that reads them: OF %u SF %u ZF %u CF %u, then CF %u\n", flags[0], flags[1],
		       flags[2], flags[3], flags[4]);
		printf("  r11 and rcx after them: %016lx %016lx\n", out[3], out[4]);
		printf("  r11 through a block entered directly: %016lx\n", out[5]);
		printf("  r11 through a code write: %016lx, the changed code returns %lu\n", out[6], out[7]);
		printf("  r11 through a handler linked to its dispatch: %016lx\n", out[8]);
	}
	return 0;
}
