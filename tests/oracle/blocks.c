/*
 * The blocks the oracle runs, all of them accepted by verify_block() at the
 * address they run at:
 *
 *   random      instructions generated one at a time (insn_gen.c), each kept
 *               only if a block of it alone passes the verifier (with the
 *               companions the verifier asks for: mov esp, esp after an rsp
 *               write, the flag mask before popf, the FPU-IP scrub after an
 *               x87 environment store), plus the translator's templates
 *               with random registers, forward branches, and one of the
 *               four block ends (jmp gate_exit, exit stub, IBL lookup,
 *               switch lookup);
 *   translated  the translator's own output for random guest code or
 *               slices of the fuzz corpus (translation-only mode, as in
 *               tests/fuzz/fuzz_translate.c), moved into the code area;
 *   mutated     translated blocks after edits: flipped bits, changed
 *               registers and displacements (template ones included),
 *               spliced, dropped, duplicated and swapped instructions,
 *               added and removed prefixes, retargeted branches.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "gates/ctx.h"
#include "gates/gate.h"
#include "gates/host.h"
#include "sandbox/guest_mem.h"
#include "translator/cache.h"
#include "translator/translator.h"
#include "translator/verifier.h"
#include "oracle.h"

const char *const kind_name[KIND_COUNT] = {
	[KIND_RANDOM] = "random", [KIND_TRANSLATED] = "translated", [KIND_MUTATED] = "mutated",
	[KIND_SELFTEST] = "self-test",
};

struct gen_stats gen_stats;

static uint64_t gate(bool miss)
{
	return (uint64_t)(uintptr_t)(miss ? gate_ibl_miss : gate_exit);
}

/* ---- verification ---------------------------------------------------------- */

static bool verifies(const uint8_t *code, size_t len, uint64_t rx, char *err, size_t errlen)
{
	char scratch[256];
	if (!err) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	return verify_block(code, len, rx, NULL, err, errlen);
}

bool block_accepted(const struct oracle_block *b, char *err, size_t errlen)
{
	if (!verifies(b->bytes, b->len, b->rx, err, errlen))
		return false;
	if (b->entry == 0)
		return true;
	/* The entry must be a place a branch may reach: the block with a jump
	 * to it appended passes only if so (branch targets are checked
	 * against the instruction starts the verifier found). */
	static uint8_t tmp[BLOCK_MAX_BYTES + 5];
	if (b->len + 5 > BLOCK_MAX_BYTES || b->entry >= b->len)
		return false;
	memcpy(tmp, b->bytes, b->len);
	tmp[b->len] = 0xe9;
	int32_t rel = (int32_t)((int64_t)b->entry - (int64_t)(b->len + 5));
	memcpy(tmp + b->len + 1, &rel, 4);
	if (!verifies(tmp, b->len + 5, b->rx, err, errlen)) {
		if (err)
			snprintf(err, errlen, "entry at +%zu is no instruction start a branch may reach", b->entry);
		return false;
	}
	return true;
}

/* Lays c out into b at b->rx and checks it. */
static bool finish(struct oracle_block *b, const struct code *c)
{
	b->len = code_layout(c, b->rx, b->bytes, sizeof(b->bytes), &b->entry);
	return b->len && block_accepted(b, NULL, 0);
}

/* ---- the translator's templates, built here from their description -------- */

static void slot_access(struct code *c, bool load, int reg, uint32_t slot)
{
	uint8_t t[9] = {0x65, (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), load ? 0x8b : 0x89,
	                (uint8_t)(0x04 | (reg & 7) << 3), 0x25};
	memcpy(t + 5, &slot, 4);
	code_add(c, t, sizeof(t));
	if (load && reg == 4)
		code_add(c, "\x89\xe4", 2);             /* rsp: re-confined */
}

static void ibl_save(struct code *c)
{
	slot_access(c, false, 11, CTX_IBL_R11);
}

