// Keeps ymm0-15, MXCSR and the x87 stack and control word live across every kind of gate (a system call, cpuid, an indirect-branch miss, a return), first with the x87 state never used, then with three values on the x87 stack and a changed control word, then after fninit, then with only legacy SSE loads after vzeroupper (the upper halves initial), then both (x87 values, legacy SSE only), then with the x87 stack empty after use (idle, or with a status flag raised, or with a changed control word, all of which must come back as they were): the gates keep the state in a light form (vector registers only, the upper halves left initial where they were) while the x87 state is initial and as an XSAVE image otherwise (src/gates/ctx.h).
// cflags: -mavx2
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t before[16][32] __attribute__((aligned(32)));
static uint8_t after[16][32] __attribute__((aligned(32)));

/* Indirect call targets the translator has not seen, one per case: the
 * first call of each misses the indirect-branch table and goes through the
 * gate, where translating it runs trusted code that uses the vector
 * registers itself (so a state the gate failed to keep shows). */
__asm__(".text\n fpu_gates_ret1: ret\n fpu_gates_ret2: ret\n fpu_gates_ret3: ret\n"
        " fpu_gates_ret4: ret\n fpu_gates_ret5: ret\n");
extern void fpu_gates_ret1(void), fpu_gates_ret2(void), fpu_gates_ret3(void), fpu_gates_ret4(void),
	fpu_gates_ret5(void);
static void (*const fpu_gates_ret[])(void) = {fpu_gates_ret1, fpu_gates_ret2, fpu_gates_ret3, fpu_gates_ret4,
                                              fpu_gates_ret5};

/* Four gates with no vector instruction between them: a system call, cpuid,
 * an indirect-branch miss and a return; then ymm0-15 stored to after. */
#define GATES_THEN_STORE                                                                  \
	"mov $39, %%eax\n syscall\n"                  /* getpid */                        \
	"xor %%ecx, %%ecx\n mov $1, %%eax\n cpuid\n"                                        \
	"call *%0\n"                                  /* a miss, then a return */          \
	".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"                                   \
	"vmovdqa %%ymm\\n, after+\\n*32(%%rip)\n"                                             \
	".endr\n"                                                                         \
	"vzeroupper\n"

#define CLOBBERS "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "xmm0", "xmm1", "xmm2", \
	"xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* Loads ymm0-15 from before (or, with sse_only, xmm0-15 with legacy SSE
 * after vzeroupper, so the upper halves stay initial and must come back
 * zero), passes the gates, stores ymm0-15 to after. */
static void through_gates(unsigned seed, bool sse_only)
{
	void (*volatile target)(void) = fpu_gates_ret[(seed - 1) % 5];
	if (sse_only)
		__asm__ volatile("vzeroupper\n"
		                 ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
		                 "movdqa before+\\n*32(%%rip), %%xmm\\n\n"
		                 ".endr\n" GATES_THEN_STORE
		                 :
		                 : "r"(target)
		                 : CLOBBERS);
	else
		__asm__ volatile(".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
		                 "vmovdqa before+\\n*32(%%rip), %%ymm\\n\n"
		                 ".endr\n" GATES_THEN_STORE
		                 :
		                 : "r"(target)
		                 : CLOBBERS);
}

/* Which ymm registers (by number) came back changed, as a bit mask; with
 * sse_only, only the low halves were loaded and the upper ones must be 0. */
static unsigned changed_ymm(unsigned seed, bool sse_only)
{
	for (unsigned r = 0; r < 16; r++)
		for (unsigned i = 0; i < 32; i++)
			before[r][i] = (uint8_t)(seed + r * 32 + i * 7);
	memset(after, 0xee, sizeof(after));
	through_gates(seed, sse_only);
	if (sse_only)
		for (unsigned r = 0; r < 16; r++)
			memset(before[r] + 16, 0, 16);
	unsigned bad = 0;
	for (unsigned r = 0; r < 16; r++)
		bad |= (unsigned)(memcmp(before[r], after[r], 32) != 0) << r;
	return bad;
}

