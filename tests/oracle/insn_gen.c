/*
 * Random instructions, biased towards the memory forms whose effective
 * address has a part the ModRM does not show (bit offsets, string
 * registers, xlat's al, gather indices, implicit stack and FPU images) and
 * towards what the verifier accepts (the 0x67 prefix).
 *
 * An instruction is built as prefixes, opcode, a deliberate ModRM/SIB/
 * displacement (small displacements, sandbox addresses), then random bytes
 * up to 15: the decoder decides where it ends.  Nothing here decides what
 * is allowed; the verifier does, one instruction at a time (blocks.c).
 */
#include <string.h>
#include <Zydis/Zydis.h>

#include "oracle.h"

enum { MAP1, MAP0F, MAP38, MAP3A };

enum form_flag {
	F_MODRM  = 1 << 0,    /* has a ModRM byte */
	F_MEM    = 1 << 1,    /* ModRM addresses memory (mod != 3) */
	F_REG    = 1 << 2,    /* ModRM names a register (mod == 3) */
	F_VEX    = 1 << 3,    /* VEX encoded: map and pp from the row */
	F_VSIB   = 1 << 4,    /* needs a SIB with an index (gathers) */
	F_REP    = 1 << 5,    /* rep prefixes are meaningful */
	F_LOCK   = 1 << 6,    /* lock is meaningful */
	F_SEG    = 1 << 7,    /* always with a segment prefix */
	F_PLUSR  = 1 << 8,    /* register in the opcode's low 3 bits */
	F_W1     = 1 << 9,    /* REX.W / VEX.W set */
	F_L0     = 1 << 10,   /* VEX.L clear */
};

struct form {
	const char *name;
	uint8_t map, opcode, span;   /* opcode + [0, span) */
	int8_t reg;                  /* ModRM.reg (/digit), -1: random */
	uint8_t pp;                  /* mandatory prefix: 0, 0x66, 0xf3, 0xf2 */
	uint16_t flags;
	uint8_t weight;
};

#define MODRM_MEM (F_MODRM | F_MEM)

