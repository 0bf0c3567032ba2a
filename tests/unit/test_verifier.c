/*
 * The verifier on hand-made blocks: every rule rejects the code it exists
 * to reject, and accepts what the translator legitimately emits.  Each
 * rejected block is something that would escape or unconfine if it ran.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gates/cpu_model.h"
#include "gates/ctx.h"
#include "gates/gate.h"
#include "translator/verifier.h"

/* Where the block would run: near the gates, as the code cache is. */
#define RX (((uint64_t)(uintptr_t)gate_exit & ~0xfffffull) - 0x1000000)

struct block {
	uint8_t b[256];
	size_t n;
};

static void put(struct block *k, const void *bytes, size_t n)
{
	memcpy(k->b + k->n, bytes, n);
	k->n += n;
}

#define PUT(k, ...) do { const uint8_t x_[] = {__VA_ARGS__}; put(k, x_, sizeof(x_)); } while (0)

/* jmp rel32 to gate_exit, as the last instruction */
static void end(struct block *k)
{
	int32_t rel = (int32_t)((uint64_t)(uintptr_t)gate_exit - (RX + k->n + 5));
	PUT(k, 0xe9);
	put(k, &rel, 4);
}

static bool verify(struct block *k, char *err, size_t errlen)
{
	return verify_block(k->b, k->n, RX, NULL, err, errlen);
}

static void accepts(struct block *k)
{
	char err[256] = "";
	end(k);
	if (!verify(k, err, sizeof(err)))
		fail_msg("rejected a legitimate block: %s", err);
}

static void rejects(struct block *k, const char *why)
{
	char err[256] = "";
	end(k);
	if (verify(k, err, sizeof(err)))
		fail_msg("accepted: %s", why);
}

static void test_confined_forms_pass(void **state)
{
	(void)state;
	struct block k = {0};
	PUT(&k, 0x67, 0x48, 0x8b, 0x04, 0xcb);           /* mov rax, [ebx+ecx*8] */
	PUT(&k, 0x67, 0x40, 0x8b, 0x04, 0xdd, 0x23, 0xda, 0x33, 0x60);  /* mov eax, [ebx*8+disp32] */
	PUT(&k, 0x67, 0xf3, 0xa4);                       /* rep movsb (32-bit) */
	PUT(&k, 0x67, 0xd7);                             /* xlat (32-bit) */
	PUT(&k, 0x50, 0x5b);                             /* push rax; pop rbx */
	PUT(&k, 0x48, 0x89, 0xc4, 0x89, 0xe4);           /* mov rsp, rax; mov esp, esp */
	PUT(&k, 0x0f, 0x31);                             /* rdtsc */
	accepts(&k);
}

/* The translator's sequences that touch the runtime context, as it emits
 * them: each is accepted as a whole. */
