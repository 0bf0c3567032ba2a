/*
 * The runtime context: the block of memory translated code reaches through
 * the host GS base (set with arch_prctl, never with wrgsbase: see host.h),
 * as gs:[constant], without a free register and without any address that
 * could be shown to the guest.  glibc never uses GS on x86-64, and a
 * guest's own GS accesses are rewritten to its emulated GS base.
 *
 * It holds guest values only.  Everything the gates trust (the monitor
 * stack, the resume address, the fast gate's table) lives in the gates' own
 * data (gate.h), which no gs: operand can name.  The parts:
 *
 *   guest slots (page 0): the guest's registers while trusted code runs,
 *     the scratch slots of the translator's fixed sequences and the
 *     emulated FS/GS bases.  Translated code touches them only through
 *     those sequences, which the verifier matches as exact templates
 *     (translator/verifier.c); no guest instruction can name them.  The
 *     exit id is written only by the exit-stub template, and every reader
 *     bounds it anyway;
 *   FPU page (page 1): the guest's x87, SSE and AVX state across a full
 *     gate, in one of two forms (CTX_FPU_FORM).  XSAVE: the standard-format
 *     XSAVE image, mask CTX_XSAVE_MASK (state a guest cannot touch is not
 *     saved).  Light: only ymm0-15 and MXCSR, taken while the guest's x87
 *     state is in its initial configuration (XINUSE bit 0 clear) or idle
 *     (X87_IDLE: every register empty, control and status words as
 *     initialised; the way back then makes it initial, which a guest can
 *     tell only by the contents of empty registers and the last data
 *     pointer, read as zero), so nothing else needs keeping; XRSTOR
 *     costs hundreds of cycles on some hosts, vector moves a few.  FX,
 *     where the host reports XINUSE and the x87 state is in use (not
 *     idle): FXSAVE into the image's legacy region (x87,
 *     xmm0-15, MXCSR) and, where the upper halves are in use, ymm0-15 as in
 *     the light form (FXSAVE and FXRSTOR took 90 ns on the AMD Zen 3 host,
 *     XSAVE and XRSTOR 150).  Where the guest's upper halves were in
 *     their initial configuration too (XINUSE bit 2 clear), they are
 *     left so on the way back (vzeroupper, xmm loads): restoring them with
 *     ymm loads would mark them in use, and on some CPUs (AMD Zen 5) every
 *     legacy SSE instruction then merges into them, which made SSE loops
 *     1.6 times slower.  C code reads or writes the state only through
 *     ctx_xsave_image;
 *   IBL table: 2^16 code pointers indexed by the low 16 bits of a guest
 *     target, read by translated code through one template that bounds the
 *     index itself.  This part of the mapping is read-only: the translator
 *     fills it through a writable alias of its own (ctx_create), so even
 *     a mistaken store through GS could not redirect an indirect branch.
 *     Every pointer in it is the miss gate or the IBL entry of a verified
 *     block, which checks that the target is its own pc;
 *   switch tables: SWITCH_TABLES tables of 256 code pointers, each for one
 *     guest switch whose jump table cannot change under it, indexed by the
 *     switch's byte index through one template that bounds it (movzx).
 *     Read-only the same way.  Every pointer in one is the switch's stub
 *     in its verified block or the entry of the verified block of the
 *     guest target the table gives for that index (translate.c,
 *     switch_site).
 *
 * Offsets are constants shared with gate.S, hence the #defines and the
 * static_asserts below.
 */
#ifndef OPSUB_GATES_CTX_H
#define OPSUB_GATES_CTX_H

/* Guest register save area, in x86 register-number order (rax=0 .. r15=15). */
#define CTX_GPR(n)          ((n) * 8)
#define CTX_RFLAGS          0x80
#define CTX_RIP             0x88   /* guest pc of the current exit */
#define CTX_VIRT_FLAGS      0x90   /* the guest's AC and ID flags (RFLAGS_VIRTUAL) */
#define CTX_IBL_R11         0x98   /* guest r11 during a lookup and through blocks
                                    * that leave it there (translate.c, prologue) */