static const struct form forms[] = {
	/* bit tests with a register bit offset: address + (offset >> 3) */
	{"bt m,r",        MAP0F, 0xa3, 1, -1, 0, MODRM_MEM, 6},
	{"bts m,r",       MAP0F, 0xab, 1, -1, 0, MODRM_MEM | F_LOCK, 4},
	{"btr m,r",       MAP0F, 0xb3, 1, -1, 0, MODRM_MEM | F_LOCK, 4},
	{"btc m,r",       MAP0F, 0xbb, 1, -1, 0, MODRM_MEM | F_LOCK, 4},
	{"bt m,imm",      MAP0F, 0xba, 1, 4, 0, MODRM_MEM, 1},
	{"bts m,imm",     MAP0F, 0xba, 1, 5, 0, MODRM_MEM | F_LOCK, 1},
	/* string instructions: rsi/rdi (esi/edi), rcx with rep */
	{"movs",          MAP1, 0xa4, 2, -1, 0, F_REP, 5},
	{"cmps",          MAP1, 0xa6, 2, -1, 0, F_REP, 3},
	{"stos",          MAP1, 0xaa, 2, -1, 0, F_REP, 4},
	{"lods",          MAP1, 0xac, 2, -1, 0, F_REP, 3},
	{"scas",          MAP1, 0xae, 2, -1, 0, F_REP, 3},
	{"movs seg:",     MAP1, 0xa4, 2, -1, 0, F_REP | F_SEG, 3},
	{"lods seg:",     MAP1, 0xac, 2, -1, 0, F_REP | F_SEG, 1},
	{"cmps seg:",     MAP1, 0xa6, 2, -1, 0, F_REP | F_SEG, 1},
	{"xlat",          MAP1, 0xd7, 1, -1, 0, 0, 4},
	{"xlat seg:",     MAP1, 0xd7, 1, -1, 0, F_SEG, 1},
	/* AVX2 gathers: base + index lane * scale */
	{"vpgatherd*",    MAP38, 0x90, 1, -1, 0x66, F_VEX | MODRM_MEM | F_VSIB, 4},
	{"vpgatherq*",    MAP38, 0x91, 1, -1, 0x66, F_VEX | MODRM_MEM | F_VSIB, 4},
	{"vgatherd*",     MAP38, 0x92, 1, -1, 0x66, F_VEX | MODRM_MEM | F_VSIB, 4},
	{"vgatherq*",     MAP38, 0x93, 1, -1, 0x66, F_VEX | MODRM_MEM | F_VSIB, 4},
	/* wide and implicit-size accesses */
	{"cmpxchg8b/16b", MAP0F, 0xc7, 1, 1, 0, MODRM_MEM | F_LOCK, 4},
	{"fxsave",        MAP0F, 0xae, 1, 0, 0, MODRM_MEM, 3},
	{"fxrstor",       MAP0F, 0xae, 1, 1, 0, MODRM_MEM, 3},
	{"ldmxcsr/stmxcsr", MAP0F, 0xae, 1, 2, 0, MODRM_MEM, 1},
	{"xsave family",  MAP0F, 0xae, 1, 4, 0, MODRM_MEM, 1},
	{"clflush",       MAP0F, 0xae, 1, 7, 0, MODRM_MEM, 1},
	{"fnstenv",       MAP1, 0xd9, 1, 6, 0, MODRM_MEM, 1},
	{"fldenv",        MAP1, 0xd9, 1, 4, 0, MODRM_MEM, 1},
	{"fnsave",        MAP1, 0xdd, 1, 6, 0, MODRM_MEM, 1},
	{"frstor",        MAP1, 0xdd, 1, 4, 0, MODRM_MEM, 1},
	{"x87 memory",    MAP1, 0xd8, 8, -1, 0, MODRM_MEM, 2},
	/* the stack */
	{"push m",        MAP1, 0xff, 1, 6, 0, MODRM_MEM, 4},
	{"pop m",         MAP1, 0x8f, 1, 0, 0, MODRM_MEM, 4},
	{"pushf",         MAP1, 0x9c, 1, -1, 0, 0, 2},
	{"popf",          MAP1, 0x9d, 1, -1, 0, 0, 3},
	{"push r",        MAP1, 0x50, 1, -1, 0, F_PLUSR, 1},
	{"pop r",         MAP1, 0x58, 1, -1, 0, F_PLUSR, 2},
	{"push imm",      MAP1, 0x68, 1, -1, 0, 0, 1},
	{"enter",         MAP1, 0xc8, 1, -1, 0, 0, 1},
	{"leave",         MAP1, 0xc9, 1, -1, 0, 0, 1},
	/* masked stores: rdi/edi plus a mask */
	{"maskmovq",      MAP0F, 0xf7, 1, -1, 0, F_MODRM | F_REG, 2},
	{"maskmovdqu",    MAP0F, 0xf7, 1, -1, 0x66, F_MODRM | F_REG, 3},
	{"vmaskmovdqu",   MAP0F, 0xf7, 1, -1, 0x66, F_VEX | F_MODRM | F_REG | F_L0, 3},
	{"vmaskmovps/pd", MAP38, 0x2c, 4, -1, 0x66, F_VEX | MODRM_MEM, 3},
	{"vpmaskmovd/q",  MAP38, 0x8c, 3, -1, 0x66, F_VEX | MODRM_MEM, 3},
	/* absolute moffs */
	{"mov moffs",     MAP1, 0xa0, 4, -1, 0, 0, 2},
	/* ordinary memory operands */
	{"mov r,m",       MAP1, 0x8a, 2, -1, 0, MODRM_MEM, 3},
	{"mov m,r",       MAP1, 0x88, 2, -1, 0, MODRM_MEM, 3},
	{"mov m,imm",     MAP1, 0xc6, 2, 0, 0, MODRM_MEM, 1},
	{"lea",           MAP1, 0x8d, 1, -1, 0, MODRM_MEM, 1},
	{"alu m",         MAP1, 0x00, 0x40, -1, 0, MODRM_MEM | F_LOCK, 3},
	{"group1 m,imm",  MAP1, 0x80, 4, -1, 0, MODRM_MEM | F_LOCK, 2},
	{"xchg/cmpxchg/xadd", MAP0F, 0xb0, 2, -1, 0, MODRM_MEM | F_LOCK, 1},
	{"xadd",          MAP0F, 0xc0, 2, -1, 0, MODRM_MEM | F_LOCK, 1},
	{"xchg m,r",      MAP1, 0x86, 2, -1, 0, MODRM_MEM, 1},
	{"unary/div m",   MAP1, 0xf6, 2, -1, 0, MODRM_MEM, 2},
	{"inc/dec/call/jmp/push m", MAP1, 0xfe, 2, -1, 0, MODRM_MEM, 1},
	{"shift m",       MAP1, 0xc0, 2, -1, 0, MODRM_MEM, 1},
	{"movzx/movsx",   MAP0F, 0xb6, 10, -1, 0, MODRM_MEM, 1},
	{"cmov/setcc",    MAP0F, 0x40, 0x60, -1, 0, MODRM_MEM, 1},
	{"movbe",         MAP38, 0xf0, 2, -1, 0, MODRM_MEM, 1},
	{"mov m,sreg",    MAP1, 0x8c, 1, -1, 0, F_MODRM, 1},
	{"mov sreg,m",    MAP1, 0x8e, 1, -1, 0, F_MODRM, 1},
	{"prefetch",      MAP0F, 0x18, 1, -1, 0, MODRM_MEM, 1},
	{"prefetchw",     MAP0F, 0x0d, 1, -1, 0, MODRM_MEM, 1},
	{"sse m",         MAP0F, 0x10, 0x70, -1, 0, MODRM_MEM, 3},
	{"sse m 66",      MAP0F, 0x10, 0x70, -1, 0x66, MODRM_MEM, 2},
	{"sse m f3",      MAP0F, 0x10, 0x70, -1, 0xf3, MODRM_MEM, 1},
	{"sse 0f38",      MAP38, 0x00, 0x40, -1, 0x66, MODRM_MEM, 1},
	{"avx m",         MAP0F, 0x10, 0x70, -1, 0x66, F_VEX | MODRM_MEM, 3},
	{"avx m 0f38",    MAP38, 0x00, 0xa0, -1, 0x66, F_VEX | MODRM_MEM, 2},
	{"avx m 0f3a",    MAP3A, 0x00, 0x50, -1, 0x66, F_VEX | MODRM_MEM, 1},
	{"vbroadcast",    MAP38, 0x18, 3, -1, 0x66, F_VEX | MODRM_MEM, 1},
	{"vpbroadcast",   MAP38, 0x58, 2, -1, 0x66, F_VEX | MODRM_MEM, 1},
	/* fs/gs base instructions and system forms (mostly refused) */
	{"rd/wr fs/gs base", MAP0F, 0xae, 1, -1, 0xf3, F_MODRM | F_REG, 1},
	{"0f 01 group",   MAP0F, 0x01, 1, -1, 0, F_MODRM, 1},
	{"misc 0f",       MAP0F, 0x00, 0xff, -1, 0, 0, 2},
	/* anything */
	{"random 1-byte", MAP1, 0x00, 0xff, -1, 0, 0, 4},
	{"random modrm",  MAP1, 0x00, 0xff, -1, 0, F_MODRM, 4},
	{"random 0f modrm", MAP0F, 0x00, 0xff, -1, 0, F_MODRM, 3},
	{"random vex",    MAP0F, 0x00, 0xff, -1, 0, F_VEX | F_MODRM, 2},
};
#define NFORMS (sizeof(forms) / sizeof(forms[0]))

