/*
 * Guest signals (signals.h): the pending set, the interval timers, the
 * kernel's signal frame, and the system calls that act on them.
 */
#include "monitor/signals.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gates/host.h"
#include "gates/xsave_layout.h"
#include "monitor/fault.h"
#include "monitor/freeze.h"
#include "monitor/guest_clock.h"
#include "monitor/guest_state.h"
#include "monitor/monitor.h"
#include "monitor/syscalls.h"

/* ---- the kernel's x86-64 signal ABI, as the guest's libc knows it ---------- */

#define K_SA_SIGINFO    0x00000004ull
#define K_SA_RESTORER   0x04000000ull
#define K_SA_ONSTACK    0x08000000ull
#define K_SA_RESTART    0x10000000ull
#define K_SA_NODEFER    0x40000000ull
#define K_SA_RESETHAND  0x80000000ull
#define K_SS_ONSTACK    1u
#define K_SS_DISABLE    2u
#define K_SS_AUTODISARM (1u << 31)
#define K_MINSIGSTKSZ   2048u
#define UC_FP_XSTATE          1u
#define UC_SIGCONTEXT_SS      2u
#define UC_STRICT_RESTORE_SS  4u
#define FP_SW_BYTES      464           /* struct _fpx_sw_bytes in the FXSAVE area */
/* FP_XSTATE_MAGIC1 and 2: <bits/sigcontext.h> */
#define FP_SIZE          (XSAVE_SIZE_AVX + 4)   /* the image and MAGIC2 */
#define RED_ZONE         128
#define RFLAGS_DF        0x400ull
#define UNBLOCKABLE      (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))

struct k_stack { uint64_t sp; uint32_t flags, pad; uint64_t size; };

struct k_sigcontext {
	uint64_t gpr[16];            /* in mc_gpr's order */
	uint64_t rip, rflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;            /* guest address of the FPU state, 0: none */
	uint64_t reserved[8];
};

struct k_ucontext {
	uint64_t flags, link;
	struct k_stack stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_siginfo {
	int32_t signo, errno_, code, pad;
	int32_t pid;                 /* SI_TIMER: the timer's id */
	uint32_t uid;                /* SI_TIMER: the overrun count */
	uint64_t value;              /* SI_TIMER: sigev_value */
	uint8_t rest[96];
};

struct k_sigframe {
	uint64_t pretcode;           /* sa_restorer: where the handler returns */
	struct k_ucontext uc;
	struct k_siginfo info;
};

struct fpx_sw_bytes { uint32_t magic1, extended_size; uint64_t xfeatures; uint32_t xstate_size, pad[7]; };

static_assert(sizeof(struct k_sigcontext) == 256, "kernel ABI");
static_assert(sizeof(struct k_ucontext) == 304, "kernel ABI");
static_assert(sizeof(struct k_siginfo) == 128, "kernel ABI");
static_assert(sizeof(struct k_sigframe) == 440, "kernel ABI");
static_assert(sizeof(struct fpx_sw_bytes) == 48, "kernel ABI");

/* struct sigcontext's register order */
static const uint8_t mc_gpr[16] = {
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_RDI, GPR_RSI, GPR_RBP, GPR_RBX, GPR_RDX, GPR_RAX, GPR_RCX, GPR_RSP,
};

enum { ACT_HANDLER, ACT_FLAGS, ACT_RESTORER, ACT_MASK };

/* The timers' signals, by setitimer's which; the last host timer only
 * sends its signal again while a delivery waits. */
static const int itimer_signal[ITIMER_COUNT] = {SIGALRM, SIGVTALRM, SIGPROF};
#define RETRY_TIMER ITIMER_COUNT
#define RETRY_NS    1000000
#define SLICE_TIMER (ITIMER_COUNT + 1)
#define POSIX_BASE  (ITIMER_COUNT + 2)

/* ---- pending signals --------------------------------------------------------- */

uint64_t signals_waiting(const struct monitor *m)
{
	return (__atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) | m->sig.thread_pending) & ~m->sigmask;
}

static bool ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

static bool ignored(const struct monitor *m, int sig)
{
	uint64_t handler = m->sigactions[sig][ACT_HANDLER];
	return handler == (uintptr_t)SIG_IGN || (handler == (uintptr_t)SIG_DFL && ignored_by_default(sig));
}

