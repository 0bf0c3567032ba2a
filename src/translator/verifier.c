#include "translator/verifier.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "gates/cpu_model.h"
#include "gates/ctx.h"
#include "gates/gate.h"
#include "translator/quick_decode.h"

/* Instructions of extensions outside the guest CPU model (gates/cpu_model.c)
 * never reach translated code. */
static bool isa_known(ZydisISAExt e) { return cpu_model_allows(e); }

/* Instructions of those extensions that must never run as translated code. */
static bool forbidden(const ZydisDecodedInstruction *in)
{
	if (in->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
		return true;
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_SYSCALL: case ZYDIS_CATEGORY_SYSRET: case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_IO: case ZYDIS_CATEGORY_IOSTRINGOP: case ZYDIS_CATEGORY_SEGOP:
	case ZYDIS_CATEGORY_CALL: case ZYDIS_CATEGORY_RET:
		return true;
	case ZYDIS_CATEGORY_SYSTEM:
		return in->mnemonic != ZYDIS_MNEMONIC_RDTSC && in->mnemonic != ZYDIS_MNEMONIC_RDTSCP;
	default:
		break;
	}
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_CPUID: case ZYDIS_MNEMONIC_CLI: case ZYDIS_MNEMONIC_STI:
	case ZYDIS_MNEMONIC_ENTER: case ZYDIS_MNEMONIC_LEAVE:
	case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
	case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRETQ:
		return true;
	default:
		return in->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
	}
}

static const uint8_t table_jump[] = {0x65, 0x42, 0xff, 0x24, 0xdd};   /* jmp gs:[r11*8 + disp32] */

void ibl_template(uint8_t out[IBL_TEMPLATE_LEN])
{
	static const uint8_t movzx[] = {0x45, 0x0f, 0xb7, 0xdb};            /* movzx r11d, r11w */
	memcpy(out, movzx, sizeof(movzx));
	memcpy(out + 4, table_jump, sizeof(table_jump));
	uint32_t code = CTX_IBL_CODE;
	memcpy(out + 9, &code, 4);
}

void switch_template(uint8_t out[SWITCH_TEMPLATE_LEN], int index_reg, unsigned table)
{
	out[0] = (uint8_t)(0x44 | (index_reg >= 8));                 /* REX.R (r11), REX.B */
	out[1] = 0x0f;
	out[2] = 0xb6;
	out[3] = (uint8_t)(0xd8 | (index_reg & 7));                  /* movzx r11d, <index>8 */
	memcpy(out + 4, table_jump, sizeof(table_jump));
	uint32_t code = CTX_SWITCH_CODE + table * SWITCH_ENTRIES * 8;
	memcpy(out + 9, &code, 4);
}

/* movzx r11d, <byte register> ; jmp gs:[r11*8 + the start of a switch
 * table]: the index is below 256, so the jump reads that table. */
static size_t switch_lookup_at(const uint8_t *code, size_t len, size_t off)
{
	if (len - off < SWITCH_TEMPLATE_LEN || (code[off] & 0xfe) != 0x44 || code[off + 1] != 0x0f ||
	    code[off + 2] != 0xb6 || (code[off + 3] & 0xf8) != 0xd8 ||
	    memcmp(code + off + 4, table_jump, sizeof(table_jump)) != 0)
		return 0;
	uint32_t disp;
	memcpy(&disp, code + off + 9, 4);
	uint32_t at = disp - CTX_SWITCH_CODE, size = SWITCH_ENTRIES * 8;
	return disp >= CTX_SWITCH_CODE && at % size == 0 && at / size < SWITCH_TABLES ? SWITCH_TEMPLATE_LEN : 0;
}

static bool rel32_to(const uint8_t *field, uint64_t field_addr, uint64_t target)
{
	int32_t rel;
	memcpy(&rel, field, 4);
	return field_addr + 4 + (uint64_t)(int64_t)rel == target;
}

static bool bytes_at(const uint8_t *code, size_t len, size_t off, const uint8_t *want, size_t n)
{
	return off <= len && len - off >= n && memcmp(code + off, want, n) == 0;
}