/* Guest branches and gates: what ends a translator block. */
static const struct form block_ends[] = {
	{"jmp rel32",     MAP1, 0xe9, 1, -1, 0, 0, 3},
	{"jmp rel8",      MAP1, 0xeb, 1, -1, 0, 0, 2},
	{"jcc rel8",      MAP1, 0x70, 16, -1, 0, 0, 3},
	{"jcc rel32",     MAP0F, 0x80, 16, -1, 0, 0, 2},
	{"call rel32",    MAP1, 0xe8, 1, -1, 0, 0, 3},
	{"ret",           MAP1, 0xc3, 1, -1, 0, 0, 3},
	{"ret imm16",     MAP1, 0xc2, 1, -1, 0, 0, 1},
	{"jmp r/m",       MAP1, 0xff, 1, 4, 0, F_MODRM, 3},
	{"call r/m",      MAP1, 0xff, 1, 2, 0, F_MODRM, 3},
	{"loop/jrcxz",    MAP1, 0xe0, 4, -1, 0, 0, 2},
	{"syscall",       MAP0F, 0x05, 1, -1, 0, 0, 1},
	{"cpuid",         MAP0F, 0xa2, 1, -1, 0, 0, 1},
	{"ud2",           MAP0F, 0x0b, 1, -1, 0, 0, 1},
	{"int3",          MAP1, 0xcc, 1, -1, 0, 0, 1},
};
#define NENDS (sizeof(block_ends) / sizeof(block_ends[0]))

