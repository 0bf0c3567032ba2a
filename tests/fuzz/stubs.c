/*
 * The two symbols the fuzzers need from outside what they link.
 *
 * gates/gate.S calls gate_dispatch() and gate_fast_hypercall(), which the
 * monitor defines (monitor/monitor.c, monitor/fast_gate.gpr.c).  The fuzzers link the gate assembly only because the
 * translator emits jumps to gate_exit/gate_ibl_miss and the verifier checks
 * branch targets against those addresses; translated code never runs here,
 * so no gate is ever entered and the monitor (with its process-wide state,
 * signal handlers and the Linux personality) is left out.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gates/gate.h"

static void never_reached(const char *gate)
{
	fprintf(stderr, "fuzz: %s reached, but the fuzzers never run translated code\n", gate);
	abort();
}

uint64_t gate_dispatch(struct rt_ctx *ctx)
{
	(void)ctx;
	never_reached("gate_dispatch");
	return 0;
}

int64_t gate_fast_hypercall(struct rt_ctx *ctx)
{
	(void)ctx;
	never_reached("gate_fast_hypercall");
	return 0;
}