/* Block prologue (the IBL entry): compares the target slot with the
 * block's pc without touching the flags:
 *   mov r11, rcx ; mov rcx, gs:[ibl_target] ; lea rcx, [rcx + d] (one or
 *   two) ; jrcxz +8 ; mov rcx, r11 ; jmp gate_ibl_miss ; mov rcx, r11
 * or, the loop form, with the miss first and the entry after it:
 *   mov rcx, r11 ; jmp gate_ibl_miss ; mov r11, rcx ; mov rcx,
 *   gs:[ibl_target] ; lea rcx, [rcx + d] (one or two) ; loop (back to the
 *   first byte) ; mov rcx, r11
 * (the load of r11 from its slot that usually follows is a template of its
 * own: a block's body may start with it, and branches go there).  Only r11
 * and rcx are written, with guest values: rcx's own, or the target slot's
 * until rcx gets its own back on both ways out.  Once published, the miss
 * jump may be patched to another verified block's IBL entry (a slot chain,
 * cache.c): that entry checks the target again, whatever arrives. */
static size_t prologue_at(const uint8_t *code, size_t len, size_t off, uint64_t rx)
{
	static const uint8_t miss_first[] = {0x4c, 0x89, 0xd9, 0xe9};         /* mov rcx, r11; jmp */
	static const uint8_t load[] = {0x49, 0x89, 0xcb,                                   /* mov r11, rcx */
	                               0x65, 0x48, 0x8b, 0x0c, 0x25, CTX_IBL_TARGET, 0, 0, 0}; /* mov rcx, gs:[target] */
	static const uint8_t lea_rcx[] = {0x48, 0x8d, 0x89};
	static const uint8_t test[] = {0xe3, 0x08, 0x4c, 0x89, 0xd9, 0xe9};   /* jrcxz; mov rcx, r11; jmp */
	static const uint8_t hit[] = {0x4c, 0x89, 0xd9};                      /* mov rcx, r11 */
	/* the loop form: the miss (mov rcx, r11; jmp gate_ibl_miss) comes first */
	bool loop = bytes_at(code, len, off, miss_first, sizeof(miss_first));
	size_t miss = off + sizeof(miss_first), n = loop ? sizeof(miss_first) + 4 : 0;
	if (!bytes_at(code, len, off + n, load, sizeof(load)))
		return 0;
	n += sizeof(load);
	size_t leas = 0;
	for (; leas < 2 && bytes_at(code, len, off + n, lea_rcx, sizeof(lea_rcx)); leas++)
		n += 7;
	if (leas == 0)
		return 0;
	if (loop) {
		/* loop rel8 back to the template's first byte */
		if (len - off < n + 2 || code[off + n] != 0xe2 || (int64_t)off - (int64_t)(off + n + 2) != (int8_t)code[off + n + 1])
			return 0;
		n += 2;
	} else {
		if (!bytes_at(code, len, off + n, test, sizeof(test)))
			return 0;
		miss = off + n + sizeof(test);
		n += sizeof(test) + 4;
	}
	if (!bytes_at(code, len, off + n, hit, sizeof(hit)))
		return 0;
	n += sizeof(hit);
	return rel32_to(code + miss, rx + miss, (uint64_t)(uintptr_t)gate_ibl_miss) ? n : 0;
}

/* A single-instruction access to a guest slot:
 *   65 REX.W[+R] opcode ModRM(00 reg 100) SIB(25) disp32=slot
 * with the register free and everything else fixed (slot_access_rules).
 * *reg gets the register number. */
struct slot_access { uint8_t opcode; uint32_t slot; };
static const struct slot_access slot_access_rules[] = {
	/* FS/GS rewrites (translate.c confine_segment): save the scratch
	 * register, load the emulated base, restore the scratch register */
	{0x89, CTX_SEG_SCRATCH}, {0x8b, CTX_SEG_SCRATCH},
	/* the emulated bases: read by rdfsbase/rdgsbase and the rewrites,
	 * written by wrfsbase/wrgsbase */
	{0x8b, CTX_FS_BASE}, {0x8b, CTX_GS_BASE}, {0x89, CTX_FS_BASE}, {0x89, CTX_GS_BASE},
};
#define SLOT_ACCESS_LEN 9