static const struct form *pick(struct rng *r, const struct form *t, size_t n)
{
	unsigned total = 0;
	for (size_t i = 0; i < n; i++)
		total += t[i].weight;
	unsigned x = (unsigned)rng_below(r, total);
	for (size_t i = 0; i < n; i++) {
		if (x < t[i].weight)
			return &t[i];
		x -= t[i].weight;
	}
	return &t[0];
}

/* ---- the pieces of an instruction --------------------------------------- */

struct builder { uint8_t b[15]; size_t n; };

static void put(struct builder *x, uint8_t v)
{
	if (x->n < sizeof(x->b))
		x->b[x->n++] = v;
}

static void put32(struct builder *x, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put(x, (uint8_t)(v >> (8 * i)));
}

static const uint8_t null_segments[] = {0x26, 0x2e, 0x36, 0x3e};

/* Legacy prefixes in random order; the mandatory one (pp) goes last, as
 * the encoding requires. */
static void legacy_prefixes(struct rng *r, enum flavor f, const struct form *fm, struct builder *x)
{
	uint8_t p[8];
	size_t n = 0;
	bool t = f == FLAVOR_TRANSLATED;
	if (rng_chance(r, t ? 88 : 8))
		p[n++] = 0x67;
	if ((fm->flags & F_SEG) || rng_chance(r, t ? 10 : 4))
		p[n++] = null_segments[rng_below(r, 4)];
	if (rng_chance(r, (fm->flags & F_SEG) ? 40 : t ? 5 : 15))
		p[n++] = rng_chance(r, 50) ? 0x64 : 0x65;
	if (!fm->pp && rng_chance(r, 12))
		p[n++] = 0x66;
	if (!fm->pp && rng_chance(r, (fm->flags & F_REP) ? 60 : 8))
		p[n++] = rng_chance(r, 70) ? 0xf3 : 0xf2;
	if (rng_chance(r, (fm->flags & F_LOCK) ? 30 : 2))
		p[n++] = 0xf0;
	if (n > 0 && rng_chance(r, 3)) {
		p[n] = p[rng_below(r, n)];              /* a repeated prefix */
		n++;
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(r, i);
		uint8_t v = p[i - 1];
		p[i - 1] = p[j];
		p[j] = v;
	}
	for (size_t i = 0; i < n; i++)
		put(x, p[i]);
	if (fm->pp && !(fm->flags & F_VEX))
		put(x, fm->pp);
}

static uint8_t opcode_of(struct rng *r, const struct form *fm)
{
	unsigned op = fm->opcode + (unsigned)rng_below(r, fm->span ? fm->span : 1);
	if (fm->flags & F_PLUSR)
		op += (unsigned)rng_below(r, 8);
	return (uint8_t)op;
}

static void vex(struct rng *r, const struct form *fm, struct builder *x)
{
	uint8_t pp = fm->pp == 0x66 ? 1 : fm->pp == 0xf3 ? 2 : fm->pp == 0xf2 ? 3 : 0;
	uint8_t l = (fm->flags & F_L0) ? 0 : (uint8_t)rng_below(r, 2);
	uint8_t vvvv = (uint8_t)rng_below(r, 16);
	uint8_t w = (fm->flags & F_W1) ? 1 : (uint8_t)rng_below(r, 2);
	uint8_t map = fm->map == MAP0F ? 1 : fm->map == MAP38 ? 2 : 3;
	if (map == 1 && w == 0 && rng_chance(r, 40)) {
		put(x, 0xc5);
		put(x, (uint8_t)((rng_below(r, 2) << 7) | (uint8_t)(~vvvv & 15) << 3 | l << 2 | pp));
		return;
	}
	put(x, 0xc4);
	put(x, (uint8_t)(rng_below(r, 8) << 5 | map));   /* ~R ~X ~B random */
	put(x, (uint8_t)(w << 7 | (uint8_t)(~vvvv & 15) << 3 | l << 2 | pp));
}

static void opcode_bytes(const struct form *fm, uint8_t op, struct builder *x)
{
	if (fm->map != MAP1 && !(fm->flags & F_VEX))
		put(x, 0x0f);
	if (fm->map == MAP38 && !(fm->flags & F_VEX))
		put(x, 0x38);
	if (fm->map == MAP3A && !(fm->flags & F_VEX))
		put(x, 0x3a);
	put(x, op);
}

/* A displacement: mostly small, sometimes a sandbox address, sometimes
 * one of the values at the edges of 32-bit arithmetic. */