/* Async-signal-safe: the timers' handler posts too.  to: the pending set
 * of the process or of one thread. */
static void post(struct monitor *m, uint64_t *to, int sig, int code)
{
	if (ignored(m, sig))
		return;   /* Linux discards a signal ignored when it is sent */
	m->sig.code[sig] = code;
	__atomic_or_fetch(to, SIG_BIT(sig), __ATOMIC_RELEASE);
}

void signals_send_self(struct monitor *m, int sig, int code)
{
	post(m, &m->sig.pending, sig, code);
}

/* Host timer `which` firing every ns, or stopped. */
static void periodic(struct monitor *m, int which, bool on, long ns)
{
	struct itimerspec its = {0};
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = ns;
	timer_settime(m->sig.timer[which], 0, &its, NULL);
}

void signals_slice(struct monitor *m, bool on)
{
	periodic(m, SLICE_TIMER, on, (long)THREAD_SLICE_NS);
}

/* The retry timer runs while a delivery waits for the guest to reach a
 * safe point (the timer's first signal may find it in trusted code). */
static void retry(struct monitor *m, bool on)
{
	periodic(m, RETRY_TIMER, on, RETRY_NS);
}

/* From trusted code, which a timer's handler may interrupt at any point:
 * off first, then on again if something waits, so that a signal posted
 * in between keeps its retries. */
static void retry_update(struct monitor *m)
{
	retry(m, false);
	if (signals_waiting(m))
		retry(m, true);
}

/* A POSIX timer's host timer fired: its signal to the process, or to its
 * thread while that lives. */
static void posix_expired(struct monitor *m, int k)
{
	const struct posix_timer *p = &m->sig.posix[k];
	if (!p->used || p->notify == SIGEV_NONE)
		return;
	uint64_t *to = p->notify == SIGEV_THREAD_ID ? threads_pending_of(m, p->tid) : NULL;
	m->sig.timerid[p->signo] = k;
	m->sig.value[p->signo] = p->value;
	post(m, to ? to : &m->sig.pending, p->signo, SI_TIMER);
}

static bool on_timer(int hostsig, const siginfo_t *si)
{
	(void)hostsig;
	struct monitor *m = the_monitor;
	int which = si->si_value.sival_int;
	if (which == SLICE_TIMER)
		return threads_on_slice(m);
	if (which >= 0 && which < ITIMER_COUNT)
		post(m, &m->sig.pending, itimer_signal[which], SI_KERNEL);
	if (which >= POSIX_BASE && which < POSIX_BASE + POSIX_TIMERS)
		posix_expired(m, which - POSIX_BASE);
	bool waiting = signals_waiting(m) != 0;
	retry(m, waiting);   /* nothing trusted runs inside a handler: no race here */
	return waiting;
}

int signals_install(struct monitor *m, char *err, size_t errlen)
{
	static const clockid_t clocks[POSIX_BASE] = {
		CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC, CLOCK_MONOTONIC,
	};
	m->sig.altstack_flags = K_SS_DISABLE;
	for (int i = 0; i < HOST_TIMERS; i++) {
		struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = FAULT_TIMER_SIGNAL,
		                       .sigev_value.sival_int = i};
		if (timer_create(i < POSIX_BASE ? clocks[i] : CLOCK_MONOTONIC, &sev, &m->sig.timer[i])) {
			snprintf(err, errlen, "cannot create the guest's interval timers: %s", strerror(errno));
			return -1;
		}
	}
	if (fault_on_request(FAULT_TIMER_SIGNAL, on_timer)) {
		snprintf(err, errlen, "cannot install the guest timers' signal handler");
		return -1;
	}
	return 0;
}

/* ---- delivery ------------------------------------------------------------------ */

