/*
 * Block building: decode guest instructions, apply the subtraction policy
 * (policy.c) and emit the replacement code.  Nothing here decides what is
 * allowed; it carries out the policy rows and the verifier checks the result.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gates/gate.h"
#include "gates/host.h"
#include "translator/cache.h"
#include "translator/emit.h"
#include "translator/quick_decode.h"
#include "translator/verifier.h"

/* A block goes on past at most this many conditional branches (their
 * not-taken path), so its exits stay within MAX_EXITS: one per conditional
 * branch, up to three for the instruction that ends it (loop). */
#define MAX_COND_BRANCHES 4
#define MAX_EXITS 8

/* The switch a block ends in (translate.c, switches). */
struct switch_plan {
	bool planned;
	bool guarded;        /* B is set before the block: the guard checks it */
	unsigned load;       /* the number of the instruction that reads the table (the
	                      * switch's first), the jmp being the block's last */
	int r, base, index;  /* r -1: jmp [table] itself; base -1: none (an absolute table) */
	int64_t disp;        /* the table is at B + disp */
	uint64_t table;      /* the guest's table, and I < entries */
	unsigned entries, entry_size;
	bool index_first;    /* the instructions before the jmp write I: it goes to r11 first */
};

/* A block under construction. */
struct tb {
	struct translator *t;
	struct emitter e;
	uint32_t id;
	size_t ibl_entry, entry;        /* offsets of the IBL and direct entries in e */
	size_t ibl_miss;                /* offset of the rel32 of the IBL entry's miss jump */
	size_t slot_entry;              /* where arrivals with r11 in its slot go (prologue) */
	size_t body;                    /* the first instruction's translation */
	struct pending_link { size_t at; uint32_t exit; } linkable[MAX_EXITS];
	unsigned nlinkable;
	/* the guest's r11 is in CTX_IBL_R11 (see prologue) from the body up
	 * to r11_slot_to (an offset from body) */
	bool r11_in_slot;
	size_t r11_slot_to;
	const struct guest_insn *insns; /* the block's instructions (fetch_block) */
	struct switch_plan sw;          /* the switch the block ends in (switch_plan) */
	uint32_t switch_exit;           /* and its stub's exit, or 0 */
};

enum { RCX = 1, RSP = 4, R11 = 11 };

/* 0 unless measuring: four clock reads per block were 0.9% of the
 * samples of a translation-bound start (python3). */
static uint64_t now_ns(const struct translator *t)
{
	struct timespec ts;
	if (!t->measure)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copies the n bytes at guest pc into the translator's own buffer: the
 * only read of guest code.  Guest memory can change at any moment (the
 * NIC's DMA and the paravirt backend write it from other threads), so
 * decoding, the policy, the choice of the block's entry and emission all
 * work on this copy (fetch_block): what was classified is what is emitted. */
static void fetch(const struct translator *t, uint64_t pc, size_t n, uint8_t out[15])
{
	const volatile uint8_t *src = (const volatile uint8_t *)(t->gm->code_view + pc);
	for (size_t i = 0; i < n; i++)
		out[i] = src[i];
}

/* Bytes at pc that the guest may execute, at most 15 (one instruction). */
static size_t exec_bytes(const struct translator *t, uint64_t pc)
{
	size_t n = 0;
	while (n < 15) {
		uint64_t a = pc + n;
		if (a >= t->gm->size || (t->gm->page[a / GUEST_PAGE] & (GP_MAPPED | GP_X)) != (GP_MAPPED | GP_X))
			break;
		uint64_t in_page = GUEST_PAGE - a % GUEST_PAGE;
		n += in_page < 15 - n ? in_page : 15 - n;
	}
	return n;
}

/* ---- exits -------------------------------------------------------------- */

static uint32_t new_exit(struct tb *b, enum exit_kind kind, uint64_t pc, uint64_t target)
{
	uint32_t x = tr_new_exit(b->t);
	struct exit *ex = &b->t->exits[x];
	ex->kind = (uint8_t)kind;
	ex->pc = pc;
	ex->target = target;
	ex->block = b->id;
	return x;
}

/* The rel32 at `at` will jump to this branch exit's stub (or, once linked,
 * to the target block). */
static void branch_exit(struct tb *b, size_t at, uint64_t pc, uint64_t target)
{
	uint32_t x = new_exit(b, EXITK_BRANCH, pc, target);
	b->t->exits[x].r11_in_slot = b->r11_in_slot;
	if (b->nlinkable < MAX_EXITS)
		b->linkable[b->nlinkable++] = (struct pending_link){at, x};
	else
		b->e.overflow = true;
}

/* Ends the part of a block where the guest's r11 is in its slot: loads it
 * back before anything that uses r11 or leaves the block but the final
 * indirect branch. */
static void r11_home(struct tb *b)
{
	if (!b->r11_in_slot)
		return;
	emit_slot_load(&b->e, R11, CTX_IBL_R11);
	b->r11_in_slot = false;
	b->r11_slot_to = b->e.pos - b->body;
}

static void stub(struct tb *b, uint32_t x)
{
	r11_home(b);
	emit_slot_store_imm32(&b->e, CTX_EXIT_ID, x);
	emit_jmp_to(&b->e, (uint64_t)(uintptr_t)gate_exit);
}

/* Ends the block in a gate: syscall, cpuid, xgetbv. */
static void gate_exit_to(struct tb *b, enum exit_kind kind, uint64_t pc, uint64_t next)
{
	stub(b, new_exit(b, kind, pc, next));
}

static void fault(struct tb *b, int sig, uint64_t pc, uint64_t addr, const char *why)
{
	uint32_t x = new_exit(b, EXITK_FAULT, pc, pc);
	b->t->exits[x].signal = (uint8_t)sig;
	b->t->exits[x].fault_addr = addr;
	b->t->exits[x].why = why;
	stub(b, x);
}

/* ---- operand-form rewrites (policy table 2) ----------------------------- */

static bool is_segment_prefix(uint8_t v)
{
	return v == 0x26 || v == 0x2e || v == 0x36 || v == 0x3e || v == 0x64 || v == 0x65;
}

/* FORM_MEMORY and FORM_RIP_RELATIVE by byte surgery: 0x67 in front, null
 * segment prefixes dropped, rip-relative ModRM turned into the SIB
 * absolute form.  Works for legacy and VEX encodings alike. */
static bool confine_bytes(struct tb *b, const struct decoded *d, uint64_t next, bool rip)
{
	const ZydisDecodedInstruction *in = &d->insn;
	uint8_t out[16];
	size_t n = 0, p = in->raw.prefix_count;
	out[n++] = 0x67;
	for (size_t i = 0; i < p; i++) {
		uint8_t v = in->raw.prefixes[i].value;
		if ((v & 0xf0) == 0x40 || v == 0x67 || is_segment_prefix(v))
			continue;
		out[n++] = v;
	}
	bool rex = p > 0 && (d->bytes[p - 1] & 0xf0) == 0x40 &&
	           in->raw.prefixes[p - 1].type != ZYDIS_PREFIX_TYPE_IGNORED;
	/* A SIB without base (mod 00, base 101) ignores REX.B/VEX.B, but Zydis
	 * decodes its 32-bit-address form as [r13d+...] without the disp32, and
	 * the verifier refuses it: the unused bit is cleared. */
	bool no_base = (in->attributes & ZYDIS_ATTRIB_HAS_SIB) && in->raw.modrm.mod == 0 && in->raw.sib.base == 5;
	if (rex)   /* rip: the operand becomes [disp32], no index (X) nor base (B) */
		out[n++] = rip ? (d->bytes[p - 1] & ~0x03) : no_base ? (d->bytes[p - 1] & ~0x01) : d->bytes[p - 1];
	if (!rip) {
		if (n + in->length - p > 15)
			return false;
		memcpy(out + n, d->bytes + p, in->length - p);
		if (no_base && in->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX && d->bytes[p] == 0xc4)
			out[n + 1] |= 0x20;                     /* VEX.B is inverted: 1 = clear */
		emit_bytes(&b->e, out, n + in->length - p);
		return true;
	}
	uint64_t target = ip_target(memory_operand(d), next);
	if (target >= GUEST_SPACE)
		return false;
	size_t modrm = in->raw.modrm.offset, tail = in->raw.disp.offset + 4u;
	if (n + (modrm - p) + 6 + (in->length - tail) > 15)
		return false;
	size_t vex = n;
	memcpy(out + n, d->bytes + p, modrm - p);
	n += modrm - p;
	if (in->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX && d->bytes[p] == 0xc4)
		out[vex + 1] |= 0x60;                   /* VEX.X, VEX.B are inverted: 1 = clear */
	out[n++] = (uint8_t)((d->bytes[modrm] & 0x38) | 0x04);
	out[n++] = 0x25;                            /* SIB: no base, no index: [disp32] */
	uint32_t abs = (uint32_t)target;
	memcpy(out + n, &abs, 4);
	n += 4;
	memcpy(out + n, d->bytes + tail, in->length - tail);
	n += in->length - tail;
	emit_bytes(&b->e, out, n);
	return true;
}

static ZydisRegister gpr32(int n) { return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, (ZyanU8)n); }

/* Encodes req, whose memory operand has 32-bit registers or none, with a
 * 32-bit address size.  Zydis ignores the size hint for an operand that is
 * a bare displacement; its SIB [disp32] form then takes the 0x67 here. */
static bool emit_addr32(struct tb *b, ZydisEncoderRequest *req)
{
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH + 1];
	ZyanUSize len = sizeof(buf) - 1;
	req->address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	if (ZYAN_FAILED(ZydisEncoderEncodeInstruction(req, buf + 1, &len)))
		return false;
	struct decoded d;
	if (decode_one(buf + 1, len, &d) != DECODE_OK)
		return false;
	if (d.insn.address_width == 32) {
		emit_bytes(&b->e, buf + 1, len);
		return true;
	}
	buf[0] = 0x67;
	if (len + 1 > ZYDIS_MAX_INSTRUCTION_LENGTH || decode_one(buf, len + 1, &d) != DECODE_OK ||
	    d.insn.address_width != 32)
		return false;
	emit_bytes(&b->e, buf, len + 1);
	return true;
}

