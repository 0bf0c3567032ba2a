/*
 * One decoded x86-64 instruction (Zydis 4) and the register helpers the
 * translator and the policy share.  Decoding is the only place raw guest
 * bytes are interpreted; everything downstream works on struct decoded.
 */
#ifndef OPSUB_TRANSLATOR_DECODE_H
#define OPSUB_TRANSLATOR_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <Zydis/Zydis.h>

struct decoded {
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	const uint8_t *bytes;   /* the instruction's bytes (insn.length of them) */
};

enum decode_result { DECODE_OK, DECODE_INVALID, DECODE_TRUNCATED };

/* Decodes one 64-bit-mode instruction from at most `avail` bytes;
 * DECODE_TRUNCATED when the bytes end inside a possible instruction. */
enum decode_result decode_one(const uint8_t *bytes, size_t avail, struct decoded *d);

/* x86 register number (0..15) of a general-purpose register of any width,
 * or -1 for anything else (including the high-byte registers ah..bh). */
int gpr_number(ZydisRegister r);

/* True when the instruction reads or writes GPR n (any width, any operand,
 * including memory base/index). */
bool uses_gpr(const struct decoded *d, int n);

/* The instruction's memory operand other than an implicit stack access,
 * or NULL.  Address-generation forms (lea, nop) are included. */
const ZydisDecodedOperand *memory_operand(const struct decoded *d);

/* Formats the instruction in Intel syntax into buf (for fault reports). */
void decode_format(const struct decoded *d, uint64_t pc, char *buf, size_t len);

#endif
