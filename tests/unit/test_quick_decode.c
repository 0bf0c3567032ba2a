/*
 * The table decoder of common forms (translator/quick_decode.h) against
 * Zydis, the verifier's full check and the policy, over every encoding of
 * its forms: every opcode of the one- and two-byte maps, every ModRM, the
 * prefixes 0x66 and 0x67 alone and together, REX, and SIBs with and
 * without a base.  Whatever it accepts must be
 *   - one instruction of the same length for Zydis, with the same branch
 *     target, a memory access exactly when Zydis sees one (lea and push/pop
 *     aside), and r11 among its registers exactly when Zydis has it;
 *   - accepted by the full check in a block (followed by mov esp, esp);
 *   - refused by the full check without that mov exactly when the table
 *     says it writes rsp;
 *   - where the translator takes it without Zydis (no memory access): of
 *     the policy's class for it, a jcc with Zydis's condition, a register
 *     form with no operand form but the rsp write;
 * and the verifier with the fast path on gives both blocks the verdicts it
 * gives them with the fast path off.  Forms it must leave to Zydis
 * (memory without the 32-bit prefix, rip-relative, prefixed branches,
 * indirect branches, segment prefixes) are checked by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>

#include "gates/gate.h"
#include "translator/decode.h"
#include "translator/policy.h"
#include "translator/verifier.h"
#include "translator/quick_decode.h"

#define RX (((uint64_t)(uintptr_t)gate_exit & ~0xfffffull) - 0x1000000)

static ZydisDecoder zydis;

/* verify_block on insn (with its branch, if any, to the next instruction),
 * then mov esp, esp when with_confine, then jmp gate_exit */
static bool verdict(const uint8_t *insn, size_t n, bool with_confine, bool fast)
{
	uint8_t b[40];
	memcpy(b, insn, n);
	if (with_confine) {
		b[n++] = 0x89;
		b[n++] = 0xe4;
	}
	int32_t rel = (int32_t)((uint64_t)(uintptr_t)gate_exit - (RX + n + 5));
	b[n++] = 0xe9;
	memcpy(b + n, &rel, 4);
	n += 4;
	char err[256];
	verifier_fast_path(fast);
	bool ok = verify_block(b, n, RX, NULL, err, sizeof(err));
	verifier_fast_path(true);
	return ok;
}

static unsigned accepted;

/* One encoding the fast path accepted as f (bytes beyond it are filler). */
static void check_one(uint8_t *bytes, size_t avail, struct quick_insn f)
{
	accepted++;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&zydis, bytes, avail, &in, ops)) || in.length != f.len)
		fail_msg("%02x %02x %02x %02x %02x: fast path length %u, Zydis %u", bytes[0], bytes[1], bytes[2],
		         bytes[3], bytes[4], f.len, in.length);
	struct decoded d;
	if (decode_one(bytes, avail, &d) != DECODE_OK)
		fail_msg("%02x %02x: the translator's decoder refuses it", bytes[0], bytes[1]);
	const ZydisDecodedOperand *m = memory_operand(&d);
	if (f.memory != (m && m->mem.type != ZYDIS_MEMOP_TYPE_AGEN))
		fail_msg("%02x %02x %02x %02x %02x: memory access %d, Zydis %d", bytes[0], bytes[1], bytes[2], bytes[3],
		         bytes[4], f.memory, !f.memory);
	if (f.names_r11 != uses_gpr(&d, 11))
		fail_msg("%02x %02x %02x %02x %02x: r11 named %d, Zydis %d", bytes[0], bytes[1], bytes[2], bytes[3],
		         bytes[4], f.names_r11, !f.names_r11);
	if (!f.memory && (policy_classify(&d) != policy_quick_class(&f) ||
	                  (!f.branch && policy_forms_of(&d) != (f.writes_rsp64 ? 1u << FORM_RSP_WRITE : 0))))
		fail_msg("%02x %02x %02x %02x %02x: the policy says otherwise (class %s)", bytes[0], bytes[1], bytes[2],
		         bytes[3], bytes[4], policy_classify(&d)->name);
	if (f.branch && (f.jmp != (in.mnemonic == ZYDIS_MNEMONIC_JMP) || (!f.jmp && f.cond != (in.opcode & 15))))
		fail_msg("%02x %02x: jmp %d, condition %u; Zydis: %s, opcode %02x", bytes[0], bytes[1], f.jmp, f.cond,
		         ZydisMnemonicGetString(in.mnemonic), in.opcode);
	if (f.branch) {
		ZyanU64 target = 0;
		if (ZYAN_FAILED(ZydisCalcAbsoluteAddress(&in, &ops[0], RX, &target)) || target != f.target)
			fail_msg("%02x %02x: branch target %lx, Zydis %lx", bytes[0], bytes[1], f.target, target);
		/* to the next instruction, which the blocks below make valid
		 * (a fast branch has no prefix: rel32 after e9 and 0f 8x) */
		if (bytes[0] == 0xe9 || bytes[0] == 0x0f)
			memset(bytes + f.len - 4, 0, 4);
		else
			bytes[f.len - 1] = 0;
	}
	bool confined = verdict(bytes, f.len, true, false);
	bool bare = verdict(bytes, f.len, false, false);
	if (!confined)
		fail_msg("%02x %02x %02x %02x %02x (%u bytes): accepted by the fast path, refused by the full check",
		         bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], f.len);
	if (bare == f.writes_rsp64)
		fail_msg("%02x %02x %02x %02x %02x: fast path says rsp %s, the full check %s it alone", bytes[0],
		         bytes[1], bytes[2], bytes[3], bytes[4], f.writes_rsp64 ? "written" : "untouched",
		         bare ? "accepts" : "refuses");
	if (verdict(bytes, f.len, true, true) != confined || verdict(bytes, f.len, false, true) != bare)
		fail_msg("%02x %02x %02x %02x %02x: the verifier's verdict changes with the fast path", bytes[0],
		         bytes[1], bytes[2], bytes[3], bytes[4]);
}

