// Self-modifying code within one basic block: a store that rewrites the very next instruction, with no branch in between (x86 runs the new instruction), in .text and in a JIT buffer, by a plain store and by rep movsb; and a loop whose body patches an instruction later in the same body on every iteration.
// variants: O0 O2
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

__asm__(
	".text\n"
	".p2align 12\n"
	".globl sb_next\n"
	".type sb_next, @function\n"
	"sb_next:\n" /* int sb_next(int v): stores v into the next instruction's immediate, then runs it */
	"	movl %edi, sb_next_imm(%rip)\n"
	"	.byte 0xb8\n" /* mov eax, imm32 */
	".globl sb_next_imm\n"
	"sb_next_imm:\n"
	"	.long 0\n"
	"	ret\n"
	".size sb_next, .-sb_next\n"
	".globl sb_body\n"
	".type sb_body, @function\n"
	"sb_body:\n" /* int sb_body(int n): sum of i*i for i < n, each add patched by the same block */
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	test %edi, %edi\n"
	"	jle 2f\n"
	"1:	mov %ecx, %edx\n"
	"	imul %ecx, %edx\n"
	"	movl %edx, sb_body_imm(%rip)\n"
	"	.byte 0x05\n" /* add eax, imm32 */
	".globl sb_body_imm\n"
	"sb_body_imm:\n"
	"	.long 0\n"
	"	inc %ecx\n"
	"	cmp %edi, %ecx\n"
	"	jl 1b\n"
	"2:	ret\n"
	".size sb_body, .-sb_body\n"
	".globl sb_movs\n"
	".type sb_movs, @function\n"
	"sb_movs:\n" /* int sb_movs(const void *src): rep movsb copies 5 bytes (a whole mov eax, imm32) over the next instruction */
	"	mov %rdi, %rsi\n"
	"	lea sb_movs_insn(%rip), %rdi\n"
	"	mov $5, %ecx\n"
	"	rep movsb\n"
	".globl sb_movs_insn\n"
	"sb_movs_insn:\n"
	"	mov $0x0, %eax\n"
	"	ret\n"
	".size sb_movs, .-sb_movs\n");

int sb_next(int);
int sb_body(int);
int sb_movs(const void *);
extern unsigned char sb_next_imm[];

int main(void)
{
	uintptr_t page = (uintptr_t)sb_next_imm & ~(uintptr_t)4095;
	if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC)) {
		printf("mprotect failed\n");
		return 1;
	}
	for (int v = 1; v <= 5; v++)
		printf("sb_next(%d) = %d\n", v * 1001, sb_next(v * 1001));
	printf("sb_body(10) = %d (expect 285), sb_body(1000) = %d (expect 332833500)\n", sb_body(10), sb_body(1000));
	for (uint32_t v = 7; v < 7 * 5; v += 7) {
		unsigned char insn[5] = {0xb8};
		memcpy(insn + 1, &v, 4);
		printf("sb_movs(mov eax, %u) = %d\n", v, sb_movs(insn));
	}

	/* The same in a JIT buffer: mov [rip+1], dil; mov eax, imm32; ret.
	 * The store hits the immediate's low byte. */
	unsigned char *jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (jit == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	static const unsigned char code[] = {0x40, 0x88, 0x3d, 0x01, 0x00, 0x00, 0x00, /* mov [rip+1], dil */
	                                     0xb8, 0xff, 0x00, 0x00, 0x00,             /* mov eax, 0xff */
	                                     0xc3};
	memcpy(jit, code, sizeof(code));
	int (*volatile f)(int) = (int (*)(int))(uintptr_t)jit;
	long sum = 0;
	for (int i = 0; i < 256; i++) {
		int r = f(i);
		if (r != i)
			printf("jit: f(%d) = %d\n", i, r);
		sum += r;
	}
	printf("jit sum %ld (expect 32640)\n", sum);
	return 0;
}
