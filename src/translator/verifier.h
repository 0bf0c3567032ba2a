/*
 * The verifier: an independent check of every translated block before it
 * can run.  It decodes the emitted bytes itself and shares no decision with
 * the translator; it accepts a block only if
 *
 *   1. every byte decodes and every instruction is in its allow-list (known
 *      ISA extensions, no privileged, system, interrupt, I/O, segment-load,
 *      FS/GS-base, far or call/ret instructions, no cpuid);
 *   2. every memory access is confined: a 32-bit address computation without
 *      FS/GS (it cannot leave [0, 4 GiB + guard)), or a gs:[disp32] slot in
 *      the guest slot page of the runtime context, or an implicit stack access
 *      of push/pop/pushf/popf (rsp is always a sandbox address, see 3);
 *      no rip-relative addressing and no lea of a host address;
 *   3. every 64-bit write of rsp is immediately followed by mov esp, esp;
 *   4. every direct branch (jmp, jcc, jrcxz, loop: a switch's guard,
 *      translate.c) lands on an instruction start inside the block
 *      (never inside a template) or on a gate; the only indirect branches
 *      are those of the IBL and switch templates below, checked byte for
 *      byte (as are exit stubs: mov dword gs:[exit id], imm32; jmp
 *      gate_exit);
 *   5. the block ends in an unconditional jump.
 *
 * The IBL template jumps through the code table with an index bounded to 16
 * bits by its own first instruction; trusted code fills the table only with
 * the miss gate and IBL entries of verified blocks, whose prologue (a
 * template too: a flag-free compare of the target slot with the block's pc
 * through rcx and jrcxz or loop, rcx kept in r11; jmp gate_ibl_miss; slot
 * loads)
 * sends any target but the block's own pc to the miss gate.
 *
 * The switch template jumps through one of the switch tables with an index
 * its own movzx bounds to 255; trusted code fills a switch table only with
 * the address of its switch's stub (an exit stub in the verified block that
 * jumps through it) and the entries of verified blocks.
 */
#ifndef OPSUB_TRANSLATOR_VERIFIER_H
#define OPSUB_TRANSLATOR_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IBL_TEMPLATE_LEN 13
#define SWITCH_TEMPLATE_LEN 13
#define EXIT_STUB_LEN    17

/* The inline indirect-branch lookup of the guest target in r11:
 *   movzx r11d, r11w ; jmp gs:[r11*8 + CTX_IBL_CODE] */
void ibl_template(uint8_t out[IBL_TEMPLATE_LEN]);

/* A specialized switch's jump through switch table `table` (< SWITCH_TABLES)
 * by the low byte of index_reg (0..15; r11 where the index was taken into
 * it before the switch's own instructions overwrote it):
 *   movzx r11d, <index_reg>8 ; jmp gs:[r11*8 + CTX_SWITCH_CODE + 2048 * table] */
void switch_template(uint8_t out[SWITCH_TEMPLATE_LEN], int index_reg, unsigned table);

/* Checks `len` bytes of translated code that will run at address rx.
 * Returns true, or false with the first violation in err.  On success
 * *fpu_parts (unless NULL) gets the parts of the FPU state beyond xmm0-15
 * and MXCSR that the block's instructions can read or change
 * (GUEST_FPU_*, gates/ctx.h): the full gate keeps them only once some
 * guest code can (gates/gate.h, gate_guest_fpu). */
bool verify_block(const uint8_t *code, size_t len, uint64_t rx, unsigned *fpu_parts, char *err, size_t errlen);

/* Whether the common forms go through the fast path (quick_decode.h) or,
 * as everything else, through Zydis and the full check: on by default;
 * tests compare the two. */
void verifier_fast_path(bool on);

#endif