/* Scratch register for a rewrite: not used by the instruction, never rsp,
 * rbp or r13 (whose ModRM encodings mean "no base"), never the r11 of
 * an indirect-branch target load. */
static int pick_scratch(const struct decoded *d)
{
	static const int order[] = {10, 9, 8, 7, 6, 3, 0, 1, 2, 12, 14, 15};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!uses_gpr(d, order[i]))
			return order[i];
	return -1;
}

/* Re-encodes the instruction with its memory operand replaced by
 * [base32 + index32*scale + disp] (32-bit address size, no segment);
 * base -1 for none. */
static bool encode_with_base(struct tb *b, const struct decoded *d, int base, int64_t disp)
{
	ZydisEncoderRequest req;
	if (ZYAN_FAILED(ZydisEncoderDecodedInstructionToEncoderRequest(&d->insn, d->op,
	                                                               d->insn.operand_count_visible, &req)))
		return false;
	req.prefixes &= ~(ZYDIS_ATTRIB_HAS_SEGMENT | ZYDIS_ATTRIB_HAS_ADDRESSSIZE);
	bool found = false;
	for (unsigned i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		const ZydisDecodedOperand *m = &d->op[i];
		o->mem.base = base < 0 ? ZYDIS_REGISTER_NONE : gpr32(base);
		o->mem.index = m->mem.index == ZYDIS_REGISTER_NONE ? ZYDIS_REGISTER_NONE
		               : gpr32(gpr_number(m->mem.index));
		o->mem.scale = m->mem.index == ZYDIS_REGISTER_NONE ? 0 : m->mem.scale;
		o->mem.displacement = (int32_t)disp;
		found = true;
	}
	return found && emit_addr32(b, &req);
}

/* mov [base32 + index32*scale + disp], 0 of `bytes` bytes (4 or 8). */
static bool store_zero(struct tb *b, int base, ZydisRegister index, uint8_t scale, int64_t disp, unsigned bytes)
{
	ZydisEncoderRequest req = {.machine_mode = ZYDIS_MACHINE_MODE_LONG_64, .mnemonic = ZYDIS_MNEMONIC_MOV,
	                           .operand_count = 2};
	req.operands[0].type = ZYDIS_OPERAND_TYPE_MEMORY;
	req.operands[0].mem.base = base < 0 ? ZYDIS_REGISTER_NONE : gpr32(base);
	req.operands[0].mem.index = index == ZYDIS_REGISTER_NONE ? ZYDIS_REGISTER_NONE : gpr32(gpr_number(index));
	req.operands[0].mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : scale;
	req.operands[0].mem.displacement = (int32_t)disp;
	req.operands[0].mem.size = (ZyanU16)bytes;
	req.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	return emit_addr32(b, &req);
}

/* FORM_FP_IP: after an x87 environment store, overwrite the instruction
 * pointer it saved (a code-cache address) with 0.  base is the register the
 * store was emitted with (-1: none), disp its displacement. */
static bool scrub_fp_ip(struct tb *b, const struct decoded *d, int base, int64_t disp)
{
	unsigned off, bytes;
	const ZydisDecodedOperand *m = memory_operand(d);
	if (!policy_fp_ip_field(d, &off, &bytes))
		return true;
	return m && store_zero(b, base, m->mem.index, m->mem.scale, disp + off, bytes);
}

/* FORM_MOFFS: a 64-bit absolute address becomes a 32-bit one. */
static bool confine_moffs(struct tb *b, const struct decoded *d, bool rsp_write)
{
	const ZydisDecodedOperand *m = memory_operand(d);
	if (!m || (uint64_t)m->mem.disp.value >= GUEST_SPACE || !encode_with_base(b, d, -1, m->mem.disp.value))
		return false;
	if (rsp_write)
		emit_confine_rsp(&b->e);
	return true;
}

/* FORM_SEGMENT: scratch = guest FS/GS base + base register, then the access
 * through [scratch32 + index32*scale + disp]. */
static bool confine_segment(struct tb *b, const struct decoded *d, uint64_t next, bool rsp_write)
{
	const ZydisDecodedOperand *m = memory_operand(d);
	int s = pick_scratch(d);
	if (!m || s < 0)
		return false;
	int64_t disp = m->mem.disp.value;
	int base = gpr_number(m->mem.base);
	if (ip_relative(m)) {
		disp = (int64_t)ip_target(m, next);
		base = -1;
	}
	emit_slot_store(&b->e, s, CTX_SEG_SCRATCH);
	emit_slot_load(&b->e, s, m->mem.segment == ZYDIS_REGISTER_FS ? CTX_FS_BASE : CTX_GS_BASE);
	if (base >= 0) {
		/* lea s, [s + base] (rsp can only be the SIB base) */
		int sib_base = base == RSP ? RSP : s, sib_index = base == RSP ? s : base;
		uint8_t lea[] = {(uint8_t)(0x48 | (s >= 8 ? 4 : 0) | (sib_index >= 8 ? 2 : 0) | (sib_base >= 8 ? 1 : 0)),
		                 0x8d, (uint8_t)(0x04 | (s & 7) << 3),
		                 (uint8_t)((sib_index & 7) << 3 | (sib_base & 7))};
		emit_bytes(&b->e, lea, sizeof(lea));
	}
	if (!encode_with_base(b, d, s, disp))
		return false;
	if (rsp_write)
		emit_confine_rsp(&b->e);
	if (!scrub_fp_ip(b, d, s, disp))
		return false;
	emit_slot_load(&b->e, s, CTX_SEG_SCRATCH);
	return true;
}

/* lea with a rip-relative operand: the address is a constant. */
static void lea_rip(struct tb *b, const struct decoded *d, uint64_t next)
{
	const ZydisDecodedOperand *m = memory_operand(d);
	uint64_t value = ip_target(m, next);
	emit_mov_imm(&b->e, gpr_number(d->op[0].reg.value), d->insn.operand_width, value);
}

/* SUB_PASS: the instruction as written, after the operand-form rewrites. */
static bool pass(struct tb *b, const struct decoded *d, uint64_t next, unsigned forms)
{
	struct tr_stats *st = &b->t->stats;
	for (unsigned f = 0; f < FORM_COUNT; f++)
		if (forms & 1u << f)
			st->forms[f]++;
	bool rsp_write = forms & 1u << FORM_RSP_WRITE;
	bool ok = true;
	if (forms & 1u << FORM_SEGMENT)
		return confine_segment(b, d, next, rsp_write);
	if (forms & 1u << FORM_MOFFS)
		return confine_moffs(b, d, rsp_write);
	if (d->insn.mnemonic == ZYDIS_MNEMONIC_LEA && (forms & 1u << FORM_RIP_RELATIVE))
		lea_rip(b, d, next);
	else if (forms & 1u << FORM_MEMORY)
		ok = confine_bytes(b, d, next, forms & 1u << FORM_RIP_RELATIVE);
	else
		emit_bytes(&b->e, d->bytes, d->insn.length);
	if (ok && rsp_write)
		emit_confine_rsp(&b->e);
	if (ok && (forms & 1u << FORM_FP_IP)) {
		const ZydisDecodedOperand *m = memory_operand(d);
		bool rip = ip_relative(m);
		ok = scrub_fp_ip(b, d, rip ? -1 : gpr_number(m->mem.base),
		                 rip ? (int64_t)ip_target(m, next) : m->mem.disp.value);
	}
	return ok;
}

/* ---- branches ----------------------------------------------------------- */

/* Before an indirect branch: the guest's r11, which carries the target
 * (unless it is in its slot already). */
static void ibl_save(struct tb *b)
{
	if (!b->r11_in_slot)
		emit_slot_store(&b->e, R11, CTX_IBL_R11);
}