static void test_runtime_context_templates_pass(void **state)
{
	(void)state;
	struct block k = {0};
	PUT(&k, 0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0);     /* ibl save */
	PUT(&k, 0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0);     /* ibl restore */
	PUT(&k, 0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_TARGET, 0, 0, 0);  /* ibl target */
	PUT(&k, 0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_COUNT, 0, 0, 0, 0x4d, 0x8d, 0x5b, 0x01,
	        0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_COUNT, 0, 0, 0,
	        0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_TARGET, 0, 0, 0);  /* ibl count */
	PUT(&k, 0x65, 0x4c, 0x89, 0x14, 0x25, CTX_SEG_SCRATCH, 0, 0, 0); /* mov gs:[scratch], r10 */
	PUT(&k, 0x65, 0x4c, 0x8b, 0x14, 0x25, CTX_FS_BASE, 0, 0, 0);     /* mov r10, gs:[fs_base] */
	PUT(&k, 0x65, 0x48, 0x8b, 0x1c, 0x25, CTX_GS_BASE, 0, 0, 0);     /* mov rbx, gs:[gs_base] */
	PUT(&k, 0x65, 0x48, 0x89, 0x04, 0x25, CTX_GS_BASE, 0, 0, 0);     /* mov gs:[gs_base], rax */
	PUT(&k, 0x65, 0xc7, 0x04, 0x25, CTX_FS_BASE + 4, 0, 0, 0, 0, 0, 0, 0);   /* 32-bit wrfsbase */
	PUT(&k, 0x65, 0x48, 0x8b, 0x24, 0x25, CTX_FS_BASE, 0, 0, 0, 0x89, 0xe4); /* rdfsbase rsp */
	PUT(&k, 0x65, 0x4c, 0x8b, 0x14, 0x25, CTX_SEG_SCRATCH, 0, 0, 0); /* mov r10, gs:[scratch] */
	/* a 64-bit popf: AC and ID to their slot, then the masked popf */
	PUT(&k, 0x65, 0x8f, 0x04, 0x25, CTX_VIRT_FLAGS, 0, 0, 0, 0x65, 0xff, 0x34, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,
	        0x65, 0x48, 0x81, 0x24, 0x25, CTX_VIRT_FLAGS, 0, 0, 0, 0, 0, 0x24, 0);
	PUT(&k, 0x67, 0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xfb, 0xff, 0x9d);
	/* a 64-bit pushf: push gs:[virt_flags]; lea rsp, [rsp+2]; mov esp, esp; pushfw */
	PUT(&k, 0x65, 0xff, 0x34, 0x25, CTX_VIRT_FLAGS, 0, 0, 0, 0x48, 0x8d, 0x64, 0x24, 0x02, 0x89, 0xe4, 0x66, 0x9c);
	accepts(&k);
}

/* Everything else that names the runtime context is refused, whatever its
 * operand looks like: the forms a guest-derived instruction could take. */
static void test_runtime_context_other_forms_rejected(void **state)
{
	(void)state;
	static const struct { const char *why; uint8_t b[14]; size_t n; } bad[] = {
		/* bt/bts/btr/btc add (rax >> 6) * 8 to the address: any host bit */
		{"bt gs:[0], rax", {0x65, 0x48, 0x0f, 0xa3, 0x04, 0x25, 0, 0, 0, 0}, 10},
		{"bts gs:[ibl_r11], rax", {0x65, 0x48, 0x0f, 0xab, 0x04, 0x25, CTX_IBL_R11, 0, 0, 0}, 10},
		{"btr gs:[fs_base], rcx", {0x65, 0x48, 0x0f, 0xb3, 0x0c, 0x25, CTX_FS_BASE, 0, 0, 0}, 10},
		{"btc gs:[exit_id], rdx", {0x65, 0x48, 0x0f, 0xbb, 0x14, 0x25, CTX_EXIT_ID, 0, 0, 0}, 10},
		{"rcx into the ibl r11 slot", {0x65, 0x48, 0x89, 0x0c, 0x25, CTX_IBL_R11, 0, 0, 0}, 9},
		{"rax into the ibl target", {0x65, 0x48, 0x89, 0x04, 0x25, CTX_IBL_TARGET, 0, 0, 0}, 9},
		{"the target load of the ibl count alone", {0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_TARGET, 0, 0, 0}, 9},
		{"a register into the exit id", {0x65, 0x89, 0x04, 0x25, CTX_EXIT_ID, 0, 0, 0}, 8},
		{"an exit id without its jump", {0x65, 0xc7, 0x04, 0x25, CTX_EXIT_ID, 0, 0, 0, 5, 0, 0, 0, 0x90}, 13},
		{"add to the fs base", {0x65, 0x48, 0x01, 0x04, 0x25, CTX_FS_BASE, 0, 0, 0}, 9},
		{"32-bit address size", {0x65, 0x67, 0x48, 0x8b, 0x04, 0x25, CTX_FS_BASE, 0, 0, 0}, 10},
		{"slot plus a base", {0x65, 0x48, 0x8b, 0x80, CTX_FS_BASE, 0, 0, 0}, 8},
		{"slot plus an index", {0x65, 0x48, 0x8b, 0x04, 0x05, CTX_FS_BASE, 0, 0, 0}, 9},
		{"rsp from a slot, unconfined", {0x65, 0x48, 0x8b, 0x24, 0x25, CTX_FS_BASE, 0, 0, 0}, 9},
		{"a store into the IBL table", {0x65, 0x48, 0x89, 0x04, 0x25, 0, 0x20, 0, 0}, 9},
		{"a load of the saved rsp", {0x65, 0x48, 0x8b, 0x04, 0x25, CTX_GPR(4), 0, 0, 0}, 9},
		{"a store into the XSAVE area", {0x65, 0x48, 0x89, 0x04, 0x25, 0, 0x10, 0, 0}, 9},
		{"the ibl count slot alone", {0x65, 0x48, 0xff, 0x04, 0x25, CTX_IBL_COUNT, 0, 0, 0}, 9},
		{"a high-half store of a value", {0x65, 0xc7, 0x04, 0x25, CTX_FS_BASE + 4, 0, 0, 0, 1, 0, 0, 0}, 12},
		{"cmpxchg on a slot", {0x65, 0x48, 0x0f, 0xb1, 0x0c, 0x25, CTX_SEG_SCRATCH, 0, 0, 0}, 10},
		{"fs: slot form", {0x64, 0x48, 0x8b, 0x04, 0x25, CTX_FS_BASE, 0, 0, 0}, 9},
		/* the flags slot only through its two templates */
		{"pop into the flags slot alone", {0x65, 0x8f, 0x04, 0x25, CTX_VIRT_FLAGS, 0, 0, 0}, 8},
		{"pop into another slot", {0x65, 0x8f, 0x04, 0x25, CTX_IBL_TARGET, 0, 0, 0}, 8},
		{"push of another slot", {0x65, 0xff, 0x34, 0x25, CTX_IBL_R11, 0, 0, 0}, 8},
		{"a register into the flags slot", {0x65, 0x48, 0x89, 0x04, 0x25, CTX_VIRT_FLAGS, 0, 0, 0}, 9},
		{"the flags slot into a register", {0x65, 0x48, 0x8b, 0x04, 0x25, CTX_VIRT_FLAGS, 0, 0, 0}, 9},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct block k = {0};
		put(&k, bad[i].b, bad[i].n);
		rejects(&k, bad[i].why);
	}
}

