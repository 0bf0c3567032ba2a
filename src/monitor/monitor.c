#include "monitor/monitor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gates/cpu_model.h"
#include "gates/host.h"
#include "gates/gate.h"
#include "monitor/personality.h"
#include "monitor/fault.h"
#include "monitor/fdtab.h"
#include "monitor/freeze.h"
#include "monitor/syscalls.h"
#include "sandbox/jail.h"
#include "sandbox/loader.h"
#include "monitor/stats.h"

struct monitor *the_monitor;

uint64_t monitor_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void monitor_finish(int status)
{
	struct monitor *m = the_monitor;
	if (m && m->opts.stats)
		stats_print(m, stderr);
	_exit(status);
}

void monitor_guest_fault(int sig, uint64_t pc, uint64_t addr, bool addr_known, const char *why)
{
	char insn[160] = "";
	struct decoded d;
	uint8_t bytes[15];
	size_t n = 0;
	while (n < sizeof(bytes) && gm_access_ok(&the_monitor->gm, pc + n, 1, GP_X)) {
		bytes[n] = *(const uint8_t *)guest_ptr(pc + n);
		n++;
	}
	char outside[256];
	if (n && decode_one(bytes, n, &d) == DECODE_OK) {
		decode_format(&d, pc, insn, sizeof(insn));
		/* code built for this host (-march=native) rather than for the guest CPU */
		if (sig == SIGILL && !cpu_model_allows(d.insn.meta.isa_ext)) {
			snprintf(outside, sizeof(outside),
			         "%s is not in the guest CPU model " CPU_MODEL_LEVEL " (opsub cpu): build for it, e.g. "
			         "-march=" CPU_MODEL_LEVEL " instead of -march=native", ZydisISAExtGetString(d.insn.meta.isa_ext));
			why = outside;
		}
	}
	char where[64] = "";
	if (addr_known)
		snprintf(where, sizeof(where), ", address 0x%lx", addr);
	fprintf(stderr, "opsub: guest fault: %s (SIG%s) at rip 0x%lx%s: %s%s%s%s\n", fault_kind(sig),
	        sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", pc, where, insn[0] ? insn : "(no instruction)",
	        why ? " [" : "", why ? why : "", why ? "]" : "");
	monitor_finish(128 + sig);
}

static void cpuid_exit(struct rt_ctx *c)
{
	uint32_t r[4];
	cpuid_guest((uint32_t)c->gpr[GPR_RAX], (uint32_t)c->gpr[GPR_RCX], r);
	c->gpr[GPR_RAX] = r[0];
	c->gpr[GPR_RBX] = r[1];
	c->gpr[GPR_RCX] = r[2];
	c->gpr[GPR_RDX] = r[3];
}

/* The guest target of a taken switch stub (translate.c, switch_site): the
 * switch's register, or for a jmp through the guest's table itself, that
 * table's entry for the index in the target slot (a table gone reads as
 * 0, where the jump then faults). */
static uint64_t switch_target(const struct monitor *m, const struct rt_ctx *c, const struct exit *x)
{
	if (x->reg != SWITCH_FROM_TABLE)
		return c->gpr[x->reg & (GPR_COUNT - 1)];
	uint64_t target = 0;
	if (gm_read(&m->gm, &target, x->target + 8 * (c->ibl_target & (SWITCH_ENTRIES - 1)), 8))
		target = 0;
	return target;
}

/* A request from the daemon at a gate's entry: the guest goes on at the
 * target of the branch that left the block, or makes the exiting
 * instruction (a system call, cpuid) again.  Not at a hypercall: the fast
 * gate may have done that call already and sent it here only to finish
 * (netdrv.c's replay), so making it again would send its frames twice;
 * hypercalls that block serve requests themselves, and the request
 * otherwise waits for the next gate.  Nor at a target the guest cannot
 * run, which faults as it would. */
static void serve_at_exit(struct monitor *m, struct rt_ctx *c, const struct exit *x)
{
	uint64_t pc = !x ? c->ibl_target : x->kind == EXITK_BRANCH ? x->target
	            : x->kind == EXITK_SWITCH ? switch_target(m, c, x) : x->pc;
	if ((x && (x->kind == EXITK_FAULT || x->kind == EXITK_HYPERCALL)) || !gm_access_ok(&m->gm, pc, 1, GP_X))
		return;
	freeze_serve(m, pc, GS_CALL_NONE);
}