static size_t slot_access_at(const uint8_t *code, size_t len, size_t off, int *reg, bool *load)
{
	if (len - off < SLOT_ACCESS_LEN || code[off] != 0x65 || (code[off + 1] & ~0x04) != 0x48 ||
	    (code[off + 3] & 0xc7) != 0x04 || code[off + 4] != 0x25)
		return 0;
	uint32_t disp;
	memcpy(&disp, code + off + 5, 4);
	for (size_t i = 0; i < sizeof(slot_access_rules) / sizeof(slot_access_rules[0]); i++) {
		if (slot_access_rules[i].opcode == code[off + 2] && slot_access_rules[i].slot == disp) {
			*reg = (code[off + 3] >> 3 & 7) | (code[off + 1] & 0x04 ? 8 : 0);
			*load = code[off + 2] == 0x8b;
			return SLOT_ACCESS_LEN;
		}
	}
	return 0;
}

/* Fixed byte sequences (slot offsets filled in by fixed_templates_init). */
struct fixed_template { const char *name; uint8_t bytes[32]; size_t len; bool jumps; };
static struct fixed_template fixed_templates[] = {
	/* movzx r11d, r11w ; jmp gs:[r11*8 + CTX_IBL_CODE]: the IBL lookup */
	{"ibl lookup", {0}, IBL_TEMPLATE_LEN, true},
	/* mov gs:[ibl_r11], r11: before an indirect branch */
	{"ibl save", {0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0}, 9, false},
	/* mov r11, gs:[ibl_r11]: the guest's r11 back from its slot (r11_home) */
	{"ibl restore", {0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0}, 9, false},
	/* mov gs:[ibl_target], r11: the target, before the lookup */
	{"ibl target", {0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_TARGET, 0, 0, 0}, 9, false},
	/* mov r11, gs:[ibl_count] ; lea r11, [r11+1] ; mov gs:[ibl_count], r11 ;
	 * mov r11, gs:[ibl_target] (--stats) */
	{"ibl count", {0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_COUNT, 0, 0, 0, 0x4d, 0x8d, 0x5b, 0x01,
	               0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_COUNT, 0, 0, 0,
	               0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_TARGET, 0, 0, 0}, 31, false},
	/* pop qword gs:[virt_flags] ; push qword gs:[virt_flags] ;
	 * and qword gs:[virt_flags], RFLAGS_VIRTUAL: a popf's AC and ID to
	 * their slot (the popped word stays where it was) */
	{"flags record", {0x65, 0x8f, 0x04, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,
	                  0x65, 0xff, 0x34, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,
	                  0x65, 0x48, 0x81, 0x24, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,
	                  (uint8_t)RFLAGS_VIRTUAL, (uint8_t)(RFLAGS_VIRTUAL >> 8), (uint8_t)(RFLAGS_VIRTUAL >> 16), 0},
	 29, false},
	/* push qword gs:[virt_flags]: a pushf's AC and ID, under its low 16 flags */
	{"flags show", {0x65, 0xff, 0x34, 0x25, CTX_VIRT_FLAGS, 0, 0, 0}, 8, false},
	/* mov dword gs:[fs_base + 4], 0 and the same for gs: a 32-bit wrfsbase */
	{"fs base high", {0x65, 0xc7, 0x04, 0x25, CTX_FS_BASE + 4, 0, 0, 0, 0, 0, 0, 0}, 12, false},
	{"gs base high", {0x65, 0xc7, 0x04, 0x25, CTX_GS_BASE + 4, 0, 0, 0, 0, 0, 0, 0}, 12, false},
};

/* The template at off: its length (0: none), whether it ends in an
 * unconditional jump, and the register a slot load writes (-1: none).
 * Each is safe as a whole unit, whoever emitted it: it moves guest values
 * between guest registers and guest slots, or leaves through a gate or the
 * bounded IBL table (verifier.h). */