static void test_escapes_rejected(void **state)
{
	(void)state;
	static const struct { const char *why; uint8_t b[8]; size_t n; } bad[] = {
		{"syscall", {0x0f, 0x05}, 2},
		{"int 0x80", {0xcd, 0x80}, 2},
		{"sysenter", {0x0f, 0x34}, 2},
		{"far jmp through memory", {0x67, 0xff, 0x28}, 3},
		{"mov ds, ax", {0x8e, 0xd8}, 2},
		{"pop fs", {0x0f, 0xa1}, 2},
		{"wrgsbase rax", {0xf3, 0x48, 0x0f, 0xae, 0xd8}, 5},
		{"cpuid", {0x0f, 0xa2}, 2},
		{"sgdt", {0x67, 0x0f, 0x01, 0x00}, 4},
		{"hlt", {0xf4}, 1},
		{"in al, dx", {0xec}, 1},
		{"ret", {0xc3}, 1},
		{"call rax", {0xff, 0xd0}, 2},
		{"jmp rax", {0xff, 0xe0}, 2},
		{"xbegin", {0xc7, 0xf8, 0, 0, 0, 0}, 6},
		{"AVX-512 vmovdqa64", {0x62, 0xf1, 0xfd, 0x48, 0x6f, 0xc0}, 6},
		{"iretq", {0x48, 0xcf}, 2},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct block k = {0};
		put(&k, bad[i].b, bad[i].n);
		rejects(&k, bad[i].why);
	}
}

/* An optional row's instructions (SHA) verify only while it is shown. */
static void test_optional_rows(void **state)
{
	(void)state;
	uint32_t sha = 0;
	for (size_t i = 0; i < cpu_model_count; i++)
		if (!strcmp(cpu_model[i].name, "sha_ni"))
			sha = cpu_model_optional_bit(i);
	struct block k = {0};
	PUT(&k, 0x0f, 0x38, 0xcb, 0xca);   /* sha256rnds2 xmm1, xmm2 */
	struct block shown = k;
	cpu_model_show(0);
	rejects(&k, "sha256rnds2 of a row not shown");
	cpu_model_show(sha);
	accepts(&shown);
	cpu_model_show(0);
}

