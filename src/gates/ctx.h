/*
 * The runtime context: the one block of memory shared by translated code,
 * the gate assembly and the trusted C code of one guest.
 *
 * While a guest runs, the host GS base points at this block (glibc never uses
 * GS on x86-64, and a guest's own GS accesses are rewritten to its emulated
 * GS base), so translated code reaches its slots as gs:[constant] without a
 * free register and without any address that could be shown to the guest.
 *
 * The block has three parts with different rights for translated code:
 *   - guest slots (first page): translated code may read and write them;
 *     they hold only guest values (registers, scratch, exit id), so a bug
 *     there can only hurt the guest itself;
 *   - trusted slots (second page): touched by the gate assembly alone;
 *   - the indirect-branch lookup (IBL) table: 2^16 code pointers indexed by
 *     the low 16 bits of the guest target, read by translated code through
 *     one fixed template that bounds the index itself; written only by
 *     trusted code, and every pointer in it is the IBL entry of a verified
 *     block (which checks that the target is its own pc) or the miss gate.
 * The verifier (translator/verifier.c) enforces these rights on every block.
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
#define CTX_IBL_RCX         0x90   /* guest rcx and r11 while an IBL lookup runs */
#define CTX_IBL_R11         0x98
#define CTX_EXIT_ID         0xa0   /* which exit stub entered the gate */
#define CTX_IBL_TARGET      0xa8   /* guest target of an IBL miss */
#define CTX_SEG_SCRATCH     0xb0   /* saved scratch register of an FS/GS rewrite */
#define CTX_IBL_COUNT       0xb8   /* indirect lookups, counted when --stats */
#define CTX_FS_BASE         0xc0   /* guest FS base: only ever added to guest */
#define CTX_GS_BASE         0xc8   /*   addresses, which are then confined */
#define CTX_GUEST_SLOTS_END 0x1000

/* Trusted page. */
#define CTX_HOST_RSP        0x1000 /* monitor stack while the guest runs */
#define CTX_RESUME          0x1008 /* host address the gate jumps to on exit */
#define CTX_SELF            0x1010 /* host address of this block, for C */
#define CTX_MXCSR_HOST      0x1018 /* MXCSR the trusted C code runs with */
#define CTX_FAST_RESUME     0x1020 /* host address of uint64_t[exit id]: see gate.h */
#define CTX_FAST_COUNT      0x1028 /* entries in that table */
#define CTX_TRUSTED_END     0x2000

/* FPU/vector state of the guest, saved by gates (XSAVE area, 64-aligned). */
#define CTX_XSAVE           0x2000
#define CTX_XSAVE_MAX       0x4000

/* IBL table: code pointers indexed by the low IBL_BITS bits of a guest pc. */
#define IBL_BITS            16
#define IBL_ENTRIES         (1 << IBL_BITS)
#define CTX_IBL_CODE        0x6000
#define CTX_SIZE            (CTX_IBL_CODE + IBL_ENTRIES * 8)

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
	uint64_t ibl_rcx, ibl_r11;
	uint64_t exit_id;
	uint64_t ibl_target;
	uint64_t seg_scratch;
	uint64_t ibl_count;
	uint64_t fs_base, gs_base;
	uint8_t  pad0[CTX_GUEST_SLOTS_END - CTX_GS_BASE - 8];
	/* trusted slots */
	uint64_t host_rsp;
	uint64_t resume;
	uint64_t self;
	uint32_t mxcsr_host, pad1;
	uint64_t *fast_resume;
	uint64_t fast_count;
	uint8_t  pad2[CTX_XSAVE - CTX_FAST_COUNT - 8];
	uint8_t  xsave[CTX_XSAVE_MAX] __attribute__((aligned(64)));
	uint8_t  pad3[CTX_IBL_CODE - CTX_XSAVE - CTX_XSAVE_MAX];
	uint64_t ibl_code[IBL_ENTRIES];
};

static_assert(offsetof(struct rt_ctx, rflags) == CTX_RFLAGS, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_rcx) == CTX_IBL_RCX, "ctx layout");
static_assert(offsetof(struct rt_ctx, exit_id) == CTX_EXIT_ID, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_count) == CTX_IBL_COUNT, "ctx layout");
static_assert(offsetof(struct rt_ctx, fs_base) == CTX_FS_BASE, "ctx layout");
static_assert(offsetof(struct rt_ctx, host_rsp) == CTX_HOST_RSP, "ctx layout");
static_assert(offsetof(struct rt_ctx, mxcsr_host) == CTX_MXCSR_HOST, "ctx layout");
static_assert(offsetof(struct rt_ctx, fast_resume) == CTX_FAST_RESUME, "ctx layout");
static_assert(offsetof(struct rt_ctx, fast_count) == CTX_FAST_COUNT, "ctx layout");
static_assert(offsetof(struct rt_ctx, xsave) == CTX_XSAVE, "ctx layout");
static_assert(offsetof(struct rt_ctx, ibl_code) == CTX_IBL_CODE, "ctx layout");
static_assert(sizeof(struct rt_ctx) == CTX_SIZE, "ctx layout");
#endif

#endif