__attribute__((noreturn)) static void terminate(int sig, const char *why)
{
	fprintf(stderr, "opsub: guest terminated by signal SIG%s%s%s%s\n",
	        sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", why ? " (" : "", why ? why : "", why ? ")" : "");
	monitor_finish(128 + sig);
}

static bool on_altstack(const struct monitor *m, uint64_t sp)
{
	return !(m->sig.altstack_flags & K_SS_DISABLE) && sp > m->sig.altstack_sp &&
	       sp - m->sig.altstack_sp <= m->sig.altstack_size;
}

static uint32_t altstack_state(const struct monitor *m, uint64_t sp)
{
	return (m->sig.altstack_flags & K_SS_DISABLE) ? K_SS_DISABLE : on_altstack(m, sp) ? K_SS_ONSTACK : 0;
}

/* The guest's FPU state as the frame holds it: the XSAVE image with the
 * software bytes that say so, then MAGIC2. */
static void save_fpu(struct rt_ctx *c, uint8_t fp[FP_SIZE])
{
	memcpy(fp, ctx_xsave_image(c), XSAVE_SIZE_AVX);
	memset(fp + XSAVE_HEADER + 8, 0, 56);
	struct fpx_sw_bytes sw = {.magic1 = FP_XSTATE_MAGIC1, .extended_size = FP_SIZE,
	                          .xfeatures = CTX_XSAVE_MASK, .xstate_size = XSAVE_SIZE_AVX};
	memcpy(fp + FP_SW_BYTES, &sw, sizeof(sw));
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	memcpy(fp + XSAVE_SIZE_AVX, &magic2, 4);
}

/* The FPU state a handler starts with, as Linux gives it: initial. */
static void init_fpu(struct rt_ctx *c)
{
	uint8_t *x = ctx_xsave_image(c);
	static const uint16_t fcw = 0x37f;
	static const uint32_t mxcsr = 0x1f80;
	memset(x, 0, XSAVE_SIZE_AVX);
	memcpy(x + XSAVE_FCW, &fcw, 2);
	memcpy(x + XSAVE_MXCSR, &mxcsr, 4);
}

static void fill_info(const struct monitor *m, struct k_siginfo *info, int sig)
{
	memset(info, 0, sizeof(*info));
	info->signo = sig;
	info->code = m->sig.code[sig];
	if (info->code == SI_USER || info->code == SI_TKILL) {
		info->pid = getpid();
		info->uid = getuid();
	} else if (info->code == SI_TIMER) {
		info->pid = m->sig.timerid[sig];
		info->value = m->sig.value[sig];
	}
}

/* Takes sig off the running thread's pending set, or else the process's. */
static void take(struct monitor *m, int sig)
{
	if (m->sig.thread_pending & SIG_BIT(sig))
		m->sig.thread_pending &= ~SIG_BIT(sig);
	else
		__atomic_and_fetch(&m->sig.pending, ~SIG_BIT(sig), __ATOMIC_ACQ_REL);
}

static uint64_t enter_handler(struct monitor *m, struct rt_ctx *c, uint64_t pc, int sig)
{
	uint64_t *act = m->sigactions[sig];
	uint64_t flags = act[ACT_FLAGS], handler = act[ACT_HANDLER];
	if (m->sig.restart && (int64_t)c->gpr[GPR_RAX] == -EINTR && (flags & K_SA_RESTART)) {
		pc = m->sig.restart_pc;        /* the call again, as Linux's -ERESTARTSYS */
		c->gpr[GPR_RAX] = m->sig.restart_nr;
	}
	if (!(flags & K_SA_RESTORER))
		terminate(SIGSEGV, "a handler without SA_RESTORER: nowhere to return to");
	uint64_t rsp = c->gpr[GPR_RSP], sp = rsp - RED_ZONE;
	uint32_t stack_state = altstack_state(m, rsp);
	if ((flags & K_SA_ONSTACK) && stack_state == 0)
		sp = m->sig.altstack_sp + m->sig.altstack_size;
	uint64_t fpstate = (sp - FP_SIZE) & ~63ull;
	uint64_t frame = ((fpstate - sizeof(struct k_sigframe)) & ~15ull) - 8;

	struct k_sigframe f = {.pretcode = act[ACT_RESTORER]};
	uint64_t old_mask = m->sig.suspended ? m->sig.saved_mask : m->sigmask;
	f.uc.flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.stack = (struct k_stack){.sp = m->sig.altstack_sp, .size = m->sig.altstack_size,
	                              .flags = stack_state | (m->sig.altstack_flags & K_SS_AUTODISARM)};
	for (int i = 0; i < 16; i++)
		f.uc.mc.gpr[i] = c->gpr[mc_gpr[i]];
	f.uc.mc.rip = pc;
	f.uc.mc.rflags = c->rflags;
	f.uc.mc.cs = 0x33;
	f.uc.mc.ss = 0x2b;
	f.uc.mc.oldmask = old_mask;
	f.uc.mc.fpstate = fpstate;
	f.uc.sigmask = old_mask;
	fill_info(m, &f.info, sig);
	uint8_t fp[FP_SIZE];
	save_fpu(c, fp);
	if (gm_write(&m->gm, fpstate, fp, sizeof(fp)) || gm_write(&m->gm, frame, &f, sizeof(f)))
		terminate(SIGSEGV, "its signal frame does not fit on its stack");

	if ((flags & K_SA_ONSTACK) && stack_state == 0 && (m->sig.altstack_flags & K_SS_AUTODISARM))
		m->sig.altstack_flags = K_SS_DISABLE;
	m->sigmask = (old_mask | act[ACT_MASK] | ((flags & K_SA_NODEFER) ? 0 : SIG_BIT(sig))) & ~UNBLOCKABLE;
	m->sig.suspended = false;
	if (flags & K_SA_RESETHAND)
		act[ACT_HANDLER] = (uintptr_t)SIG_DFL;
	c->gpr[GPR_RDI] = (uint64_t)sig;
	c->gpr[GPR_RSI] = frame + offsetof(struct k_sigframe, info);
	c->gpr[GPR_RDX] = frame + offsetof(struct k_sigframe, uc);
	c->gpr[GPR_RAX] = 0;
	c->gpr[GPR_RSP] = frame;
	c->rflags &= ~RFLAGS_DF;
	init_fpu(c);
	return handler;
}

uint64_t signals_deliver(struct monitor *m, struct rt_ctx *c, uint64_t pc)
{
	uint64_t ready;
	while ((ready = signals_waiting(m))) {
		int sig = __builtin_ctzll(ready) + 1;
		take(m, sig);
		if (ignored(m, sig))
			continue;
		if (m->sigactions[sig][ACT_HANDLER] == (uintptr_t)SIG_DFL)
			terminate(sig, NULL);   /* every other default ends the process (stop: ends it here) */
		pc = enter_handler(m, c, pc, sig);
		break;
	}
	m->sig.restart = false;
	retry_update(m);
	return pc;
}

void signals_note_interrupted(struct monitor *m, uint64_t nr, uint64_t pc)
{
	m->sig.restart = true;
	m->sig.restart_nr = nr;
	m->sig.restart_pc = pc;
}

bool signals_take_return(struct monitor *m, uint64_t *pc)
{
	if (!m->sig.returned)
		return false;
	m->sig.returned = false;
	*pc = m->sig.return_pc;
	return true;
}

/* ---- rt_sigreturn ---------------------------------------------------------------- */

/* The frame's FPU state into image (XSAVE_SIZE_AVX bytes), checked as
 * Linux checks it; false for a frame Linux refuses. */
static bool read_fpu(struct monitor *m, uint64_t fpstate, uint8_t *image)
{
	memset(image, 0, XSAVE_SIZE_AVX);
	if (!fpstate) {
		static const uint16_t fcw = 0x37f;
		static const uint32_t mxcsr = 0x1f80;
		memcpy(image + XSAVE_FCW, &fcw, 2);
		memcpy(image + XSAVE_MXCSR, &mxcsr, 4);
		return true;
	}
	if (fpstate % 64 || gm_read(&m->gm, image, fpstate, 512))
		return false;
	struct fpx_sw_bytes sw;
	memcpy(&sw, image + FP_SW_BYTES, sizeof(sw));
	uint64_t xstate_bv = 3;   /* an FXSAVE-only frame: x87 and SSE */
	if (sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size >= XSAVE_SIZE_AVX && sw.extended_size == sw.xstate_size + 4) {
		uint32_t magic2;
		if (gm_read(&m->gm, image + 512, fpstate + 512, XSAVE_SIZE_AVX - 512) ||
		    gm_read(&m->gm, &magic2, fpstate + sw.xstate_size, 4))
			return false;
		if (magic2 == FP_XSTATE_MAGIC2)
			memcpy(&xstate_bv, image + XSAVE_HEADER, 8);
		else
			memset(image + 512, 0, XSAVE_SIZE_AVX - 512);
	}
	memset(image + FP_SW_BYTES, 0, 512 - FP_SW_BYTES);
	memcpy(image + XSAVE_HEADER, &xstate_bv, 8);
	return ctx_xsave_check(image, host_mxcsr_mask(), NULL, 0) == 0;
}

int64_t sys_rt_sigreturn(struct monitor *m, ARGS)
{
	(void)a;
	struct rt_ctx *c = m->ctx;
	struct k_sigframe f;
	uint8_t image[XSAVE_SIZE_AVX];
	uint64_t frame = c->gpr[GPR_RSP] - 8;   /* the handler's ret took pretcode */
	if (gm_read(&m->gm, &f, frame, sizeof(f)) || !read_fpu(m, f.uc.mc.fpstate, image))
		terminate(SIGSEGV, "rt_sigreturn found no valid signal frame");
	for (int i = 0; i < 16; i++)
		c->gpr[mc_gpr[i]] = f.uc.mc.gpr[i];
	c->rflags = (f.uc.mc.rflags & GUEST_RFLAGS_ALLOWED) | GUEST_RFLAGS_ALWAYS;
	memcpy(ctx_xsave_image(c), image, sizeof(image));
	m->sigmask = f.uc.sigmask & ~UNBLOCKABLE;
	m->sig.returned = true;
	m->sig.return_pc = f.uc.mc.rip;
	return (int64_t)c->gpr[GPR_RAX];   /* the personality stores the result in rax */
}

/* ---- actions, mask, sending -------------------------------------------------------- */

int64_t sys_rt_sigaction(struct monitor *m, ARGS)
{
	uint64_t sig = a[0];
	if (a[3] != 8 || sig < 1 || sig > 64 || ((sig == SIGKILL || sig == SIGSTOP) && a[1]))
		return -EINVAL;
	uint64_t old[4], act[4];
	memcpy(old, m->sigactions[sig], sizeof(old));
	if (a[1]) {
		if (gm_read(&m->gm, act, a[1], sizeof(act)))
			return -EFAULT;
		act[ACT_MASK] &= ~UNBLOCKABLE;
		memcpy(m->sigactions[sig], act, sizeof(act));
		if (ignored(m, (int)sig)) {   /* a pending signal now ignored is dropped */
			__atomic_and_fetch(&m->sig.pending, ~SIG_BIT(sig), __ATOMIC_ACQ_REL);
			m->sig.thread_pending &= ~SIG_BIT(sig);
		}
	}
	return a[2] ? gm_write(&m->gm, a[2], old, sizeof(old)) : 0;
}

int64_t sys_rt_sigprocmask(struct monitor *m, ARGS)
{
	uint64_t set, old = m->sigmask;
	if (a[3] != 8 || a[0] > SIG_SETMASK)
		return -EINVAL;
	if (a[1]) {
		if (gm_read(&m->gm, &set, a[1], 8))
			return -EFAULT;
		uint64_t mask = a[0] == SIG_BLOCK ? old | set : a[0] == SIG_UNBLOCK ? old & ~set : set;
		m->sigmask = mask & ~UNBLOCKABLE;
	}
	return a[2] ? gm_write(&m->gm, a[2], &old, 8) : 0;
}

int64_t sys_rt_sigpending(struct monitor *m, ARGS)
{
	if (a[1] != 8)
		return -EINVAL;
	uint64_t set = (__atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) | m->sig.thread_pending) & m->sigmask;
	return gm_write(&m->gm, a[0], &set, 8);
}