/* The guest return address of a call, pushed as one 8-byte store: the
 * return's pop then takes it by store-to-load forwarding.  An address at
 * or above 2 GiB (a library's, mapped from the top) cannot be a push
 * imm32, which sign-extends; written as two 4-byte stores it made every
 * return soon after its call wait for both to reach the cache (a call
 * and return 1.5 ns natively, 8.4 ns so under opsub).  It goes through a
 * scratch register: r11 for a direct call, whose exit then takes the
 * guest's r11 from its slot (returns true), rcx kept in the scratch slot
 * for an indirect one, whose target r11 holds.  A store probing [rsp-8]
 * first, so that a stack fault came at the start of the call's
 * translation (where a guest handler can take it), cost 0.3 ns a call:
 * the push faults inside it, as the two stores did. */
static bool push_return(struct tb *b, uint64_t ret, int scratch)
{
	if (ret < 0x80000000u) {
		emit_u8(&b->e, 0x68);                       /* push imm32 */
		emit_u32(&b->e, (uint32_t)ret);
		return false;
	}
	static const uint8_t push_r11[] = {0x41, 0x53}, push_rcx[] = {0x51};
	if (scratch == R11) {
		ibl_save(b);
		emit_mov_imm(&b->e, R11, 64, ret);
		emit_bytes(&b->e, push_r11, sizeof(push_r11));
		return true;
	}
	emit_slot_store(&b->e, RCX, CTX_SEG_SCRATCH);
	emit_mov_imm(&b->e, RCX, 64, ret);
	emit_bytes(&b->e, push_rcx, sizeof(push_rcx));
	emit_slot_load(&b->e, RCX, CTX_SEG_SCRATCH);
	return false;
}

/* The inline lookup of the guest target in r11: the target goes to its
 * slot, then a jump through the table entry of its low 16 bits, to a
 * block's IBL entry, which checks that the target is its own pc (see
 * prologue).  The guest's other registers stay live: rcx in particular is
 * never saved and reloaded around the jump (a store-to-load forward on
 * every interpreter dispatch otherwise).  The verifier knows the movzx and
 * the jump as one unit (verifier.c, ibl_template). */
static void ibl_lookup(struct tb *b)
{
	emit_slot_store(&b->e, R11, CTX_IBL_TARGET);
	if (b->t->measure) {
		emit_slot_load(&b->e, R11, CTX_IBL_COUNT);
		static const uint8_t inc[] = {0x4d, 0x8d, 0x5b, 0x01};  /* lea r11, [r11+1] */
		emit_bytes(&b->e, inc, sizeof(inc));
		emit_slot_store(&b->e, R11, CTX_IBL_COUNT);
		emit_slot_load(&b->e, R11, CTX_IBL_TARGET);
	}
	uint8_t seq[IBL_TEMPLATE_LEN];
	ibl_template(seq);
	emit_bytes(&b->e, seq, sizeof(seq));
}

/* One guest instruction of a block, fetched and decoded once (tr_build). */
struct guest_insn {
	size_t avail;                   /* executable bytes at pc, at most 15 */
	enum decode_result result;      /* meaningless when avail is 0 */
	uint8_t bytes[15];
	bool plain;                     /* a form of quick_decode.h, in q (a memory form's */
	struct quick_insn q;            /* confined bytes in confined); */
	uint8_t confined[QUICK_MAX_LEN], nconfined;
	struct decoded d;               /* else this; and its class: when result is DECODE_OK */
	const struct policy_class *cls;
};

static unsigned insn_len(const struct guest_insn *g)
{
	return g->plain ? g->q.len : g->d.insn.length;
}

static bool insn_uses_r11(const struct guest_insn *g)
{
	return g->plain ? g->q.names_r11 : uses_gpr(&g->d, R11);
}

/* Translates a plain instruction at pc as instruction does: a direct jump
 * as branch does, a register form as the guest wrote it and a memory form
 * with 32-bit addressing, as pass does.  Returns true when it ends the
 * block (a jmp; a jcc goes on with its not-taken path). */
static bool plain(struct tb *b, const struct guest_insn *g, uint64_t pc)
{
	if (g->q.jmp) {
		branch_exit(b, emit_jmp32(&b->e), pc, g->q.target);
		return true;
	}
	if (g->q.branch) {
		branch_exit(b, emit_jcc32(&b->e, g->q.cond), pc, g->q.target);
		return false;
	}
	if (g->q.names_r11)
		r11_home(b);
	if (g->q.memory) {
		b->t->stats.forms[FORM_MEMORY]++;
		emit_bytes(&b->e, g->confined, g->nconfined);
	} else {
		emit_bytes(&b->e, g->bytes, g->q.len);
	}
	if (g->q.writes_rsp64) {
		b->t->stats.forms[FORM_RSP_WRITE]++;
		emit_confine_rsp(&b->e);
	}
	return false;
}

/* What the block at pc lets its IBL entry leave out (see prologue):
 * r11_idle when none uses r11, none but the last branches, and the last
 * is an indirect branch or a direct jump to a block that keeps r11 idle
 * too (a jump exit then leaves with r11 in its slot and links to the
 * target's slot entry; to a block that wants r11 back it would only move
 * the load there and add the store at this block's direct entry).  Only
 * guest semantics depend on it; r11_home covers what the scan cannot
 * foresee (a block cut short by its byte limit or by a rewrite that
 * fails). */
struct entry_scan { bool r11_idle; };

static uint64_t rel_target(const struct decoded *d, uint64_t pc)
{
	ZyanU64 t = 0;
	ZydisCalcAbsoluteAddress(&d->insn, &d->op[0], pc, &t);
	return t;
}

static bool indirect_branch(const struct decoded *d)
{
	return d->insn.mnemonic == ZYDIS_MNEMONIC_RET ||
	       ((d->insn.mnemonic == ZYDIS_MNEMONIC_JMP || d->insn.mnemonic == ZYDIS_MNEMONIC_CALL) &&
	        d->op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE);
}

