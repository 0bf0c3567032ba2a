#include "translator/emit.h"

#define REX_W 0x48
#define REX_R 0x04
#define REX_B 0x01
#define GS    0x65

static void slot_op(struct emitter *e, uint8_t opcode, int reg, uint32_t slot)
{
	uint8_t b[] = {GS, (uint8_t)(REX_W | (reg >= 8 ? REX_R : 0)), opcode,
	               (uint8_t)(0x04 | (reg & 7) << 3), 0x25};
	emit_bytes(e, b, sizeof(b));
	emit_u32(e, slot);
}

void emit_slot_store(struct emitter *e, int reg, uint32_t slot) { slot_op(e, 0x89, reg, slot); }
void emit_slot_load(struct emitter *e, int reg, uint32_t slot) { slot_op(e, 0x8b, reg, slot); }

void emit_slot_store_imm32(struct emitter *e, uint32_t slot, uint32_t imm)
{
	uint8_t b[] = {GS, 0xc7, 0x04, 0x25};
	emit_bytes(e, b, sizeof(b));
	emit_u32(e, slot);
	emit_u32(e, imm);
}

void emit_mov_reg(struct emitter *e, int dst, int src)
{
	/* 89 /r: mov r/m64(dst), r64(src) */
	uint8_t b[] = {(uint8_t)(REX_W | (src >= 8 ? REX_R : 0) | (dst >= 8 ? REX_B : 0)), 0x89,
	               (uint8_t)(0xc0 | (src & 7) << 3 | (dst & 7))};
	emit_bytes(e, b, sizeof(b));
}

void emit_confine_rsp(struct emitter *e)
{
	static const uint8_t b[] = {0x89, 0xe4};
	emit_bytes(e, b, sizeof(b));
}

void emit_lea_rsp(struct emitter *e, int32_t disp)
{
	static const uint8_t b[] = {REX_W, 0x8d, 0xa4, 0x24};
	emit_bytes(e, b, sizeof(b));
	emit_u32(e, (uint32_t)disp);
}

void emit_lea_rcx(struct emitter *e, int base, int64_t d)
{
	/* REX.W (+B), 8d, ModRM 10 001 base, a SIB for rsp and r12, disp32 */
	uint8_t b[] = {(uint8_t)(REX_W | (base >= 8 ? REX_B : 0)), 0x8d, (uint8_t)(0x88 | (base & 7)), 0x24};
	static const uint8_t lea_rcx[] = {REX_W, 0x8d, 0x89};   /* lea rcx, [rcx + disp32] */
	emit_bytes(e, b, (base & 7) == 4 ? 4 : 3);
	if (d < INT32_MIN) {
		emit_u32(e, (uint32_t)INT32_MIN);
		d -= INT32_MIN;
		emit_bytes(e, lea_rcx, sizeof(lea_rcx));
	}
	emit_u32(e, (uint32_t)(int32_t)d);
}

void emit_mov_imm(struct emitter *e, int reg, unsigned width, uint64_t value)
{
	uint8_t rexb = reg >= 8 ? REX_B : 0;
	if (width == 16) {
		uint8_t b[] = {0x66};
		emit_bytes(e, b, 1);
		if (rexb)
			emit_u8(e, 0x40 | rexb);
		emit_u8(e, (uint8_t)(0xb8 | (reg & 7)));
		uint16_t v = (uint16_t)value;
		emit_bytes(e, &v, 2);
	} else if (width == 32 || value <= UINT32_MAX) {
		/* a 32-bit write zero-extends: right for both widths here */
		if (rexb)
			emit_u8(e, 0x40 | rexb);
		emit_u8(e, (uint8_t)(0xb8 | (reg & 7)));
		emit_u32(e, (uint32_t)value);
	} else if ((int64_t)value == (int32_t)value) {
		uint8_t b[] = {(uint8_t)(REX_W | rexb), 0xc7, (uint8_t)(0xc0 | (reg & 7))};
		emit_bytes(e, b, sizeof(b));
		emit_u32(e, (uint32_t)value);
	} else {
		uint8_t b[] = {(uint8_t)(REX_W | rexb), (uint8_t)(0xb8 | (reg & 7))};
		emit_bytes(e, b, sizeof(b));
		emit_bytes(e, &value, 8);
	}
}

size_t emit_jmp32(struct emitter *e)
{
	emit_u8(e, 0xe9);
	size_t at = e->pos;
	emit_u32(e, 0);
	return at;
}

size_t emit_jcc32(struct emitter *e, unsigned cc)
{
	uint8_t b[] = {0x0f, (uint8_t)(0x80 | (cc & 15))};
	emit_bytes(e, b, sizeof(b));
	size_t at = e->pos;
	emit_u32(e, 0);
	return at;
}

void emit_patch_rel32(struct emitter *e, size_t at, uint64_t target)
{
	if (at + 4 > e->cap)
		return;
	int32_t rel = (int32_t)(target - (e->rx + at + 4));
	memcpy(e->buf + at, &rel, 4);
}

void emit_jmp_to(struct emitter *e, uint64_t target)
{
	size_t at = emit_jmp32(e);
	emit_patch_rel32(e, at, target);
}
