/*
 * Byte-level x86-64 emission for the few instruction forms the translator
 * writes itself.  Each helper names the one encoding it produces; the
 * verifier decodes the result independently, so an encoding slip here is
 * caught before any block runs.
 *
 * Slot operands are gs:[disp32] with no base and no index (ModRM 00 r 100,
 * SIB 0x25), addressing the runtime context (gates/ctx.h).
 */
#ifndef OPSUB_TRANSLATOR_EMIT_H
#define OPSUB_TRANSLATOR_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct emitter {
	uint8_t *buf;        /* writable view of the output */
	uint64_t rx;         /* executable address of buf[0] */
	size_t pos, cap;
	bool overflow;
};

static inline void emit_bytes(struct emitter *e, const void *p, size_t n)
{
	if (e->pos + n > e->cap) {
		e->overflow = true;
		return;
	}
	memcpy(e->buf + e->pos, p, n);
	e->pos += n;
}

static inline void emit_u8(struct emitter *e, uint8_t b) { emit_bytes(e, &b, 1); }
static inline void emit_u32(struct emitter *e, uint32_t v) { emit_bytes(e, &v, 4); }
static inline uint64_t emit_here(const struct emitter *e) { return e->rx + e->pos; }

/* mov gs:[slot], r64 */
void emit_slot_store(struct emitter *e, int reg, uint32_t slot);
/* mov r64, gs:[slot] */
void emit_slot_load(struct emitter *e, int reg, uint32_t slot);
/* mov dword gs:[slot], imm32 */
void emit_slot_store_imm32(struct emitter *e, uint32_t slot, uint32_t imm);
/* mov r64, r64 */
void emit_mov_reg(struct emitter *e, int dst, int src);
/* mov esp, esp: re-confines rsp after a 64-bit write */
void emit_confine_rsp(struct emitter *e);
/* lea rsp, [rsp + disp32] */
void emit_lea_rsp(struct emitter *e, int32_t disp);
/* lea rcx, [base + d] (flag-free): one lea, or where d < INT32_MIN two,
 * lea rcx, [base + INT32_MIN] ; lea rcx, [rcx + d - INT32_MIN], the second
 * displacement cut to 32 bits (exact for d >= -2^32: guest addresses) */
void emit_lea_rcx(struct emitter *e, int base, int64_t d);
/* Loads a constant into a register with lea-like (flag-free) semantics for
 * operand width 16, 32 or 64. */
void emit_mov_imm(struct emitter *e, int reg, unsigned width, uint64_t value);

/* jmp rel32 / jcc rel32 with a zero displacement; return the offset of the
 * rel32 field for emit_patch_rel32. */
size_t emit_jmp32(struct emitter *e);
size_t emit_jcc32(struct emitter *e, unsigned cc);
/* Points the rel32 at field offset `at` to absolute executable address. */
void emit_patch_rel32(struct emitter *e, size_t at, uint64_t target);
/* jmp rel32 to an absolute executable address. */
void emit_jmp_to(struct emitter *e, uint64_t target);

#endif
