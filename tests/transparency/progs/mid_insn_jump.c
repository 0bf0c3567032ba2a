// Exercises jumps into the middle of instructions: immediates that are themselves code, reached by jmp, indirect jmp, call and a loop branch, and the "eb ff c0" jump into itself; the same bytes also run as the outer instruction.
#include <stdio.h>

__asm__(
	".text\n"
	".p2align 4\n"
	".globl mid_a\n"
	".type mid_a, @function\n"
	/* long mid_a(int path): path 0 runs movabs normally; path 1 jumps to imm+0 (add al,7 x3; nop; nop);
	   path 2 reaches the same spot through an indirect jump */
	"mid_a:\n"
	"	xor %eax, %eax\n"
	"	cmp $1, %edi\n"
	"	je 2f\n"
	"	cmp $2, %edi\n"
	"	je 5f\n"
	"1:	movabs $0x9090070407040704, %rax\n" /* bytes: 48 b8 04 07 04 07 04 07 90 90 */
	"	ret\n"
	"2:	jmp 1b+2\n"
	"5:	lea 1b+2(%rip), %rdx\n"
	"	mov $100, %eax\n"
	"	jmp *%rdx\n"
	".size mid_a, .-mid_a\n"

	".p2align 4\n"
	".globl mid_b\n"
	".type mid_b, @function\n"
	"mid_b:\n" /* int mid_b(int x): eb ff = jmp to its own second byte; ff c0 = inc eax -> x + 1 */
	"	mov %edi, %eax\n"
	"	.byte 0xeb, 0xff, 0xc0\n"
	"	ret\n"
	".size mid_b, .-mid_b\n"

	".p2align 4\n"
	".globl mid_c\n"
	".type mid_c, @function\n"
	/* int mid_c(int n): sum 1..n with the loop body (add eax,ecx; loop) hidden in the imm32 of a mov edx;
	   when n < 0 the mov runs as itself and the result is its immediate */
	"mid_c:\n"
	"	xor %eax, %eax\n"
	"	mov %edi, %ecx\n"
	"	test %ecx, %ecx\n"
	"	jz 9f\n"
	"	jl 3f\n"
	"	jmp 3f+1\n"
	"3:	.byte 0xba, 0x01, 0xc8, 0xe2, 0xfc\n" /* mov edx, 0xfce2c801 | inner: add eax,ecx; loop inner */
	"	test %edi, %edi\n"
	"	jg 9f\n"
	"	mov %edx, %eax\n"
	"9:	ret\n"
	".size mid_c, .-mid_c\n"

	".p2align 4\n"
	".globl mid_d\n"
	".type mid_d, @function\n"
	/* int mid_d(int path): path 0 runs mov eax, imm32 (0x90c305b0); path 1 calls into its immediate:
	   mov al,5; ret -> returns to after the call, then adds 1000 */
	"mid_d:\n"
	"	xor %eax, %eax\n"
	"	test %edi, %edi\n"
	"	jnz 6f\n"
	"4:	.byte 0xb8, 0xb0, 0x05, 0xc3, 0x90\n"
	"	ret\n"
	"6:	call 4b+1\n"
	"	add $1000, %eax\n"
	"	ret\n"
	".size mid_d, .-mid_d\n"

	".p2align 4\n"
	".globl mid_e\n"
	".type mid_e, @function\n"
	/* int mid_e(int x): 66 b8 eb 01 is mov ax,0x01eb; entered at +2 it is 'jmp +1', which skips a hlt byte
	   (0xf4) that must never execute */
	"mid_e:\n"
	"	mov %edi, %eax\n"
	"	jmp 7f+2\n"
	"7:	.byte 0x66, 0xb8, 0xeb, 0x01\n"
	"	.byte 0xf4\n"
	"	add $7, %eax\n"
	"	ret\n"
	".size mid_e, .-mid_e\n");

long mid_a(int path);
int mid_b(int x);
int mid_c(int n);
int mid_d(int path);
int mid_e(int x);

int main(void)
{
	printf("mid_a: normal %lx, jump-in %ld, indirect %ld\n", (unsigned long)mid_a(0), mid_a(1), mid_a(2));
	printf("mid_b(41) = %d, mid_b(-1) = %d\n", mid_b(41), mid_b(-1));
	printf("mid_c(10) = %d, mid_c(100) = %d, mid_c(0) = %d, mid_c(-1) = %x\n", mid_c(10), mid_c(100), mid_c(0), (unsigned)mid_c(-1));
	printf("mid_d: normal %x, call-in %d\n", (unsigned)mid_d(0), mid_d(1));
	printf("mid_e(35) = %d\n", mid_e(35));
	/* alternate between the two decodings of the same bytes many times */
	long sum = 0;
	for (int i = 0; i < 30000; i++) {
		int p = i % 3;
		sum += (mid_a(p) & 0xffff) + mid_c(i % 50) + mid_d(i & 1) + mid_b(i) + mid_e(i);
	}
	printf("mixed sum %ld\n", sum);
	return 0;
}
