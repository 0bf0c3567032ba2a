#include "translator/decode.h"

#include <assert.h>
#include <stdio.h>

static ZydisDecoder decoder;
static ZydisFormatter formatter;
static bool ready;

static void init(void)
{
	ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL);
	ready = true;
}

/* A SIB without base (mod 00, base 101) has no base register whatever
 * REX.B or VEX.B say, and a disp32; Zydis decodes the 32-bit address form
 * with the B bit set as [r13d + index] without the displacement (the raw
 * field has it).  Everything downstream gets the operand the CPU uses. */
static void no_base_sib_fix(struct decoded *d)
{
	const ZydisDecodedInstruction *in = &d->insn;
	if (!(in->attributes & ZYDIS_ATTRIB_HAS_SIB) || in->raw.modrm.mod != 0 || in->raw.sib.base != 5)
		return;
	for (unsigned i = 0; i < in->operand_count; i++) {
		ZydisDecodedOperand *o = &d->op[i];
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.base == ZYDIS_REGISTER_NONE ||
		    o->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			continue;
		o->mem.base = ZYDIS_REGISTER_NONE;
		o->mem.disp.value = in->raw.disp.value;
		o->mem.disp.has_displacement = true;
	}
}

enum decode_result decode_one(const uint8_t *bytes, size_t avail, struct decoded *d)
{
	if (!ready)
		init();
	d->bytes = bytes;
	ZyanStatus s = ZydisDecoderDecodeFull(&decoder, bytes, avail, &d->insn, d->op);
	if (ZYAN_SUCCESS(s)) {
		no_base_sib_fix(d);
		return DECODE_OK;
	}
	return s == ZYDIS_STATUS_NO_MORE_DATA && avail < ZYDIS_MAX_INSTRUCTION_LENGTH ? DECODE_TRUNCATED
	                                                                               : DECODE_INVALID;
}

/* Zydis numbers the general-purpose registers in runs (AL..R15B, then
 * AX..R15W, EAX..R15D, RAX..R15): ranges, not a class lookup per operand,
 * since every instruction translated asks this of each operand. */
static_assert(ZYDIS_REGISTER_R15B - ZYDIS_REGISTER_AL == 19 && ZYDIS_REGISTER_AX == ZYDIS_REGISTER_R15B + 1 &&
              ZYDIS_REGISTER_EAX == ZYDIS_REGISTER_AX + 16 && ZYDIS_REGISTER_RAX == ZYDIS_REGISTER_EAX + 16 &&
              ZYDIS_REGISTER_R15 == ZYDIS_REGISTER_RAX + 15, "Zydis register layout");

int gpr_number(ZydisRegister r)
{
	if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15)
		return (int)((r - ZYDIS_REGISTER_AX) % 16);
	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL)
		return (int)(r - ZYDIS_REGISTER_AL);
	/* ah..bh are the second bytes of rax..rbx */
	if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH)
		return (int)(r - ZYDIS_REGISTER_AH);
	if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_DIL)
		return 4 + (int)(r - ZYDIS_REGISTER_SPL);
	if (r >= ZYDIS_REGISTER_R8B && r <= ZYDIS_REGISTER_R15B)
		return 8 + (int)(r - ZYDIS_REGISTER_R8B);
	return -1;
}

bool uses_gpr(const struct decoded *d, int n)
{
	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && gpr_number(o->reg.value) == n)
			return true;
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (gpr_number(o->mem.base) == n || gpr_number(o->mem.index) == n))
			return true;
	}
	return false;
}

bool writes_gpr(const struct decoded *d, int n)
{
	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
		    gpr_number(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value)) == n)
			return true;
	}
	return false;
}

const ZydisDecodedOperand *memory_operand(const struct decoded *d)
{
	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		bool implicit_stack = o->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT &&
		                      o->mem.base == ZYDIS_REGISTER_RSP;
		if (!implicit_stack)
			return o;
	}
	return NULL;
}

void decode_format(const struct decoded *d, uint64_t pc, char *buf, size_t len)
{
	if (!ready)
		init();
	if (ZYAN_FAILED(ZydisFormatterFormatInstruction(&formatter, &d->insn, d->op,
	                                                d->insn.operand_count_visible, buf, len, pc,
	                                                ZYAN_NULL)))
		snprintf(buf, len, "(unprintable)");
}