static void ibl_count(struct code *c)
{
	slot_access(c, true, 11, CTX_IBL_COUNT);
	code_add(c, "\x4d\x8d\x5b\x01", 4);              /* lea r11, [r11+1] */
	slot_access(c, false, 11, CTX_IBL_COUNT);
	slot_access(c, true, 11, CTX_IBL_TARGET);
}

static void base_high(struct code *c, bool fs)
{
	uint8_t t[12] = {0x65, 0xc7, 0x04, 0x25};
	uint32_t slot = (fs ? CTX_FS_BASE : CTX_GS_BASE) + 4;
	memcpy(t + 4, &slot, 4);
	code_add(c, t, sizeof(t));
}

static void ibl_lookup(struct code *c)
{
	uint8_t t[IBL_TEMPLATE_LEN];
	ibl_template(t);
	code_add(c, t, 4);                               /* movzx r11d, r11w */
	code_add(c, t + 4, IBL_TEMPLATE_LEN - 4);        /* jmp gs:[r11*8 + CODE] */
}

/* movzx r11d, <any byte register> ; jmp gs:[r11*8 + switch table k] */
static void switch_lookup(struct rng *r, struct code *c)
{
	uint8_t t[SWITCH_TEMPLATE_LEN];
	switch_template(t, (int)rng_below(r, 16), (unsigned)rng_below(r, SWITCH_TABLES));
	code_add(c, t, 4);
	code_add(c, t + 4, SWITCH_TEMPLATE_LEN - 4);
}

static void exit_stub(struct code *c, uint32_t id)
{
	uint8_t t[12] = {0x65, 0xc7, 0x04, 0x25, CTX_EXIT_ID, 0, 0, 0};
	memcpy(t + 8, &id, 4);
	code_add(c, t, sizeof(t));
	code_add_branch(c, -1, -1, gate(false));
}

/* The IBL entry of a block for guest pc (translate.c): mov r11, rcx;
 * mov rcx, gs:[ibl_target]; lea rcx, [rcx - pc] (in two steps from 2 GiB
 * up); jrcxz hit; mov rcx, r11; jmp gate_ibl_miss; hit: mov rcx, r11 --
 * then mov r11, gs:[ibl_r11]. */
static void prologue(struct code *c, uint64_t pc)
{
	code_add(c, "\x49\x89\xcb", 3);                /* mov r11, rcx */
	slot_access(c, true, 1, CTX_IBL_TARGET);
	int64_t d = -(int64_t)pc;
	uint8_t lea[7] = {0x48, 0x8d, 0x89};
	if (d < INT32_MIN) {
		int32_t first = INT32_MIN;
		memcpy(lea + 3, &first, 4);
		code_add(c, lea, 7);
		d -= INT32_MIN;
	}
	int32_t rest = (int32_t)d;
	memcpy(lea + 3, &rest, 4);
	code_add(c, lea, 7);
	unsigned jrcxz = c->n;
	code_add(c, "\xe3\x08", 2);
	c->insn[jrcxz].rel_off = 1;
	c->insn[jrcxz].rel_size = 1;
	c->insn[jrcxz].target = (int32_t)jrcxz + 3;
	code_add(c, "\x4c\x89\xd9", 3);                /* mov rcx, r11 */
	code_add_branch(c, -1, -1, gate(true));
	code_add(c, "\x4c\x89\xd9", 3);
	slot_access(c, true, 11, CTX_IBL_R11);
}

/* ---- kind a: one instruction at a time ------------------------------------- */

/* The FPU-IP scrub the verifier wants after fxsave/fnstenv/fnsave:
 * mov [same operand + field], 0 of the field's size. */