/* Whether g, at pc, is a direct jmp, and to where. */
static bool direct_jmp(const struct guest_insn *g, uint64_t pc, uint64_t *to)
{
	if (g->plain) {
		*to = g->q.target;
		return g->q.jmp;
	}
	if (g->d.insn.mnemonic != ZYDIS_MNEMONIC_JMP || g->d.op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
		return false;
	*to = rel_target(&g->d, pc);
	return true;
}

static struct entry_scan scan_entry(struct translator *t, uint64_t pc, const struct guest_insn *in,
                                    unsigned n)
{
	struct entry_scan s = {false};
	if (n == 0)
		return s;
	uint64_t last = pc;
	for (unsigned i = 0; i < n; i++) {
		if (!in[i].avail || in[i].result != DECODE_OK || insn_uses_r11(&in[i]) ||
		    (i + 1 < n && in[i].cls->action == SUB_BRANCH))
			return s;
		if (i + 1 < n)
			last += insn_len(&in[i]);
	}
	const struct guest_insn *g = &in[n - 1];
	uint64_t to;
	if (!g->plain && indirect_branch(&g->d)) {
		s.r11_idle = true;
	} else if (direct_jmp(g, last, &to)) {
		uint32_t id = tr_find(t, to);
		s.r11_idle = id && t->blocks[id].r11_idle;
	}
	return s;
}

/* The IBL entry of a block at pc and its direct entry.  Arrival through
 * the table has the target in its slot and in the low bits of r11, the
 * guest's r11 in its slot, so r11 is free.  The entry compares the slot
 * with pc without touching the guest's flags or any other register:
 *   mov r11, rcx; mov rcx, gs:[ibl_target]; lea rcx, [rcx - pc] (two
 *   leas from 2 GiB up); jrcxz hit; mov rcx, r11; jmp gate_ibl_miss;
 *   hit: mov rcx, r11
 * (jrcxz and loop are the only flag-free tests; the guest's rcx waits in
 * r11, not in memory, and register moves cost the CPU next to nothing).
 * Where LOOP is cheap (host_prefers_loop), the hit falls through instead
 * of taking the jrcxz, with the miss in front of the entry:
 *   miss: mov rcx, r11; jmp gate_ibl_miss
 *   entry: mov r11, rcx; mov rcx, gs:[ibl_target]; lea rcx, [rcx - pc + 1]
 *   (or two); loop miss; mov rcx, r11
 * A taken branch at every hit cost the AMD Zen 4 host more than its one
 * instruction: a loop of indirect calls from above 2 GiB ran 4.1x native
 * with it, 1.95x without; its speed moved with where the next taken
 * branch lay (docs/bench/method.md).  Whatever the
 * block's own flags, another block's target can arrive here (one sharing
 * the table entry's low bits) with the guest's flags live: a cmp here
 * once clobbered them.
 * Then, usually, mov r11, gs:[ibl_r11] and the direct entry.  But where r11
 * is idle in the block (scan_entry), the guest's r11 stays in its slot for
 * the whole block and the final indirect branch need not save it: an
 * interpreter's dispatch chain then carries no store-to-load forward of r11
 * from one handler to the next.  The IBL entry then falls into the body, and
 * the direct entry, which puts r11 in the slot, comes after the exit stubs:
 *   entry: mov gs:[ibl_r11], r11; jmp body
 * (direct arrivals with r11 in its slot take the slot entry, the body).
 * Either way the body starts on 32 bytes. */

/* What the entry's compare adds to the target: -pc, plus 1 in the loop
 * form (loop decrements first). */
static int64_t prologue_disp(uint64_t pc)
{
	return -(int64_t)pc + (host_prefers_loop() ? 1 : 0);
}

/* Whether the compare adds it in two steps (from 2 GiB up: one lea's
 * disp32 cannot hold it). */
static bool prologue_two_leas(uint64_t pc)
{
	return prologue_disp(pc) < INT32_MIN;
}

static const size_t slot_len = 9;   /* mov between r11 and its slot */

/* Bytes in front of a block whose prologue is as above, so that its body
 * starts on 32 bytes.  They belong to no block: nothing jumps there and
 * the verifier never sees them (tr_build fills them with int3). */
static size_t prologue_pad(uint64_t pc, struct entry_scan scan)
{
	size_t len = 32 + (prologue_two_leas(pc) ? 7 : 0) + (scan.r11_idle ? 0 : slot_len);
	return (32 - len % 32) % 32;
}

static void prologue(struct tb *b, uint64_t pc, struct entry_scan scan)
{
	struct emitter *e = &b->e;
	static const uint8_t jrcxz[] = {0xe3, 3 + 5};                   /* over the restore and jmp rel32 */
	bool loop = host_prefers_loop();
	size_t miss = e->pos;
	if (loop) {
		emit_mov_reg(e, RCX, R11);
		b->ibl_miss = emit_jmp32(e);
		emit_patch_rel32(e, b->ibl_miss, (uint64_t)(uintptr_t)gate_ibl_miss);
	}
	b->ibl_entry = e->pos;
	emit_mov_reg(e, R11, RCX);
	emit_slot_load(e, RCX, CTX_IBL_TARGET);
	emit_lea_rcx(e, RCX, prologue_disp(pc));
	if (loop) {
		emit_u8(e, 0xe2);                                           /* loop miss */
		emit_u8(e, (uint8_t)(int8_t)((int64_t)miss - (int64_t)(e->pos + 1)));
	} else {
		emit_bytes(e, jrcxz, sizeof(jrcxz));
		emit_mov_reg(e, RCX, R11);
		b->ibl_miss = emit_jmp32(e);
		emit_patch_rel32(e, b->ibl_miss, (uint64_t)(uintptr_t)gate_ibl_miss);
	}
	emit_mov_reg(e, RCX, R11);
	if (scan.r11_idle) {
		b->slot_entry = b->body = e->pos;   /* the direct entry: tr_build, at the end */
		b->r11_in_slot = true;
	} else {
		b->slot_entry = e->pos;
		emit_slot_load(e, R11, CTX_IBL_R11);
		b->entry = b->body = e->pos;
	}
}

/* mov r11, <operand 0 of an indirect jmp/call>: a register move, or the
 * guest's memory operand rebuilt as `mov r11, [mem]` and confined like any
 * guest access. */
static bool load_target(struct tb *b, const struct decoded *d, uint64_t next)
{
	const ZydisDecodedOperand *o = &d->op[0];
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		int r = gpr_number(o->reg.value);
		if (r < 0)
			return false;
		if (r != R11)
			emit_mov_reg(&b->e, R11, r);
		return true;
	}
	const ZydisDecodedInstruction *in = &d->insn;
	uint8_t syn[16];
	size_t n = 0, p = in->raw.prefix_count;
	uint8_t rex = 0x4c;                             /* REX.W + REX.R (r11) */
	for (size_t i = 0; i < p; i++) {
		uint8_t v = in->raw.prefixes[i].value;
		if ((v & 0xf0) == 0x40)
			rex |= v & 0x03;                    /* keep X and B */
		else if (v == 0x64 || v == 0x65 || v == 0x67)
			syn[n++] = v;                       /* drop 66 (AMD's 16-bit), BND, notrack */
	}
	syn[n++] = rex;
	syn[n++] = 0x8b;
	syn[n++] = (uint8_t)((d->bytes[in->raw.modrm.offset] & 0xc7) | 3 << 3);
	size_t rest = in->length - in->raw.modrm.offset - 1u;
	if (n + rest > 15)
		return false;
	memcpy(syn + n, d->bytes + in->raw.modrm.offset + 1, rest);
	n += rest;
	struct decoded s;
	if (decode_one(syn, n, &s) != DECODE_OK)
		return false;
	return pass(b, &s, next, policy_forms_of(&s));
}

static unsigned jcc_condition(const ZydisDecodedInstruction *in)
{
	return in->opcode & 15;      /* 70+cc (one byte) or 0F 80+cc */
}

/* Whether a block goes on after this branch: a direct conditional jump
 * (jcc rel) continues with its not-taken path, so the fall-through costs
 * no jump and hot paths lie straight in the cache. */
static bool continues_block(const struct decoded *d)
{
	return d->insn.meta.category == ZYDIS_CATEGORY_COND_BR && d->op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	       d->insn.mnemonic != ZYDIS_MNEMONIC_JRCXZ && d->insn.mnemonic != ZYDIS_MNEMONIC_JECXZ &&
	       d->insn.mnemonic != ZYDIS_MNEMONIC_LOOP && d->insn.mnemonic != ZYDIS_MNEMONIC_LOOPE &&
	       d->insn.mnemonic != ZYDIS_MNEMONIC_LOOPNE;
}

/* ---- switches ----------------------------------------------------------- */

/* A switch as GCC compiles it (sqlite3VdbeExec's opcode dispatch, 9.8
 * million times in tests/sqlite's workload; sqlite3VdbeSerialGet's serial
 * types, 2.2 million), at the end of a block, in one of three forms:
 *   movsxd R, dword [B + I*4] ; add R, B ; jmp R      (a table of offsets)
 *   jmp qword [B + I*8 + disp]                        (of addresses: goto
 *   mov R, qword [B + I*8 + disp] ; (up to four        *table[i], or built
 *     register instructions, switch_quiet) ; jmp R     without -fpie)
 * where B holds the table's address (or is none: an absolute table) and I
 * is below a bound n <= 256:
 *   - B: its last write in the block is lea B, [rip + table] or mov B32,
 *     table; or nothing in the block writes it (the lea was hoisted out of
 *     an interpreter's loop): then the table is where B pointed when the
 *     block was translated (the guest's registers are in the context), and
 *     a guard checks that B still does, without touching the flags
 *     (switch_guard), and where it does not, the instructions run again as
 *     any others (an IBL lookup);
 *   - I: its last write is movzx from a byte (n = 256) or and I, imm (n =
 *     imm + 1); or the block compares it after its last write, cmp I, imm
 *     ; ja out (or jae), the not-taken path being the block's (n = imm +
 *     1; the compare 64-bit, or 32-bit where that write zero-extends); or
 *     its last write is mov I32, J32 after such a compare of J (J may be
 *     I), or mov I32, dword [M] right after cmp dword [M], imm ; ja.  The
 *     guest's own bounds check is what proves that movzx r11d, I8 is I:
 *     should the proof be wrong, the switch table still holds only blocks
 *     and the stub (the guest would jump to another of its cases), so the
 *     proof is a matter of transparency, never of confinement.
 * The guest target is B + table[I], or table[I].  Where the table's n
 * entries lie in memory the guest cannot write, they are watched like code
 * (a change kills the block, tr_publish) and the jump goes through a
 * switch table of the block's own (gates/ctx.h), one entry for each value
 * of I:
 *   mov gs:[ibl_r11], r11 (ibl_save) ; [the guard] ; [movzx r11d, I8
 *   where what comes before the jump writes I] ; the instructions before
 *   the jump ; movzx r11d, I8 (or r11b) ;
 *   jmp gs:[r11*8 + CTX_SWITCH_CODE + 2048 * k]
 * An entry names the block of its target once one has been taken
 * (tr_take_switch, the target from R or from the guest's table) and the
 * switch's stub before: mov gs:[ibl_target], r11 (the index) ; mov r11,
 * gs:[ibl_r11] ; the exit.  So a hot switch costs one load and a jump
 * that depends on the index alone, where the IBL lookup stores the
 * target, loads its entry by the target's low bits and compares the
 * target at the block.  The guest's loads and adds stay: R holds the
 * target as it would natively.  The instructions from the table's load to
 * the jump are translated as one (switch_site), with one instruction
 * start: no request or signal stops the guest between them, where r11
 * holds the index. */

/* Instruction g with all its operands (a plain one has only the table's
 * answer). */
static bool decoded_at(const struct guest_insn *g, struct decoded *out)
{
	if (!g->plain) {
		*out = g->d;
		return true;
	}
	return decode_one(g->bytes, g->q.len, out) == DECODE_OK;
}

static bool is_reg(const ZydisDecodedOperand *o, int n, unsigned size)
{
	return o->type == ZYDIS_OPERAND_TYPE_REGISTER && gpr_number(o->reg.value) == n && o->size == size;
}

/* Whether two memory operands name the same bytes whatever the registers
 * hold. */
static bool same_memory(const ZydisDecodedOperand *a, const ZydisDecodedOperand *b)
{
	return a->size == b->size && a->mem.segment == b->mem.segment && a->mem.base == b->mem.base &&
	       a->mem.index == b->mem.index && a->mem.scale == b->mem.scale &&
	       a->mem.disp.value == b->mem.disp.value && a->mem.base != ZYDIS_REGISTER_RIP;
}

