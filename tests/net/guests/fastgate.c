/*
 * fastgate: checks that NET_BURST through the fast gate (gates/gate.h) is
 * as transparent as the full gate.  Each check runs its hypercall many
 * times (the first goes through the full gate, the rest are fast) and
 * prints "ok NAME" or "FAIL NAME: why".
 *   flags      rflags preserved (the gate saves them itself)
 *   registers  every register but rax preserved
 *   vector     ymm0-15, x87 stack and control word, MXCSR preserved: the
 *              fast gate does not save them, so trusted code must not
 *              touch them
 *   smc        the code after the hypercall, rewritten, runs as rewritten
 *              (a fast resume into a dead block would run the old code)
 *   not_fast   rax = 17 at exits that are not hypercalls changes nothing
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "opsub.h"

#define RUNS 1000

struct opsub_net_burst req __attribute__((aligned(64)));   /* named in asm */
static int failures;

static void report(const char *name, const char *why)
{
	if (why) {
		printf("FAIL %s: %s\n", name, why);
		failures++;
	} else {
		printf("ok %s\n", name);
	}
}

/* An empty burst: nothing to send, post, receive or take back. */
static void empty_burst(void) { memset(&req, 0, sizeof(req)); }

static const char *check_flags(void)
{
	for (int i = 0; i < RUNS; i++) {
		empty_burst();
		/* IF, and on odd runs CF PF AF ZF SF OF and DF, on even ones none */
		uint64_t in = 0x202 | (i & 1 ? 0x8d5 | 0x400 : 0);
		uint64_t out;
		long rax = OPSUB_HC_NET_BURST;
		__asm__ volatile("push %[in]\n\tpopfq\n\tvmcall\n\tpushfq\n\tpop %[out]\n\tcld"
		                 : [out] "=r"(out), "+a"(rax)
		                 : [in] "r"(in), "D"(0L), "S"(&req)
		                 : "memory", "cc");
		if (rax != 0)
			return "the burst failed";
		if ((out & 0xcd5) != (in & 0xcd5))
			return "flags changed";
	}
	return NULL;
}

uint64_t reg_in[14], reg_out[14];   /* addressed from asm by name */

static const char *check_registers(void)
{
	for (int i = 0; i < RUNS; i++) {
		empty_burst();
		for (int k = 0; k < 14; k++)
			reg_in[k] = 0x1111111111111111ull * (uint64_t)(k + 1) + (uint64_t)i;
		/* every register from reg_in (rdi and rsi: the arguments), then
		 * every register but rax to reg_out */
		__asm__ volatile(
			"push %%rbp\n\t"
			"mov reg_in+0(%%rip), %%rbx\n\tmov reg_in+8(%%rip), %%rcx\n\tmov reg_in+16(%%rip), %%rdx\n\t"
			"mov reg_in+24(%%rip), %%rbp\n\tmov reg_in+32(%%rip), %%r8\n\tmov reg_in+40(%%rip), %%r9\n\t"
			"mov reg_in+48(%%rip), %%r10\n\tmov reg_in+56(%%rip), %%r11\n\tmov reg_in+64(%%rip), %%r12\n\t"
			"mov reg_in+72(%%rip), %%r13\n\tmov reg_in+80(%%rip), %%r14\n\tmov reg_in+88(%%rip), %%r15\n\t"
			"mov $17, %%eax\n\txor %%edi, %%edi\n\tlea req(%%rip), %%rsi\n\tvmcall\n\t"
			"mov %%rbx, reg_out+0(%%rip)\n\tmov %%rcx, reg_out+8(%%rip)\n\tmov %%rdx, reg_out+16(%%rip)\n\t"
			"mov %%rbp, reg_out+24(%%rip)\n\tmov %%r8, reg_out+32(%%rip)\n\tmov %%r9, reg_out+40(%%rip)\n\t"
			"mov %%r10, reg_out+48(%%rip)\n\tmov %%r11, reg_out+56(%%rip)\n\tmov %%r12, reg_out+64(%%rip)\n\t"
			"mov %%r13, reg_out+72(%%rip)\n\tmov %%r14, reg_out+80(%%rip)\n\tmov %%r15, reg_out+88(%%rip)\n\t"
			"mov %%rdi, reg_out+96(%%rip)\n\tmov %%rsi, reg_out+104(%%rip)\n\t"
			"pop %%rbp"
			:
			:
			: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
			  "r15", "memory", "cc");
		if (memcmp(reg_in, reg_out, 12 * 8) || reg_out[12] != 0 || reg_out[13] != (uint64_t)(uintptr_t)&req)
			return "a register changed";
	}
	return NULL;
}