static bool fp_scrub(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops, const uint8_t *bytes,
                     struct code *unit)
{
	unsigned off, size;
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXSAVE64: off = 8, size = 8; break;
	case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FNSAVE:
		off = in->operand_width == 16 ? 6 : 12;
		size = in->operand_width == 16 ? 4 : 8;
		break;
	default:
		return true;
	}
	const ZydisDecodedOperand *m = &ops[0];
	ZydisEncoderRequest req;
	memset(&req, 0, sizeof(req));
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	req.mnemonic = ZYDIS_MNEMONIC_MOV;
	req.operand_count = 2;
	req.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	req.operands[0].type = ZYDIS_OPERAND_TYPE_MEMORY;
	req.operands[0].mem.base = m->mem.base;
	req.operands[0].mem.index = m->mem.index;
	req.operands[0].mem.scale = m->mem.index == ZYDIS_REGISTER_NONE ? 0 : m->mem.scale;
	req.operands[0].mem.displacement = m->mem.disp.value + off;
	req.operands[0].mem.size = (ZyanU16)size;
	req.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	uint8_t out[16];
	size_t n = 0;
	for (unsigned i = 0; i < in->raw.prefix_count; i++) {
		uint8_t p = bytes[i];
		if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e)
			out[n++] = p;                          /* the same segment */
	}
	out[n++] = 0x67;
	ZyanUSize len = sizeof(out) - n;
	if (ZYAN_FAILED(ZydisEncoderEncodeInstruction(&req, out + n, &len)))
		return false;
	ZydisDecodedInstruction check;
	/* Zydis may have put the 0x67 in itself: drop ours then. */
	if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(oracle_decoder(), NULL, out + n, len, &check)) &&
	    check.address_width == 32) {
		memmove(out + n - 1, out + n, len);
		n--;
	}
	return code_add(unit, out, n + len);
}

/* A unit of one generated instruction (and the companions the verifier
 * asks for), accepted by the verifier as a block of its own at rx. */
static bool unit_accepted(const struct code *unit, uint64_t rx)
{
	static struct code probe;
	static uint8_t bytes[BLOCK_MAX_BYTES];
	probe = *unit;
	probe.entry = -1;
	if (!code_add_branch(&probe, -1, -1, gate(false)))
		return false;
	size_t entry;
	size_t n = code_layout(&probe, rx, bytes, sizeof(bytes), &entry);
	return n && verifies(bytes, n, rx, NULL, 0);
}

static bool random_unit(struct rng *r, uint64_t rx, struct code *unit)
{
	uint8_t raw[15];
	gen_insn(r, FLAVOR_TRANSLATED, raw);
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	gen_stats.insn_tried++;
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(oracle_decoder(), raw, sizeof(raw), &in, ops)))
		return false;
	unit->n = 0;
	unit->entry = -1;
	bool popf = in.mnemonic == ZYDIS_MNEMONIC_POPF || in.mnemonic == ZYDIS_MNEMONIC_POPFQ;
	if (popf) {
		/* and qword/word [esp], mask without TF and AC */
		static const uint8_t and64[] = {0x67, 0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xfb, 0xff};
		static const uint8_t and16[] = {0x67, 0x66, 0x81, 0x24, 0x24, 0xff, 0xfe};
		if (in.operand_width == 16)
			code_add(unit, and16, sizeof(and16));
		else
			code_add(unit, and64, sizeof(and64));
	}
	code_add(unit, raw, in.length);
	if (!fp_scrub(&in, ops, raw, unit))
		return false;
	if (!unit_accepted(unit, rx)) {
		code_add(unit, "\x89\xe4", 2);            /* perhaps it writes rsp */
		if (!unit_accepted(unit, rx))
			return false;
	}
	gen_stats.insn_accepted++;
	return true;
}

static void append(struct code *c, const struct code *unit)
{
	for (unsigned i = 0; i < unit->n && c->n < CODE_MAX_INSNS; i++)
		c->insn[c->n++] = unit->insn[i];
}

