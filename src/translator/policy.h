/*
 * The subtraction policy: which guest instruction forms are never emitted as
 * the guest wrote them, and what replaces them.  It is data, in two tables
 * in policy.c that a reviewer reads on their own:
 *
 *   1. instruction classes, first match wins, deny by default: each row says
 *      what happens to the whole instruction (a gate, a rewrite, a guest
 *      fault with the signal a native process would get, or "pass");
 *   2. operand forms, applied to every instruction that passes: how memory
 *      operands, RIP-relative and absolute addresses, FS/GS-relative accesses
 *      and writes to rsp are rewritten so they stay inside the sandbox.
 *
 * The translator (translate.c) carries the rows out; the verifier
 * (verifier.c) checks the result without consulting this table.
 */
#ifndef OPSUB_TRANSLATOR_POLICY_H
#define OPSUB_TRANSLATOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "translator/decode.h"
#include "translator/quick_decode.h"

enum sub_action {
	SUB_PASS,       /* emitted as written, after the operand-form rewrites */
	SUB_DROP,       /* has no effect for a guest: not emitted */
	SUB_BRANCH,     /* control transfer: block link or indirect lookup */
	SUB_SYSCALL,    /* gate into the Linux personality */
	SUB_HYPERCALL,  /* gate into opsub's own calls */
	SUB_CPUID,      /* gate: answered from the fixed CPU model */
	SUB_XGETBV,     /* gate: fixed XCR0 of the CPU model */
	SUB_RDTSCP,     /* rdtscp, then the host CPU number hidden (ecx = 0) */
	SUB_FSGSBASE,   /* rd/wr fs/gs base: the guest's emulated bases */
	SUB_FRAME,      /* enter/leave: rewritten with a confined rsp */
	SUB_POPF,       /* popf: AC and ID to their slot, TF and AC masked */
	SUB_PUSHF,      /* pushf: AC and ID shown from their slot */
	SUB_FAULT,      /* guest fault with the row's signal */
};

struct policy_class {
	const char *name;          /* the class, as in --stats and docs/threat-model.md */
	enum sub_action action;
	int signal;                /* SUB_FAULT: the signal a native process would get */
	const char *replacement;   /* what replaces it, in words */
	bool (*match)(const struct decoded *d);
};

enum form {
	FORM_MEMORY,         /* memory operand: 32-bit address size */
	FORM_RIP_RELATIVE,   /* rip-relative operand: absolute guest address */
	FORM_MOFFS,          /* 64-bit absolute moffs: 32-bit absolute ModRM form */
	FORM_SEGMENT,        /* fs:/gs: operand: emulated base added, then confined */
	FORM_RSP_WRITE,      /* 64-bit write of rsp: followed by mov esp, esp */
	FORM_FP_IP,          /* x87 environment store: its instruction pointer zeroed */
	FORM_COUNT
};

struct policy_form {
	const char *name;
	const char *replacement;
};

extern const struct policy_class policy_classes[];
extern const size_t policy_class_count;
extern const struct policy_form policy_forms[FORM_COUNT];

/* The class of an instruction; never NULL (the last row matches all). */
const struct policy_class *policy_classify(const struct decoded *d);

/* The class of a common form the translator takes without Zydis
 * (quick_decode.h): "near branch" for a direct jump, else "guest CPU
 * model ISA" (runs as written after the operand-form rewrites).
 * test_quick_decode checks that policy_classify gives every one of them
 * this class, and no operand form but a memory operand and the rsp
 * write. */
const struct policy_class *policy_quick_class(const struct quick_insn *q);

/* The operand forms (bit 1 << FORM_x) that apply to a passing instruction. */
unsigned policy_forms_of(const struct decoded *d);

/* FORM_FP_IP: where in the stored image the x87 instruction pointer lies
 * (offset, bytes); false for other instructions.  The field would hold the
 * code-cache address of the last x87 instruction. */
bool policy_fp_ip_field(const struct decoded *d, unsigned *offset, unsigned *bytes);

#endif
