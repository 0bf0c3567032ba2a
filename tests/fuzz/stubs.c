/*
 * The one symbol the fuzzers need from outside what they link.
 *
 * gates/gate.S calls gate_dispatch(), which the monitor defines
 * (sandbox/monitor.c).  The fuzzers link the gate assembly only because the
 * translator emits jumps to gate_exit/gate_ibl_miss and the verifier checks
 * branch targets against those addresses; translated code never runs here,
 * so no gate is ever entered and the monitor (with its process-wide state,
 * signal handlers and the Linux personality) is left out.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gates/gate.h"

uint64_t gate_dispatch(struct rt_ctx *ctx)
{
	(void)ctx;
	fprintf(stderr, "fuzz: gate_dispatch reached, but the fuzzers never run translated code\n");
	abort();
}