static void test_unconfined_memory_rejected(void **state)
{
	(void)state;
	static const struct { const char *why; uint8_t b[12]; size_t n; } bad[] = {
		{"64-bit addressing", {0x48, 0x8b, 0x03}, 3},                          /* mov rax, [rbx] */
		{"rip-relative", {0x48, 0x8b, 0x05, 0, 0, 0, 0}, 7},                     /* mov rax, [rip] */
		{"eip-relative", {0x67, 0x48, 0x8b, 0x05, 0, 0, 0, 0}, 8},
		{"rep movsb, 64-bit", {0xf3, 0xa4}, 2},
		{"fs: access", {0x67, 0x64, 0x48, 0x8b, 0x03}, 5},
		{"gs: with a base", {0x65, 0x48, 0x8b, 0x03}, 4},
		{"gs: beyond the guest slots", {0x65, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0, 0}, 9},
		{"gs: guest slot outside a template", {0x65, 0x48, 0x8b, 0x04, 0x25, CTX_GPR(0), 0, 0, 0}, 9},
		{"lea of a code address", {0x48, 0x8d, 0x05, 0, 0, 0, 0}, 7},
		{"64-bit moffs", {0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8}, 10},
		{"rsp write not re-confined", {0x48, 0x89, 0xc4}, 3},
		{"leave", {0xc9}, 1},
		{"popf without its mask", {0x9d}, 1},
		{"xsave", {0x67, 0x0f, 0xae, 0x20}, 4},
		/* [ebx*8+disp32] with REX.B / VEX.B set: Zydis reads [r13d+ebx*8] */
		{"SIB without base, REX.B", {0x67, 0x41, 0x8b, 0x04, 0xdd, 0x23, 0xda, 0x33, 0x60}, 9},
		{"SIB without base, VEX.B", {0x67, 0xc4, 0xc1, 0x7e, 0x6f, 0x04, 0xdd, 0x23, 0xda, 0x33, 0x60}, 11},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct block k = {0};
		put(&k, bad[i].b, bad[i].n);
		rejects(&k, bad[i].why);
	}
}

static void test_control_flow_rules(void **state)
{
	(void)state;
	struct block k = {0};
	PUT(&k, 0xeb, 0x01, 0x90);          /* jmp +1: into the middle? no: onto the next start */
	k.n = 0;
	PUT(&k, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8);   /* movabs rax, imm64 */
	PUT(&k, 0xeb, 0xf8);                /* jmp -8: into the immediate above */
	rejects(&k, "a jump into the middle of an instruction");

	struct block out = {0};
	PUT(&out, 0xe9, 0x00, 0x10, 0x00, 0x00);   /* jmp +0x1000: outside the block */
	rejects(&out, "a jump out of the block that is not a gate");

	struct block fall = {0};
	PUT(&fall, 0x90);
	char err[256];
	assert_false(verify(&fall, err, sizeof(err)));   /* no final jump: falls off */

	/* 66 0f 84 rel32 is a 7-byte jz to Zydis (and Intel), a 5-byte jz
	 * rel16 to AMD, whose next instruction is the offset's high bytes */
	struct block opsize = {0};
	PUT(&opsize, 0x66, 0x0f, 0x84, 0, 0, 0, 0);
	rejects(&opsize, "a near branch with an operand-size prefix");
	struct block opsize_jmp = {0};
	PUT(&opsize_jmp, 0x66, 0xeb, 0x00);
	rejects(&opsize_jmp, "a short jmp with an operand-size prefix");

	/* loop: a direct branch like jrcxz (a switch's guard, translate.c),
	 * its target checked as any other; loope and loopne stay refused */
	struct block guard = {0};
	PUT(&guard, 0x49, 0x89, 0xcb);                   /* mov r11, rcx */
	PUT(&guard, 0x48, 0x8d, 0x8d, 0x01, 0x00, 0xc0, 0xff);   /* lea rcx, [rbp + 1 - 0x400000] */
	PUT(&guard, 0xe2, 0x03, 0x4c, 0x89, 0xd9);       /* loop +3 ; mov rcx, r11 */
	PUT(&guard, 0x4c, 0x89, 0xd9);                   /* mov rcx, r11 (the loop's target) */
	accepts(&guard);
	struct block loop_in = {0};
	PUT(&loop_in, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8);   /* movabs rax, imm64 */
	PUT(&loop_in, 0xe2, 0xf8);                        /* loop -8: into the immediate */
	rejects(&loop_in, "a loop into the middle of an instruction");
	struct block loop_out = {0};
	PUT(&loop_out, 0xe2, 0x7f);
	rejects(&loop_out, "a loop out of the block");
	for (uint8_t op = 0xe0; op <= 0xe1; op++) {
		struct block k2 = {0};
		PUT(&k2, op, 0x00);
		rejects(&k2, "loope or loopne, which the translator never emits");
	}

	struct block popf = {0};
	PUT(&popf, 0x67, 0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xfb, 0xff, 0x9d);   /* and [esp], ~(TF|AC); popf */
	accepts(&popf);
	struct block skip = {0};
	PUT(&skip, 0xeb, 0x09);             /* jmp over the mask onto the popf */
	PUT(&skip, 0x67, 0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xfb, 0xff, 0x9d);
	rejects(&skip, "a jump onto a popf, past its mask");
}