static int64_t send(struct monitor *m, uint64_t *to, uint64_t sig, int code)
{
	if (sig > 64)
		return -EINVAL;
	if (!to)
		return -EPERM;   /* no such thread of this guest: nothing else is reachable */
	if (sig)
		post(m, to, (int)sig, code);
	return 0;
}

int64_t sys_kill(struct monitor *m, ARGS)
{
	return send(m, a[0] == (uint64_t)getpid() ? &m->sig.pending : NULL, a[1], SI_USER);
}

int64_t sys_tkill(struct monitor *m, ARGS)
{
	return send(m, threads_pending_of(m, a[0]), a[1], SI_TKILL);
}

int64_t sys_tgkill(struct monitor *m, ARGS)
{
	return send(m, a[0] == (uint64_t)getpid() ? threads_pending_of(m, a[1]) : NULL, a[2], SI_TKILL);
}

int64_t sys_sigaltstack(struct monitor *m, ARGS)
{
	uint64_t sp = m->ctx->gpr[GPR_RSP];
	struct k_stack old = {.sp = m->sig.altstack_sp, .size = m->sig.altstack_size,
	                      .flags = altstack_state(m, sp) | (m->sig.altstack_flags & K_SS_AUTODISARM)};
	if (a[0]) {
		struct k_stack ss;
		if (gm_read(&m->gm, &ss, a[0], sizeof(ss)))
			return -EFAULT;
		if (on_altstack(m, sp))
			return -EPERM;
		uint32_t mode = ss.flags & ~K_SS_AUTODISARM;
		if (mode != 0 && mode != K_SS_ONSTACK && mode != K_SS_DISABLE)
			return -EINVAL;
		if (mode == K_SS_DISABLE) {
			m->sig.altstack_sp = m->sig.altstack_size = 0;
			m->sig.altstack_flags = K_SS_DISABLE;
		} else {
			if (ss.size < K_MINSIGSTKSZ)
				return -ENOMEM;
			m->sig.altstack_sp = ss.sp;
			m->sig.altstack_size = ss.size;
			m->sig.altstack_flags = ss.flags & K_SS_AUTODISARM;
		}
	}
	return a[1] ? gm_write(&m->gm, a[1], &old, sizeof(old)) : 0;
}

