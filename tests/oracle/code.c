/*
 * Code as a list of instructions.  Blocks are edited (mutations, splices,
 * minimisation) and moved (translator output into the oracle's code area)
 * as lists, so relative branches keep their targets: a branch refers to an
 * instruction index, or to an absolute address outside the code (a gate).
 * Only the laid-out bytes are ever verified and run.
 */
#include <string.h>
#include <Zydis/Zydis.h>

#include "oracle.h"

ZydisDecoder *oracle_decoder(void)
{
	static ZydisDecoder dec;
	static bool ready;
	if (!ready) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ready = true;
	}
	return &dec;
}

bool code_add(struct code *c, const void *bytes, size_t len)
{
	if (c->n >= CODE_MAX_INSNS || len == 0 || len > 15)
		return false;
	struct insn *in = &c->insn[c->n++];
	memset(in, 0, sizeof(*in));
	memcpy(in->bytes, bytes, len);
	in->len = (uint8_t)len;
	in->target = -1;
	return true;
}

bool code_add_branch(struct code *c, int cond, int target, uint64_t target_abs)
{
	uint8_t b[6] = {0xe9};
	size_t n = 5;
	if (cond >= 0) {
		b[0] = 0x0f;
		b[1] = (uint8_t)(0x80 | (cond & 15));
		n = 6;
	}
	if (!code_add(c, b, n))
		return false;
	struct insn *in = &c->insn[c->n - 1];
	in->rel_off = (uint8_t)(n - 4);
	in->rel_size = 4;
	in->target = target;
	in->target_abs = target_abs;
	return true;
}

/* The instruction holding byte offset `off` (offs[] ascending, n entries). */
static int insn_at(const size_t *offs, unsigned n, size_t off, int32_t *delta)
{
	for (unsigned i = n; i-- > 0;) {
		if (offs[i] <= off) {
			*delta = (int32_t)(off - offs[i]);
			return (int)i;
		}
	}
	return -1;
}

bool code_decode(struct code *c, const uint8_t *bytes, size_t len, uint64_t at, size_t entry_off)
{
	static size_t offs[CODE_MAX_INSNS];
	static uint64_t targets[CODE_MAX_INSNS];
	c->n = 0;
	c->entry = -1;
	for (size_t off = 0; off < len;) {
		ZydisDecodedInstruction in;
		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(oracle_decoder(), NULL, bytes + off, len - off, &in)) ||
		    !code_add(c, bytes + off, in.length))
			return false;
		struct insn *x = &c->insn[c->n - 1];
		offs[c->n - 1] = off;
		if (off == entry_off)
			c->entry = (int)c->n - 1;
		if (in.raw.imm[0].is_relative && (in.raw.imm[0].size == 8 || in.raw.imm[0].size == 32)) {
			x->rel_off = in.raw.imm[0].offset;
			x->rel_size = in.raw.imm[0].size / 8;
			int64_t rel = in.raw.imm[0].value.s;
			targets[c->n - 1] = at + off + in.length + (uint64_t)rel;
		}
		off += in.length;
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct insn *x = &c->insn[i];
		if (!x->rel_size)
			continue;
		uint64_t t = targets[i];
		if (t >= at && t < at + len) {
			x->target = insn_at(offs, c->n, t - at, &x->target_delta);
		} else {
			x->target = -1;
			x->target_abs = t;
		}
	}
	return true;
}

size_t code_layout(const struct code *c, uint64_t rx, uint8_t *out, size_t cap, size_t *entry_off)
{
	static size_t offs[CODE_MAX_INSNS + 1];
	size_t n = 0;
	for (unsigned i = 0; i < c->n; i++) {
		offs[i] = n;
		n += c->insn[i].len;
	}
	offs[c->n] = n;
	if (n == 0 || n > cap)
		return 0;
	for (unsigned i = 0; i < c->n; i++) {
		const struct insn *x = &c->insn[i];
		memcpy(out + offs[i], x->bytes, x->len);
		if (!x->rel_size)
			continue;
		uint64_t target = x->target >= 0 ? rx + offs[x->target] + (uint64_t)(int64_t)x->target_delta
		                                 : x->target_abs;
		int64_t rel = (int64_t)(target - (rx + offs[i] + x->len));
		if (x->rel_size == 1) {
			if (rel < INT8_MIN || rel > INT8_MAX)
				return 0;
			out[offs[i] + x->rel_off] = (uint8_t)(int8_t)rel;
		} else {
			if (rel < INT32_MIN || rel > INT32_MAX)
				return 0;
			int32_t r32 = (int32_t)rel;
			memcpy(out + offs[i] + x->rel_off, &r32, 4);
		}
	}
	*entry_off = c->entry >= 0 && (unsigned)c->entry < c->n ? offs[c->entry] : 0;
	return n;
}

bool code_insert(struct code *c, unsigned at, const struct insn *in)
{
	if (c->n >= CODE_MAX_INSNS || at > c->n)
		return false;
	memmove(&c->insn[at + 1], &c->insn[at], (c->n - at) * sizeof(struct insn));
	c->insn[at] = *in;
	c->n++;
	for (unsigned i = 0; i < c->n; i++)
		if (i != at && c->insn[i].rel_size && c->insn[i].target >= (int)at)
			c->insn[i].target++;
	if (c->entry >= (int)at)
		c->entry++;
	return true;
}

/* An index that pointed at the deleted instruction now names the one
 * that took its place (or the new last one). */
static int32_t after_delete(int32_t t, unsigned at, unsigned n)
{
	if (t < 0 || t < (int32_t)at)
		return t;
	if (t > (int32_t)at)
		return t - 1;
	return at < n ? (int32_t)at : (int32_t)n - 1;
}

void code_delete(struct code *c, unsigned at)
{
	if (at >= c->n)
		return;
	memmove(&c->insn[at], &c->insn[at + 1], (c->n - at - 1) * sizeof(struct insn));
	c->n--;
	for (unsigned i = 0; i < c->n; i++) {
		struct insn *x = &c->insn[i];
		if (x->rel_size && x->target >= 0) {
			if (x->target == (int32_t)at)
				x->target_delta = 0;
			x->target = after_delete(x->target, at, c->n);
		}
	}
	c->entry = after_delete(c->entry, at, c->n);
}