static void template_unit(struct rng *r, struct code *c)
{
	static const struct { bool load; uint32_t slot; } rules[] = {
		{false, CTX_SEG_SCRATCH}, {true, CTX_SEG_SCRATCH}, {true, CTX_FS_BASE}, {true, CTX_GS_BASE},
		{false, CTX_FS_BASE}, {false, CTX_GS_BASE},
	};
	switch (rng_below(r, 5)) {
	case 0: case 1: {
		unsigned k = (unsigned)rng_below(r, sizeof(rules) / sizeof(rules[0]));
		slot_access(c, rules[k].load, (int)rng_below(r, 16), rules[k].slot);
		break;
	}
	case 2: slot_access(c, rng_chance(r, 50), 11, CTX_IBL_R11); break;   /* ibl save, r11_home */
	case 3: ibl_count(c); break;
	default: base_high(c, rng_chance(r, 50)); break;
	}
}

static void block_end(struct rng *r, struct code *c)
{
	unsigned k = (unsigned)rng_below(r, 100);
	if (k < 60) {
		code_add_branch(c, -1, -1, gate(false));
	} else if (k < 80) {
		exit_stub(c, (uint32_t)rng_next(r));
	} else if (k < 88) {
		if (rng_chance(r, 50))
			ibl_save(c);
		switch_lookup(r, c);
	} else {
		if (rng_chance(r, 50))
			ibl_save(c);
		if (rng_chance(r, 80))
			slot_access(c, false, 11, CTX_IBL_TARGET);
		if (rng_chance(r, 20))
			ibl_count(c);
		ibl_lookup(c);
	}
}

/* Puts a prefix byte in front of an instruction. */
static void mutate_prefix_byte(struct insn *x, uint8_t prefix)
{
	if (x->len >= 15)
		return;
	memmove(x->bytes + 1, x->bytes, x->len);
	x->bytes[0] = prefix;
	x->len++;
	if (x->rel_size)
		x->rel_off++;
}

/* Forward branches between units (now and then a backward one: a loop,
 * which the timeout ends), or straight to a gate.  starts[] holds the
 * first instruction of each unit and, last, of the block end. */
static void add_branches(struct rng *r, struct code *c, unsigned *starts, unsigned nstarts)
{
	unsigned n = (unsigned)rng_below(r, 4);
	for (unsigned i = 0; i < n && nstarts > 1; i++) {
		unsigned from = (unsigned)rng_below(r, nstarts - 1);
		unsigned to = from + 1 + (unsigned)rng_below(r, nstarts - 1 - from);
		if (rng_chance(r, 2))
			to = (unsigned)rng_below(r, from + 1);
		static struct code br;
		br.n = 0;
		int cond = rng_chance(r, 70) ? (int)rng_below(r, 16) : -1;
		/* the branch goes in front of unit `from`: later units move by one */
		int target = to > from ? (int)starts[to] + 1 : (int)starts[to];
		if (rng_chance(r, 15)) {
			code_add_branch(&br, cond, -1, gate(rng_chance(r, 30)));
		} else if (rng_chance(r, 15)) {
			/* loop rel8, as a switch's guard has it (translate.c); out of
			 * range, the layout fails and the block is not used */
			code_add(&br, "\xe2\x00", 2);
			br.insn[0].rel_off = 1;
			br.insn[0].rel_size = 1;
			br.insn[0].target = target;
		} else {
			code_add_branch(&br, cond, target, 0);
		}
		if (rng_chance(r, 4))
			mutate_prefix_byte(&br.insn[0], 0x66);  /* operand size: vendors differ */
		code_insert(c, starts[from], &br.insn[0]);
		for (unsigned j = from + 1; j < nstarts; j++)
			starts[j]++;
	}
}

