/*
 * libFuzzer target for the translator: the input is guest code, and every
 * block translated from it must pass the verifier.
 *
 * The translator runs in its translation-only mode (guest_mem.h): no
 * sandbox, no backing memory (gm.fd = -1, protections are bookkeeping), and
 * instruction bytes are read through gm.code_view from a buffer that holds
 * exactly the executable guest pages, so ASan catches any fetch outside
 * them.  Nothing translated is ever run.
 *
 * The guest's registers in the context, which the translator reads for a
 * switch whose table base is set before its block, all hold the code's
 * start.
 *
 * Input layout (the first and last bytes are code too):
 *   data[0]      bits 0-1: where the code lies in the guest
 *                   0 at 0x400000, page-aligned start
 *                   1 ending at a page end (the next instruction fetch runs
 *                     into the page after)
 *                   2 starting 64 bytes below 2 GiB (return addresses and
 *                     rip-relative targets on both sides of 0x80000000)
 *                   3 ending exactly at 4 GiB, the end of guest memory
 *                bits 2-3: the page after the code
 *                   0 unmapped, 1 mapped rw- (not executable),
 *                   2 mapped r-x (zeros), 3 mapped r-x and, when the code
 *                     spans 2+ pages, its second page made non-executable
 *   data[1..5]   offsets of further block starts (jumps into the middle
 *                of instructions); offset 0 is always translated
 *   data[6..7]   parameters of the wild pc and of the invalidated page
 *   data[len-1]  bit 0: IBL counters on (measure: the other IBL variant)
 *                bit 1: follow direct branch exits: translate the target
 *                       and link the exit (tr_take_branch)
 *                bit 2: enter every block in the IBL table (tr_indirect),
 *                       and more of the first one's table slot (its chain)
 *                bit 3: invalidate one code page at the end
 *                bit 4: also translate one "wild" pc: unmapped, beyond
 *                       guest memory or near 2^64 (indirect branches and
 *                       ELF entry points can name any pc)
 *                bits 5 and 6 both: move the cache fill level close to
 *                       the end, so a flush happens within this input
 *
 * One translator serves all inputs (256 KiB cache: flushes every few
 * hundred inputs).  Each input's code replaces the previous one's the way an
 * unmap and a new mapping would: the old pages' translations are
 * invalidated (tr_invalidate_page), which also exercises unlinking.
 *
 * A failure aborts with the guest offset, the verifier's reason, the guest
 * bytes and a disassembly of the rejected block.  Besides the verifier,
 * some cheap invariants of the cache bookkeeping are checked (check_block,
 * exits, links, IBL entries, invalidation).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <Zydis/Zydis.h>

#include "gates/ctx.h"
#include "gates/gate.h"
#include "sandbox/guest_mem.h"
#include "translator/cache.h"
#include "translator/translator.h"
#include "translator/verifier.h"

#define CODE_BASE   0x400000ull
#define CODE_MAX    (3 * GUEST_PAGE)       /* input bytes used as code */
#define CACHE_SIZE  (256u << 10)           /* small: flushes happen often */
#define MAX_PCS     8
#define MAX_LINKS   16

static struct guest_mem gm;
static struct rt_ctx *ctx;
static struct translator tr;

/* Guest pages whose bits this input set, reset before the next one. */
static uint64_t touched_lo, touched_hi;

/* The input being run, for failure reports. */
static uint64_t cur_code_start;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\nFUZZ FAILURE: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* Printed at exit, for run statistics (run.sh shows it). */
static void print_stats(void)
{
	fprintf(stderr, "fuzz_translate: %lu blocks, %lu guest instructions, %lu flushes, %lu links, "
	        "%lu invalidations, %lu switches\n", tr.stats.blocks, tr.stats.guest_insns, tr.stats.flushes,
	        tr.stats.links, tr.stats.invalidations, tr.stats.switches);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	memset(&gm, 0, sizeof(gm));
	gm.fd = -1;                        /* translation only: no backing memory */
	gm.size = GUEST_SPACE;             /* the largest guest: pcs up to 4 GiB */
	gm.page = calloc(gm.size / GUEST_PAGE, 1);  /* exact size: ASan guards its end */
	uint64_t *ibl;
	ctx = ctx_create(&ibl);
	if (!gm.page || !ctx)
		die("cannot allocate the guest page table or the runtime context");
	struct tr_config cfg = {.cache_size = CACHE_SIZE, .verify = true, .measure = false};
	if (tr_init(&tr, &gm, ctx, ibl, &cfg, err, sizeof(err)))
		die("tr_init: %s", err);
	atexit(print_stats);
	return 0;
}

