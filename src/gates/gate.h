/*
 * Gates: entry points of trusted code for translated guest code.
 *
 * gate_exit and gate_ibl_miss are jump targets for translated code only
 * (never called from C).  gate_enter_guest runs the guest until a gate
 * handler decides it must stop.  gate_dispatch is the one C handler every
 * gate reaches; it is defined by the monitor (monitor/monitor.c).
 */
#ifndef OPSUB_GATES_GATE_H
#define OPSUB_GATES_GATE_H

#include <stdint.h>
#include "gates/ctx.h"

void gate_exit(void);
void gate_ibl_miss(void);

/* Runs translated code from host_pc with the registers in gate_ctx, which
 * must be the current GS base. Returns when gate_dispatch returns 0. */
void gate_enter_guest(uint64_t host_pc);

/* Called by the gate with every guest register saved in ctx; returns the
 * host address to resume at, or 0 to leave the guest. */
uint64_t gate_dispatch(struct rt_ctx *ctx);

/*
 * The fast gate.  A hypercall exit whose continuation block is known and
 * whose call is GATE_FAST_HC does not take the full gate: gate_exit saves
 * only what a C call clobbers (the guest's caller-saved registers, rsp and
 * the flags; no x87 or vector state, no MXCSR switch) and calls
 * gate_fast_hypercall, which must run general-register-only code (*.gpr.c).
 * It returns the call's result, or GATE_SLOW before changing anything, and
 * the exit then takes the full gate as usual.  Defined by the monitor.
 */
int64_t gate_fast_hypercall(struct rt_ctx *ctx);

/*
 * The gates' own data (gate.S), which no gs: operand can name:
 *   gate_ctx         the runtime context, passed to the C handlers;
 *   gate_fast_table  host address of the continuation of each hypercall
 *                    exit, by exit id (0: none), kept by the translator and
 *                    cleared when that block dies;
 *   gate_fast_mask   table entries - 1; the table has a power-of-two size
 *                    and the fast gate indexes it with exit id & mask
 *                    (pext: the guest's flags are still live), so even a
 *                    forged exit id stays inside the table;
 *   gate_fpu_light   nonzero when the host reports XINUSE (host.h): full
 *                    gates then keep the FPU state in its light form while
 *                    the guest's x87 state is unused (ctx.h);
 *   gate_guest_fpu   the parts of the FPU state (GUEST_FPU_*, ctx.h) that
 *                    some guest code can read or change: set, never
 *                    cleared, by the translator for each verified block
 *                    (verify_block reports them) and by the gate when it
 *                    restores such a part not initial (an XSAVE image C
 *                    code wrote: a migrated guest's).  A part no guest
 *                    code can touch is initial as far as the guest can
 *                    tell, so the full gate then need not ask XINUSE
 *                    (XGETBV took 15 ns on the AMD Zen 3 host, twice a
 *                    round trip), neither for the guest's state nor for
 *                    what trusted code left there.
 */
extern struct rt_ctx *gate_ctx;
extern uint64_t *gate_fast_table;
extern uint64_t gate_fast_mask;
extern uint8_t gate_fpu_light;
extern uint8_t gate_guest_fpu;

#endif