bool gen_random_block(struct rng *r, struct oracle_block *b)
{
	static struct code c, unit;
	unsigned starts[64];
	unsigned nstarts = 0;
	b->kind = KIND_RANDOM;
	b->origin = "random instructions";
	b->rx = env.code_rx + rng_below(r, 64);
	b->guest_pc = 0;
	c.n = 0;
	c.entry = -1;
	if (rng_chance(r, 10)) {
		b->guest_pc = rng_chance(r, 50) ? 0x400000 + rng_below(r, 4096) : rng_below(r, 1ull << 32);
		prologue(&c, b->guest_pc);
	}
	unsigned units = 1 + (unsigned)rng_below(r, 24);
	for (unsigned u = 0; u < units && nstarts < 63; u++) {
		unsigned at = c.n;
		if (rng_chance(r, 12)) {
			template_unit(r, &c);
		} else {
			bool ok = false;
			for (int tries = 0; tries < 12 && !ok; tries++)
				ok = random_unit(r, b->rx, &unit);
			if (!ok)
				continue;
			append(&c, &unit);
		}
		if (c.n > at)
			starts[nstarts++] = at;
	}
	starts[nstarts] = c.n;                     /* the block end is a target too */
	block_end(r, &c);
	add_branches(r, &c, starts, nstarts + 1);
	if (nstarts > 0 && rng_chance(r, 15))
		c.entry = (int)starts[rng_below(r, nstarts)];
	if (finish(b, &c))
		return true;
	c.entry = -1;
	return finish(b, &c);
}

/* ---- kind b: the translator's output --------------------------------------- */

static struct guest_mem gm;
static struct translator tr;
static struct rt_ctx *tr_ctx;

struct corpus_file { uint8_t *data; size_t len; };
static struct corpus_file corpus[256];
static unsigned ncorpus;

static void load_corpus(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && ncorpus < sizeof(corpus) / sizeof(corpus[0])) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static uint8_t tmp[65536];
		size_t n = fread(tmp, 1, sizeof(tmp), f);
		fclose(f);
		uint8_t *buf = n >= 16 ? malloc(n) : NULL;
		if (!buf)
			continue;
		memcpy(buf, tmp, n);
		corpus[ncorpus].data = buf;
		corpus[ncorpus++].len = n;
	}
	closedir(d);
	/* readdir order is the file system's: sort for determinism */
	for (unsigned i = 1; i < ncorpus; i++)
		for (unsigned j = i; j > 0 && (corpus[j].len < corpus[j - 1].len ||
		                               (corpus[j].len == corpus[j - 1].len &&
		                                memcmp(corpus[j].data, corpus[j - 1].data, corpus[j].len) < 0)); j--) {
			struct corpus_file t = corpus[j];
			corpus[j] = corpus[j - 1];
			corpus[j - 1] = t;
		}
}

static uint64_t *tr_ibl;

static int translator_init(char *err, size_t errlen)
{
	tr_ctx = ctx_create(&tr_ibl);
	if (!tr_ctx) {
		snprintf(err, errlen, "cannot create the translator's context");
		return -1;
	}
	struct tr_config cfg = {.cache_size = 256u << 10, .verify = true, .measure = false};
	return tr_init(&tr, &gm, tr_ctx, tr_ibl, &cfg, err, errlen);
}

int blocks_init(const char *corpus_dir, char *err, size_t errlen)
{
	char why[256];
	if (host_check(why, sizeof(why)))
		fprintf(stderr, "oracle: note: %s\n", why);
	memset(&gm, 0, sizeof(gm));
	gm.fd = -1;
	gm.size = GUEST_SPACE;
	gm.page = calloc(gm.size / GUEST_PAGE, 1);
	if (!gm.page) {
		snprintf(err, errlen, "cannot allocate the translator's page table");
		return -1;
	}
	load_corpus(corpus_dir);
	return translator_init(err, errlen);
}

/* The code cache and the context are shared memory (memfds): after a fork
 * the workers would translate into the same bytes.  Each gets its own, at
 * the same addresses as before (unmapped first), so blocks do not depend
 * on the worker. */
int blocks_worker_init(char *err, size_t errlen)
{
	tr_destroy(&tr);
	ctx_destroy(tr_ctx, tr_ibl);
	return translator_init(err, errlen);
}

/* Guest code: generated instructions ending in a branch or gate, or a
 * slice of a corpus file (real compiled code). */