#define CTX_EXIT_ID         0xa0   /* which exit stub entered the gate */
#define CTX_IBL_TARGET      0xa8   /* guest target of an IBL lookup or miss */
#define CTX_SEG_SCRATCH     0xb0   /* saved scratch register of an FS/GS rewrite */
#define CTX_IBL_COUNT       0xb8   /* indirect lookups, counted when --stats */
#define CTX_FS_BASE         0xc0   /* guest FS base: only ever added to guest */
#define CTX_GS_BASE         0xc8   /*   addresses, which are then confined */
#define CTX_GUEST_SLOTS_END 0x1000

/* FPU/vector state of the guest, saved by full gates (page 1, see above). */
#define CTX_XSAVE           0x1000 /* XSAVE image, 64-aligned */
#define CTX_XSAVE_SIZE      0x0c00 /* mask 7 needs XSAVE_SIZE_AVX */
#define CTX_XSAVE_MASK      7      /* x87, SSE, AVX: the guest CPU model's XCR0 */
#define CTX_YMM             0x1c00 /* light form: ymm0-15, 32 bytes each */
#define CTX_MXCSR           0x1e00 /* light form: the guest's MXCSR */
#define CTX_FPU_FORM        0x1e08 /* which form holds the state now */
#define CTX_FPU_END         0x2000
#define FPU_FORM_XSAVE      0      /* (a zeroed context starts in it) */
#define FPU_FORM_LIGHT      1      /* ymm0-15 and MXCSR */
#define FPU_FORM_LIGHT_XMM  2      /* the same, the upper halves initial (XINUSE bit 2 clear) */
#define FPU_FORM_FX         3      /* x87, xmm0-15, MXCSR by FXSAVE (the XSAVE image's legacy
                                    * region) and ymm0-15 */
#define FPU_FORM_FX_XMM     4      /* the same, the upper halves initial */
#define X87_IDLE            0x37f  /* an FXSAVE image's first 8 bytes (FCW, FSW, abridged FTW,
                                    * FOP) when the x87 state is idle: taken in the light form */
#define CTX_XSTATE_BV       0x1200 /* the XSAVE image's XSTATE_BV (xsave_layout.h: XSAVE_HEADER) */

/* Parts of the FPU state some guest code can read or change, beyond
 * xmm0-15 and MXCSR (gate.h, gate_guest_fpu). */
#define GUEST_FPU_X87       1      /* the x87 and MMX state */
#define GUEST_FPU_YMM       2      /* the upper halves of ymm0-15 */

/* IBL table: code pointers indexed by the low IBL_BITS bits of a guest pc.
 * Switch tables after it: SWITCH_TABLES of SWITCH_ENTRIES code pointers,
 * one for each switch the translator has specialized (translate.c). */
#define IBL_BITS            16
#define IBL_ENTRIES         (1 << IBL_BITS)
#define CTX_IBL_CODE        0x2000
#define SWITCH_TABLES       1024
#define SWITCH_ENTRIES      256
#define CTX_SWITCH_CODE     (CTX_IBL_CODE + IBL_ENTRIES * 8)
#define CTX_SIZE            (CTX_SWITCH_CODE + SWITCH_TABLES * SWITCH_ENTRIES * 8)

/* The rflags bits a guest may hold at an instruction boundary: the
 * arithmetic flags, DF, IF (always set at user level), NT, AC and ID (which
 * popf lets it set), and bit 1; never TF, IOPL, RF or VM.  A state from
 * outside (a migration stream, a signal frame) is held to them.
 *
 * AC and ID are virtual: the translated popf records them in the
 * CTX_VIRT_FLAGS slot and pops its value with TF and AC cleared, and the
 * translated pushf shows them from the slot.  The CPU never runs
 * translated code or the gates with AC set (opsub's own unaligned accesses
 * would trap), so a guest sees the flag it set but takes no alignment
 * checks; CPU probes that toggle AC (a 386 cannot) find a modern CPU.
 * C code reads and writes the guest's rflags only through
 * ctx_guest_rflags and ctx_set_guest_rflags. */
#define GUEST_RFLAGS_ALLOWED 0x244ed7ull
#define GUEST_RFLAGS_ALWAYS  0x202ull
#define RFLAGS_AC            0x40000ull
#define RFLAGS_VIRTUAL       0x240000ull   /* AC, ID */

/* Exit ids below EXIT_FIRST_STUB are reserved for the gates themselves. */
#define EXIT_IBL_MISS       0
#define EXIT_FIRST_STUB     1

/* The hypercall the fast gate serves (OPSUB_HC_NET_BURST), and what its
 * handler returns to send it through the full gate instead. */