static void hex(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

/* Prints the translated code of block `id` (rejected or not), one
 * instruction a line. */
static void disassemble_block(uint32_t id)
{
	const struct block *b = &tr.blocks[id];
	if (b->end <= b->ibl_entry || b->end > tr.cache_size)
		return;
	const uint8_t *code = tr.rw + b->ibl_entry;
	size_t len = b->end - b->ibl_entry;
	uint64_t rx = (uint64_t)(uintptr_t)(tr.rx + b->ibl_entry);
	ZydisDecoder dec;
	ZydisFormatter fmt;
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
	fprintf(stderr, "translated block (host rx 0x%lx, body at +%u, entry at +%u, %zu bytes):\n", rx,
	        b->body - b->ibl_entry, b->entry - b->ibl_entry, len);
	for (size_t off = 0; off < len;) {
		ZydisDecodedInstruction in;
		ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
		char text[128] = "(undecodable)";
		size_t n = 1;
		if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, len - off, &in, ops))) {
			ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, text,
			                                sizeof(text), rx + off, ZYAN_NULL);
			n = in.length;
		}
		char bytes[64] = "";
		for (size_t i = 0; i < n && i < 15; i++)
			snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, "%02x ", code[off + i]);
		fprintf(stderr, "  %4zu: %-45s %s\n", off, bytes, text);
		off += n;
	}
}

/* tr_translate_only, with a failure report when the block is rejected. */
static uint32_t translate(uint64_t pc, const char *why)
{
	char err[512] = "";
	uint32_t before = tr.nblocks;
	uint64_t flushes = tr.stats.flushes;
	uint32_t id = tr_translate_only(&tr, pc, err, sizeof(err));
	if (id)
		return id;
	/* err: "verifier: ..." for a rejection, or why the block was not built */
	fprintf(stderr, "\nFUZZ FAILURE: block at guest offset %ld (pc 0x%lx, %s) rejected: %s\n",
	        (long)(pc - cur_code_start), pc, why, err);
	if (pc >= cur_code_start && pc < cur_code_start + CODE_MAX) {
		const uint8_t *g = (const uint8_t *)(gm.code_view + pc);
		size_t n = 0;
		while (n < 64 && pc + n < gm.size &&
		       (gm.page[(pc + n) / GUEST_PAGE] & (GP_MAPPED | GP_X)) == (GP_MAPPED | GP_X))
			n++;
		hex("guest bytes from there", g, n);
	}
	/* the rejected block was the last one allocated (after a flush: id 1) */
	uint32_t rej = tr.stats.flushes != flushes ? 1 : before;
	if (rej < tr.nblocks && tr.blocks[rej].pc == pc)
		disassemble_block(rej);
	abort();
}

/* ---- extra coverage: which instruction forms were translated ----------- */

/* The decoder library is not instrumented, so libFuzzer alone cannot tell a
 * new instruction form from an old one.  These counters (libFuzzer's extra
 * counters section) give it one feature per form: mnemonic, encoding,
 * widths, kind of memory operand and segment, hashed to 16 bits. */
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t form_counters[1 << 16];