static const char *check_vector(void)
{
	static uint8_t in[16][32] __attribute__((aligned(32))), out[16][32] __attribute__((aligned(32)));
	for (int i = 0; i < RUNS; i++) {
		empty_burst();
		for (int r = 0; r < 16; r++)
			for (int b = 0; b < 32; b++)
				in[r][b] = (uint8_t)(r * 32 + b + i);
		uint32_t mxcsr_in = 0x1f80 | 0x6000 | (uint32_t)(i & 1) << 15, mxcsr_out;   /* round toward zero, FTZ */
		uint16_t fcw_in = 0x0f7f, fcw_out;                                         /* round toward zero */
		double x87_in = 1.0 + i, x87_out[2];
		long rax = OPSUB_HC_NET_BURST;
		__asm__ volatile(
			"vmovdqa 0(%[in]), %%ymm0\n\tvmovdqa 32(%[in]), %%ymm1\n\tvmovdqa 64(%[in]), %%ymm2\n\t"
			"vmovdqa 96(%[in]), %%ymm3\n\tvmovdqa 128(%[in]), %%ymm4\n\tvmovdqa 160(%[in]), %%ymm5\n\t"
			"vmovdqa 192(%[in]), %%ymm6\n\tvmovdqa 224(%[in]), %%ymm7\n\tvmovdqa 256(%[in]), %%ymm8\n\t"
			"vmovdqa 288(%[in]), %%ymm9\n\tvmovdqa 320(%[in]), %%ymm10\n\tvmovdqa 352(%[in]), %%ymm11\n\t"
			"vmovdqa 384(%[in]), %%ymm12\n\tvmovdqa 416(%[in]), %%ymm13\n\tvmovdqa 448(%[in]), %%ymm14\n\t"
			"vmovdqa 480(%[in]), %%ymm15\n\t"
			"ldmxcsr %[mxin]\n\tfldcw %[fcwin]\n\tfldl %[x]\n\tfldpi\n\t"
			"vmcall\n\t"
			"fstpl 8+%[x87o]\n\tfstpl %[x87o]\n\tfnstcw %[fcwout]\n\tstmxcsr %[mxout]\n\t"
			"vmovdqa %%ymm0, 0(%[out])\n\tvmovdqa %%ymm1, 32(%[out])\n\tvmovdqa %%ymm2, 64(%[out])\n\t"
			"vmovdqa %%ymm3, 96(%[out])\n\tvmovdqa %%ymm4, 128(%[out])\n\tvmovdqa %%ymm5, 160(%[out])\n\t"
			"vmovdqa %%ymm6, 192(%[out])\n\tvmovdqa %%ymm7, 224(%[out])\n\tvmovdqa %%ymm8, 256(%[out])\n\t"
			"vmovdqa %%ymm9, 288(%[out])\n\tvmovdqa %%ymm10, 320(%[out])\n\tvmovdqa %%ymm11, 352(%[out])\n\t"
			"vmovdqa %%ymm12, 384(%[out])\n\tvmovdqa %%ymm13, 416(%[out])\n\tvmovdqa %%ymm14, 448(%[out])\n\t"
			"vmovdqa %%ymm15, 480(%[out])\n\t"
			"fldcw %[fcwdef]\n\tvzeroupper"
			: "+a"(rax), [mxout] "=m"(mxcsr_out), [fcwout] "=m"(fcw_out), [x87o] "=m"(x87_out)
			: [in] "r"(in), [out] "r"(out), [mxin] "m"(mxcsr_in), [fcwin] "m"(fcw_in), [x] "m"(x87_in),
			  [fcwdef] "m"((uint16_t){0x037f}), "D"(0L), "S"(&req)
			: "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
			  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)");
		__asm__ volatile("ldmxcsr %0" ::"m"((uint32_t){0x1f80}));
		if (rax != 0)
			return "the burst failed";
		if (memcmp(in, out, sizeof(in)))
			return "a vector register changed";
		if (mxcsr_out != mxcsr_in)
			return "MXCSR changed";
		if (fcw_out != fcw_in)
			return "the x87 control word changed";
		if (x87_out[0] != x87_in || x87_out[1] != 3.141592653589793)
			return "the x87 stack changed";
	}
	return NULL;
}