/* An x87 environment store whose field's displacement wraps past 2^31:
 * fnsave [ecx+0x7fffffff] then mov qword [ecx+0x8000000b], 0 (the
 * translator's scrub for a guest fnsave [rcx+0x7fffffff]). */
static void test_fp_ip_scrub_wrapped_displacement(void **state)
{
	(void)state;
	struct block k = {0};
	PUT(&k, 0x67, 0xdd, 0xb1, 0xff, 0xff, 0xff, 0x7f);
	PUT(&k, 0x67, 0x48, 0xc7, 0x81, 0x0b, 0x00, 0x00, 0x80, 0, 0, 0, 0);
	accepts(&k);
	struct block other = {0};
	PUT(&other, 0x67, 0xdd, 0xb1, 0xff, 0xff, 0xff, 0x7f);
	PUT(&other, 0x67, 0x48, 0xc7, 0x81, 0x0c, 0x00, 0x00, 0x80, 0, 0, 0, 0);   /* one byte off */
	rejects(&other, "a scrub of the wrong field");
}

static void test_ibl_template(void **state)
{
	(void)state;
	uint8_t t[IBL_TEMPLATE_LEN];
	ibl_template(t);
	struct block ok = {0};
	put(&ok, t, sizeof(t));
	char err[256] = "";
	assert_true(verify(&ok, err, sizeof(err)));     /* ends in its own jump */

	struct block unbounded = {0};
	put(&unbounded, t + 4, sizeof(t) - 4);           /* the jump without its movzx */
	assert_false(verify(&unbounded, err, sizeof(err)));

	struct block into = {0};
	PUT(&into, 0xeb, 0x04);                          /* jmp to the template's second instruction */
	put(&into, t, sizeof(t));
	assert_false(verify(&into, err, sizeof(err)));
}

/* The switch template: a table of the switch area, indexed by a byte
 * register; every change that would let the index or the table leave the
 * area, or skip the bound, is refused. */