static uint32_t disp32(struct rng *r, bool no_base)
{
	static const uint32_t edges[] = {0, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffff000, 0x1000, 0xffffff80};
	unsigned k = (unsigned)rng_below(r, 10);
	if (no_base && k < 5)
		return (uint32_t)env_sandbox_pointer(r);
	if (k < 7)
		return (uint32_t)(int32_t)((int64_t)rng_below(r, 8192) - 4096);
	if (k < 8)
		return edges[rng_below(r, sizeof(edges) / sizeof(edges[0]))];
	return (uint32_t)rng_next(r);
}

static void modrm(struct rng *r, const struct form *fm, struct builder *x)
{
	unsigned reg = fm->reg >= 0 ? (unsigned)fm->reg : (unsigned)rng_below(r, 8);
	bool mem = (fm->flags & F_MEM) || (!(fm->flags & F_REG) && rng_chance(r, 75));
	if (fm->flags & F_MEM && rng_chance(r, 3))
		mem = false;                            /* the register form, now and then */
	if (!mem) {
		put(x, (uint8_t)(0xc0 | reg << 3 | rng_below(r, 8)));
		return;
	}
	unsigned k = (unsigned)rng_below(r, 10);
	unsigned mod = k < 5 ? 0 : k < 8 ? 1 : 2;
	unsigned rm = (fm->flags & F_VSIB) || rng_chance(r, 35) ? 4 : (unsigned)rng_below(r, 8);
	put(x, (uint8_t)(mod << 6 | reg << 3 | rm));
	bool no_base = mod == 0 && rm == 5;
	if (rm == 4) {
		unsigned base = (unsigned)rng_below(r, 8), index = (unsigned)rng_below(r, 8);
		put(x, (uint8_t)(rng_below(r, 4) << 6 | index << 3 | base));
		no_base = mod == 0 && base == 5;
	}
	if (mod == 1)
		put(x, (uint8_t)rng_below(r, 256));
	else if (mod == 2 || no_base)
		put32(x, disp32(r, no_base));
}

/* REX (random bits, W as the row wants) right before the opcode. */
static void rex(struct rng *r, const struct form *fm, struct builder *x)
{
	if (!(fm->flags & F_W1) && !rng_chance(r, 50))
		return;
	uint8_t v = (uint8_t)(0x40 | rng_below(r, 16));
	if (fm->flags & F_W1)
		v |= 0x08;
	put(x, v);
}

static size_t build(struct rng *r, enum flavor f, const struct form *fm, uint8_t out[15])
{
	struct builder x = {.n = 0};
	legacy_prefixes(r, f, fm, &x);
	uint8_t op = opcode_of(r, fm);
	if (fm->flags & F_VEX)
		vex(r, fm, &x);
	else
		rex(r, fm, &x);
	opcode_bytes(fm, op, &x);
	if (fm->flags & F_MODRM)
		modrm(r, fm, &x);
	size_t chosen = x.n;
	memcpy(out, x.b, x.n);
	for (size_t i = x.n; i < 15; i++)
		out[i] = (uint8_t)rng_next(r);
	return chosen;
}

size_t gen_insn(struct rng *r, enum flavor f, uint8_t out[15])
{
	return build(r, f, pick(r, forms, NFORMS), out);
}

size_t gen_guest_block_end(struct rng *r, uint8_t out[15])
{
	return build(r, FLAVOR_GUEST, pick(r, block_ends, NENDS), out);
}

/* ---- which hidden-operand forms a block holds ---------------------------- */

const char *const form_class_name[FC_COUNT] = {
	[FC_BT_REG] = "bt/bts/btr/btc m,r", [FC_STRING] = "string op", [FC_STRING_REP] = "string op with rep",
	[FC_STRING_SEG] = "string op/xlat with segment prefix", [FC_XLAT] = "xlat",
	[FC_GATHER] = "AVX2 gather", [FC_CMPXCHG8_16] = "cmpxchg8b/16b", [FC_FXSAVE] = "fxsave/fxrstor",
	[FC_PUSHPOP_MEM] = "push/pop m", [FC_PUSHF_POPF] = "pushf/popf", [FC_MASKMOV] = "maskmov*",
	[FC_ENTER_LEAVE] = "enter/leave", [FC_X87_ENV] = "fnstenv/fldenv/fnsave/frstor",
	[FC_SLOT_TEMPLATE] = "gs: slot access (template)", [FC_IBL_TEMPLATE] = "IBL lookup (template)",
	[FC_LOOP] = "loop (a switch guard's branch)",
};