/* Whether d, then jcc, is cmp X, imm ; ja (or jae): *bound is then the
 * largest X that goes on past them, *width X's size (32 or 64).  X is
 * register x, or with x -1 a dword in memory. */
static bool bounds_check(const struct decoded *d, const struct decoded *jcc, int x, uint64_t *bound,
                         unsigned *width)
{
	const ZydisDecodedOperand *o = &d->op[0], *imm = &d->op[1];
	bool operand = x < 0 ? o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->size == 32
	                     : is_reg(o, x, 32) || is_reg(o, x, 64);
	if (d->insn.mnemonic != ZYDIS_MNEMONIC_CMP || !operand ||
	    imm->type != ZYDIS_OPERAND_TYPE_IMMEDIATE || jcc->op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
		return false;
	uint64_t v = o->size == 32 ? (uint32_t)imm->imm.value.s : (uint64_t)imm->imm.value.s;
	if (jcc->insn.mnemonic == ZYDIS_MNEMONIC_JNBE)
		*bound = v;
	else if (jcc->insn.mnemonic == ZYDIS_MNEMONIC_JNB && v > 0)
		*bound = v - 1;
	else
		return false;
	*width = o->size;
	return true;
}

/* Whether d writes all of register x as a 32-bit destination, which
 * clears its upper half (shifts left out: a count of 0 may leave it). */
static bool writes_low32(const struct decoded *d, int x)
{
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_MOV: case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX: case ZYDIS_MNEMONIC_LEA:
	case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_OR:
	case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_INC: case ZYDIS_MNEMONIC_DEC: case ZYDIS_MNEMONIC_NEG:
	case ZYDIS_MNEMONIC_NOT:
		return is_reg(&d->op[0], x, 32);
	default:
		return false;
	}
}

/* The bound n of index register idx at instruction `load` (see above), or
 * 0 where nothing in the block proves one below 256. */