/* The si_code of a fault the translator found (an instruction the guest
 * CPU does not run, a jump to memory it cannot run), as Linux reports it. */
static int fault_code(const struct monitor *m, const struct exit *x)
{
	if (x->signal == SIGILL)
		return ILL_ILLOPN;
	return x->signal == SIGSEGV && x->fault_addr ? signals_access_code(m, x->fault_addr) : SI_KERNEL;
}

/* The guest goes on at pc: another thread's turn first if one is due
 * (monitor/threads.h), then through the handler of a signal if one can be
 * delivered. */
static uint64_t resume(struct monitor *m, struct rt_ctx *c, uint64_t pc)
{
	if (threads_switch_due(m))
		pc = threads_switch(m, c, pc);
	if (signals_due(m))
		pc = signals_deliver(m, c, pc);
	return tr_entry(&m->tr, pc);
}

/* Something for resume() to do at this safe point. */
static bool stop_here(const struct monitor *m)
{
	return signals_due(m) || threads_switch_due(m);
}

uint64_t gate_dispatch(struct rt_ctx *c)
{
	struct monitor *m = the_monitor;
	struct translator *t = &m->tr;
	uint32_t id = (uint32_t)c->exit_id;
	const struct exit *x = id == EXIT_IBL_MISS ? NULL : tr_exit(t, id);
	if (id != EXIT_IBL_MISS && !x) {
		fprintf(stderr, "opsub: internal error: unknown exit id %u\n", id);
		abort();
	}
	if (freeze_pending)
		serve_at_exit(m, c, x);
	if (!x)
		return stop_here(m) ? resume(m, c, c->ibl_target) : tr_indirect(t, c->ibl_target);
	uint64_t pc = x->pc, next = x->target;
	switch ((enum exit_kind)x->kind) {
	case EXITK_BRANCH:
		return stop_here(m) ? resume(m, c, next) : tr_take_branch(t, id);
	case EXITK_SYSCALL:
		c->rip = pc;
		m->syscall_next = next;
		if (personality_syscall(m, c))
			return 0;
		if (!signals_take_return(m, &next)) {
			/* as the kernel's sysret: rcx = next pc, r11 = rflags */
			c->gpr[GPR_RCX] = next;
			c->gpr[GPR_R11] = ctx_guest_rflags(c);
		}
		return resume(m, c, next);
	case EXITK_HYPERCALL:
		c->rip = pc;
		if (personality_hypercall(m, c))
			return 0;
		return tr_take_branch(t, id);
	case EXITK_SWITCH:
		/* the index in the target slot (translate.c, switch_site) */
		return stop_here(m) ? resume(m, c, switch_target(m, c, x))
		                    : tr_take_switch(t, id, (unsigned)c->ibl_target, switch_target(m, c, x));
	case EXITK_SWITCH_LINK:   /* has no stub of its own */
		fprintf(stderr, "opsub: internal error: exit %u has no stub\n", id);
		abort();
	case EXITK_CPUID:
		cpuid_exit(c);
		return resume(m, c, next);
	case EXITK_XGETBV:
		if ((uint32_t)c->gpr[GPR_RCX] != 0)
			monitor_guest_fault(SIGSEGV, pc, 0, false, "xgetbv of an XCR the guest CPU lacks");
		c->gpr[GPR_RAX] = CPUID_GUEST_XCR0;
		c->gpr[GPR_RDX] = 0;
		return resume(m, c, next);
	case EXITK_FAULT:
		if (signals_fault(m, x->signal, fault_code(m, x), x->signal == SIGSEGV ? x->fault_addr : pc))
			return resume(m, c, pc);
		monitor_guest_fault(x->signal, pc, x->fault_addr, x->signal == SIGSEGV, x->why);
	}
	return 0;
}

static void stop_timer(int sig)
{
	(void)sig;
	monitor_finish(0);
}