static size_t guest_code(struct rng *r, uint8_t *out, size_t cap)
{
	if (ncorpus && rng_chance(r, 25)) {
		const struct corpus_file *f = &corpus[rng_below(r, ncorpus)];
		size_t n = f->len < cap ? f->len : cap;
		size_t start = rng_below(r, f->len - n + 1);
		memcpy(out, f->data + start, n);
		gen_stats.corpus_blocks++;
		return n;
	}
	size_t n = 0;
	unsigned count = 1 + (unsigned)rng_below(r, 30);
	for (unsigned i = 0; i < count && n + 15 <= cap; i++) {
		uint8_t raw[15];
		size_t chosen = gen_insn(r, FLAVOR_GUEST, raw);
		ZydisDecodedInstruction in;
		size_t len = ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(oracle_decoder(), NULL, raw, 15, &in)) ? in.length
		             : chosen;
		memcpy(out + n, raw, len);
		n += len;
	}
	if (n + 15 <= cap) {
		uint8_t raw[15];
		gen_guest_block_end(r, raw);
		memcpy(out + n, raw, 15);
		n += 15;
	}
	return n;
}

static uint64_t guest_pc(struct rng *r, size_t len)
{
	unsigned k = (unsigned)rng_below(r, 100);
	if (k < 45)
		return 0x400000 + rng_below(r, 4096);
	if (k < 65)
		return GUEST_LOWEST + rng_below(r, GUEST_SPACE - GUEST_LOWEST - 2 * GUEST_PAGE - len);
	if (k < 80)
		return 0x80000000ull - rng_below(r, 128);
	if (k < 90)
		return GUEST_SPACE - len;                  /* ending at the end of guest memory */
	return page_down(GUEST_LOWEST + rng_below(r, GUEST_SPACE - GUEST_LOWEST - 2 * GUEST_PAGE - len));
}

/* Every block starts from the same translator state (the exit ids in its
 * stubs count from the first), so that any block can be replayed alone.
 * Invalidating the pages drops what this block added to the lookup
 * structures; the counters then start over.  (tr_cache_reset does the same
 * but clears a megabyte of tables every time.) */
static void forget(uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p < hi; p += GUEST_PAGE) {
		tr_invalidate_page(&tr, p);
		gm.page[p / GUEST_PAGE] = 0;
	}
	tr.cache_used = tr.reserved;
	tr.nblocks = 1;
	tr.nexits = EXIT_FIRST_STUB;
	tr.nmap = 0;
	tr.nprefs = 1;
}

/* The translator's output refused by the verifier: not a confinement
 * problem (it never runs), but the guest would stop with an internal
 * error.  The guest bytes and the refused block, for a report. */
static void refused_translation(uint64_t pc, const uint8_t *code, size_t len, const char *err)
{
	fprintf(stderr, "oracle: note: the verifier refused the translation of guest code at 0x%lx: %s\n  guest bytes:",
	        pc, err);
	for (size_t i = 0; i < len && i < 48; i++)
		fprintf(stderr, " %02x", code[i]);
	fprintf(stderr, "\n");
	const struct block *blk = &tr.blocks[tr.nblocks - 1];
	if (blk->pc == pc && blk->end > blk->ibl_entry)
		disassemble(stderr, tr.rw + blk->ibl_entry, blk->end - blk->ibl_entry,
		            (uint64_t)(uintptr_t)(tr.rx + blk->ibl_entry), blk->entry - blk->ibl_entry, 0);
}

/* Translates the code at pc (translation only) into c; false when the
 * translator or the verifier refused. */
