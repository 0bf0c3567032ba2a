/*
 * Guest threads on one host thread (threads.h): the thread table, the
 * switch at safe points, the scheduler's waits, futexes and the thread
 * system calls.
 */
#include "monitor/threads.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gates/xsave_layout.h"
#include "monitor/freeze.h"
#include "monitor/guest_clock.h"
#include "monitor/monitor.h"
#include "monitor/syscalls.h"

enum thread_state {
	TH_RUNNABLE,      /* runs when its turn comes (the running one too) */
	TH_RETRY,         /* makes its system call again when its turn comes */
	TH_FUTEX,         /* waits on wait_addr */
	TH_SLEEP,         /* sleeps until deadline */
	TH_SIGWAIT,       /* pause or sigsuspend: waits for a signal */
	TH_DEAD,
};

struct gthread {
	uint32_t tid;
	uint8_t state;
	/* put aside while another thread runs */
	uint8_t fpu[XSAVE_SIZE_AVX] __attribute__((aligned(64)));
	uint64_t gpr[GPR_COUNT], rflags, pc, fs_base, gs_base;
	uint64_t sigmask, pending, tid_address;
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags;
	bool suspended;
	uint64_t saved_mask;
	char name[16];            /* prctl(PR_SET_NAME) */
	/* while blocked: the call, what it waits for, until when */
	uint64_t nr, call_pc;
	uint64_t wait_addr;
	uint32_t wait_bitset;
	uint64_t deadline;        /* host CLOCK_MONOTONIC ns; 0: none */
	uint64_t sleep_rem;       /* nanosleep's rem, written if a signal ends it */
	bool restartable;         /* Linux makes the call again after a handler with SA_RESTART */
	bool retrying;            /* making a call again (TH_RETRY): keeps wait_deadline */
	uint64_t wait_deadline;
};

#define FOREVER       UINT64_MAX

static struct gthread *cur(const struct monitor *m) { return m->thr.t[m->thr.cur]; }

bool threads_many(const struct monitor *m) { return m->thr.live > 1; }
unsigned threads_live(const struct monitor *m) { return m->thr.live ? m->thr.live : 1; }
uint32_t threads_tid(const struct monitor *m) { return m->thr.live ? cur(m)->tid : (uint32_t)getpid(); }
bool threads_switch_due(const struct monitor *m) { return m->thr.switch_now || (m->thr.resched && m->thr.live > 1); }

bool threads_on_slice(struct monitor *m)
{
	m->thr.resched = 1;
	return m->thr.live > 1;
}

/* ---- state in and out of the context ------------------------------------------ */

static void put_aside(struct monitor *m, struct rt_ctx *c, struct gthread *t, uint64_t pc)
{
	memcpy(t->gpr, c->gpr, sizeof(t->gpr));
	t->rflags = ctx_guest_rflags(c);
	t->pc = t->state == TH_RETRY ? c->rip : pc;
	t->fs_base = c->fs_base;
	t->gs_base = c->gs_base;
	memcpy(t->fpu, ctx_xsave_image(c), sizeof(t->fpu));
	memset(t->fpu + XSAVE_HEADER + 8, 0, 56);
	t->sigmask = m->sigmask;
	t->pending = m->sig.thread_pending;
	t->tid_address = m->tid_address;
	t->altstack_sp = m->sig.altstack_sp;
	t->altstack_size = m->sig.altstack_size;
	t->altstack_flags = m->sig.altstack_flags;
	t->suspended = m->sig.suspended;
	t->saved_mask = m->sig.saved_mask;
	memcpy(t->name, m->thread_name, sizeof(t->name));
	if (m->sig.restart) {   /* its call was interrupted: restarted under SA_RESTART on its turn */
		t->restartable = true;
		t->nr = m->sig.restart_nr;
		t->call_pc = m->sig.restart_pc;
		m->sig.restart = false;
	}
}

static uint64_t take_in(struct monitor *m, struct rt_ctx *c, const struct gthread *t)
{
	memcpy(c->gpr, t->gpr, sizeof(c->gpr));
	ctx_set_guest_rflags(c, t->rflags);
	c->rip = t->call_pc;
	c->fs_base = t->fs_base;
	c->gs_base = t->gs_base;
	memcpy(ctx_xsave_image(c), t->fpu, sizeof(t->fpu));
	m->sigmask = t->sigmask;
	m->sig.thread_pending = t->pending;
	m->tid_address = t->tid_address;
	m->sig.altstack_sp = t->altstack_sp;
	m->sig.altstack_size = t->altstack_size;
	m->sig.altstack_flags = t->altstack_flags;
	m->sig.suspended = t->suspended;
	m->sig.saved_mask = t->saved_mask;
	memcpy(m->thread_name, t->name, sizeof(t->name));
	return t->pc;
}