static unsigned confined_forms;

/* The operands of two decodings agree (registers by number: a base or
 * index is rbx in one, ebx in the other). */
static bool same_operands(const struct decoded *a, const struct decoded *b)
{
	if (a->insn.mnemonic != b->insn.mnemonic || a->insn.operand_count != b->insn.operand_count)
		return false;
	for (unsigned i = 0; i < a->insn.operand_count; i++) {
		const ZydisDecodedOperand *x = &a->op[i], *y = &b->op[i];
		if (x->type != y->type || x->size != y->size || x->actions != y->actions)
			return false;
		if (x->type == ZYDIS_OPERAND_TYPE_REGISTER && x->reg.value != y->reg.value)
			return false;
		if (x->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && x->imm.value.u != y->imm.value.u)
			return false;
		if (x->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (gpr_number(x->mem.base) != gpr_number(y->mem.base) || gpr_number(x->mem.index) != gpr_number(y->mem.index) ||
		     x->mem.scale != y->mem.scale || x->mem.disp.value != y->mem.disp.value))
			return false;
	}
	return true;
}

/* A guest memory form the translator takes from the table: for Zydis,
 * the policy says what quick_confine does, and the confined bytes are the
 * same instruction with 32-bit addressing, which the full check accepts
 * (with mov esp, esp after it when rsp is written). */
static void check_guest_memory(const uint8_t *bytes, size_t avail, struct quick_insn q)
{
	confined_forms++;
	struct decoded d, c;
	if (decode_one(bytes, avail, &d) != DECODE_OK || d.insn.length != q.len)
		fail_msg("%02x %02x %02x %02x: guest form of %u bytes, Zydis disagrees", bytes[0], bytes[1], bytes[2],
		         bytes[3], q.len);
	if (!q.memory || q.names_r11 != uses_gpr(&d, 11) || policy_classify(&d) != policy_quick_class(&q) ||
	    policy_forms_of(&d) != (1u << FORM_MEMORY | (q.writes_rsp64 ? 1u << FORM_RSP_WRITE : 0)))
		fail_msg("%02x %02x %02x %02x: the policy or Zydis says otherwise (class %s)", bytes[0], bytes[1],
		         bytes[2], bytes[3], policy_classify(&d)->name);
	uint8_t out[QUICK_MAX_LEN];
	size_t n = quick_confine(bytes, &q, out);
	if (n != q.len + (q.addr32 ? 0u : 1u) || decode_one(out, n, &c) != DECODE_OK || c.insn.length != n ||
	    c.insn.address_width != 32 || !same_operands(&d, &c))
		fail_msg("%02x %02x %02x %02x: confined as another instruction", bytes[0], bytes[1], bytes[2], bytes[3]);
	if (!verdict(out, n, true, false) || verdict(out, n, false, false) == q.writes_rsp64)
		fail_msg("%02x %02x %02x %02x: the full check refuses it confined", bytes[0], bytes[1], bytes[2],
		         bytes[3]);
}

