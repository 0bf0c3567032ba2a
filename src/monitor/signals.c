/*
 * Guest signals (signals.h): the pending sets, delivery with the kernel's
 * signal frame, rt_sigreturn, and the system calls that act on signals
 * (the timers that send them: timers.c).
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
#include "monitor/timers.h"

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
	union {
		struct {
			int32_t pid;         /* SI_TIMER: the timer's id */
			uint32_t uid;        /* SI_TIMER: the overrun count */
			uint64_t value;      /* SI_TIMER: sigev_value */
		};
		uint64_t addr;           /* a fault's address */
	};
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


/* ---- pending signals --------------------------------------------------------- */

uint64_t signals_waiting(const struct monitor *m)
{
	return (__atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) | m->sig.thread_pending) & ~m->sigmask;
}

bool signals_due(const struct monitor *m)
{
	return m->sig.restart || signals_waiting(m);
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

void signals_post(struct monitor *m, uint64_t *to, int sig, int code)
{
	if (ignored(m, sig))
		return;   /* Linux discards a signal ignored when it is sent */
	m->sig.code[sig] = code;
	__atomic_or_fetch(to, SIG_BIT(sig), __ATOMIC_RELEASE);
}

void signals_init(struct monitor *m)
{
	m->sig.altstack_flags = K_SS_DISABLE;
}

void signals_send_self(struct monitor *m, int sig, int code)
{
	signals_post(m, &m->sig.pending, sig, code);
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

static bool is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
}

bool signals_fault(struct monitor *m, int sig, int code, uint64_t addr)
{
	uint64_t handler = m->sigactions[sig][ACT_HANDLER];
	if (!is_fault(sig) || handler == (uintptr_t)SIG_DFL || handler == (uintptr_t)SIG_IGN ||
	    (m->sigmask & SIG_BIT(sig)))
		return false;   /* Linux ends the process: no handler, ignored or blocked */
	m->sig.code[sig] = code;
	m->sig.value[sig] = addr;
	m->sig.thread_pending |= SIG_BIT(sig);
	return true;
}

int signals_access_code(const struct monitor *m, uint64_t addr)
{
	return gm_access_ok(&m->gm, addr & ~(uint64_t)(GUEST_PAGE - 1), 1, 0) ? SEGV_ACCERR : SEGV_MAPERR;
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
	} else if (is_fault(sig)) {
		info->addr = m->sig.value[sig];
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
	f.uc.mc.rflags = ctx_guest_rflags(c);
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
	bool handled = false;
	while (!handled && (ready = signals_waiting(m))) {
		int sig = __builtin_ctzll(ready) + 1;
		take(m, sig);
		if (ignored(m, sig))
			continue;
		if (m->sigactions[sig][ACT_HANDLER] == (uintptr_t)SIG_DFL)
			terminate(sig, NULL);   /* every other default ends the process (stop: ends it here) */
		pc = enter_handler(m, c, pc, sig);
		handled = true;
	}
	/* No handler runs (the signal went to another thread, or is ignored):
	 * Linux makes the interrupted call again, whatever SA_RESTART says. */
	if (!handled && m->sig.restart && (int64_t)c->gpr[GPR_RAX] == -EINTR) {
		pc = m->sig.restart_pc;
		c->gpr[GPR_RAX] = m->sig.restart_nr;
	}
	m->sig.restart = false;
	timers_retry(m);
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
	if (gm_read(&m->gm, image, fpstate, 512))   /* copied: any alignment, as Linux */
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
	ctx_set_guest_rflags(c, (f.uc.mc.rflags & GUEST_RFLAGS_ALLOWED) | GUEST_RFLAGS_ALWAYS);
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
		signals_post(m, to, (int)sig, code);
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

void signals_save(const struct monitor *m, struct gs_personality *p)
{
	p->sigpending = __atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) | m->sig.thread_pending;
	memcpy(p->sigcode, &m->sig.code[1], sizeof(p->sigcode));
	p->altstack_sp = m->sig.altstack_sp;
	p->altstack_size = m->sig.altstack_size;
	p->altstack_flags = m->sig.altstack_flags;
}

void signals_restore(struct monitor *m, const struct gs_personality *p)
{
	memcpy(&m->sig.code[1], p->sigcode, sizeof(p->sigcode));
	m->sig.altstack_sp = p->altstack_sp;
	m->sig.altstack_size = p->altstack_size;
	m->sig.altstack_flags = p->altstack_flags;
	__atomic_store_n(&m->sig.pending, p->sigpending, __ATOMIC_RELEASE);
	timers_retry(m);
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
	uint64_t deadline = a[2] ? monitor_now_ns() + (uint64_t)timespec_ns(ts) : UINT64_MAX;
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
			struct timespec abs = ns_timespec((int64_t)until);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
		}
		if (freeze_pending)
			freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);
	}
}