static size_t template_at(const uint8_t *code, size_t len, size_t off, uint64_t rx, bool *jumps, int *loads)
{
	static bool ready;
	if (!ready) {
		ibl_template(fixed_templates[0].bytes);
		ready = true;
	}
	*jumps = false;
	*loads = -1;
	if (code[off] != 0x65 && code[off] != 0x44 && code[off] != 0x45 && code[off] != 0x49 && code[off] != 0x4c)
		return 0;   /* every template starts with gs:, a lookup's movzx or the prologue's mov r11, rcx
		             * (its loop form: mov rcx, r11) */
	size_t n = prologue_at(code, len, off, rx);
	if (n)
		return n;
	if ((n = switch_lookup_at(code, len, off))) {
		*jumps = true;
		return n;
	}
	int reg;
	bool load;
	if ((n = slot_access_at(code, len, off, &reg, &load))) {
		*loads = load ? reg : -1;
		return n;
	}
	for (size_t i = 0; i < sizeof(fixed_templates) / sizeof(fixed_templates[0]); i++) {
		const struct fixed_template *t = &fixed_templates[i];
		if (len - off >= t->len && memcmp(code + off, t->bytes, t->len) == 0) {
			*jumps = t->jumps;
			return t->len;
		}
	}
	/* the exit stub: mov dword gs:[CTX_EXIT_ID], imm32 ; jmp gate_exit */
	static const uint8_t stub[] = {0x65, 0xc7, 0x04, 0x25, CTX_EXIT_ID, 0, 0, 0};
	if (len - off < EXIT_STUB_LEN || memcmp(code + off, stub, sizeof(stub)) != 0 || code[off + 12] != 0xe9 ||
	    !rel32_to(code + off + 13, rx + off + 13, (uint64_t)(uintptr_t)gate_exit))
		return 0;
	*jumps = true;
	return EXIT_STUB_LEN;
}

#define VERIFY_MAX_BYTES 8192
#define VERIFY_MAX_BRANCHES 1024

struct vstate {
	const uint8_t *code;
	size_t len;
	uint64_t rx;
	unsigned fpu_parts;                   /* GUEST_FPU_* the block touches */
	uint8_t start[VERIFY_MAX_BYTES + 1];  /* see enum start_kind */
	struct { size_t off; uint64_t target; } branch[VERIFY_MAX_BRANCHES];
	unsigned nbranch;
	char *err;
	size_t errlen;
};

enum start_kind {
	NOT_START, INSN_START, TEMPLATE_START, INSIDE_TEMPLATE,
	POPF_START,   /* needs the and before it: no branch may land there */
};

static bool fail(struct vstate *v, size_t off, const char *fmt, ...)
{
	int n = snprintf(v->err, v->errlen, "verifier: offset %zu: ", off);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < v->errlen)
		vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool is_stack_op(const ZydisDecodedInstruction *in)
{
	return in->meta.category == ZYDIS_CATEGORY_PUSH || in->meta.category == ZYDIS_CATEGORY_POP;
}