/* ---- waking --------------------------------------------------------------------- */

static void wake(struct gthread *t, int64_t result)
{
	t->gpr[GPR_RAX] = (uint64_t)result;
	t->state = TH_RUNNABLE;
}

/* A waiting thread a signal can be delivered to: -EINTR (the time left for a
 * sleep), or the call again after the handler where Linux restarts it. */
static void interrupt(struct monitor *m, struct gthread *t, uint64_t now)
{
	if (t->state == TH_SLEEP && t->sleep_rem) {
		uint64_t left = t->deadline > now ? t->deadline - now : 0;
		struct timespec r = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
		if (gm_write(&m->gm, t->sleep_rem, &r, sizeof(r))) {
			wake(t, -EFAULT);
			return;
		}
	}
	wake(t, -EINTR);
}

static bool waiting(const struct gthread *t)
{
	return t && (t->state == TH_FUTEX || t->state == TH_SLEEP || t->state == TH_SIGWAIT);
}

static bool runnable(const struct gthread *t)
{
	return t && (t->state == TH_RUNNABLE || t->state == TH_RETRY);
}

/* Ends the waits that are over: deadlines passed, signals to deliver.  A
 * signal sent to the process interrupts a waiting thread only if no
 * runnable thread would take it, as Linux picks a thread that does not
 * block it. */
static void wake_due(struct monitor *m, uint64_t now)
{
	uint64_t taken = 0;
	for (unsigned i = 0; i < THREADS_MAX; i++)
		if (runnable(m->thr.t[i]))
			taken |= ~m->thr.t[i]->sigmask;
	uint64_t process = __atomic_load_n(&m->sig.pending, __ATOMIC_ACQUIRE) & ~taken;
	for (unsigned i = 0; i < THREADS_MAX; i++) {
		struct gthread *t = m->thr.t[i];
		if (!waiting(t))
			continue;
		if ((t->pending | process) & ~t->sigmask) {
			process &= t->sigmask;   /* one thread takes each */
			interrupt(m, t, now);
		} else if (t->deadline && now >= t->deadline) {
			wake(t, t->state == TH_FUTEX ? -ETIMEDOUT : 0);
		}
	}
}

bool threads_others_runnable(const struct monitor *m)
{
	for (unsigned i = 0; i < THREADS_MAX; i++)
		if (i != m->thr.cur && runnable(m->thr.t[i]))
			return true;
	return false;
}

static int pick(struct monitor *m)
{
	for (unsigned k = 1; k <= THREADS_MAX; k++) {
		unsigned i = (m->thr.cur + k) % THREADS_MAX;
		if (runnable(m->thr.t[i]))
			return (int)i;
	}
	return -1;
}

static uint64_t nearest_deadline(const struct monitor *m)
{
	uint64_t d = FOREVER;
	for (unsigned i = 0; i < THREADS_MAX; i++) {
		const struct gthread *t = m->thr.t[i];
		if (t && (t->state == TH_FUTEX || t->state == TH_SLEEP) && t->deadline && t->deadline < d)
			d = t->deadline;
	}
	return d;
}

/* No thread can run: sleep in the host until a deadline or a signal. */
static int idle(struct monitor *m)
{
	for (;;) {
		wake_due(m, monitor_now_ns());
		int next = pick(m);
		if (next >= 0)
			return next;
		uint64_t d = nearest_deadline(m);
		if (d == FOREVER) {
			pause();
		} else {
			struct timespec ts = {(time_t)(d / 1000000000), (long)(d % 1000000000)};
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		if (freeze_pending)
			freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);   /* refused: more than one thread */
	}
}