/* ---- waiting for a signal ---------------------------------------------------------- */

/* Waits until a signal can be delivered (-EINTR), serving migration
 * requests meanwhile with the guest's own mask; with other threads the
 * running one blocks. */
static int64_t wait_for_signal(struct monitor *m)
{
	if (threads_many(m) && !signals_waiting(m))
		return threads_sigwait(m);
	while (!signals_waiting(m)) {
		pause();
		if (freeze_pending) {
			uint64_t mask = m->sigmask;
			if (m->sig.suspended)
				m->sigmask = m->sig.saved_mask;
			freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);
			m->sigmask = mask;
		}
	}
	return -EINTR;
}

int64_t sys_pause(struct monitor *m, ARGS)
{
	(void)a;
	return wait_for_signal(m);
}

int64_t sys_rt_sigsuspend(struct monitor *m, ARGS)
{
	uint64_t mask;
	if (a[1] != 8)
		return -EINVAL;
	if (gm_read(&m->gm, &mask, a[0], 8))
		return -EFAULT;
	m->sig.saved_mask = m->sigmask;
	m->sig.suspended = true;
	m->sigmask = mask & ~UNBLOCKABLE;
	return wait_for_signal(m);   /* -EINTR: the delivery puts the saved mask in the frame */
}

/* ---- a saved guest ---------------------------------------------------------------- */

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }
static struct timespec timespec_of(int64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}