static int setup(struct monitor *m, char *err, size_t errlen)
{
	if (host_check(err, errlen))
		return -1;
	cpu_model_show(host_optional_rows());   /* a restored guest gets its own (freeze_load) */
	if (gm_init(&m->gm, m->opts.mem_size, m->opts.mem_fd, err, errlen))
		return -1;
	/* a guest of the daemon can migrate; without the kernel's support it
	 * still runs, and the daemon refuses to move it */
	if (m->opts.track_writes)
		gm_track_writes(&m->gm);
	m->ctx = ctx_create(&m->ibl);
	if (!m->ctx) {
		snprintf(err, errlen, "cannot allocate the runtime context: %s", strerror(errno));
		return -1;
	}
	static const uint32_t mxcsr_default = 0x1f80;
	memcpy(ctx_xsave_image(m->ctx) + 24, &mxcsr_default, 4);    /* the guest starts with the default MXCSR */
	/* The GS base through the kernel: works whether or not the kernel lets
	 * user space use FSGSBASE (host.h). */
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (uintptr_t)m->ctx) != 0) {
		snprintf(err, errlen, "cannot set the GS base (arch_prctl): %s", strerror(errno));
		return -1;
	}
	gate_ctx = m->ctx;
	gate_fpu_light = host_has_xinuse();
	struct tr_config tc = {.verify = !m->opts.no_verify, .measure = m->opts.stats};
	if (tr_init(&m->tr, &m->gm, m->ctx, m->ibl, &tc, err, errlen))
		return -1;
	signals_init(m);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);   /* what the guest's getpriority starts from */
	m->nice = errno ? 0 : nice;
	return fault_install(err, errlen) || timers_install(m, err, errlen) ? -1 : 0;
}

int monitor_run(const struct monitor_opts *o, const char *path, char *const argv[], char *const envp[])
{
	static struct monitor m;
	char err[512];
	m.opts = *o;
	m.start_ns = monitor_now_ns();
	the_monitor = &m;
	if (setup(&m, err, sizeof(err))) {
		fprintf(stderr, "opsub: %s\n", err);
		return 1;
	}
	/* before the program: a dynamically linked one's interpreter is read
	 * from the guest's file system */
	if (fs_setup(&m.fs, &o->fs, path, err, sizeof(err))) {
		fprintf(stderr, "opsub: %s\n", err);
		return 2;
	}
	struct guest_start start;
	if (o->restore) {
		if (freeze_load(&m, &start.pc, err, sizeof(err))) {
			fprintf(stderr, "opsub: cannot restore the guest: %s\n", err);
			return 2;
		}
	} else {
		const struct loader_interp interp = {open_interpreter, &m};
		if (loader_load(&m.gm, path, argv, envp, &interp, &start, err, sizeof(err))) {
			fprintf(stderr, "opsub: %s: %s\n", path, err);
			return 2;
		}
		m.ctx->gpr[GPR_RSP] = start.rsp;
		ctx_set_guest_rflags(m.ctx, GUEST_RFLAGS_ALWAYS);
	}
	if (o->seconds > 0) {
		/* like every signal while a guest runs: on the alternate stack */
		fault_on_signal(SIGALRM, stop_timer);
		struct timespec ts = {(time_t)o->seconds, (long)((o->seconds - (time_t)o->seconds) * 1e9)};
		timer_t tid;
		struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
		struct itimerspec its = {.it_value = ts};
		if (timer_create(CLOCK_MONOTONIC, &sev, &tid) == 0)
			timer_settime(tid, 0, &its, NULL);
	}
	m.fs_changes_at_start = m.fs.mem.changes;
	m.umask = 022;
	fd_init();
	for (int fd = 0; fd < 3; fd++)   /* what a restored guest had closed */
		if (m.closed_fds & (1u << fd))
			fd_close(fd);
	if ((o->before_run && o->before_run(&m, err, sizeof(err))) || (o->restore && freeze_loaded(&m, err, sizeof(err))) ||
	    jail_enter(err, sizeof(err))) {
		fprintf(stderr, "opsub: %s\n", err);
		return 1;
	}
	uint64_t entry = tr_entry(&m.tr, start.pc);
	m.first_insn_ns = monitor_now_ns();
	gate_enter_guest(entry);
	monitor_finish(m.exit_status);
}