static void test_switch_template(void **state)
{
	(void)state;
	char err[256] = "";
	for (int reg = 0; reg < 16; reg++) {
		if (reg == 4)
			continue;
		for (unsigned table = 0; table < SWITCH_TABLES; table += SWITCH_TABLES - 1) {
			uint8_t t[SWITCH_TEMPLATE_LEN];
			switch_template(t, reg, table);
			struct block ok = {0};
			put(&ok, t, sizeof(t));
			if (!verify(&ok, err, sizeof(err)))
				fail_msg("switch template (index register %d, table %u) rejected: %s", reg, table, err);
		}
	}
	uint8_t t[SWITCH_TEMPLATE_LEN];
	switch_template(t, 1, 0);                        /* movzx r11d, cl ; jmp gs:[r11*8 + table 0] */
	struct {
		unsigned at;
		uint8_t value;
		const char *why;
	} spoilt[] = {
		{0, 0x4c, "REX.W: movzx r11, cl (still bounded, but not the template)"},
		{0, 0x46, "REX.X"},
		{2, 0xb7, "movzx r11d, cx: an index up to 65535"},
		{2, 0xbe, "movsx r11d, cl: a negative index"},
		{3, 0xc1, "movzx r8d, cl: r11 left as it was"},
		{3, 0x19, "movzx r11d, byte [rcx]"},
		{7, 0x14, "call through the table"},
		{8, 0xed, "jmp gs:[r13*8 + ...]: another index register"},
		{8, 0xd8, "a base register added to the index"},
		{9, 0x08, "a table that does not start on a table's first entry"},
	};
	for (size_t i = 0; i < sizeof(spoilt) / sizeof(spoilt[0]); i++) {
		struct block bad = {0};
		put(&bad, t, sizeof(t));
		bad.b[spoilt[i].at] = spoilt[i].value;
		if (verify(&bad, err, sizeof(err)))
			fail_msg("accepted: %s", spoilt[i].why);
	}
	static const uint32_t displacements[] = {
		CTX_SWITCH_CODE - SWITCH_ENTRIES * 8,                       /* the IBL table's last 256 */
		CTX_SWITCH_CODE + SWITCH_TABLES * SWITCH_ENTRIES * 8,       /* past the last table */
		CTX_IBL_TARGET,                                             /* a guest slot */
	};
	for (size_t i = 0; i < sizeof(displacements) / sizeof(displacements[0]); i++) {
		struct block bad = {0};
		put(&bad, t, sizeof(t));
		memcpy(bad.b + 9, &displacements[i], 4);
		if (verify(&bad, err, sizeof(err)))
			fail_msg("accepted a switch jump through gs:[0x%x]", displacements[i]);
	}
	struct block unbounded = {0};
	put(&unbounded, t + 4, sizeof(t) - 4);           /* the jump without its movzx */
	assert_false(verify(&unbounded, err, sizeof(err)));
}

/* rel32 at the block's current end to gate_ibl_miss */
static void to_miss(struct block *k)
{
	int32_t rel = (int32_t)((uint64_t)(uintptr_t)gate_ibl_miss - (RX + k->n + 4));
	put(k, &rel, 4);
}

/* The IBL entry the translator emits, for pc 0x401000 (and the two-lea
 * form of pc 0x90000000); `wrong` spoils one byte of it. */
static void prologue(struct block *k, bool two_leas, int wrong)
{
	PUT(k, 0x49, 0x89, 0xcb);                                         /* mov r11, rcx */
	PUT(k, 0x65, 0x48, 0x8b, 0x0c, 0x25, CTX_IBL_TARGET, 0, 0, 0);    /* mov rcx, gs:[target] */
	if (two_leas)
		PUT(k, 0x48, 0x8d, 0x89, 0x00, 0x00, 0x00, 0x80);         /* lea rcx, [rcx - 2^31] */
	PUT(k, 0x48, 0x8d, 0x89, 0x00, 0xf0, 0xbf, 0xff);                 /* lea rcx, [rcx - pc] */
	PUT(k, 0xe3, 0x08);                                               /* jrcxz hit */
	PUT(k, 0x4c, 0x89, 0xd9, 0xe9);                                   /* mov rcx, r11; jmp gate_ibl_miss */
	to_miss(k);
	PUT(k, 0x4c, 0x89, 0xd9);                                         /* hit: mov rcx, r11 */
	PUT(k, 0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0);       /* mov r11, gs:[ibl_r11] */
	if (wrong >= 0)
		k->b[wrong]++;
}

