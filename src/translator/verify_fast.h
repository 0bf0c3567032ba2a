/*
 * The verifier's fast path: the few instruction forms most translated code
 * is made of (moves, integer arithmetic, lea, push and pop, direct jumps),
 * decoded by one table instead of Zydis, which takes most of the
 * verifier's time.
 *
 * It answers only for an instruction it knows completely, and only if
 * verify_block's rules accept it except two, which the caller checks with
 * the answer: a 64-bit write of rsp must be followed by mov esp, esp, and a
 * direct branch must land on an instruction start of the block.  Anything
 * else (other prefixes or opcodes, memory operands without the 32-bit
 * address-size prefix, rip-relative operands, a form Zydis reads otherwise
 * than the CPU) gets no answer and goes through the full check.
 * tests/unit/test_verify_fast.c checks every encoding of its forms it
 * accepts against Zydis and against the full check.
 */
#ifndef OPSUB_TRANSLATOR_VERIFY_FAST_H
#define OPSUB_TRANSLATOR_VERIFY_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fast_insn {
	uint8_t len;
	bool writes_rsp64;   /* mov esp, esp must come next */
	bool branch;         /* a direct jump to target ... */
	bool jmp;            /* ... taken always */
	uint64_t target;
};

/* The instruction at code[0] (at most len bytes), which will run at
 * address rx: true with *f filled if it is one of the fast forms and
 * passes every rule but the two above, false otherwise. */
bool fast_insn(const uint8_t *code, size_t len, uint64_t rx, struct fast_insn *f);

#endif