uint64_t threads_switch(struct monitor *m, struct rt_ctx *c, uint64_t pc)
{
	struct gthread *t = cur(m);
	m->thr.switch_now = false;
	m->thr.resched = 0;
	put_aside(m, c, t, pc);
	wake_due(m, monitor_now_ns());
	int next = pick(m);
	if (next < 0)
		next = idle(m);
	if (t->state == TH_DEAD && (unsigned)next != m->thr.cur) {
		free(t);
		m->thr.t[m->thr.cur] = NULL;
	}
	m->thr.cur = (unsigned)next;
	struct gthread *n = cur(m);
	n->retrying = n->state == TH_RETRY;
	uint64_t npc = take_in(m, c, n);
	if (n->state == TH_RUNNABLE && (int64_t)c->gpr[GPR_RAX] == -EINTR && n->restartable)
		signals_note_interrupted(m, n->nr, n->call_pc);
	n->restartable = false;
	n->state = TH_RUNNABLE;
	return npc;
}

/* ---- blocking ------------------------------------------------------------------- */

static int64_t block(struct monitor *m, enum thread_state state, uint64_t deadline)
{
	struct gthread *t = cur(m);
	t->state = (uint8_t)state;
	t->deadline = deadline;
	t->nr = m->ctx->gpr[GPR_RAX];
	t->call_pc = m->ctx->rip;
	m->thr.switch_now = true;
	return THREAD_BLOCKED;
}

int64_t threads_retry(struct monitor *m)
{
	return block(m, TH_RETRY, 0);
}

uint64_t threads_wait_bound(const struct monitor *m, uint64_t now, uint64_t deadline)
{
	bool cut = threads_many(m) && deadline > now && deadline - now > THREAD_SLICE_NS;
	return cut ? now + THREAD_SLICE_NS : deadline;
}

uint64_t threads_wait_deadline(struct monitor *m, uint64_t deadline)
{
	struct gthread *t = cur(m);
	if (!t->retrying)
		t->wait_deadline = deadline;
	t->retrying = true;
	return t->wait_deadline;
}

void threads_call_done(struct monitor *m)
{
	if (m->thr.live && !m->thr.switch_now)
		cur(m)->retrying = false;
}

int64_t threads_sleep(struct monitor *m, uint64_t deadline, uint64_t rem)
{
	cur(m)->sleep_rem = rem;
	return block(m, TH_SLEEP, deadline ? deadline : 1);
}

int64_t threads_sigwait(struct monitor *m)
{
	return block(m, TH_SIGWAIT, 0);
}

uint64_t *threads_pending_of(struct monitor *m, uint64_t tid)
{
	if (tid == threads_tid(m))
		return &m->sig.thread_pending;
	for (unsigned i = 0; m->thr.live && i < THREADS_MAX; i++) {
		struct gthread *t = m->thr.t[i];
		if (t && t->state != TH_DEAD && t->tid == tid)
			return &t->pending;
	}
	return NULL;
}

/* ---- futexes --------------------------------------------------------------------- */

static unsigned futex_wake(struct monitor *m, uint64_t addr, uint32_t bitset, unsigned n)
{
	unsigned woken = 0;
	for (unsigned i = 0; i < THREADS_MAX && woken < n; i++) {
		struct gthread *t = m->thr.t[i];
		if (t && t->state == TH_FUTEX && t->wait_addr == addr && (t->wait_bitset & bitset)) {
			wake(t, 0);
			woken++;
		}
	}
	return woken;
}

static unsigned futex_requeue(struct monitor *m, uint64_t addr, uint64_t to, unsigned n)
{
	unsigned moved = 0;
	for (unsigned i = 0; i < THREADS_MAX && moved < n; i++) {
		struct gthread *t = m->thr.t[i];
		if (t && t->state == TH_FUTEX && t->wait_addr == addr) {
			t->wait_addr = to;
			moved++;
		}
	}
	return moved;
}