/* Its loop form (hosts where LOOP is one op): the miss path first, the
 * entry after it, loop back to the miss; the hit falls through. */
static void prologue_loop(struct block *k, bool two_leas, int wrong)
{
	PUT(k, 0x4c, 0x89, 0xd9, 0xe9);                                   /* miss: mov rcx, r11; jmp gate_ibl_miss */
	to_miss(k);
	PUT(k, 0x49, 0x89, 0xcb);                                         /* entry: mov r11, rcx */
	PUT(k, 0x65, 0x48, 0x8b, 0x0c, 0x25, CTX_IBL_TARGET, 0, 0, 0);    /* mov rcx, gs:[target] */
	if (two_leas)
		PUT(k, 0x48, 0x8d, 0x89, 0x00, 0x00, 0x00, 0x80);         /* lea rcx, [rcx - 2^31] */
	PUT(k, 0x48, 0x8d, 0x89, 0x01, 0xf0, 0xbf, 0xff);                 /* lea rcx, [rcx - pc + 1] */
	PUT(k, 0xe2, (uint8_t)(int8_t)-(int)(k->n + 2));                  /* loop miss */
	PUT(k, 0x4c, 0x89, 0xd9);                                         /* hit: mov rcx, r11 */
	PUT(k, 0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0);       /* mov r11, gs:[ibl_r11] */
	if (wrong >= 0)
		k->b[wrong]++;
}

/* The IBL entry passes as a unit; a byte changed anywhere that matters
 * (the register rcx waits in, the slot compared, the jrcxz displacement,
 * the miss gate's address, rcx's restores, the slot r11 comes from) makes
 * its instructions ones the verifier refuses alone. */
static void test_ibl_entry_forms(void **state)
{
	(void)state;
	void (*const form[2])(struct block *, bool, int) = {prologue, prologue_loop};
	for (int f = 0; f < 4; f++) {
		struct block k = {0};
		form[f / 2](&k, f % 2 == 1, -1);
		accepts(&k);
	}
	static const struct { bool loop; int byte; const char *why; } spoiled[] = {
		{false, 1, "the guest's rcx kept another way"},
		{false, 8, "a compare of another slot"},
		{false, 20, "a jrcxz into the miss path's restore"},
		{false, 23, "the miss path restoring rcx from another register"},
		{false, 25, "a jmp beside the miss gate"},
		{false, 31, "the hit path restoring rcx from another register"},
		{false, 37, "r11 restored from another slot"},
		{true, 1, "the miss path restoring rcx from another register"},
		{true, 5, "a jmp beside the miss gate"},
		{true, 9, "the guest's rcx kept another way"},
		{true, 16, "a compare of another slot"},
		{true, 28, "a loop into the miss path's jmp"},
		{true, 30, "the hit path restoring rcx from another register"},
	};
	for (size_t i = 0; i < sizeof(spoiled) / sizeof(spoiled[0]); i++) {
		struct block k = {0};
		form[spoiled[i].loop](&k, false, spoiled[i].byte);
		rejects(&k, spoiled[i].why);
	}
}

/* A block that keeps r11 in its slot but whose first instruction needs it
 * back (a translation cut short): the body starts with the restore, right
 * after the IBL entry, and its direct entry after the stubs jumps there.
 * The restore is a template of its own, so the jump lands on a start. */
static void test_body_starting_with_restore(void **state)
{
	(void)state;
	struct block k = {0};
	prologue(&k, false, -1);                            /* ends with mov r11, gs:[ibl_r11] */
	size_t body = k.n - 9;
	end(&k);                                            /* the body: one exit */
	PUT(&k, 0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0);   /* entry: mov gs:[ibl_r11], r11 */
	int32_t rel = (int32_t)body - (int32_t)(k.n + 5);
	PUT(&k, 0xe9);                                      /* jmp body */
	put(&k, &rel, 4);
	char err[256] = "";
	assert_true(verify(&k, err, sizeof(err)));
	/* and a jump one byte into the restore is still refused */
	k.n -= 4;
	rel += 1;
	put(&k, &rel, 4);
	rejects(&k, "a jump into the restore");
}

