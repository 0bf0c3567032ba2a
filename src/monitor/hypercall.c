/*
 * opsub's own calls (include/opsub_abi.h).  Guest pointers are checked
 * here, like in the Linux personality; calls this file does not know go to
 * the monitor's extension (the network driver) when there is one.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "monitor/freeze.h"
#include "monitor/guest_clock.h"
#include "monitor/personality.h"
#include "monitor/syscalls.h"
#include "opsub_abi.h"
#include "monitor/monitor.h"

static int64_t console(struct monitor *m, uint64_t buf, uint64_t len)
{
	if (!gm_access_ok(&m->gm, buf, len, GP_R))
		return -EFAULT;
	ssize_t r = write(STDOUT_FILENO, guest_ptr(buf), len);
	return r < 0 ? -errno : r;
}

/* deadline: the guest's monotonic time */
static int64_t wait_until(struct monitor *m, uint64_t deadline)
{
	uint64_t host = guest_clock_to_host_ns(deadline);
	struct timespec ts = {(time_t)(host / 1000000000u), (long)(host % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		if (freeze_pending)
			freeze_serve(m, m->ctx->rip, GS_CALL_HYPERCALL);
	return 0;
}

bool personality_hypercall(struct monitor *m, struct rt_ctx *c)
{
	const uint64_t a[6] = {c->gpr[GPR_RDI], c->gpr[GPR_RSI], c->gpr[GPR_RDX],
	                       c->gpr[GPR_R10], c->gpr[GPR_R8], c->gpr[GPR_R9]};
	uint64_t nr = c->gpr[GPR_RAX];
	int64_t r;
	m->hypercalls++;
	switch (nr) {
	case OPSUB_HC_CONSOLE: r = console(m, a[0], a[1]); break;
	case OPSUB_HC_CLOCK: r = (int64_t)guest_clock_now_ns(); break;
	case OPSUB_HC_PORT_FD: r = port_fd_open(m, a[0]); break;
	case OPSUB_HC_WAIT:
		r = m->hypercall_ext ? m->hypercall_ext(m, nr, a) : wait_until(m, a[0]);
		break;
	default:
		r = m->hypercall_ext ? m->hypercall_ext(m, nr, a) : -ENOSYS;
		break;
	}
	c->gpr[GPR_RAX] = (uint64_t)r;
	return false;
}