static void note_forms(uint64_t pc)
{
	static ZydisDecoder dec;
	static bool ready;
	if (!ready) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ready = true;
	}
	for (unsigned n = 0; n < TR_BLOCK_MAX_INSNS && pc < gm.size; n++) {
		size_t avail = 0;
		while (avail < 15 && pc + avail < gm.size &&
		       (gm.page[(pc + avail) / GUEST_PAGE] & (GP_MAPPED | GP_X)) == (GP_MAPPED | GP_X))
			avail++;
		ZydisDecodedInstruction in;
		ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
		if (!avail || ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, (const uint8_t *)(gm.code_view + pc),
		                                                  avail, &in, op)))
			return;
		uint64_t key = (uint64_t)in.mnemonic | (uint64_t)in.encoding << 12 |
		               (uint64_t)in.address_width << 16 | (uint64_t)in.operand_width << 24;
		for (unsigned i = 0; i < in.operand_count; i++) {
			if (op[i].type != ZYDIS_OPERAND_TYPE_MEMORY)
				continue;
			unsigned kind = op[i].mem.base == ZYDIS_REGISTER_RIP ? 1
			                : op[i].mem.base == ZYDIS_REGISTER_EIP ? 2
			                : op[i].mem.base == ZYDIS_REGISTER_RSP ? 3
			                : op[i].mem.base == ZYDIS_REGISTER_NONE ? 4 : 5;
			key = key * 31 + (kind | (uint64_t)op[i].mem.type << 3 | (uint64_t)op[i].visibility << 6 |
			                  (uint64_t)(op[i].mem.segment - ZYDIS_REGISTER_ES) << 8 |
			                  (uint64_t)(op[i].mem.index != ZYDIS_REGISTER_NONE) << 12 |
			                  (uint64_t)((uint64_t)op[i].mem.disp.value >= 0x80000000ull) << 13);
		}
		uint16_t h = (uint16_t)((key * 0x9e3779b97f4a7c15ull) >> 48);
		if (form_counters[h] < 255)
			form_counters[h]++;
		ZydisInstructionCategory c = in.meta.category;
		if (c == ZYDIS_CATEGORY_COND_BR || c == ZYDIS_CATEGORY_UNCOND_BR || c == ZYDIS_CATEGORY_CALL ||
		    c == ZYDIS_CATEGORY_RET || c == ZYDIS_CATEGORY_SYSCALL)
			return;
		pc += in.length;
	}
}

/* ---- invariants of the bookkeeping (cheap; beyond the verifier) --------- */

static int32_t rel32_at(uint32_t at)
{
	int32_t v;
	memcpy(&v, tr.rw + at, 4);
	return v;
}

/* A block as built (before any link or chain patches its jumps) passes the
 * verifier without its fast path too (translator/quick_decode.h), which
 * covers the forms in the order and company the translator emits them. */
static void full_check(uint32_t id, uint64_t pc)
{
	const struct block *b = &tr.blocks[id];
	char err[256];
	verifier_fast_path(false);
	bool ok = verify_block(tr.rw + b->start, b->end - b->start, (uint64_t)(uintptr_t)tr.rx + b->start, NULL, err,
	                       sizeof(err));
	verifier_fast_path(true);
	if (!ok)
		die("block %u for pc 0x%lx: refused without the verifier's fast path: %s", id, pc, err);
}