/* The parts of the FPU state a block can touch beyond xmm0-15 and MXCSR
 * (the full gate keeps them only once some guest code can: gates/gate.h):
 * each instruction alone, then two in one block report both. */
static void test_fpu_parts_reported(void **state)
{
	(void)state;
	static const struct { const char *what; uint8_t bytes[16]; size_t n; unsigned want; } cases[] = {
		{"addps xmm0, xmm1", {0x0f, 0x58, 0xc1}, 3, 0},
		{"vaddps xmm0, xmm1, xmm2 (VEX.128 zeroes the upper halves)", {0xc5, 0xf0, 0x58, 0xc2}, 4, 0},
		{"vzeroupper", {0xc5, 0xf8, 0x77}, 3, 0},
		{"ldmxcsr [eax]", {0x67, 0x0f, 0xae, 0x10}, 4, 0},
		{"fld1", {0xd9, 0xe8}, 2, GUEST_FPU_X87},
		{"fnstsw ax", {0xdf, 0xe0}, 2, GUEST_FPU_X87},
		{"fwait", {0x9b}, 1, GUEST_FPU_X87},
		{"emms", {0x0f, 0x77}, 2, GUEST_FPU_X87},
		{"cvtpi2ps xmm0, mm1 (SSE, an MMX register)", {0x0f, 0x2a, 0xc1}, 3, GUEST_FPU_X87},
		{"fisttp qword [eax] (SSE3, the x87 stack)", {0x67, 0xdd, 0x08}, 3, GUEST_FPU_X87},
		{"vmovdqa ymm0, ymm1", {0xc5, 0xfd, 0x6f, 0xc1}, 4, GUEST_FPU_YMM},
		{"vextracti128 xmm0, ymm1, 1", {0xc4, 0xe3, 0x7d, 0x39, 0xc8, 0x01}, 6, GUEST_FPU_YMM},
		{"fxsave [eax]; mov qword [eax+8], 0 (its instruction pointer cleared)",
		 {0x67, 0x0f, 0xae, 0x00, 0x67, 0x48, 0xc7, 0x40, 0x08, 0, 0, 0, 0}, 13, GUEST_FPU_X87 | GUEST_FPU_YMM},
		{"fxrstor [eax]", {0x67, 0x0f, 0xae, 0x08}, 4, GUEST_FPU_X87 | GUEST_FPU_YMM},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct block k = {0};
		put(&k, cases[i].bytes, cases[i].n);
		end(&k);
		char err[256] = "";
		unsigned parts = 0xff;
		if (!verify_block(k.b, k.n, RX, &parts, err, sizeof(err)))
			fail_msg("%s: rejected: %s", cases[i].what, err);
		if (parts != cases[i].want)
			fail_msg("%s: parts %u, want %u", cases[i].what, parts, cases[i].want);
	}
	struct block k = {0};
	PUT(&k, 0xd9, 0xe8);                        /* fld1 */
	PUT(&k, 0xc5, 0xfd, 0x6f, 0xc1);            /* vmovdqa ymm0, ymm1 */
	end(&k);
	char err[256] = "";
	unsigned parts = 0;
	assert_true(verify_block(k.b, k.n, RX, &parts, err, sizeof(err)));
	assert_int_equal(parts, GUEST_FPU_X87 | GUEST_FPU_YMM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_forms_pass),
		cmocka_unit_test(test_runtime_context_templates_pass),
		cmocka_unit_test(test_runtime_context_other_forms_rejected),
		cmocka_unit_test(test_escapes_rejected),
		cmocka_unit_test(test_optional_rows),
		cmocka_unit_test(test_unconfined_memory_rejected),
		cmocka_unit_test(test_control_flow_rules),
		cmocka_unit_test(test_ibl_template),
		cmocka_unit_test(test_switch_template),
		cmocka_unit_test(test_ibl_entry_forms),
		cmocka_unit_test(test_body_starting_with_restore),
		cmocka_unit_test(test_fp_ip_scrub_wrapped_displacement),
		cmocka_unit_test(test_fpu_parts_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