static bool check_memory(struct vstate *v, size_t off, const ZydisDecodedInstruction *in,
                         const ZydisDecodedOperand *o)
{
	if (in->mnemonic == ZYDIS_MNEMONIC_NOP)
		return true;   /* the operand of a multi-byte nop is never accessed */
	if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
		return o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP
		       ? fail(v, off, "lea of a code address") : true;
	if (o->mem.type == ZYDIS_MEMOP_TYPE_MIB)
		return fail(v, off, "MPX operand");
	if (o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && o->mem.base == ZYDIS_REGISTER_RSP)
		return is_stack_op(in) ? true : fail(v, off, "implicit stack access outside push/pop");
	/* The runtime context is reached only through the templates. */
	if (o->mem.segment == ZYDIS_REGISTER_FS || o->mem.segment == ZYDIS_REGISTER_GS)
		return fail(v, off, "%s: access outside the translator's templates",
		            o->mem.segment == ZYDIS_REGISTER_FS ? "fs" : "gs");
	if (in->address_width != 32)
		return fail(v, off, "memory access with 64-bit addressing");
	/* A SIB without base (mod 00, base 101) has none whatever REX.B/VEX.B
	 * say, but Zydis reads the 32-bit-address form with the B bit set as
	 * [r13d+...] without the disp32: then the operand checked here would
	 * not be the one accessed. */
	if ((in->attributes & ZYDIS_ATTRIB_HAS_SIB) && in->raw.modrm.mod == 0 && in->raw.sib.base == 5 &&
	    o->mem.base != ZYDIS_REGISTER_NONE)
		return fail(v, off, "SIB without base decoded with a base (REX.B/VEX.B set)");
	if (o->mem.base == ZYDIS_REGISTER_EIP || o->mem.base == ZYDIS_REGISTER_RIP)
		return fail(v, off, "instruction-pointer-relative access");
	return true;
}

static bool writes_segment(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	for (unsigned i = 0; i < in->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(ops[i].reg.value) == ZYDIS_REGCLASS_SEGMENT &&
		    (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			return true;
	return false;
}

/* popf must come right after `and [esp], imm` clearing TF and AC, so that
 * translated code never runs trapped or with alignment checks on. */
static bool popf_masked(const uint8_t *code, size_t off, const ZydisDecodedInstruction *in)
{
	static const uint8_t and64[] = {0x67, 0x48, 0x81, 0x24, 0x24};
	static const uint8_t and16[] = {0x67, 0x66, 0x81, 0x24, 0x24};
	if (in->operand_width == 16)
		return off >= 7 && memcmp(code + off - 7, and16, 5) == 0 && !(code[off - 1] & 0x01);
	if (off < 9 || memcmp(code + off - 9, and64, 5) != 0)
		return false;
	uint32_t imm;
	memcpy(&imm, code + off - 4, 4);
	return !(imm & (1u << 8 | 1u << 18));
}

/* Where an x87 environment store puts the instruction pointer, which holds
 * the code-cache address of the last x87 instruction: (offset, bytes). */
static bool fp_ip_field(const ZydisDecodedInstruction *in, unsigned *off, unsigned *bytes)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXSAVE64:
		*off = 8, *bytes = 8;
		return true;
	case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FNSAVE:
		*off = in->operand_width == 16 ? 6 : 12;
		*bytes = in->operand_width == 16 ? 4 : 8;
		return true;
	default:
		return false;
	}
}

/* The store right after an x87 environment store must zero that field:
 * mov [same base, index, scale, disp + off], 0 of the field's size. */
static bool fp_ip_scrubbed(struct vstate *v, size_t next, const ZydisDecodedOperand *m, unsigned off, unsigned bytes)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	if (next >= v->len || ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, v->code + next, v->len - next, &in, ops)))
		return false;
	const ZydisDecodedOperand *z = &ops[0];
	return in.mnemonic == ZYDIS_MNEMONIC_MOV && z->type == ZYDIS_OPERAND_TYPE_MEMORY && z->size == bytes * 8 &&
	       z->mem.base == m->mem.base && z->mem.index == m->mem.index && z->mem.scale == m->mem.scale &&
	       z->mem.segment == m->mem.segment &&
	       /* both are 32-bit addressed (check_memory): displacements
	        * count modulo 2^32, and the translator's may have wrapped */
	       (uint32_t)z->mem.disp.value == (uint32_t)(m->mem.disp.value + off) &&
	       ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[1].imm.value.u == 0;
}

static bool writes_rsp64(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	for (unsigned i = 0; i < in->operand_count; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && o->reg.value == ZYDIS_REGISTER_RSP &&
		    (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
		    !(is_stack_op(in) && o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN))
			return true;
	}
	return false;
}

/* mov esp, esp (89 e4 or 8b e4) at off: rsp is a sandbox address again. */
static bool rsp_confined_at(const uint8_t *code, size_t len, size_t off)
{
	return off + 2 <= len && (code[off] == 0x89 || code[off] == 0x8b) && code[off + 1] == 0xe4;
}