/* FUTEX_WAKE_OP's operation on the word at addr2, and its comparison. */
static int64_t futex_wake_op(struct monitor *m, const uint64_t a[6])
{
	uint32_t val3 = (uint32_t)a[5], old, new;
	unsigned op = (val3 >> 28) & 7, cmp = (val3 >> 24) & 15;
	int32_t oparg = (int32_t)(val3 << 8) >> 20, cmparg = (int32_t)(val3 << 20) >> 20;
	if (val3 & (8u << 28))
		oparg = (int32_t)(1u << (oparg & 31));
	if (a[4] % 4 || gm_read(&m->gm, &old, a[4], 4))
		return -EFAULT;
	switch (op) {
	case FUTEX_OP_SET: new = (uint32_t)oparg; break;
	case FUTEX_OP_ADD: new = old + (uint32_t)oparg; break;
	case FUTEX_OP_OR: new = old | (uint32_t)oparg; break;
	case FUTEX_OP_ANDN: new = old & ~(uint32_t)oparg; break;
	case FUTEX_OP_XOR: new = old ^ (uint32_t)oparg; break;
	default: return -ENOSYS;
	}
	bool hit;
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: hit = (int32_t)old == cmparg; break;
	case FUTEX_OP_CMP_NE: hit = (int32_t)old != cmparg; break;
	case FUTEX_OP_CMP_LT: hit = (int32_t)old < cmparg; break;
	case FUTEX_OP_CMP_LE: hit = (int32_t)old <= cmparg; break;
	case FUTEX_OP_CMP_GT: hit = (int32_t)old > cmparg; break;
	case FUTEX_OP_CMP_GE: hit = (int32_t)old >= cmparg; break;
	default: return -ENOSYS;
	}
	if (gm_write(&m->gm, a[4], &new, 4))
		return -EFAULT;
	unsigned woken = futex_wake(m, a[0], FUTEX_BITSET_MATCH_ANY, (unsigned)a[2]);
	if (hit)
		woken += futex_wake(m, a[4], FUTEX_BITSET_MATCH_ANY, (unsigned)a[3]);
	return woken;
}

/* The guest's timespec at addr as a host monotonic deadline: relative, or
 * absolute on clk (the guest's view of that clock). */