static bool translate(struct rng *r, const uint8_t *code, size_t len, uint64_t pc, struct code *c)
{
	uint64_t lo = page_down(pc), hi = page_up(pc + len);
	static uint8_t buf[4 * GUEST_PAGE];
	if (hi - lo > sizeof(buf))
		return false;
	for (size_t i = 0; i < hi - lo; i++)
		buf[i] = (uint8_t)rng_next(r);
	memcpy(buf + (pc - lo), code, len);
	gm.code_view = (uintptr_t)buf - lo;
	for (uint64_t p = lo; p < hi; p += GUEST_PAGE)
		gm.page[p / GUEST_PAGE] = GP_MAPPED | GP_R | GP_X;
	tr.measure = rng_chance(r, 20);
	char err[512];
	uint32_t id = tr_translate_only(&tr, pc, err, sizeof(err));
	bool ok = id != 0;
	if (!ok && gen_stats.translated_rejected++ < 3)
		refused_translation(pc, code, len, err);
	if (ok) {
		const struct block *blk = &tr.blocks[id];
		size_t entry = rng_chance(r, 60) ? blk->entry - blk->ibl_entry : 0;
		ok = code_decode(c, tr.rw + blk->ibl_entry, blk->end - blk->ibl_entry,
		                 (uint64_t)(uintptr_t)(tr.rx + blk->ibl_entry), entry);
	}
	forget(lo, hi);
	gm.code_view = 0;
	return ok;
}

static bool translated_code(struct rng *r, struct oracle_block *b, struct code *c)
{
	static uint8_t code[1024];
	size_t len = guest_code(r, code, sizeof(code));
	uint64_t pc = guest_pc(r, len);
	size_t skip = rng_chance(r, 15) ? rng_below(r, len) : 0;   /* from the middle of an instruction */
	b->rx = env.code_rx + rng_below(r, 64);
	b->guest_pc = pc + skip;
	return translate(r, code + skip, len - skip, pc + skip, c);
}

bool gen_translated_block(struct rng *r, struct oracle_block *b)
{
	static struct code c;
	b->kind = KIND_TRANSLATED;
	b->origin = "translator output";
	return translated_code(r, b, &c) && finish(b, &c);
}

/* ---- kind c: mutations ------------------------------------------------------ */

static unsigned pick_insn(struct rng *r, const struct code *c)
{
	return (unsigned)rng_below(r, c->n);
}

/* Rewrites one field of a decoded instruction: ModRM, SIB, displacement
 * or immediate. */
static void mutate_field(struct rng *r, struct insn *x)
{
	ZydisDecodedInstruction in;
	if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(oracle_decoder(), NULL, x->bytes, x->len, &in)))
		return;
	unsigned k = (unsigned)rng_below(r, 4);
	if (k == 0 && (in.attributes & ZYDIS_ATTRIB_HAS_MODRM)) {
		x->bytes[in.raw.modrm.offset] ^= (uint8_t)(rng_chance(r, 50) ? rng_below(r, 8) << 3 : rng_below(r, 8));
	} else if (k == 1 && (in.attributes & ZYDIS_ATTRIB_HAS_SIB)) {
		x->bytes[in.raw.modrm.offset + 1] = (uint8_t)rng_next(r);
	} else if (k == 2 && in.raw.disp.size) {
		static const uint32_t values[] = {0, 8, 0x1000, 0x2000, 0x7fffffff, 0x80000000, 0xffffffff,
		                                  CTX_IBL_R11, CTX_EXIT_ID, CTX_FS_BASE, CTX_GS_BASE, CTX_XSAVE};
		uint32_t v = rng_chance(r, 60) ? values[rng_below(r, sizeof(values) / sizeof(values[0]))]
		                               : (uint32_t)rng_next(r);
		memcpy(x->bytes + in.raw.disp.offset, &v, in.raw.disp.size / 8);
	} else if (in.raw.imm[0].size && !in.raw.imm[0].is_relative) {
		uint64_t v = rng_next(r);
		memcpy(x->bytes + in.raw.imm[0].offset, &v, in.raw.imm[0].size / 8);
	}
}