void signals_save(const struct monitor *m, struct gs_personality *p)
{
	p->sigpending = __atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) | m->sig.thread_pending;
	memcpy(p->sigcode, &m->sig.code[1], sizeof(p->sigcode));
	p->altstack_sp = m->sig.altstack_sp;
	p->altstack_size = m->sig.altstack_size;
	p->altstack_flags = m->sig.altstack_flags;
	for (int i = 0; i < ITIMER_COUNT; i++) {
		struct itimerspec its = {0};
		timer_gettime(m->sig.timer[i], &its);
		p->itimer_ns[i][0] = (uint64_t)ns_of(its.it_value);
		p->itimer_ns[i][1] = (uint64_t)ns_of(its.it_interval);
	}
}

void signals_restore(struct monitor *m, const struct gs_personality *p)
{
	memcpy(&m->sig.code[1], p->sigcode, sizeof(p->sigcode));
	m->sig.altstack_sp = p->altstack_sp;
	m->sig.altstack_size = p->altstack_size;
	m->sig.altstack_flags = p->altstack_flags;
	for (int i = 0; i < ITIMER_COUNT; i++) {
		struct itimerspec its = {timespec_of((int64_t)p->itimer_ns[i][1]), timespec_of((int64_t)p->itimer_ns[i][0])};
		timer_settime(m->sig.timer[i], 0, &its, NULL);
	}
	__atomic_store_n(&m->sig.pending, p->sigpending, __ATOMIC_RELEASE);
	retry_update(m);
}

/* rt_sigtimedwait: takes a pending signal of the set instead of running its
 * handler, waiting for one until the timeout (none: forever).  A signal
 * outside the set that can be delivered ends the wait with -EINTR.  With
 * other threads the call waits at most a slice, lets them run and is made
 * again, keeping its deadline. */