static uint32_t mxcsr_get(void)
{
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void mxcsr_set(uint32_t m)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

/* The x87 state used and emptied again, as code compiled for the ABI
 * leaves it at a call: with the control word cw and, with inexact, the
 * precision flag raised by 1/3.  Prints the status, control and tag words
 * after the gates; the gates may make an idle state initial but must keep
 * a raised flag or a changed control word. */
static unsigned x87_emptied(unsigned seed, uint16_t cw, bool inexact)
{
	static const long double three = 3;
	long double third;
	uint16_t env[14];
	__asm__ volatile("fninit\n fldcw %1\n fld1\n fldt %2\n fdivrp\n fstpt %0" : "=m"(third) : "m"(cw), "m"(three));
	if (!inexact)
		__asm__ volatile("fnclex");
	unsigned bad = changed_ymm(seed, false);
	__asm__ volatile("fnstenv %0\n fldcw %0" : "=m"(env));   /* fnstenv masks every exception: fldcw undoes it */
	printf("x87 emptied (fcw 0x%x, %s): ymm changed 0x%04x, fsw 0x%x, fcw 0x%x, ftw 0x%x\n", cw,
	       inexact ? "inexact" : "flags clear", bad, env[2], env[0], env[4]);
	__asm__ volatile("fninit");
	return bad;
}

int main(void)
{
	uint32_t saved_mxcsr = mxcsr_get();

	/* 1: the x87 state never used; MXCSR: round toward zero, flush to zero */
	mxcsr_set(0x1f80 | 0x6000 | 0x8000);
	unsigned bad1 = changed_ymm(1, false);
	uint32_t mx1 = mxcsr_get();
	mxcsr_set(saved_mxcsr);
	printf("x87 unused: ymm changed 0x%04x, mxcsr 0x%x\n", bad1, mx1);

	/* 2: three values on the x87 stack, rounding up, precision 53 bits */
	uint16_t cw = 0x0a7f, cw_after = 0;
	long double st[3] = {0};
	mxcsr_set(0x1f80 | 0x2000);
	__asm__ volatile("fninit\n fldcw %0\n fld1\n fldpi\n fldl2t" : : "m"(cw));
	unsigned bad2 = changed_ymm(2, false);
	uint32_t mx2 = mxcsr_get();
	__asm__ volatile("fnstcw %0" : "=m"(cw_after));
	__asm__ volatile("fstpt %0\n fstpt %1\n fstpt %2" : "=m"(st[0]), "=m"(st[1]), "=m"(st[2]));
	__asm__ volatile("fninit");
	mxcsr_set(saved_mxcsr);
	printf("x87 in use: ymm changed 0x%04x, mxcsr 0x%x, fcw 0x%x, stack %.17Lg %.17Lg %.17Lg\n", bad2, mx2,
	       cw_after, st[0], st[1], st[2]);

	/* 3: after fninit, the x87 state is initial again */
	__asm__ volatile("fninit");
	mxcsr_set(0x1f80 | 0x4000);
	unsigned bad3 = changed_ymm(3, false);
	uint32_t mx3 = mxcsr_get();
	mxcsr_set(saved_mxcsr);
	printf("x87 reset: ymm changed 0x%04x, mxcsr 0x%x\n", bad3, mx3);

	/* 4: legacy SSE only, the upper halves initial; MXCSR: round down */
	mxcsr_set(0x1f80 | 0x2000);
	unsigned bad4 = changed_ymm(4, true);
	uint32_t mx4 = mxcsr_get();
	mxcsr_set(saved_mxcsr);
	printf("upper halves initial: ymm changed 0x%04x, mxcsr 0x%x\n", bad4, mx4);

	/* 5: values on the x87 stack and a changed control word, legacy SSE
	 * only (the upper halves initial) */
	long double st5[2] = {0};
	uint16_t cw5 = 0x067f, cw5_after = 0;
	mxcsr_set(0x1f80 | 0x4000);
	__asm__ volatile("fninit\n fldcw %0\n fldln2\n fldlg2" : : "m"(cw5));
	unsigned bad5 = changed_ymm(5, true);
	uint32_t mx5 = mxcsr_get();
	__asm__ volatile("fnstcw %0" : "=m"(cw5_after));
	__asm__ volatile("fstpt %0\n fstpt %1" : "=m"(st5[0]), "=m"(st5[1]));
	__asm__ volatile("fninit");
	mxcsr_set(saved_mxcsr);
	printf("x87 in use, upper halves initial: ymm changed 0x%04x, mxcsr 0x%x, fcw 0x%x, stack %.17Lg %.17Lg\n", bad5,
	       mx5, cw5_after, st5[0], st5[1]);

	/* 6-8: the stack empty again: idle, a flag raised, a changed control word */
	unsigned bad6 = x87_emptied(6, 0x037f, false) | x87_emptied(7, 0x037f, true) | x87_emptied(8, 0x027f, false);
	return (bad1 | bad2 | bad3 | bad4 | bad5 | bad6) != 0;
}
