/*
 * Gates: entry points of trusted code for translated guest code.
 *
 * gate_exit and gate_ibl_miss are jump targets for translated code only
 * (never called from C).  gate_enter_guest runs the guest until a gate
 * handler decides it must stop.  gate_dispatch is the one C handler every
 * gate reaches; it is defined by the monitor (sandbox/monitor.c).
 */
#ifndef OPSUB_GATES_GATE_H
#define OPSUB_GATES_GATE_H

#include <stdint.h>
#include "gates/ctx.h"

void gate_exit(void);
void gate_ibl_miss(void);

/* Runs translated code from host_pc with the registers in the context whose
 * address is the current GS base. Returns when gate_dispatch returns 0. */
void gate_enter_guest(uint64_t host_pc);

/* Called by the gate with every guest register saved in ctx; returns the
 * host address to resume at, or 0 to leave the guest. */
uint64_t gate_dispatch(struct rt_ctx *ctx);

/*
 * The fast gate.  A hypercall exit whose continuation block is known (its
 * host address in ctx->fast_resume[exit id], kept by the translator and
 * cleared when that block dies) and whose call is GATE_FAST_HC does not
 * take the full gate: gate_exit saves only what a C call clobbers (the
 * guest's caller-saved registers, rsp and the flags; no x87 or vector
 * state, no MXCSR switch) and calls gate_fast_hypercall, which must run
 * general-register-only code (*.gpr.c).  It returns the call's result, or
 * GATE_SLOW before changing anything, and the exit then takes the full gate
 * as usual.  Defined by the monitor.
 */
int64_t gate_fast_hypercall(struct rt_ctx *ctx);

#endif
