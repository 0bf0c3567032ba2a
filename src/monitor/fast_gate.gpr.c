/*
 * fast_gate.gpr.c: the monitor's side of the fast gate (gates/gate.h).
 * General registers only (.gpr.c): the guest's x87 and vector state is
 * live in the registers while this runs.
 */
#include "gates/gate.h"
#include "monitor/monitor.h"

int64_t gate_fast_hypercall(struct rt_ctx *c)
{
	struct monitor *m = the_monitor;
	if (!m->hypercall_fast)
		return (int64_t)GATE_SLOW;
	int64_t r = m->hypercall_fast(m, c->gpr[GPR_RDI], c->gpr[GPR_RSI]);
	if (r != (int64_t)GATE_SLOW)
		m->hypercalls++;
	return r;
}