static int64_t deadline_of(struct monitor *m, uint64_t addr, bool abs, clockid_t clk, uint64_t *deadline)
{
	struct timespec ts, now;
	if (gm_read(&m->gm, &ts, addr, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	int64_t ns = (int64_t)(ts.tv_sec > INT32_MAX ? INT32_MAX : ts.tv_sec) * 1000000000 + ts.tv_nsec;
	if (abs) {
		guest_clock_gettime(clk, &now);
		ns -= (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	}
	*deadline = monitor_now_ns() + (uint64_t)(ns > 0 ? ns : 0);
	return 0;
}

/* A futex wait with no other thread to wake it: a timeout or a signal ends
 * it (-ETIMEDOUT, -EINTR). */
static int64_t futex_wait_alone(struct monitor *m, const uint64_t a[6], int op)
{
	if (!a[3]) {
		for (;;) {
			pause();
			if (signals_waiting(m))
				return -EINTR;
			if (freeze_pending)
				freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);
		}
	}
	int64_t r = guest_sleep(m, op == FUTEX_WAIT ? CLOCK_MONOTONIC
	                             : (a[1] & FUTEX_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC),
	                        op == FUTEX_WAIT_BITSET, a[3], 0);
	return r == 0 ? -ETIMEDOUT : r;
}

/* A futex wait while other threads live. */
static int64_t futex_wait(struct monitor *m, const uint64_t a[6], int op, uint32_t bitset)
{
	uint64_t deadline = 0;
	if (!bitset)
		return -EINVAL;
	if (a[3]) {
		int64_t r = deadline_of(m, a[3], op == FUTEX_WAIT_BITSET,
		                        (a[1] & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, &deadline);
		if (r)
			return r;
	}
	struct gthread *t = cur(m);
	t->wait_addr = a[0];
	t->wait_bitset = bitset;
	t->restartable = !a[3];
	return block(m, TH_FUTEX, deadline ? deadline : 0);
}

int64_t sys_futex(struct monitor *m, ARGS)
{
	uint32_t word;
	int op = (int)(a[1] & FUTEX_CMD_MASK);
	if (a[0] % 4 || gm_read(&m->gm, &word, a[0], 4))
		return -EFAULT;
	switch (op) {
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (op == FUTEX_WAKE_BITSET && !(uint32_t)a[5])
			return -EINVAL;
		return m->thr.live ? futex_wake(m, a[0], op == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : (uint32_t)a[5],
		                                (unsigned)a[2]) : 0;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: {
		if (a[4] % 4)
			return -EFAULT;
		if (op == FUTEX_CMP_REQUEUE && word != (uint32_t)a[5])
			return -EAGAIN;
		if (!m->thr.live)
			return 0;
		unsigned woken = futex_wake(m, a[0], FUTEX_BITSET_MATCH_ANY, (unsigned)a[2]);
		unsigned moved = futex_requeue(m, a[0], a[4], (unsigned)a[3]);
		return op == FUTEX_CMP_REQUEUE ? woken + moved : woken;
	}
	case FUTEX_WAKE_OP:
		return futex_wake_op(m, a);
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (word != (uint32_t)a[2])
			return -EAGAIN;
		if (threads_many(m))
			return futex_wait(m, a, op, op == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : (uint32_t)a[5]);
		return futex_wait_alone(m, a, op);
	default:
		return -ENOSYS;
	}
}

/* ---- the thread calls ---------------------------------------------------------------- */

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_OPTIONS (CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | \
                        CLONE_CHILD_SETTID | CLONE_DETACHED)

static int free_slot(const struct monitor *m)
{
	for (unsigned i = 0; i < THREADS_MAX; i++)
		if (!m->thr.t[i])
			return (int)i;
	return -1;
}

int64_t sys_clone(struct monitor *m, ARGS)
{
	uint64_t flags = a[0], newsp = a[1], ptid = a[2], ctid = a[3], tls = a[4];
	if ((flags & THREAD_FLAGS) != THREAD_FLAGS)
		return -ENOSYS;   /* a process: there are none */
	if (flags & ~(uint64_t)(THREAD_FLAGS | THREAD_OPTIONS))
		return -EINVAL;
	if (!m->thr.live) {   /* the first thread gets its entry */
		struct gthread *first = aligned_alloc(64, sizeof(*first));
		if (!first)
			return -EAGAIN;
		memset(first, 0, sizeof(*first));
		first->tid = (uint32_t)getpid();
		m->thr.t[0] = first;
		m->thr.cur = 0;
		m->thr.live = 1;
		m->thr.next_tid = first->tid + 1;
	}
	int slot = free_slot(m);
	if (slot < 0)
		return -EAGAIN;
	struct gthread *t = aligned_alloc(64, sizeof(*t));
	if (!t)
		return -EAGAIN;
	memset(t, 0, sizeof(*t));
	t->tid = m->thr.next_tid++;
	if (((flags & CLONE_PARENT_SETTID) && gm_write(&m->gm, ptid, &t->tid, 4)) ||
	    ((flags & CLONE_CHILD_SETTID) && gm_write(&m->gm, ctid, &t->tid, 4))) {
		free(t);
		return -EFAULT;
	}
	struct rt_ctx *c = m->ctx;
	memcpy(t->gpr, c->gpr, sizeof(t->gpr));
	t->gpr[GPR_RAX] = 0;
	if (newsp)
		t->gpr[GPR_RSP] = newsp;
	t->gpr[GPR_RCX] = m->syscall_next;   /* as the kernel's sysret */
	t->rflags = ctx_guest_rflags(c);
	t->gpr[GPR_R11] = t->rflags;
	t->pc = m->syscall_next;
	t->call_pc = c->rip;
	t->fs_base = (flags & CLONE_SETTLS) ? tls : c->fs_base;
	t->gs_base = c->gs_base;
	memcpy(t->fpu, ctx_xsave_image(c), sizeof(t->fpu));
	memset(t->fpu + XSAVE_HEADER + 8, 0, 56);
	t->sigmask = m->sigmask;
	t->tid_address = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
	t->altstack_flags = SS_DISABLE;   /* as Linux, for a thread */
	memcpy(t->name, m->thread_name, sizeof(t->name));   /* inherited, as the kernel's comm */
	t->state = TH_RUNNABLE;
	m->thr.t[slot] = t;
	if (++m->thr.live == 2)
		timers_slice(m, true);
	return t->tid;
}

/* exit: one thread; the process when it was the last. */
int64_t sys_exit_thread(struct monitor *m, ARGS)
{
	if (!threads_many(m))
		return sys_exit(m, a);
	struct gthread *t = cur(m);
	uint32_t zero = 0;
	if (m->tid_address && !gm_write(&m->gm, m->tid_address, &zero, 4))
		futex_wake(m, m->tid_address, FUTEX_BITSET_MATCH_ANY, 1);
	t->state = TH_DEAD;
	m->thr.live--;
	if (m->thr.live == 1)
		timers_slice(m, false);
	m->thr.switch_now = true;
	return THREAD_BLOCKED;
}

int64_t sys_sched_yield(struct monitor *m, ARGS)
{
	(void)a;
	if (threads_many(m))
		m->thr.switch_now = true;   /* returns 0 when its turn comes again */
	return 0;
}

int64_t sys_gettid(struct monitor *m, ARGS)
{
	(void)a;
	return threads_tid(m);
}

int64_t sys_set_tid_address(struct monitor *m, ARGS)
{
	m->tid_address = a[0];
	return threads_tid(m);
}
