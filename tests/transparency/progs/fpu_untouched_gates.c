// Keeps xmm0-15 and MXCSR live across every kind of gate while no guest code has yet touched the x87 state or the upper halves of the vector registers (the full gate then keeps xmm0-15 and MXCSR without asking the CPU what is in use: src/gates/gate.h, gate_guest_fpu), then reads the x87 state for the first time: it must be the initial one.  Nothing before the checks may format a floating-point number (printf would use the x87).
// variants: O0 O2 pie
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t before[16][16] __attribute__((aligned(16)));
static uint8_t after[16][16] __attribute__((aligned(16)));

/* An indirect call target the translator has not seen: its first call
 * misses the indirect-branch table and goes through the gate. */
__asm__(".text\n untouched_gates_ret: ret\n");
extern void untouched_gates_ret(void);

/* Loads xmm0-15 from before with legacy SSE, passes a system call, cpuid,
 * an indirect-branch miss and a return, stores xmm0-15 to after. */
static void through_gates(void)
{
	void (*volatile target)(void) = untouched_gates_ret;
	__asm__ volatile(".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	                 "movdqa before+\\n*16(%%rip), %%xmm\\n\n"
	                 ".endr\n"
	                 "mov $39, %%eax\n syscall\n"                 /* getpid */
	                 "xor %%ecx, %%ecx\n mov $1, %%eax\n cpuid\n"
	                 "call *%0\n"                                 /* a miss, then a return */
	                 ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	                 "movdqa %%xmm\\n, after+\\n*16(%%rip)\n"
	                 ".endr\n"
	                 :
	                 : "r"(target)
	                 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "xmm0", "xmm1",
	                   "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
	                   "xmm13", "xmm14", "xmm15");
}

int main(void)
{
	unsigned bad = 0;
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned r = 0; r < 16; r++)
			for (unsigned i = 0; i < 16; i++)
				before[r][i] = (uint8_t)(round * 61 + r * 16 + i * 7 + 1);
		memset(after, 0xee, sizeof(after));
		/* round toward zero, flush to zero, denormals are zero; then back */
		uint32_t mx = 0x1f80 | 0x6000 | 0x8000 | 0x40, mx_after = 0, mx_default = 0x1f80;
		__asm__ volatile("ldmxcsr %0" : : "m"(mx));
		through_gates();
		__asm__ volatile("stmxcsr %0\n ldmxcsr %1" : "=m"(mx_after) : "m"(mx_default));
		for (unsigned r = 0; r < 16; r++)
			bad |= (unsigned)(memcmp(before[r], after[r], 16) != 0) << r;
		printf("round %u: xmm changed 0x%04x, mxcsr 0x%x\n", round, bad, mx_after);
	}

	/* The first x87 instructions: control word, status word and tag word
	 * (from the environment) as a fresh process has them. */
	uint16_t cw = 0, sw = 0;
	uint16_t env[14] = {0};
	__asm__ volatile("fnstcw %0\n fnstsw %1\n fnstenv %2" : "=m"(cw), "=m"(sw), "=m"(env));
	printf("first x87 look: fcw 0x%x, fsw 0x%x, ftw 0x%x\n", cw, sw, env[4]);
	return bad != 0;
}
