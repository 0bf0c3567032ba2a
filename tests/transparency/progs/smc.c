// Exercises self-modifying code in .text: immediates of already-run (hot) functions patched after mprotect(RWX), a function that patches the instruction right after the store, a loop that rewrites its own body, and a compiled C function patched in place.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

__asm__(
	".text\n"
	".p2align 4\n"
	".globl smc_get\n"
	".type smc_get, @function\n"
	"smc_get:\n" /* int smc_get(void): mov eax, imm32; ret */
	"	.byte 0xb8\n"
	".globl smc_get_imm\n"
	"smc_get_imm:\n"
	"	.long 0x11111111\n"
	"	ret\n"
	".size smc_get, .-smc_get\n"
	".p2align 4\n"
	".globl smc_self\n"
	".type smc_self, @function\n"
	"smc_self:\n" /* int smc_self(int v): stores v into its own next instruction, then executes it */
	"	movl %edi, smc_self_imm(%rip)\n"
	"	jmp 1f\n"
	"1:	.byte 0xb8\n"
	".globl smc_self_imm\n"
	"smc_self_imm:\n"
	"	.long 0\n"
	"	ret\n"
	".size smc_self, .-smc_self\n"
	".p2align 4\n"
	".globl smc_loop\n"
	".type smc_loop, @function\n"
	"smc_loop:\n" /* int smc_loop(int n): each iteration i patches 'add eax, imm32' with i*i, then runs it */
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	test %edi, %edi\n"
	"	jle 4f\n"
	"2:	mov %ecx, %edx\n"
	"	imul %ecx, %edx\n"
	"	movl %edx, smc_loop_imm(%rip)\n"
	"	jmp 3f\n"
	"3:	.byte 0x05\n" /* add eax, imm32 */
	".globl smc_loop_imm\n"
	"smc_loop_imm:\n"
	"	.long 0\n"
	"	inc %ecx\n"
	"	cmp %edi, %ecx\n"
	"	jl 2b\n"
	"4:	ret\n"
	".size smc_loop, .-smc_loop\n");

int smc_get(void);
int smc_self(int);
int smc_loop(int);
extern unsigned char smc_get_imm[], smc_self_imm[], smc_loop_imm[];

__attribute__((noipa)) static int cfunc(void) { return 0x12345678; }

static int make_writable(const void *p, size_t n, int writable)
{
	uintptr_t start = (uintptr_t)p & ~(uintptr_t)4095, end = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
	return mprotect((void *)start, end - start, PROT_READ | PROT_EXEC | (writable ? PROT_WRITE : 0));
}
static void patch32(unsigned char *where, uint32_t v)
{
	memcpy(where, &v, 4);
	__builtin___clear_cache((char *)where, (char *)where + 4);
}

int main(void)
{
	int (*volatile get)(void) = smc_get;
	int (*volatile cf)(void) = cfunc;
	printf("before patching: smc_get=%x cfunc=%x\n", get(), cf());
	/* make it hot first */
	long warm = 0;
	for (int i = 0; i < 5000; i++)
		warm += get();
	printf("warm sum %ld\n", warm);
	if (make_writable(smc_get_imm, 4, 1) || make_writable(smc_self_imm, 4, 1) || make_writable(smc_loop_imm, 4, 1)) {
		printf("mprotect failed\n");
		return 1;
	}
	patch32(smc_get_imm, 0x22222222);
	printf("after first patch: %x\n", get());
	long total = 0;
	for (uint32_t round = 0; round < 10; round++) {
		patch32(smc_get_imm, 0x1000 + round);
		long s = 0;
		for (int i = 0; i < 1000; i++)
			s += get();
		printf("round %u: value %x sum %ld\n", round, get(), s);
		total += s;
	}
	printf("patched rounds total %ld\n", total);
	for (int v = 1; v <= 4; v++)
		printf("smc_self(%d) = %d\n", v * 111, smc_self(v * 111));
	printf("smc_loop(10) = %d (expect 285), smc_loop(100) = %d (expect 328350)\n", smc_loop(10), smc_loop(100));

	/* patch the immediate of a compiled C function */
	unsigned char *code = (unsigned char *)(uintptr_t)cfunc;
	unsigned char pat[4] = {0x78, 0x56, 0x34, 0x12};
	int at = -1;
	for (int i = 0; i < 64 && at < 0; i++)
		if (memcmp(code + i, pat, 4) == 0)
			at = i;
	if (at < 0) {
		printf("immediate not found in cfunc\n");
		return 1;
	}
	if (make_writable(code + at, 4, 1)) {
		printf("mprotect failed\n");
		return 1;
	}
	int c1 = cf();
	patch32(code + at, 0x0badf00d);
	int c2 = cf();
	patch32(code + at, 0x600dcafe);
	int c3 = cf();
	printf("cfunc: %x -> %x -> %x\n", c1, c2, c3);

	make_writable(smc_get_imm, 4, 0);
	make_writable(smc_self_imm, 4, 0);
	make_writable(smc_loop_imm, 4, 0);
	make_writable(code + at, 4, 0);
	printf("after restoring R-X: smc_get=%x cfunc=%x\n", get(), cf());
	return 0;
}