static bool gate_target(uint64_t a)
{
	return a == (uint64_t)(uintptr_t)gate_exit || a == (uint64_t)(uintptr_t)gate_ibl_miss;
}

/* A direct branch target: a gate, or an instruction start in this block. */
static bool check_target(struct vstate *v, size_t off, uint64_t target)
{
	if (gate_target(target))
		return true;
	if (target < v->rx || target >= v->rx + v->len)
		return fail(v, off, "branch out of the block to 0x%lx", target);
	uint8_t kind = v->start[target - v->rx];
	if (kind == POPF_START)
		return fail(v, off, "branch onto a popf, past its flag mask");
	return kind == INSN_START || kind == TEMPLATE_START ? true
	       : fail(v, off, "branch into the middle of an instruction");
}

/* The parts of the FPU state beyond xmm0-15 and MXCSR that an instruction
 * can read or change (GUEST_FPU_*): the x87 and MMX state, the upper halves
 * of the vector registers.  A VEX.128 instruction only zeroes the upper
 * halves, which leaves them initial. */
static unsigned fpu_parts(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	if (in->meta.isa_set == ZYDIS_ISA_SET_FXSAVE || in->meta.isa_set == ZYDIS_ISA_SET_FXSAVE64)
		return GUEST_FPU_X87 | GUEST_FPU_YMM;
	unsigned parts = 0;
	switch (in->meta.isa_ext) {
	case ZYDIS_ISA_EXT_XSAVE: case ZYDIS_ISA_EXT_XSAVEC: case ZYDIS_ISA_EXT_XSAVEOPT: case ZYDIS_ISA_EXT_XSAVES:
		return GUEST_FPU_X87 | GUEST_FPU_YMM;
	case ZYDIS_ISA_EXT_X87: case ZYDIS_ISA_EXT_MMX: case ZYDIS_ISA_EXT_AMD3DNOW:
		parts |= GUEST_FPU_X87;
		break;
	default:
		break;
	}
	if (in->avx.vector_length > 128)
		parts |= GUEST_FPU_YMM;
	for (unsigned i = 0; i < in->operand_count; i++) {
		if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		ZydisRegister r = ops[i].reg.value;
		switch (ZydisRegisterGetClass(r)) {
		case ZYDIS_REGCLASS_X87: case ZYDIS_REGCLASS_MMX:
			parts |= GUEST_FPU_X87;
			break;
		case ZYDIS_REGCLASS_YMM: case ZYDIS_REGCLASS_ZMM:
			parts |= GUEST_FPU_YMM;
			break;
		default:
			if (r == ZYDIS_REGISTER_X87CONTROL || r == ZYDIS_REGISTER_X87STATUS || r == ZYDIS_REGISTER_X87TAG)
				parts |= GUEST_FPU_X87;
			break;
		}
	}
	return parts;
}

/* A direct branch, whose target is checked once all instruction starts
 * are known. */
static bool add_branch(struct vstate *v, size_t off, uint64_t target)
{
	if (v->nbranch == VERIFY_MAX_BRANCHES)
		return fail(v, off, "too many branches in one block");
	v->branch[v->nbranch].off = off;
	v->branch[v->nbranch++].target = target;
	return true;
}

/* One instruction (not a template): every rule but branch targets, which
 * are collected and checked once all instruction starts are known. */