static unsigned index_bound(const struct tb *b, unsigned load, int idx)
{
	const struct guest_insn *in = b->insns;
	struct decoded d, after = {0};
	int x = idx;             /* idx, or J once idx's last write is mov idx32, J32 */
	bool copied = false;
	uint64_t bound = UINT64_MAX;
	unsigned width = 0;
	for (unsigned k = load; k-- > 0; after = d) {
		if (!decoded_at(&in[k], &d))
			return 0;
		uint64_t v;
		unsigned w;
		if (k + 1 < load && bound == UINT64_MAX && bounds_check(&d, &after, x, &v, &w) && v < SWITCH_ENTRIES)
			bound = v, width = w;
		if (!writes_gpr(&d, x))
			continue;
		if (copied)              /* J's compare came after its last write */
			return bound < SWITCH_ENTRIES ? (unsigned)bound + 1 : 0;
		if (d.insn.mnemonic == ZYDIS_MNEMONIC_MOVZX && d.op[0].size >= 32 && d.op[1].size == 8 &&
		    is_reg(&d.op[0], idx, d.op[0].size))
			return bound < SWITCH_ENTRIES ? (unsigned)bound + 1 : SWITCH_ENTRIES;
		if (bound < SWITCH_ENTRIES && (width == 64 || writes_low32(&d, idx)))
			return (unsigned)bound + 1;
		/* and I, imm: I <= imm */
		if (d.insn.mnemonic == ZYDIS_MNEMONIC_AND && (is_reg(&d.op[0], idx, 32) || is_reg(&d.op[0], idx, 64)) &&
		    d.op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && (uint64_t)d.op[1].imm.value.s < SWITCH_ENTRIES)
			return (unsigned)d.op[1].imm.value.s + 1;
		/* cmp dword [M], imm ; ja out ; mov I32, dword [M] */
		struct decoded c, j;
		if (d.insn.mnemonic == ZYDIS_MNEMONIC_MOV && is_reg(&d.op[0], idx, 32) && k >= 2 &&
		    d.op[1].type == ZYDIS_OPERAND_TYPE_MEMORY && decoded_at(&in[k - 1], &j) &&
		    decoded_at(&in[k - 2], &c) && c.op[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    same_memory(&c.op[0], &d.op[1]) && (bounds_check(&c, &j, -1, &v, &w) && v < SWITCH_ENTRIES))
			return (unsigned)v + 1;
		/* mov I32, J32 (J may be I itself): I's bound is J's before it */
		if (d.insn.mnemonic != ZYDIS_MNEMONIC_MOV || !is_reg(&d.op[0], idx, 32) ||
		    d.op[1].type != ZYDIS_OPERAND_TYPE_REGISTER || d.op[1].size != 32 ||
		    gpr_number(d.op[1].reg.value) < 0)
			return 0;
		x = gpr_number(d.op[1].reg.value);
		copied = true;
		bound = UINT64_MAX;
	}
	/* no last write in the block: a compare bounds the value where it is
	 * 64-bit or where it follows mov I32, J32 */
	return bound < SWITCH_ENTRIES && (copied || width == 64) ? (unsigned)bound + 1 : 0;
}

/* The table base register's last write in the block, before instruction
 * `load` at load_pc: *table from lea B, [rip + table] or mov B32, table.
 * Returns 1 for those, 0 where nothing in the block writes B, -1 for any
 * other write. */
static int base_written(const struct tb *b, unsigned load, uint64_t load_pc, int base, uint64_t *table)
{
	const struct guest_insn *in = b->insns;
	uint64_t at = load_pc;
	for (unsigned k = load; k-- > 0;) {
		struct decoded d;
		at -= insn_len(&in[k]);
		if (!decoded_at(&in[k], &d))
			return -1;
		if (!writes_gpr(&d, base))
			continue;
		const ZydisDecodedOperand *o = &d.op[1];
		if (d.insn.mnemonic == ZYDIS_MNEMONIC_LEA && is_reg(&d.op[0], base, 64) &&
		    o->mem.base == ZYDIS_REGISTER_RIP && o->mem.index == ZYDIS_REGISTER_NONE)
			*table = at + d.insn.length + (uint64_t)o->mem.disp.value;
		else if (d.insn.mnemonic == ZYDIS_MNEMONIC_MOV && is_reg(&d.op[0], base, 32) &&
		         o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			*table = (uint32_t)o->imm.value.u;
		else
			return -1;
		return 1;
	}
	return 0;
}

/* Whether d may come between a switch's table load and its jmp R: a
 * register instruction (lea too) that leaves R, r11 and rsp alone and
 * cannot fault. */
static bool switch_quiet(const struct decoded *d, int r)
{
	const ZydisDecodedOperand *m = memory_operand(d);
	return d->insn.meta.category != ZYDIS_CATEGORY_PUSH && d->insn.meta.category != ZYDIS_CATEGORY_POP &&
	       (!m || m->mem.type == ZYDIS_MEMOP_TYPE_AGEN) && d->insn.meta.branch_type == ZYDIS_BRANCH_TYPE_NONE &&
	       (d->insn.mnemonic == ZYDIS_MNEMONIC_MOV || d->insn.mnemonic == ZYDIS_MNEMONIC_LEA ||
	        d->insn.mnemonic == ZYDIS_MNEMONIC_ADD || d->insn.mnemonic == ZYDIS_MNEMONIC_SUB ||
	        d->insn.mnemonic == ZYDIS_MNEMONIC_SHL || d->insn.mnemonic == ZYDIS_MNEMONIC_SHR ||
	        d->insn.mnemonic == ZYDIS_MNEMONIC_MOVZX || d->insn.mnemonic == ZYDIS_MNEMONIC_AND) &&
	       !writes_gpr(d, r) && !uses_gpr(d, R11) && !writes_gpr(d, RSP);
}

/* At most this many quiet instructions between a table load and its jmp. */
#define SWITCH_QUIET_MAX 4

/* Plans the switch the block at pc, of `count` instructions, ends in, if
 * it ends in one (see above) and a switch table is free. */
static void switch_plan(struct tb *b, unsigned count, uint64_t pc)
{
	struct switch_plan *s = &b->sw;
	const struct guest_insn *in = b->insns;
	*s = (struct switch_plan){.planned = false};
	if (count < 1 || b->t->nswitch >= SWITCH_TABLES || in[count - 1].plain ||
	    in[count - 1].result != DECODE_OK || in[count - 1].d.insn.mnemonic != ZYDIS_MNEMONIC_JMP)
		return;
	const struct decoded *jmp = &in[count - 1].d;
	struct decoded load = *jmp;
	unsigned at = count - 1, entry_size = 8;
	int r = -1;
	if (jmp->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
		/* movsxd R, dword [B + I*4] ; add R, B ; jmp R -- or mov R,
		 * qword [B + I*8 + disp] ; (quiet instructions) ; jmp R */
		r = gpr_number(jmp->op[0].reg.value);
		struct decoded add;
		if (r < 0 || !is_reg(&jmp->op[0], r, 64))
			return;
		if (count >= 3 && decoded_at(&in[count - 2], &add) && add.insn.mnemonic == ZYDIS_MNEMONIC_ADD &&
		    is_reg(&add.op[0], r, 64) && decoded_at(&in[count - 3], &load) &&
		    load.insn.mnemonic == ZYDIS_MNEMONIC_MOVSXD) {
			at = count - 3;
			entry_size = 4;
			if (add.op[1].type != ZYDIS_OPERAND_TYPE_REGISTER ||
			    !is_reg(&add.op[1], gpr_number(load.op[1].mem.base), 64) || load.op[1].mem.disp.value != 0)
				return;
		} else {
			for (at = count - 1; at-- > 0 && count - 1 - at <= SWITCH_QUIET_MAX + 1;) {
				if (!decoded_at(&in[at], &load))
					return;
				if (load.insn.mnemonic == ZYDIS_MNEMONIC_MOV && is_reg(&load.op[0], r, 64) &&
				    load.op[1].type == ZYDIS_OPERAND_TYPE_MEMORY)
					break;
				if (!switch_quiet(&load, r))
					return;
			}
			if (at >= count - 1 || count - 1 - at > SWITCH_QUIET_MAX + 1)
				return;
		}
		if (!is_reg(&load.op[0], r, 64))
			return;
	}
	const ZydisDecodedOperand *m = &load.op[r < 0 ? 0 : 1];
	int base = gpr_number(m->mem.base), idx = gpr_number(m->mem.index);
	if (m->type != ZYDIS_OPERAND_TYPE_MEMORY || m->size != entry_size * 8 ||
	    (m->mem.segment != ZYDIS_REGISTER_DS && m->mem.segment != ZYDIS_REGISTER_SS) ||   /* not fs:/gs: */
	    load.insn.address_width != 64 || m->mem.scale != entry_size || idx < 0 ||
	    (m->mem.base != ZYDIS_REGISTER_NONE && base < 0))
		return;
	if ((base >= 0 && (base == r || base == idx || base == RSP || base == R11)) || idx == RSP || idx == R11 ||
	    r == R11)
		return;
	uint64_t load_pc = pc;
	for (unsigned k = 0; k < at; k++)
		load_pc += insn_len(&in[k]);
	int64_t disp = m->mem.disp.value;
	uint64_t table = (uint64_t)disp;
	int written = 1;   /* an absolute table: as if its address were written */
	if (base >= 0) {
		written = base_written(b, at, load_pc, base, &table);
		if (written < 0)
			return;
		table = (written ? table : b->t->ctx->gpr[base]) + (uint64_t)disp;
		if (table - (uint64_t)disp >= 1ull << 32)
			return;   /* B a guest address, as the guard's leas take it */
	}
	unsigned entries = index_bound(b, at, idx);
	if (!entries || table >= b->t->gm->size ||
	    !gm_pages_are(b->t->gm, table, entries * entry_size, GP_MAPPED | GP_R | GP_W, GP_MAPPED | GP_R))
		return;
	bool index_first = false;
	for (unsigned k = at; k + 1 < count; k++) {
		struct decoded d;
		index_first |= !decoded_at(&in[k], &d) || writes_gpr(&d, idx);
	}
	*s = (struct switch_plan){.planned = true, .guarded = !written, .load = at, .r = r, .base = base,
	                          .index = idx, .disp = disp, .table = table, .entries = entries,
	                          .entry_size = entry_size, .index_first = index_first};
}

/* The guard of a switch whose table base B was set before the block (see
 * above): mov r11, rcx ; lea rcx, [B + 1 - table] (two leas past 2 GiB) ;
 * loop other ; mov rcx, r11 -- the hit falls through, with rcx back.
 * Where LOOP is slow (host_prefers_loop), lea rcx, [B - table] ; jrcxz hit
 * ; jmp other ; hit: mov rcx, r11.  `other` restores rcx from r11.  Returns
 * the offset of the jump's displacement, a rel8 in the loop form. */
static size_t switch_guard(struct tb *b, int base, uint64_t table, bool *rel8)
{
	struct emitter *e = &b->e;
	*rel8 = host_prefers_loop();
	emit_mov_reg(e, R11, RCX);
	emit_lea_rcx(e, base, (*rel8 ? 1 : 0) - (int64_t)table);
	size_t other;
	if (*rel8) {
		emit_u8(e, 0xe2);                                 /* loop other */
		other = e->pos;
		emit_u8(e, 0);
	} else {
		static const uint8_t jrcxz[] = {0xe3, 5};         /* over the jmp rel32 */
		emit_bytes(e, jrcxz, sizeof(jrcxz));
		other = emit_jmp32(e);
	}
	emit_mov_reg(e, RCX, R11);
	return other;
}

static bool instruction(struct tb *b, const struct decoded *d, const struct policy_class *cls,
                        uint64_t pc, uint64_t next);

static bool translate_insn(struct tb *b, const struct guest_insn *g, uint64_t pc)
{
	return g->plain ? plain(b, g, pc) : instruction(b, &g->d, g->cls, pc, pc + insn_len(g));
}

/* Translates the planned switch, from its table load at pc to the jmp
 * that ends the block (see above); returns the pc after the jmp. */
static uint64_t switch_site(struct tb *b, uint64_t pc, unsigned count)
{
	struct translator *t = b->t;
	const struct switch_plan *s = &b->sw;
	const struct guest_insn *g = &b->insns[s->load];
	unsigned n = count - s->load;   /* instructions, the jmp included */
	uint64_t at[SWITCH_QUIET_MAX + 3];
	at[0] = pc;
	for (unsigned i = 1; i <= n; i++)
		at[i] = at[i - 1] + insn_len(&g[i - 1]);
	bool r11_in_slot = b->r11_in_slot;
	uint32_t k = t->nswitch++;
	t->stats.switches++;
	for (unsigned i = 1; i < n; i++) {
		t->stats.classes[g[i].cls - policy_classes]++;
		t->stats.guest_insns++;
	}
	ibl_save(b);
	bool rel8 = false;
	size_t other = s->guarded ? switch_guard(b, s->base, s->table - (uint64_t)s->disp, &rel8) : 0;
	uint8_t seq[SWITCH_TEMPLATE_LEN];
	if (s->index_first) {
		switch_template(seq, s->index, k);
		emit_bytes(&b->e, seq, 4);   /* its movzx r11d, I8 */
	}
	for (unsigned i = 0; i + 1 < n; i++)
		translate_insn(b, &g[i], at[i]);
	switch_template(seq, s->index_first ? R11 : s->index, k);
	emit_bytes(&b->e, seq, sizeof(seq));
	b->switch_exit = new_exit(b, EXITK_SWITCH, at[n - 1], s->table);
	t->exits[b->switch_exit].reg = s->r < 0 ? SWITCH_FROM_TABLE : (uint8_t)s->r;
	t->exits[b->switch_exit].patch = k;
	if (s->guarded) {   /* B is not the table: the instructions as any others */
		int64_t dist = (int64_t)b->e.pos - (int64_t)(other + 1);
		if (!rel8)
			emit_patch_rel32(&b->e, other, emit_here(&b->e));
		else if (dist <= INT8_MAX)
			b->e.buf[other] = (uint8_t)dist;
		else
			b->e.overflow = true;   /* (the path above is some 60 bytes at most) */
		emit_mov_reg(&b->e, RCX, R11);
		if (!r11_in_slot)
			emit_slot_load(&b->e, R11, CTX_IBL_R11);
		for (unsigned i = 0; i < n; i++) {
			tr_map_add(t, (uint16_t)(b->e.pos - b->body), (uint16_t)(at[i] - t->blocks[b->id].pc));
			translate_insn(b, &g[i], at[i]);
		}
	}
	return at[n];
}

/* The switch's stub, after the block's other exits: the index to its slot,
 * the guest's r11 back, the exit. */
static void switch_stub(struct tb *b)
{
	b->t->exits[b->switch_exit].stub = (uint32_t)(b->t->cache_used + b->e.pos);
	emit_slot_store(&b->e, R11, CTX_IBL_TARGET);
	emit_slot_load(&b->e, R11, CTX_IBL_R11);
	stub(b, b->switch_exit);
}

/* Emits the translation of a near branch: ends the block, except a
 * conditional jump that continues it (continues_block), which leaves only
 * by its taken exit. */
static bool branch(struct tb *b, const struct decoded *d, uint64_t pc, uint64_t next)
{
	const ZydisDecodedInstruction *in = &d->insn;
	bool direct = d->op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_JMP:
		if (direct) {
			branch_exit(b, emit_jmp32(&b->e), pc, rel_target(d, pc));
			return true;
		}
		ibl_save(b);
		if (!load_target(b, d, next))
			return false;
		ibl_lookup(b);
		return true;
	case ZYDIS_MNEMONIC_CALL:
		if (direct) {
			/* the exit alone may take r11 from its slot: the body before it does not */
			bool body_r11_in_slot = b->r11_in_slot;
			b->r11_in_slot |= push_return(b, next, R11);
			branch_exit(b, emit_jmp32(&b->e), pc, rel_target(d, pc));
			b->r11_in_slot = body_r11_in_slot;
			return true;
		}
		ibl_save(b);
		if (!load_target(b, d, next))
			return false;
		push_return(b, next, RCX);
		ibl_lookup(b);
		return true;
	case ZYDIS_MNEMONIC_RET: {
		ibl_save(b);
		static const uint8_t pop_r11[] = {0x41, 0x5b};
		emit_bytes(&b->e, pop_r11, sizeof(pop_r11));
		if (in->operand_count_visible > 0) {
			emit_lea_rsp(&b->e, (int32_t)d->op[0].imm.value.u);
			emit_confine_rsp(&b->e);
		}
		ibl_lookup(b);
		return true;
	}
	case ZYDIS_MNEMONIC_JRCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
	case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE: {
		bool ecx = in->address_width == 32;
		bool loop = in->mnemonic != ZYDIS_MNEMONIC_JRCXZ && in->mnemonic != ZYDIS_MNEMONIC_JECXZ;
		if (loop) {
			/* lea (e/r)cx, [rcx-1]: the count without touching flags */
			static const uint8_t dec64[] = {0x48, 0x8d, 0x49, 0xff}, dec32[] = {0x8d, 0x49, 0xff};
			if (ecx)
				emit_bytes(&b->e, dec32, sizeof(dec32));
			else
				emit_bytes(&b->e, dec64, sizeof(dec64));
		}
		/* [67] jrcxz skip; [jcc fall]; jmp taken; skip: jmp fall  (or, for
		 * jrcxz, the zero case is the taken one) */
		bool zf = in->mnemonic == ZYDIS_MNEMONIC_LOOPE || in->mnemonic == ZYDIS_MNEMONIC_LOOPNE;
		if (ecx)
			emit_u8(&b->e, 0x67);
		emit_u8(&b->e, 0xe3);
		emit_u8(&b->e, (uint8_t)(loop ? (zf ? 11 : 5) : 5));
		uint64_t taken = rel_target(d, pc);
		if (!loop) {
			branch_exit(b, emit_jmp32(&b->e), pc, next);   /* rcx != 0 */
			branch_exit(b, emit_jmp32(&b->e), pc, taken);  /* rcx == 0 */
			return true;
		}
		if (zf)  /* loope continues only while ZF=1, loopne while ZF=0 */
			branch_exit(b, emit_jcc32(&b->e, in->mnemonic == ZYDIS_MNEMONIC_LOOPE ? 5 : 4), pc, next);
		branch_exit(b, emit_jmp32(&b->e), pc, taken);
		branch_exit(b, emit_jmp32(&b->e), pc, next);           /* rcx == 0 */
		return true;
	}
	default:
		if (in->meta.category != ZYDIS_CATEGORY_COND_BR || !direct)
			return false;
		branch_exit(b, emit_jcc32(&b->e, jcc_condition(in)), pc, rel_target(d, pc));
		return true;
	}
}

/* ---- the remaining rewrites (policy table 1) ---------------------------- */

static bool fsgs_base(struct tb *b, const struct decoded *d)
{
	int r = gpr_number(d->op[0].reg.value);
	bool fs = d->insn.mnemonic == ZYDIS_MNEMONIC_RDFSBASE || d->insn.mnemonic == ZYDIS_MNEMONIC_WRFSBASE;
	uint32_t slot = fs ? CTX_FS_BASE : CTX_GS_BASE;
	bool wide = d->insn.operand_width == 64;
	if (d->insn.mnemonic == ZYDIS_MNEMONIC_RDFSBASE || d->insn.mnemonic == ZYDIS_MNEMONIC_RDGSBASE) {
		emit_slot_load(&b->e, r, slot);
		if (r == RSP) {
			emit_confine_rsp(&b->e);   /* the base is any guest value */
		} else if (!wide) {
			/* mov r32, r32: keeps the low half, clears the high one */
			if (r >= 8)
				emit_u8(&b->e, 0x45);
			uint8_t z[] = {0x89, (uint8_t)(0xc0 | (r & 7) << 3 | (r & 7))};
			emit_bytes(&b->e, z, sizeof(z));
		}
		return true;
	}
	emit_slot_store(&b->e, r, slot);
	if (!wide)
		emit_slot_store_imm32(&b->e, slot + 4, 0);
	return true;
}

static bool frame(struct tb *b, const struct decoded *d)
{
	if (d->insn.operand_width != 64)
		return false;
	if (d->insn.mnemonic == ZYDIS_MNEMONIC_LEAVE) {
		static const uint8_t leave[] = {0x48, 0x89, 0xec, 0x89, 0xe4, 0x5d}; /* mov rsp,rbp; mov esp,esp; pop rbp */
		emit_bytes(&b->e, leave, sizeof(leave));
		return true;
	}
	if (d->op[1].imm.value.u != 0)
		return false;                               /* nested frames: not supported */
	static const uint8_t enter[] = {0x55, 0x48, 0x89, 0xe5};                 /* push rbp; mov rbp,rsp */
	emit_bytes(&b->e, enter, sizeof(enter));
	emit_lea_rsp(&b->e, -(int32_t)d->op[0].imm.value.u);
	emit_confine_rsp(&b->e);
	return true;
}

/* AC and ID are virtual (gates/ctx.h, RFLAGS_VIRTUAL): a 64-bit popf
 * records them in their slot first.  The flags it overwrites are dead, so
 * the slot is masked with `and`.  A 16-bit popf changes neither. */
static void popf(struct tb *b, const struct decoded *d)
{
	if (d->insn.operand_width == 16) {
		static const uint8_t and16[] = {0x67, 0x66, 0x81, 0x24, 0x24, 0xff, 0xfe}; /* and word [esp], ~TF */
		emit_bytes(&b->e, and16, sizeof(and16));
	} else {
		static const uint8_t record[] = {
			0x65, 0x8f, 0x04, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,          /* pop qword gs:[virt_flags] */
			0x65, 0xff, 0x34, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,          /* push qword gs:[virt_flags] */
			0x65, 0x48, 0x81, 0x24, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,    /* and qword gs:[virt_flags], */
			(uint8_t)RFLAGS_VIRTUAL, (uint8_t)(RFLAGS_VIRTUAL >> 8),  /*   RFLAGS_VIRTUAL */
			(uint8_t)(RFLAGS_VIRTUAL >> 16), 0,
			0x67, 0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xfb, 0xff,    /* and qword [esp], ~(TF|AC) */
		};
		emit_bytes(&b->e, record, sizeof(record));
	}
	emit_bytes(&b->e, d->bytes, d->insn.length);
}

/* A 64-bit pushf: the virtual AC and ID from their slot (which holds no
 * other bit) under the CPU's low 16 flags; a 16-bit one shows neither. */
static void pushf(struct tb *b, const struct decoded *d)
{
	static const uint8_t show[] = {
		0x65, 0xff, 0x34, 0x25, CTX_VIRT_FLAGS, 0, 0, 0,   /* push qword gs:[virt_flags] */
		0x48, 0x8d, 0x64, 0x24, 0x02,                      /* lea rsp, [rsp + 2] */
		0x89, 0xe4,                                        /* mov esp, esp */
		0x66, 0x9c,                                        /* pushf (16 bits) */
	};
	if (d->insn.operand_width == 16)
		emit_bytes(&b->e, d->bytes, d->insn.length);
	else
		emit_bytes(&b->e, show, sizeof(show));
}

/* Translates one instruction; returns true when it ends the block. */
static bool instruction(struct tb *b, const struct decoded *d, const struct policy_class *cls,
                        uint64_t pc, uint64_t next)
{
	static const char unsupported[] = "instruction form the translator cannot confine";
	if (uses_gpr(d, R11))
		r11_home(b);
	switch (cls->action) {
	case SUB_PASS:
		if (pass(b, d, next, policy_forms_of(d)))
			return false;
		break;
	case SUB_DROP:
		return false;
	case SUB_BRANCH:
		if (branch(b, d, pc, next))
			return !continues_block(d);
		break;
	case SUB_SYSCALL:
		gate_exit_to(b, EXITK_SYSCALL, pc, next);
		return true;
	case SUB_HYPERCALL:
		gate_exit_to(b, EXITK_HYPERCALL, pc, next);
		return true;
	case SUB_CPUID:
		gate_exit_to(b, EXITK_CPUID, pc, next);
		return true;
	case SUB_XGETBV:
		gate_exit_to(b, EXITK_XGETBV, pc, next);
		return true;
	case SUB_RDTSCP: {
		/* rdtscp; mov ecx, 0 -- or where the host lacks rdtscp, its
		 * emulation: lfence (rdtscp waits for earlier instructions); rdtsc */
		static const uint8_t seq[] = {0x0f, 0x01, 0xf9, 0xb9, 0, 0, 0, 0};
		static const uint8_t emulated[] = {0x0f, 0xae, 0xe8, 0x0f, 0x31, 0xb9, 0, 0, 0, 0};
		if (host_has_rdtscp())
			emit_bytes(&b->e, seq, sizeof(seq));
		else
			emit_bytes(&b->e, emulated, sizeof(emulated));
		return false;
	}
	case SUB_FSGSBASE:
		return !fsgs_base(b, d);
	case SUB_FRAME:
		if (frame(b, d))
			return false;
		break;
	case SUB_POPF:
		popf(b, d);
		return false;
	case SUB_PUSHF:
		pushf(b, d);
		return false;
	case SUB_FAULT:
		fault(b, cls->signal, pc, 0, cls->name);
		return true;
	}
	/* A rewrite that could not be done: the guest faults here instead. */
	fault(b, SIGILL, pc, 0, unsupported);
	return true;
}

/* Whether an instruction of this action always ends its block. */
static bool ends_block(enum sub_action a)
{
	switch (a) {
	case SUB_BRANCH: case SUB_SYSCALL: case SUB_HYPERCALL: case SUB_CPUID: case SUB_XGETBV: case SUB_FAULT:
		return true;
	default:
		return false;
	}
}

/* Whether block x branches directly to pc: a loop through both. */
static bool loops_back(const struct translator *t, uint32_t x, uint64_t pc)
{
	for (uint32_t i = t->blocks[x].exits_first; i < t->blocks[x].exits_end; i++)
		if (t->exits[i].kind == EXITK_BRANCH && t->exits[i].target == pc)
			return true;
	return false;
}

/* Fetches and decodes the instructions of the block at pc into t->fetched:
 * up to one that ends a block or cannot be fetched or decoded, at most
 * TR_BLOCK_MAX_INSNS, on past at most MAX_COND_BRANCHES conditional jumps
 * whose not-taken path is not a block yet, or is one that branches back to
 * pc: a loop entered in its middle (a search loop whose early exit comes
 * first) then closes inside this block, one taken branch an iteration as
 * natively, instead of a jump between two blocks.  Returns how many. */
static unsigned fetch_block(struct translator *t, uint64_t pc)
{
	uint64_t start = pc;
	if (!t->fetched && !(t->fetched = calloc(TR_BLOCK_MAX_INSNS, sizeof(*t->fetched)))) {
		fprintf(stderr, "opsub: out of memory for the translator\n");
		abort();
	}
	unsigned cond = 0;
	for (unsigned n = 0; n < TR_BLOCK_MAX_INSNS; n++) {
		struct guest_insn *g = &t->fetched[n];
		g->avail = exec_bytes(t, pc);
		if (g->avail == 0)
			return n + 1;
		fetch(t, pc, g->avail, g->bytes);
		/* the common forms need neither Zydis nor the policy table
		 * (quick_decode.h, policy_quick_class) */
		g->plain = quick_decode_guest(g->bytes, g->avail, pc, &g->q) &&
		           (!g->q.memory || (g->nconfined = (uint8_t)quick_confine(g->bytes, &g->q, g->confined)));
		if (g->plain) {
			g->result = DECODE_OK;
			g->cls = policy_quick_class(&g->q);
		} else {
			g->result = decode_one(g->bytes, g->avail, &g->d);
			if (g->result != DECODE_OK)
				return n + 1;
			g->cls = policy_classify(&g->d);
		}
		pc += insn_len(g);
		/* where the not-taken path is a block already, link to it rather
		 * than translate its instructions again, unless it closes a loop */
		uint32_t x;
		if (ends_block(g->cls->action) &&
		    !(g->cls->action == SUB_BRANCH && (g->plain ? !g->q.jmp : continues_block(&g->d)) &&
		      ++cond <= MAX_COND_BRANCHES &&
		      (!(x = tr_find(t, pc)) || loops_back(t, x, start))))
			return n + 1;
	}
	return TR_BLOCK_MAX_INSNS;
}

uint32_t tr_build(struct translator *t, uint64_t pc, char *err, size_t errlen)
{
	uint64_t t0 = now_ns(t);
	if (t->cache_size - t->cache_used < TR_BLOCK_MAX_BYTES + 512) {
		tr_cache_reset(t);
		gm_unwatch_all(t->gm);
		t->stats.flushes++;
	}
	struct tb b = {.t = t};
	b.id = tr_new_block(t);
	unsigned count = fetch_block(t, pc);
	b.insns = t->fetched;
	struct entry_scan scan = scan_entry(t, pc, t->fetched, count);
	switch_plan(&b, count, pc);
	size_t pad = prologue_pad(pc, scan);
	memset(t->rw + t->cache_used, 0xcc, pad);
	t->cache_used += pad;
	b.e = (struct emitter){.buf = t->rw + t->cache_used, .rx = (uint64_t)(uintptr_t)(t->rx + t->cache_used),
	                       .cap = TR_BLOCK_MAX_BYTES};
	prologue(&b, pc, scan);
	struct block *blk = &t->blocks[b.id];
	blk->pc = pc;
	blk->map_first = t->nmap;
	blk->exits_first = blk->exits_end = t->nexits;

	uint64_t cur = pc, end = pc;
	bool ended = false;
	for (unsigned n = 0; n < count && !ended && b.e.pos <= TR_BLOCK_MAX_BYTES - 512; n++) {
		const struct guest_insn *g = &t->fetched[n];
		tr_map_add(t, (uint16_t)(b.e.pos - b.body), (uint16_t)(cur - pc));
		ended = true;
		if (g->avail == 0) {
			fault(&b, SIGSEGV, cur, cur, "instruction fetch from memory that is not executable");
			break;
		}
		end = cur + g->avail;
		if (g->result == DECODE_TRUNCATED) {
			/* cut by memory the guest may not execute: a fetch fault there */
			fault(&b, SIGSEGV, cur, cur + g->avail, "instruction runs into memory that is not executable");
			break;
		}
		if (g->result == DECODE_INVALID) {
			fault(&b, SIGILL, cur, 0, "undecodable instruction");
			break;
		}
		uint64_t next = cur + insn_len(g);
		t->stats.classes[g->cls - policy_classes]++;
		t->stats.guest_insns++;
		if (b.sw.planned && n == b.sw.load) {   /* with the rest of the block */
			cur = switch_site(&b, cur, count);
			end = cur - insn_len(&t->fetched[count - 1]) + t->fetched[count - 1].avail;
			break;
		}
		ended = translate_insn(&b, g, cur);
		cur = next;
	}
	if (!ended)   /* the instruction or byte limit: on in the next block */
		branch_exit(&b, emit_jmp32(&b.e), cur, cur);
	if (b.r11_in_slot) {   /* to the end of the body: its exits say where r11 is */
		b.r11_slot_to = b.e.pos - b.body;
		b.r11_in_slot = false;
	}
	blk->r11_slot_to = (uint16_t)b.r11_slot_to;
	blk->pc_end = end > cur ? end : cur;
	blk->map_count = t->nmap - blk->map_first;
	blk->exits_end = t->nexits;
	for (unsigned i = 0; i < b.nlinkable; i++) {
		struct exit *x = &t->exits[b.linkable[i].exit];
		x->patch = (uint32_t)(t->cache_used + b.linkable[i].at);
		x->stub = (uint32_t)(t->cache_used + b.e.pos);
		emit_patch_rel32(&b.e, b.linkable[i].at, emit_here(&b.e));
		if (x->r11_in_slot)   /* the gate takes the guest's registers as they are */
			emit_slot_load(&b.e, R11, CTX_IBL_R11);
		stub(&b, b.linkable[i].exit);
	}
	if (b.switch_exit)
		switch_stub(&b);
	if (scan.r11_idle) {   /* the direct entry (see prologue) */
		b.entry = b.e.pos;
		emit_slot_store(&b.e, R11, CTX_IBL_R11);
		emit_patch_rel32(&b.e, emit_jmp32(&b.e), b.e.rx + b.body);
	}
	t->stats.translate_ns += now_ns(t) - t0;
	if (b.e.overflow) {
		snprintf(err, errlen, "block at guest pc 0x%lx does not fit %d bytes", pc, TR_BLOCK_MAX_BYTES);
		return 0;
	}
	blk->start = (uint32_t)t->cache_used;
	blk->ibl_entry = (uint32_t)(t->cache_used + b.ibl_entry);
	blk->ibl_miss = (uint32_t)(t->cache_used + b.ibl_miss);
	blk->entry = (uint32_t)(t->cache_used + b.entry);
	blk->slot_entry = (uint32_t)(t->cache_used + b.slot_entry);
	blk->body = (uint32_t)(t->cache_used + b.body);
	blk->r11_idle = scan.r11_idle;
	blk->end = (uint32_t)(t->cache_used + b.e.pos);
	unsigned fpu_parts = GUEST_FPU_X87 | GUEST_FPU_YMM;   /* unverified: any */
	if (t->verify) {
		uint64_t v0 = now_ns(t);
		bool ok = verify_block(b.e.buf, b.e.pos, b.e.rx, &fpu_parts, err, errlen);
		t->stats.verify_ns += now_ns(t) - v0;
		if (!ok)
			return 0;
	}
	gate_guest_fpu |= (uint8_t)fpu_parts;   /* before the block can run */
	if (b.switch_exit) {
		tr_switch_fill(t, b.switch_exit);
		blk->table = b.sw.table;
		blk->table_end = b.sw.table + b.sw.entries * b.sw.entry_size;
	}
	t->cache_used = (t->cache_used + b.e.pos + 31) & ~(size_t)31;
	t->stats.blocks++;
	t->stats.cache_bytes = t->cache_used;
	tr_publish(t, b.id);
	return b.id;
}