#define GATE_FAST_HC        17
#define GATE_SLOW           0x8000000000000000

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>
#include <assert.h>

enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

struct rt_ctx {
	/* guest slots */
	uint64_t gpr[GPR_COUNT];
	uint64_t rflags;
	uint64_t rip;
	uint64_t virt_flags;           /* RFLAGS_VIRTUAL bits; others ignored */
	uint64_t ibl_r11;
	uint64_t exit_id;
	uint64_t ibl_target;
	uint64_t seg_scratch;
	uint64_t ibl_count;
	uint64_t fs_base, gs_base;
	uint8_t  pad0[CTX_GUEST_SLOTS_END - CTX_GS_BASE - 8];
	uint8_t  xsave[CTX_XSAVE_SIZE] __attribute__((aligned(64)));
	uint8_t  ymm[16][32];
	uint32_t mxcsr;
	uint32_t pad1;
	uint64_t fpu_form;
	uint8_t  pad2[CTX_FPU_END - CTX_FPU_FORM - 8];
	const uint64_t ibl_code[IBL_ENTRIES];   /* read-only: see ctx_create */
	const uint64_t switch_code[SWITCH_TABLES][SWITCH_ENTRIES];   /* the same */
};

static_assert(offsetof(struct rt_ctx, rflags) == CTX_RFLAGS, "ctx layout");
static_assert(offsetof(struct rt_ctx, virt_flags) == CTX_VIRT_FLAGS, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_r11) == CTX_IBL_R11, "ctx layout");
static_assert(offsetof(struct rt_ctx, exit_id) == CTX_EXIT_ID, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_target) == CTX_IBL_TARGET, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_count) == CTX_IBL_COUNT, "ctx layout");
static_assert(offsetof(struct rt_ctx, fs_base) == CTX_FS_BASE, "ctx layout");
static_assert(offsetof(struct rt_ctx, xsave) == CTX_XSAVE, "ctx layout");
static_assert(offsetof(struct rt_ctx, ymm) == CTX_YMM, "ctx layout");
static_assert(offsetof(struct rt_ctx, mxcsr) == CTX_MXCSR, "ctx layout");
static_assert(offsetof(struct rt_ctx, fpu_form) == CTX_FPU_FORM, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_code) == CTX_IBL_CODE, "ctx layout");
static_assert(offsetof(struct rt_ctx, switch_code) == CTX_SWITCH_CODE, "ctx layout");
static_assert(sizeof(struct rt_ctx) == CTX_SIZE, "ctx layout");

/* The guest's rflags as it sees them while it is in a gate: the CPU's
 * (saved by the gate), with AC and ID from their slot. */
static inline uint64_t ctx_guest_rflags(const struct rt_ctx *c)
{
	return (c->rflags & ~RFLAGS_VIRTUAL) | (c->virt_flags & RFLAGS_VIRTUAL);
}

/* Sets them (the caller holds them to GUEST_RFLAGS_ALLOWED): AC and ID to
 * their slot, the rest to what the gate's popf gives the CPU. */
static inline void ctx_set_guest_rflags(struct rt_ctx *c, uint64_t rflags)
{
	c->virt_flags = rflags & RFLAGS_VIRTUAL;
	c->rflags = rflags & ~RFLAGS_VIRTUAL;
}

/* Maps a zeroed runtime context whose IBL and switch tables are
 * read-only, and a writable view of them for the translator
 * (*ibl_writable: the IBL table, the switch tables right after it).
 * NULL with errno on failure. */
struct rt_ctx *ctx_create(uint64_t **ibl_writable);
void ctx_destroy(struct rt_ctx *ctx, uint64_t *ibl_writable);

/* The guest's FPU/vector state as a standard-format XSAVE image (mask
 * CTX_XSAVE_MASK), for C code to read or change while the guest is in a
 * gate: a light-form state is converted first, and the gate then restores
 * from the image. */
uint8_t *ctx_xsave_image(struct rt_ctx *ctx);

/* Whether an XSAVE image from outside (a migration stream, a signal frame)
 * is one XRSTOR accepts on a host whose MXCSR takes the bits in
 * mxcsr_mask: 0, or -1 with the reason in why (may be NULL). */
int ctx_xsave_check(const uint8_t *x, uint32_t mxcsr_mask, char *why, size_t whylen);
#endif

#endif