static bool check_insn(struct vstate *v, size_t off, const ZydisDecodedInstruction *in,
                       const ZydisDecodedOperand *ops)
{
	if (!isa_known(in->meta.isa_ext) || forbidden(in) || writes_segment(in, ops))
		return fail(v, off, "instruction %s not allowed in translated code",
		            ZydisMnemonicGetString(in->mnemonic));
	if (v->start[off] == POPF_START && !popf_masked(v->code, off, in))
		return fail(v, off, "popf without TF and AC masked");
	if (in->meta.category == ZYDIS_CATEGORY_COND_BR || in->meta.category == ZYDIS_CATEGORY_UNCOND_BR) {
		if (ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !ops[0].imm.is_relative)
			return fail(v, off, "indirect branch outside the IBL template");
		/* Zydis decodes a 0x66 near branch as Intel does (the prefix
		 * ignored: rel32); AMD CPUs take a rel16 and cut the target to
		 * 16 bits, then run the offset's high bytes as an instruction
		 * this walk never saw (found by tests/oracle) */
		if (in->attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE)
			return fail(v, off, "branch with an operand-size prefix (its length differs between CPUs)");
		ZyanU64 target = 0;
		ZydisCalcAbsoluteAddress(in, &ops[0], v->rx + off, &target);
		if (!add_branch(v, off, target))
			return false;
	}
	for (unsigned i = 0; i < in->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && !check_memory(v, off, in, &ops[i]))
			return false;
	unsigned fp_off, fp_bytes;
	if (fp_ip_field(in, &fp_off, &fp_bytes) && !fp_ip_scrubbed(v, off + in->length, &ops[0], fp_off, fp_bytes))
		return fail(v, off, "x87 environment store without its instruction pointer cleared");
	if (writes_rsp64(in, ops) && !rsp_confined_at(v->code, v->len, off + in->length))
		return fail(v, off, "rsp written without mov esp, esp after it");
	v->fpu_parts |= fpu_parts(in, ops);
	return true;
}

static bool fast_path = true;

void verifier_fast_path(bool on)
{
	fast_path = on;
}

bool verify_block(const uint8_t *code, size_t len, uint64_t rx, unsigned *fpu_parts, char *err, size_t errlen)
{
	static ZydisDecoder dec;
	static struct vstate v;
	static bool ready;
	if (!ready) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ready = true;
	}
	v.code = code;
	v.len = len;
	v.rx = rx;
	v.nbranch = 0;
	v.fpu_parts = 0;
	v.err = err;
	v.errlen = errlen;
	if (len > VERIFY_MAX_BYTES)
		return fail(&v, 0, "block of %zu bytes is too long to verify", len);
	memset(v.start, NOT_START, len + 1);

	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	bool last_is_jump = false;
	for (size_t off = 0; off < len;) {
		int loads;
		size_t tl = template_at(code, len, off, rx, &last_is_jump, &loads);
		if (tl) {
			v.start[off] = TEMPLATE_START;
			memset(v.start + off + 1, INSIDE_TEMPLATE, tl - 1);
			if (loads == 4 && !rsp_confined_at(code, len, off + tl))
				return fail(&v, off, "rsp loaded from a slot without mov esp, esp after it");
			off += tl;
			continue;
		}
		struct quick_insn q;
		if (fast_path && quick_decode(code + off, len - off, rx + off, &q)) {
			v.start[off] = INSN_START;
			if (q.writes_rsp64 && !rsp_confined_at(code, len, off + q.len))
				return fail(&v, off, "rsp written without mov esp, esp after it");
			if (q.branch && !add_branch(&v, off, q.target))
				return false;
			last_is_jump = q.jmp;
			off += q.len;
			continue;
		}
		if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code + off, len - off, &in, ops)))
			return fail(&v, off, "undecodable bytes");
		bool popf = in.mnemonic == ZYDIS_MNEMONIC_POPF || in.mnemonic == ZYDIS_MNEMONIC_POPFD ||
		            in.mnemonic == ZYDIS_MNEMONIC_POPFQ;
		v.start[off] = popf ? POPF_START : INSN_START;
		if (!check_insn(&v, off, &in, ops))
			return false;
		last_is_jump = in.mnemonic == ZYDIS_MNEMONIC_JMP;
		off += in.length;
	}
	if (!last_is_jump)
		return fail(&v, len, "block does not end in a jump");
	for (unsigned i = 0; i < v.nbranch; i++)
		if (!check_target(&v, v.branch[i].off, v.branch[i].target))
			return false;
	if (fpu_parts)
		*fpu_parts = v.fpu_parts;
	return true;
}