static void check_block(uint32_t id, uint64_t pc)
{
	const struct block *b = &tr.blocks[id];
	if (!b->live || b->pc != pc)
		die("block %u for pc 0x%lx: live %d, pc 0x%lx", id, pc, b->live, b->pc);
	if (!(b->start <= b->ibl_entry && b->ibl_entry < b->body && b->body < b->end && b->ibl_entry < b->entry && b->entry < b->end &&
	      b->end <= tr.cache_used && tr.cache_used <= tr.cache_size))
		die("block %u for pc 0x%lx: cache offsets %u/%u/%u/%u, used %zu", id, pc, b->ibl_entry, b->body,
		    b->entry, b->end, tr.cache_used);
	/* the first instruction is aligned, by int3 in front of the block
	 * (blocks start on 32 bytes, padding included) */
	if (b->body % 32)
		die("block %u for pc 0x%lx: first instruction at %u is not 32-byte aligned", id, pc, b->body);
	for (uint32_t p = b->start & ~31u; p < b->start; p++)
		if (tr.rw[p] != 0xcc)
			die("block %u for pc 0x%lx: byte %u of the padding before its first byte is 0x%02x, not int3", id,
			    pc, p, tr.rw[p]);
	/* where the block keeps r11 in its slot, the slot entry is the body and
	 * the direct entry, after the stubs, stores r11 and jumps to the body;
	 * else the slot entry is the prologue's load of r11 right before the
	 * body, which is the direct entry */
	static const uint8_t load_r11[] = {0x65, 0x4c, 0x8b, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0};
	static const uint8_t store_r11[] = {0x65, 0x4c, 0x89, 0x1c, 0x25, CTX_IBL_R11, 0, 0, 0};
	bool slot_ok = b->r11_idle ? b->slot_entry == b->body && b->entry + 14 == b->end &&
	                                     !memcmp(tr.rw + b->entry, store_r11, 9) && tr.rw[b->entry + 9] == 0xe9 &&
	                                     (uint32_t)(b->entry + 14 + rel32_at(b->entry + 10)) == b->body
	                           : b->slot_entry + 9 == b->entry && b->entry == b->body &&
	                                     !memcmp(tr.rw + b->slot_entry, load_r11, 9);
	if (!slot_ok)
		die("block %u for pc 0x%lx: slot entry %u, direct entry %u and body %u do not fit (r11 idle %d)", id,
		    pc, b->slot_entry, b->entry, b->body, b->r11_idle);
	if (tr_find(&tr, pc) != id)
		die("block %u for pc 0x%lx: tr_find gives %u", id, pc, tr_find(&tr, pc));
	uint64_t g = 0;
	/* (not necessarily pc: instructions that emit nothing map nowhere, so
	 * the entry may belong to a later instruction, or to the fetch fault
	 * right after the block's bytes) */
	if (!tr_guest_pc(&tr, (uint64_t)(uintptr_t)(tr.rx + b->body), &g) || g < pc ||
	    (g > pc && g > b->pc_end))
		die("block %u for pc 0x%lx: tr_guest_pc(entry) gives 0x%lx", id, pc, g);
}

/* A new switch's table: all of it names the switch's stub, which the
 * verified block holds, and the block watches the guest's table (the
 * entries its index can reach: at most 256 of 4 or 8 bytes, at least one). */
static void check_switch(uint32_t x)
{
	const struct exit *ex = tr_exit(&tr, x);
	const struct block *b = &tr.blocks[ex->block];
	if (ex->patch >= SWITCH_TABLES || ex->stub < b->start || ex->stub >= b->end)
		die("switch exit %u: table %u, stub 0x%x outside its block", x, ex->patch, ex->stub);
	for (unsigned i = 0; i < SWITCH_ENTRIES; i++)
		if (ctx->switch_code[ex->patch][i] != (uint64_t)(uintptr_t)(tr.rx + ex->stub))
			die("switch exit %u: entry %u of table %u does not name its stub", x, i, ex->patch);
	if (b->table_end <= b->table || b->table_end > b->table + SWITCH_ENTRIES * 8)
		die("switch exit %u: the guest's table at 0x%lx ends at 0x%lx", x, b->table, b->table_end);
	if (!gm_watched(&gm, b->table) || !gm_watched(&gm, b->table_end - 1))
		die("switch exit %u: the guest's table at 0x%lx is not watched", x, b->table);
}

/* IBL slot k's chain as the CPU follows it: from the table through each
 * member's miss jump to the gate, every member live and of this slot, at
 * most IBL_CHAIN_MAX of them; whether block id is among them. */
static bool ibl_chain_has(unsigned k, uint32_t id)
{
	uint64_t rx = (uint64_t)(uintptr_t)tr.rx, at = ctx->ibl_code[k];
	bool found = false;
	for (unsigned n = 0; at != (uint64_t)(uintptr_t)gate_ibl_miss; n++) {
		uint32_t x = 1;
		while (x < tr.nblocks && rx + tr.blocks[x].ibl_entry != at)
			x++;
		if (n == IBL_CHAIN_MAX || x == tr.nblocks)
			die("IBL slot %u: member %u of its chain is %s", k, n,
			    n == IBL_CHAIN_MAX ? "one too many" : "no block's IBL entry");
		const struct block *b = &tr.blocks[x];
		if (!b->live || (b->pc & (IBL_ENTRIES - 1)) != k)
			die("IBL slot %u: block %u (pc 0x%lx, live %d) in its chain", k, x, b->pc, b->live);
		found |= x == id;
		at = rx + b->ibl_miss + 4 + (uint64_t)(int64_t)rel32_at(b->ibl_miss);
	}
	return found;
}

