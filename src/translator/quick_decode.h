/*
 * The few instruction forms most code is made of (moves, integer
 * arithmetic, lea, push and pop, direct jumps), decoded by one table
 * instead of Zydis, which took most of the time of both the verifier and
 * the translator.
 *
 * It answers only for an instruction it knows completely and that
 * verify_block's rules accept, except two, which the verifier checks with
 * the answer: a 64-bit write of rsp must be followed by mov esp, esp, and a
 * direct branch must land on an instruction start of the block.  Anything
 * else (other prefixes or opcodes, memory operands without the 32-bit
 * address-size prefix, rip-relative operands, a form Zydis reads otherwise
 * than the CPU) gets no answer and goes through Zydis and the full check.
 *
 * The translator takes guest instructions of these forms from it too
 * (quick_decode_guest; translate.c, plain): a register form as the guest
 * wrote it, a memory form with the 32-bit address-size prefix
 * (quick_confine), either with mov esp, esp after a 64-bit rsp write, and
 * a direct jump as a linkable exit, as the policy (policy.h) says for each
 * of them.
 *
 * tests/unit/test_quick_decode.c checks every encoding it accepts against
 * Zydis, the verifier's full check and the policy.
 */
#ifndef OPSUB_TRANSLATOR_QUICK_DECODE_H
#define OPSUB_TRANSLATOR_QUICK_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUICK_MAX_LEN 15   /* an x86 instruction's limit */

struct quick_insn {
	uint8_t len;
	bool writes_rsp64;   /* mov esp, esp must come next */
	bool memory;         /* accesses memory (lea does not) ... */
	bool addr32;         /* ... with the 32-bit address-size prefix */
	uint8_t legacy;      /* bytes of legacy prefixes (0x66, 0x67) in front */
	bool names_r11;      /* r11 (any width) is an operand or address register */
	bool branch;         /* a direct jump to target ... */
	bool jmp;            /* ... taken always, or when condition cond holds (jcc: 0..15) */
	uint8_t cond;
	uint64_t target;
};

/* The instruction at code[0] (at most len bytes), which will run at
 * address rx: true with *q filled if it is one of the forms of the table
 * and passes every rule but the two above, false otherwise. */
bool quick_decode(const uint8_t *code, size_t len, uint64_t rx, struct quick_insn *q);

/* The same for guest code at pc (the translator), which also takes memory
 * operands with 64-bit addressing: they are confined by quick_confine. */
bool quick_decode_guest(const uint8_t *code, size_t len, uint64_t pc, struct quick_insn *q);

/* The bytes of the guest memory form q at code with 32-bit addressing:
 * 0x67 in front of the instruction without its own; their number, or 0
 * when they would exceed the instruction length limit.  The address then
 * wraps inside the sandbox, as policy.h's memory operand form says. */
size_t quick_confine(const uint8_t *code, const struct quick_insn *q, uint8_t out[QUICK_MAX_LEN]);

#endif