static const uint8_t sibs[] = {0x00, 0x24, 0x25, 0x65, 0xa5, 0xe5, 0x1c, 0x5d, 0xdb, 0xfd, 0x2c, 0xe4};
static const uint8_t filler[] = {0x80, 0x01, 0x00, 0x7f, 0xff, 0x10, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

/* Every opcode and ModRM (and SIBs) after these prefixes and REX. */
static void sweep(const uint8_t *prefix, size_t np, int rex)
{
	for (unsigned map = 0; map < 2; map++) {
		for (unsigned op = 0; op < 256; op++) {
			uint8_t b[32];
			size_t n = np;
			memcpy(b, prefix, np);
			if (rex >= 0)
				b[n++] = (uint8_t)rex;
			if (map)
				b[n++] = 0x0f;
			else if (op == 0x0f)
				continue;
			b[n++] = (uint8_t)op;
			size_t at_modrm = n;
			for (unsigned modrm = 0; modrm < 256; modrm++) {
				b[at_modrm] = (uint8_t)modrm;
				bool has_sib = modrm >> 6 != 3 && (modrm & 7) == 4;
				for (size_t s = 0; s < (has_sib ? sizeof(sibs) : 1); s++) {
					size_t k = at_modrm + 1;
					if (has_sib)
						b[k++] = sibs[s];
					memcpy(b + k, filler, sizeof(filler));
					struct quick_insn f, g;
					bool strict = quick_decode(b, k + sizeof(filler), RX, &f);
					bool guest = quick_decode_guest(b, k + sizeof(filler), RX, &g);
					/* an instruction that ends before the ModRM byte:
					 * the other values give the same one */
					if (!guest || (g.len <= at_modrm && (modrm || s)))
						continue;
					if (g.memory)
						check_guest_memory(b, k + sizeof(filler), g);
					if (!strict && (!g.memory || g.addr32))
						fail_msg("%02x %02x %02x: only the guest decoder takes it", b[0], b[1], b[2]);
					if (!strict)
						continue;
					if (f.len != g.len || f.writes_rsp64 != g.writes_rsp64 || f.memory != g.memory ||
					         f.addr32 != g.addr32 || f.names_r11 != g.names_r11 || f.branch != g.branch ||
					         f.target != g.target)
						fail_msg("%02x %02x %02x: guest code decoded otherwise", b[0], b[1], b[2]);
					else
						check_one(b, k + sizeof(filler), f);
				}
			}
		}
	}
}

static void test_every_encoding_agrees(void **state)
{
	(void)state;
	ZydisDecoderInit(&zydis, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	static const struct { uint8_t b[2]; size_t n; } prefixes[] = {
		{{0}, 0}, {{0x67}, 1}, {{0x66}, 1}, {{0x66, 0x67}, 2}, {{0x67, 0x66}, 2},
	};
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		sweep(prefixes[p].b, prefixes[p].n, -1);
		for (int rex = 0x40; rex <= 0x4f; rex++)
			if (p < 2 || rex == 0x48 || rex == 0x45)
				sweep(prefixes[p].b, prefixes[p].n, rex);
	}
	/* the sweep reached the forms (not a test of nothing) */
	if (accepted < 200000 || confined_forms < 100000)
		fail_msg("only %u encodings accepted by the fast path, %u guest memory forms", accepted, confined_forms);
}

/* What the fast path must leave to the full check. */
static void test_declines_what_it_does_not_know(void **state)
{
	(void)state;
	static const struct { const char *what; uint8_t b[15]; size_t n; } decline[] = {
		{"64-bit addressing", {0x48, 0x8b, 0x03}, 3},
		{"eip-relative", {0x67, 0x8b, 0x05, 1, 2, 3, 4}, 7},
		{"rip-relative lea", {0x48, 0x8d, 0x05, 1, 2, 3, 4}, 7},
		{"gs: operand", {0x65, 0x67, 0x8b, 0x03}, 4},
		{"fs: operand", {0x64, 0x67, 0x8b, 0x03}, 4},
		{"jmp rax", {0xff, 0xe0}, 2},
		{"call rel32", {0xe8, 0, 0, 0, 0}, 5},
		{"ret", {0xc3}, 1},
		{"0x66 jmp rel", {0x66, 0xe9, 0, 0}, 4},
		{"0x66 jcc rel", {0x66, 0x0f, 0x84, 0, 0}, 5},
		{"lock add", {0xf0, 0x67, 0x01, 0x03}, 4},
		{"rep prefix", {0xf3, 0x48, 0x89, 0xc0}, 4},
		{"REX before 0x66", {0x48, 0x66, 0x89, 0xc0}, 4},
		{"two REX", {0x48, 0x48, 0x89, 0xc0}, 4},
		{"no-base SIB with REX.B", {0x67, 0x41, 0x8b, 0x04, 0x25, 1, 2, 3, 4}, 9},
		{"xbegin", {0xc7, 0xf8, 0, 0, 0, 0}, 6},
		{"pop to memory", {0x67, 0x8f, 0x03}, 3},
		{"push word", {0x66, 0x50}, 2},
		{"syscall", {0x0f, 0x05}, 2},
		{"truncated", {0x67, 0x48, 0x8b, 0x04}, 4},
	};
	for (size_t i = 0; i < sizeof(decline) / sizeof(decline[0]); i++) {
		struct quick_insn f;
		if (quick_decode(decline[i].b, decline[i].n, RX, &f))
			fail_msg("fast path answered for %s", decline[i].what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_encoding_agrees),
		cmocka_unit_test(test_declines_what_it_does_not_know),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