/* ---- one input ---------------------------------------------------------- */

/* The previous input's code goes away as if the guest unmapped it: its
 * translations are invalidated (as gm_unmap does through on_code_write), so
 * no block of old code is found for the new one. */
static void reset_pages(void)
{
	for (uint64_t p = touched_lo; p < touched_hi; p++) {
		if (gm.page[p] & GP_WATCHED)
			tr_invalidate_page(&tr, p * GUEST_PAGE);
		gm.page[p] = 0;
	}
	touched_lo = touched_hi = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t len = size < CODE_MAX ? size : CODE_MAX;
	uint8_t f0 = data[0], f2 = size >= 2 ? data[size - 1] : 0;
	unsigned layout = f0 & 3, after = (f0 >> 2) & 3;

	uint64_t start;
	switch (layout) {
	case 0: start = CODE_BASE; break;
	case 1: start = CODE_BASE + page_up(len) - len; break;
	case 2: start = 0x80000000ull - 64; break;
	default: start = GUEST_SPACE - len; break;
	}
	uint64_t lo = page_down(start), hi = page_up(start + len);
	bool after_page = hi < gm.size && after != 0;
	uint64_t backed_hi = hi + (after_page && after >= 2 ? GUEST_PAGE : 0);

	/* The backing buffer holds exactly the executable pages. */
	size_t blen = backed_hi - lo;
	uint8_t *buf = malloc(blen);
	if (!buf)
		die("out of memory");
	for (size_t i = 0; i < start - lo; i++)
		buf[i] = data[i % len];                   /* before the code: more of it */
	memcpy(buf + (start - lo), data, len);
	memset(buf + (start - lo) + len, 0, blen - (start - lo) - len);
	gm.code_view = (uintptr_t)buf - lo;
	cur_code_start = start;
	/* the guest's registers as the translator may read them (a switch's
	 * table base set before its block): the code, memory it cannot write */
	for (int r = 0; r < GPR_COUNT; r++)
		ctx->gpr[r] = start;

	reset_pages();
	touched_lo = lo / GUEST_PAGE - 1;               /* the page before stays unmapped */
	touched_hi = (hi < gm.size ? hi + GUEST_PAGE : hi) / GUEST_PAGE;   /* and the page after */
	for (uint64_t p = lo / GUEST_PAGE; p < hi / GUEST_PAGE; p++)
		gm.page[p] = GP_MAPPED | GP_R | GP_X;
	if (after_page)
		gm.page[hi / GUEST_PAGE] = after == 1 ? GP_MAPPED | GP_R | GP_W : GP_MAPPED | GP_R | GP_X;
	if (after == 3 && hi - lo >= 2 * GUEST_PAGE)
		gm.page[lo / GUEST_PAGE + 1] = GP_MAPPED | GP_R;

	tr.measure = f2 & 1;
	if ((f2 & 96) == 96 && tr.cache_used < tr.cache_size - (TR_BLOCK_MAX_BYTES + 512) - 256)
		tr.cache_used = (tr.cache_size - (TR_BLOCK_MAX_BYTES + 512) - 256) & ~(size_t)31;

	/* The block starts. */
	uint64_t pcs[MAX_PCS];
	unsigned npcs = 0;
	uint64_t offs[] = {0, size > 1 ? data[1] % len : 0, size > 2 ? data[2] % len : 0,
	                   size > 4 ? ((uint64_t)data[3] << 8 | data[4]) % len : 0,
	                   size > 5 ? data[5] % len : 0};
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		bool dup = false;
		for (unsigned j = 0; j < npcs; j++)
			dup |= pcs[j] == start + offs[i];
		if (!dup)
			pcs[npcs++] = start + offs[i];
	}
	uint8_t p6 = size > 6 ? data[6] : 0, p7 = size > 7 ? data[7] : 0;
	if (f2 & 16) {
		uint64_t wild;
		switch (p6 & 3) {
		case 0: wild = lo - 1 - p7; break;                          /* unmapped page before */
		case 1: wild = GUEST_SPACE + (uint64_t)p7 * 17 + 1; break;  /* past guest memory */
		case 2: wild = hi + p7; break;                              /* the page after */
		default: wild = UINT64_MAX - (p7 & 15); break;              /* the top of 2^64 */
		}
		pcs[npcs++] = wild;
	}

	struct { uint32_t exit, target; } links[MAX_LINKS];
	struct { uint32_t exit, index, target; } switched[MAX_LINKS];
	unsigned nswitched = 0;
	unsigned nlinks = 0;
	uint64_t epoch = tr.stats.flushes;   /* links are valid within one epoch */

	for (unsigned i = 0; i < npcs; i++) {
		uint64_t pc = pcs[i];
		uint64_t flushes = tr.stats.flushes;
		uint32_t first_exit = tr.nexits, nblocks = tr.nblocks;
		note_forms(pc);
		uint32_t id = translate(pc, i == 0 ? "start of the input" : i < npcs - 1 || !(f2 & 16) ? "block start taken from the input" : "wild pc");
		if (id >= nblocks)
			full_check(id, pc);
		if (tr.stats.flushes != flushes)
			first_exit = EXIT_FIRST_STUB;
		if (tr.stats.flushes != epoch) {
			nlinks = 0;
			epoch = tr.stats.flushes;
		}
		check_block(id, pc);
		for (uint32_t x = first_exit; x < tr.nexits; x++) {
			const struct exit *ex = tr_exit(&tr, x);
			if (ex && ex->kind == EXITK_SWITCH_LINK)
				continue;                         /* an earlier block's switch, linked */
			if (!ex || ex->block != id)
				die("exit %u of block %u at pc 0x%lx: wrong owner", x, id, pc);
			if (ex->kind > EXITK_SWITCH || (ex->kind == EXITK_FAULT && !ex->why))
				die("exit %u of block at pc 0x%lx: kind %u why %p", x, pc, ex->kind, (void *)ex->why);
			if (ex->kind == EXITK_SWITCH)
				check_switch(x);
		}
		if (f2 & 4) {
			tr_indirect(&tr, pc);                 /* finds the block: no translation */
			unsigned k = pc & (IBL_ENTRIES - 1);
			/* the block that missed last comes first */
			if (ctx->ibl_code[k] != (uint64_t)(uintptr_t)(tr.rx + tr.blocks[id].ibl_entry) ||
			    !ibl_chain_has(k, id))
				die("block %u of pc 0x%lx not first in its IBL slot", id, pc);
			/* pcs of the same slot, unmapped: the chain fills, then its
			 * oldest leave; the first block stays reachable while it fits */
			for (uint64_t j = 1; i == 0 && j <= IBL_CHAIN_MAX + 1 && tr.stats.flushes == epoch; j++) {
				uint64_t alias = pc + j * 0x10000000;
				tr_indirect(&tr, alias);
				uint32_t a = tr_find(&tr, alias);
				if (tr.stats.flushes == epoch &&
				    (!a || !ibl_chain_has(k, a) || ibl_chain_has(k, id) != (j < IBL_CHAIN_MAX)))
					die("IBL slot %u after pc 0x%lx: not the chain of the last %d blocks", k, alias,
					    IBL_CHAIN_MAX);
			}
		}
		if (!(f2 & 2))
			continue;
		uint32_t last_exit = tr.nexits;
		for (uint32_t x = first_exit; x < last_exit && tr.stats.flushes == epoch; x++) {
			const struct exit ex = *tr_exit(&tr, x);
			if (ex.kind == EXITK_SWITCH) {
				/* an index of the switch taken, to one of this input's pcs
				 * (what the guest's table gives does not matter here) */
				unsigned index = (p6 + x) & (SWITCH_ENTRIES - 1);
				uint64_t to = pcs[x % npcs];
				uint64_t entry = tr_take_switch(&tr, x, index, to);
				uint32_t target = tr_find(&tr, to);
				if (tr.stats.flushes != epoch)
					break;
				if (!target || entry != (uint64_t)(uintptr_t)(tr.rx + tr.blocks[target].entry) ||
				    ctx->switch_code[ex.patch][index] != (uint64_t)(uintptr_t)(tr.rx + tr.blocks[target].slot_entry))
					die("switch exit %u, index %u: not linked to the slot entry of 0x%lx", x, index, to);
				if (nswitched < MAX_LINKS)
					switched[nswitched].exit = x, switched[nswitched].index = index,
					switched[nswitched++].target = target;
				continue;
			}
			if (ex.kind != EXITK_BRANCH || !ex.patch)
				continue;
			if (!tr_find(&tr, ex.target))
				translate(ex.target, "target of a direct branch");
			if (tr.stats.flushes != epoch)
				break;                            /* the exit is forgotten */
			uint64_t entry = tr_take_branch(&tr, x);
			uint32_t target = tr_find(&tr, ex.target);
			if (!target || entry != (uint64_t)(uintptr_t)(tr.rx + tr.blocks[target].entry))
				die("tr_take_branch of exit %u (to 0x%lx) gave a wrong entry", x, ex.target);
			/* with the guest's r11 in its slot at the exit, the link goes to
			 * the entry that expects it there */
			uint32_t want = ex.r11_in_slot ? tr.blocks[target].slot_entry : tr.blocks[target].entry;
			if ((uint32_t)(ex.patch + 4 + rel32_at(ex.patch)) != want)
				die("exit %u (to 0x%lx) not linked to the target's %s entry", x, ex.target,
				    ex.r11_in_slot ? "slot" : "direct");
			if (nlinks < MAX_LINKS)
				links[nlinks].exit = x, links[nlinks++].target = target;
		}
	}

	if (f2 & 8) {
		uint64_t page = lo + (uint64_t)(p6 % ((hi - lo) / GUEST_PAGE)) * GUEST_PAGE;
		tr_invalidate_page(&tr, page);
		/* (a fault block for a fetch at the very start of a page that was
		 * not executable covers no guest byte, [pc, pc), and is not dropped:
		 * harmless while guest faults are final) */
		for (unsigned i = 0; i < npcs; i++) {
			uint32_t left = page_down(pcs[i]) == page ? tr_find(&tr, pcs[i]) : 0;
			if (left && tr.blocks[left].pc_end > tr.blocks[left].pc)
				die("block %u at pc 0x%lx (guest bytes up to 0x%lx) still found after "
				    "invalidating its page", left, pcs[i], tr.blocks[left].pc_end);
		}
		for (unsigned i = 0; i < npcs && tr.stats.flushes == epoch; i++)
			ibl_chain_has(pcs[i] & (IBL_ENTRIES - 1), 0);   /* no dead block left in a chain */
		for (unsigned i = 0; i < nlinks && tr.stats.flushes == epoch; i++) {
			const struct exit *ex = &tr.exits[links[i].exit];
			if (!tr.blocks[links[i].target].live &&
			    (uint32_t)(ex->patch + 4 + rel32_at(ex->patch)) != ex->stub)
				die("exit %u still linked to invalidated block %u", links[i].exit, links[i].target);
		}
		for (unsigned i = 0; i < nswitched && tr.stats.flushes == epoch; i++) {
			const struct exit *ex = &tr.exits[switched[i].exit];
			if (!tr.blocks[switched[i].target].live &&
			    ctx->switch_code[ex->patch][switched[i].index] != (uint64_t)(uintptr_t)(tr.rx + ex->stub))
				die("switch exit %u, index %u, still linked to invalidated block %u", switched[i].exit,
				    switched[i].index, switched[i].target);
		}
	}

	/* The verifier on raw bytes: must not crash, whatever it decides, and
	 * decides the same without its fast path. */
	char err[256];
	bool fast = verify_block(data, size, (uint64_t)(uintptr_t)tr.rx, NULL, err, sizeof(err));
	verifier_fast_path(false);
	bool full = verify_block(data, size, (uint64_t)(uintptr_t)tr.rx, NULL, err, sizeof(err));
	verifier_fast_path(true);
	if (fast != full)
		die("the verifier %s raw bytes only with its fast path (%s)", fast ? "accepts" : "refuses", err);

	gm.code_view = 0;
	free(buf);
	return 0;
}