int64_t sys_rt_sigtimedwait(struct monitor *m, ARGS)
{
	uint64_t set;
	struct timespec ts;
	if (a[3] != 8)
		return -EINVAL;
	if (gm_read(&m->gm, &set, a[0], 8) || (a[2] && gm_read(&m->gm, &ts, a[2], sizeof(ts))))
		return -EFAULT;
	if (a[2] && (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000))
		return -EINVAL;
	set &= ~UNBLOCKABLE;
	uint64_t deadline = a[2] ? monitor_now_ns() + (uint64_t)ns_of(ts) : UINT64_MAX;
	bool many = threads_many(m);
	if (many)
		deadline = threads_wait_deadline(m, deadline);
	for (unsigned round = 0;; round++) {
		uint64_t ready = (__atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) | m->sig.thread_pending) & set;
		if (ready) {
			int sig = __builtin_ctzll(ready) + 1;
			struct k_siginfo info;
			fill_info(m, &info, sig);
			take(m, sig);
			return a[1] && gm_write(&m->gm, a[1], &info, sizeof(info)) ? -EFAULT : sig;
		}
		if (signals_waiting(m))
			return -EINTR;
		uint64_t now = monitor_now_ns();
		if (now >= deadline)
			return -EAGAIN;
		if (many && (round || threads_others_runnable(m)))
			return threads_retry(m);
		uint64_t until = threads_wait_bound(m, now, deadline);
		if (until == UINT64_MAX) {
			pause();
		} else {
			struct timespec abs = timespec_of((int64_t)until);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
		}
		if (freeze_pending)
			freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);
	}
}

/* ---- interval timers ----------------------------------------------------------------- */

struct k_itimerval { int64_t interval_sec, interval_usec, value_sec, value_usec; };

static int64_t get_itimer(struct monitor *m, int which, struct k_itimerval *v)
{
	struct itimerspec its;
	if (timer_gettime(m->sig.timer[which], &its))
		return -errno;
	*v = (struct k_itimerval){its.it_interval.tv_sec, (its.it_interval.tv_nsec + 999) / 1000,
	                          its.it_value.tv_sec, (its.it_value.tv_nsec + 999) / 1000};
	/* a value that rounds up to a whole second reads as that second */
	if (v->value_usec == 1000000) { v->value_sec++; v->value_usec = 0; }
	if (v->interval_usec == 1000000) { v->interval_sec++; v->interval_usec = 0; }
	return 0;
}

static int64_t set_itimer(struct monitor *m, int which, const struct k_itimerval *v, struct k_itimerval *old)
{
	if (v->value_sec < 0 || v->value_usec < 0 || v->value_usec >= 1000000 || v->interval_sec < 0 ||
	    v->interval_usec < 0 || v->interval_usec >= 1000000)
		return -EINVAL;
	int64_t r = get_itimer(m, which, old);
	if (r)
		return r;
	struct itimerspec its = {
		.it_interval = {(time_t)v->interval_sec, (long)v->interval_usec * 1000},
		.it_value = {(time_t)v->value_sec, (long)v->value_usec * 1000},
	};
	return timer_settime(m->sig.timer[which], 0, &its, NULL) ? -errno : 0;
}

int64_t sys_getitimer(struct monitor *m, ARGS)
{
	struct k_itimerval v;
	if (a[0] >= ITIMER_COUNT)
		return -EINVAL;
	int64_t r = get_itimer(m, (int)a[0], &v);
	return r ? r : gm_write(&m->gm, a[1], &v, sizeof(v));
}

int64_t sys_setitimer(struct monitor *m, ARGS)
{
	struct k_itimerval v = {0}, old;
	if (a[0] >= ITIMER_COUNT)
		return -EINVAL;
	if (a[1] && gm_read(&m->gm, &v, a[1], sizeof(v)))   /* none: disarm, as Linux */
		return -EFAULT;
	int64_t r = set_itimer(m, (int)a[0], &v, &old);
	return r ? r : a[2] ? gm_write(&m->gm, a[2], &old, sizeof(old)) : 0;
}

int64_t sys_alarm(struct monitor *m, ARGS)
{
	struct k_itimerval v = {.value_sec = (int64_t)(uint32_t)a[0]}, old;
	int64_t r = set_itimer(m, 0, &v, &old);
	if (r)
		return r;
	/* the seconds that were left, rounded as Linux rounds them */
	return old.value_sec + ((old.value_sec == 0 && old.value_usec) || old.value_usec >= 500000);
}

/* ---- POSIX timers ------------------------------------------------------------------- */