static bool has_memory(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops, bool visible)
{
	for (unsigned i = 0; i < in->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM &&
		    (!visible || ops[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT))
			return true;
	return false;
}

static int form_class(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
		return has_memory(in, ops, true) && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER ? FC_BT_REG : -1;
	case ZYDIS_MNEMONIC_XLAT: return FC_XLAT;
	case ZYDIS_MNEMONIC_VPGATHERDD: case ZYDIS_MNEMONIC_VPGATHERDQ: case ZYDIS_MNEMONIC_VPGATHERQD:
	case ZYDIS_MNEMONIC_VPGATHERQQ: case ZYDIS_MNEMONIC_VGATHERDPS: case ZYDIS_MNEMONIC_VGATHERDPD:
	case ZYDIS_MNEMONIC_VGATHERQPS: case ZYDIS_MNEMONIC_VGATHERQPD:
		return FC_GATHER;
	case ZYDIS_MNEMONIC_CMPXCHG8B: case ZYDIS_MNEMONIC_CMPXCHG16B: return FC_CMPXCHG8_16;
	case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXSAVE64: case ZYDIS_MNEMONIC_FXRSTOR:
	case ZYDIS_MNEMONIC_FXRSTOR64:
		return FC_FXSAVE;
	case ZYDIS_MNEMONIC_PUSH: case ZYDIS_MNEMONIC_POP:
		return has_memory(in, ops, true) ? FC_PUSHPOP_MEM : -1;
	case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_PUSHFQ: case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFQ:
		return FC_PUSHF_POPF;
	case ZYDIS_MNEMONIC_MASKMOVQ: case ZYDIS_MNEMONIC_MASKMOVDQU: case ZYDIS_MNEMONIC_VMASKMOVDQU:
	case ZYDIS_MNEMONIC_VMASKMOVPS: case ZYDIS_MNEMONIC_VMASKMOVPD: case ZYDIS_MNEMONIC_VPMASKMOVD:
	case ZYDIS_MNEMONIC_VPMASKMOVQ:
		return FC_MASKMOV;
	case ZYDIS_MNEMONIC_ENTER: case ZYDIS_MNEMONIC_LEAVE: return FC_ENTER_LEAVE;
	case ZYDIS_MNEMONIC_LOOP: return FC_LOOP;
	case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FLDENV: case ZYDIS_MNEMONIC_FNSAVE: case ZYDIS_MNEMONIC_FRSTOR:
		return FC_X87_ENV;
	default:
		break;
	}
	if (in->meta.category == ZYDIS_CATEGORY_STRINGOP)
		return in->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)
		       ? FC_STRING_REP : FC_STRING;
	if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
		return in->mnemonic == ZYDIS_MNEMONIC_JMP ? FC_IBL_TEMPLATE : FC_SLOT_TEMPLATE;
	return -1;
}

/* (Zydis does not flag the segment prefixes 64-bit mode ignores.) */
static bool has_segment_prefix(const ZydisDecodedInstruction *in)
{
	for (unsigned i = 0; i < in->raw.prefix_count; i++) {
		uint8_t p = in->raw.prefixes[i].value;
		if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65)
			return true;
	}
	return false;
}

void classify_forms(const struct oracle_block *b, uint64_t counts[FC_COUNT])
{
	for (size_t off = 0; off < b->len;) {
		ZydisDecodedInstruction in;
		ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
		if (ZYAN_FAILED(ZydisDecoderDecodeFull(oracle_decoder(), b->bytes + off, b->len - off, &in, ops)))
			return;
		int c = form_class(&in, ops);
		if (c >= 0)
			counts[c]++;
		if ((in.meta.category == ZYDIS_CATEGORY_STRINGOP || in.mnemonic == ZYDIS_MNEMONIC_XLAT) &&
		    has_segment_prefix(&in))
			counts[FC_STRING_SEG]++;
		off += in.length;
	}
}

bool has_operand_size_branch(const struct oracle_block *b)
{
	for (size_t off = 0; off < b->len;) {
		ZydisDecodedInstruction in;
		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(oracle_decoder(), NULL, b->bytes + off, b->len - off, &in)))
			return false;
		if (in.raw.imm[0].is_relative && (in.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE))
			return true;
		off += in.length;
	}
	return false;
}