/* Two pages: the first ends with  mov eax, 17; xor edi, edi;
 * mov rsi, &req; vmcall  and 16 nops, the second starts with
 * mov eax, gen; ret.  Only the second page is rewritten: the block that
 * makes the hypercall (it reaches 15 bytes past the vmcall at most) stays,
 * the one it resumes in (nops to ret) dies with each new generation. */
static const char *check_smc(void)
{
	uint8_t *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		return "no executable pages";
	uint64_t r = (uint64_t)(uintptr_t)&req;
	uint8_t call[36] = {0xb8, 17, 0, 0, 0, 0x31, 0xff, 0x48, 0xbe};
	memcpy(call + 9, &r, 8);
	call[17] = 0x0f, call[18] = 0x01, call[19] = 0xc1;
	memset(call + 20, 0x90, 16);
	uint8_t *start = pages + 4096 - sizeof(call);
	memcpy(start, call, sizeof(call));
	int (*fn)(void) = (int (*)(void))(void *)start;
	for (uint32_t gen = 1; gen <= 50; gen++) {
		uint8_t tail[6] = {0xb8, 0, 0, 0, 0, 0xc3};
		memcpy(tail + 1, &gen, 4);
		memcpy(pages + 4096, tail, sizeof(tail));
		for (int i = 0; i < 20; i++) {
			empty_burst();
			if (fn() != (int)gen)
				return "old code ran after the hypercall";
		}
	}
	return NULL;
}

static const char *check_not_fast(void)
{
	/* A fresh block per run (a branch exit, then an IBL miss) entered
	 * with rax = 17 and known registers: all of them must arrive. */
	uint8_t *page = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return "no executable pages";
	for (int i = 0; i < 1000; i++) {
		uint8_t *p = page + i * 64;
		/* lea rax, [rax + rcx]; ret  (returns 17 + rcx) */
		static const uint8_t body[] = {0x48, 0x8d, 0x04, 0x08, 0xc3};
		memcpy(p, body, sizeof(body));
		long rax = 17, rcx = i;
		__asm__ volatile("call *%[fn]" : "+a"(rax), "+c"(rcx) : [fn] "r"(p) : "memory", "cc", "rdx", "rsi",
		                 "rdi", "r8", "r9", "r10", "r11");
		if (rax != 17 + i || rcx != i)
			return "rax = 17 at an exit changed the registers";
	}
	return NULL;
}

int main(void)
{
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p || opsub_port_mode(p) != OPSUB_IO_OPSUB) {
		printf("FAIL fastgate: needs a port in opsub mode\n");
		return 1;
	}
	report("flags", check_flags());
	report("registers", check_registers());
	report("vector", check_vector());
	report("smc", check_smc());
	report("not_fast", check_not_fast());
	return failures ? 1 : 0;
}