/* A template-aware edit: the register and slot of a gs: access. */
static void mutate_slot(struct rng *r, struct code *c)
{
	for (int tries = 0; tries < 8; tries++) {
		struct insn *x = &c->insn[pick_insn(r, c)];
		if (x->bytes[0] != 0x65 || x->len < 9)
			continue;
		switch (rng_below(r, 3)) {
		case 0: x->bytes[1] ^= 0x04; break;                               /* REX.R */
		case 1: x->bytes[3] ^= (uint8_t)(rng_below(r, 8) << 3); break;     /* ModRM.reg */
		default: {
			uint32_t slot = (uint32_t)rng_below(r, 0x1000 / 8 + 2) * 8;
			if (x->len >= 9 && x->bytes[4] == 0x25)
				memcpy(x->bytes + 5, &slot, 4);
			else
				memcpy(x->bytes + 4, &slot, 4);
		}
		}
		return;
	}
}

static void mutate_prefix(struct rng *r, struct insn *x, bool add)
{
	static const uint8_t prefixes[] = {0x67, 0x65, 0x64, 0x2e, 0x3e, 0x26, 0x36, 0x66, 0xf2, 0xf3, 0xf0, 0x48, 0x41};
	if (add) {
		mutate_prefix_byte(x, prefixes[rng_below(r, sizeof(prefixes))]);
	} else if (!add && x->len > 1 && !x->rel_size) {
		unsigned at = (unsigned)rng_below(r, x->len - 1);
		memmove(x->bytes + at, x->bytes + at + 1, x->len - at - 1u);
		x->len--;
	}
}

static void mutate_once(struct rng *r, struct code *c, uint64_t rx)
{
	static struct code unit;
	if (c->n == 0)
		return;
	struct insn *x = &c->insn[pick_insn(r, c)];
	switch (rng_below(r, 13)) {
	case 0: x->bytes[rng_below(r, x->len)] ^= (uint8_t)(1u << rng_below(r, 8)); break;
	case 1: x->bytes[rng_below(r, x->len)] = (uint8_t)rng_next(r); break;
	case 2: case 3: mutate_field(r, x); break;
	case 4: case 5: mutate_slot(r, c); break;
	case 6:
		for (int tries = 0; tries < 12; tries++)
			if (random_unit(r, rx, &unit)) {
				unsigned at = (unsigned)rng_below(r, c->n + 1);
				for (unsigned i = 0; i < unit.n; i++)
					code_insert(c, at + i, &unit.insn[i]);
				break;
			}
		break;
	case 7: code_delete(c, pick_insn(r, c)); break;
	case 8: {
		unsigned at = pick_insn(r, c);
		struct insn copy = c->insn[at];
		code_insert(c, at, &copy);
		break;
	}
	case 9: {
		unsigned at = pick_insn(r, c);
		if (at + 1 < c->n) {
			struct insn t = c->insn[at];
			code_delete(c, at);
			code_insert(c, at + 1, &t);
		}
		break;
	}
	case 10: mutate_prefix(r, x, true); break;
	case 11: mutate_prefix(r, x, false); break;
	default:
		if (x->rel_size && x->target >= 0)
			x->target = (int32_t)pick_insn(r, c), x->target_delta = 0;
		else if (x->rel_size)
			x->target_abs = gate(rng_chance(r, 50));
		break;
	}
}

bool gen_mutated_block(struct rng *r, struct oracle_block *b)
{
	static struct code orig, c;
	b->kind = KIND_MUTATED;
	b->origin = "mutated translator output";
	if (!translated_code(r, b, &orig))
		return false;
	for (int attempt = 0; attempt < 40; attempt++) {
		c = orig;
		unsigned n = 1 + (unsigned)rng_below(r, 3);
		for (unsigned i = 0; i < n; i++)
			mutate_once(r, &c, b->rx);
		gen_stats.mutants_tried++;
		b->len = code_layout(&c, b->rx, b->bytes, sizeof(b->bytes), &b->entry);
		if (!b->len)
			continue;
		if (rng_chance(r, 20))
			b->bytes[rng_below(r, b->len)] ^= (uint8_t)(1u << rng_below(r, 8));
		if (block_accepted(b, NULL, 0) || (b->entry && (b->entry = 0, block_accepted(b, NULL, 0)))) {
			gen_stats.mutants_accepted++;
			return true;
		}
	}
	return false;
}