/* The kernel's struct sigevent, as far as a timer reads it. */
struct k_sigevent { uint64_t value; int32_t signo, notify; int32_t tid; int32_t pad[11]; };
static_assert(sizeof(struct k_sigevent) == 64, "kernel ABI");

bool signals_posix_timers(const struct monitor *m)
{
	for (int k = 0; k < POSIX_TIMERS; k++)
		if (m->sig.posix[k].used)
			return true;
	return false;
}

static struct posix_timer *posix_timer(struct monitor *m, uint64_t id)
{
	return id < POSIX_TIMERS && m->sig.posix[id].used ? &m->sig.posix[id] : NULL;
}

/* Clocks a POSIX timer can run on: those that run with the host's
 * monotonic clock here (CPU-time clocks are not offered). */
static bool posix_clock(uint64_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME;
}

int64_t sys_timer_create(struct monitor *m, ARGS)
{
	struct k_sigevent ev = {.signo = SIGALRM, .notify = SIGEV_SIGNAL};
	if (!posix_clock(a[0]))
		return -EINVAL;
	if (a[1] && gm_read(&m->gm, &ev, a[1], sizeof(ev)))
		return -EFAULT;
	if ((ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_NONE && ev.notify != SIGEV_THREAD_ID) ||
	    (ev.notify != SIGEV_NONE && (ev.signo < 1 || ev.signo > 64)) ||
	    (ev.notify == SIGEV_THREAD_ID && !threads_pending_of(m, (uint32_t)ev.tid)))
		return -EINVAL;
	int k = 0;
	while (k < POSIX_TIMERS && m->sig.posix[k].used)
		k++;
	if (k == POSIX_TIMERS)
		return -EAGAIN;
	int32_t id = k;
	if (gm_write(&m->gm, a[2], &id, 4))
		return -EFAULT;
	m->sig.posix[k] = (struct posix_timer){.used = true, .clock = (int32_t)a[0], .notify = ev.notify, .signo = ev.signo,
	                                       .tid = (uint32_t)ev.tid, .value = a[1] ? ev.value : (uint64_t)k};
	return 0;
}

int64_t sys_timer_settime(struct monitor *m, ARGS)
{
	struct itimerspec its, old;
	const struct posix_timer *p = posix_timer(m, a[0]);
	if (!p)
		return -EINVAL;
	if (gm_read(&m->gm, &its, a[2], sizeof(its)))
		return -EFAULT;
	if (its.it_value.tv_sec < 0 || its.it_value.tv_nsec < 0 || its.it_value.tv_nsec >= 1000000000 ||
	    its.it_interval.tv_sec < 0 || its.it_interval.tv_nsec < 0 || its.it_interval.tv_nsec >= 1000000000)
		return -EINVAL;
	timer_t host = m->sig.timer[POSIX_BASE + a[0]];
	if (timer_gettime(host, &old))
		return -errno;
	if ((a[1] & TIMER_ABSTIME) && (its.it_value.tv_sec || its.it_value.tv_nsec)) {
		/* the guest's absolute time as a wait from now (at least 1 ns: armed) */
		struct timespec now;
		guest_clock_gettime(p->clock, &now);
		int64_t left = ns_of(its.it_value) - ns_of(now);
		its.it_value = timespec_of(left > 0 ? left : 1);
	}
	if (timer_settime(host, 0, &its, NULL))
		return -errno;
	return a[3] && gm_write(&m->gm, a[3], &old, sizeof(old)) ? -EFAULT : 0;
}

int64_t sys_timer_gettime(struct monitor *m, ARGS)
{
	struct itimerspec its;
	if (!posix_timer(m, a[0]))
		return -EINVAL;
	if (timer_gettime(m->sig.timer[POSIX_BASE + a[0]], &its))
		return -errno;
	return gm_write(&m->gm, a[1], &its, sizeof(its));
}

int64_t sys_timer_getoverrun(struct monitor *m, ARGS)
{
	return posix_timer(m, a[0]) ? 0 : -EINVAL;   /* one pending instance, no count kept */
}

int64_t sys_timer_delete(struct monitor *m, ARGS)
{
	struct posix_timer *p = posix_timer(m, a[0]);
	if (!p)
		return -EINVAL;
	periodic(m, POSIX_BASE + (int)a[0], false, 0);
	p->used = false;
	return 0;
}
