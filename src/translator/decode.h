/*
 * One decoded x86-64 instruction (Zydis 4) and the register helpers the
 * translator and the policy share.  Decoding (here, or quick_decode.h for
 * the common register forms) is the only place raw guest bytes are
 * interpreted; everything downstream works on struct decoded.
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

/* True when the instruction writes any part of general-purpose register n
 * (0..15), as an operand it names or one it implies. */
bool writes_gpr(const struct decoded *d, int n);

/* The instruction's memory operand other than an implicit stack access,
 * or NULL.  Address-generation forms (lea, nop) are included. */
const ZydisDecodedOperand *memory_operand(const struct decoded *d);

/* Instruction-pointer-relative memory operands: rip, or eip (with a 0x67
 * prefix), whose address is next + disp modulo 2^32. */
static inline bool ip_relative(const ZydisDecodedOperand *m)
{
	return m->mem.base == ZYDIS_REGISTER_RIP || m->mem.base == ZYDIS_REGISTER_EIP;
}
static inline uint64_t ip_target(const ZydisDecodedOperand *m, uint64_t next)
{
	uint64_t t = next + (uint64_t)m->mem.disp.value;
	return m->mem.base == ZYDIS_REGISTER_EIP ? (uint32_t)t : t;
}

/* Formats the instruction in Intel syntax into buf (for fault reports). */
void decode_format(const struct decoded *d, uint64_t pc, char *buf, size_t len);

#endif
