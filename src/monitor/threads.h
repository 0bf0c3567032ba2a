/*
 * Guest threads on one host thread: the guest's CPU is a uniprocessor
 * (sched_getaffinity shows it one CPU), and its threads take turns on it.
 *
 * clone with the flags of a thread (CLONE_VM, CLONE_FS, CLONE_FILES,
 * CLONE_SIGHAND, CLONE_THREAD; processes stay -ENOSYS) makes a thread with
 * a copy of the caller's registers, its own stack, TLS base, signal mask
 * and pending signals.  The running thread's state is where a lone
 * guest's is: registers in the runtime context, mask and signal state in
 * the monitor.  It runs until it blocks (a futex wait, a sleep, pause,
 * sigsuspend, a wait on a descriptor), yields, exits, or its slice of
 * THREAD_SLICE_MS ends; then, at a safe point (monitor.c, where signals are
 * delivered too: every register in the context, the next guest instruction
 * known), its state is put aside and the next runnable thread's put in.
 * All trusted code runs on the one host thread, so the translator, the
 * code cache and the personality need no locks, and no guest thread can
 * change guest memory while trusted code reads it (the NIC's DMA still
 * can: reads stay copies).
 *
 * Futexes are real wait queues (WAIT, WAKE, their BITSET forms, REQUEUE,
 * CMP_REQUEUE, WAKE_OP).  A wait on descriptors (a blocking read, poll,
 * select, epoll_wait) that finds nothing ready while other threads live
 * waits at most a slice in the host, then lets the others run and is made
 * again, keeping its deadline.  When every thread waits, the host sleeps
 * until the nearest deadline or a signal.  A guest with more than one
 * live thread cannot be saved (migration and snapshots refuse it).
 */
#ifndef OPSUB_MONITOR_THREADS_H
#define OPSUB_MONITOR_THREADS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "gates/ctx.h"

struct monitor;
struct gthread;

#define THREADS_MAX      256
#define THREAD_SLICE_MS  10
#define THREAD_SLICE_NS  ((uint64_t)THREAD_SLICE_MS * 1000000)

/* What a system call returns when its thread blocked: the call's result
 * comes when the thread is woken (never a Linux errno value). */
#define THREAD_BLOCKED   (-((int64_t)1 << 20))

struct guest_threads {
	struct gthread *t[THREADS_MAX];   /* none until the first clone */
	unsigned cur;                     /* the running thread's index */
	unsigned live;                    /* threads not exited (0: one thread, never cloned) */
	uint32_t next_tid;
	bool switch_now;                  /* the running thread blocked, yielded or exited */
	volatile sig_atomic_t resched;    /* its slice ended */
};

/* More than one live thread. */
bool threads_many(const struct monitor *m);

/* The running thread's id (the process id for the first thread). */
uint32_t threads_tid(const struct monitor *m);

/* At a safe point: a switch is due (after threads_block, a yield, an exit
 * or the end of a slice). */
bool threads_switch_due(const struct monitor *m);

/* At a safe point, the running thread about to go on at pc (its system
 * call's instruction at c->rip if it blocked to retry the call): puts it
 * aside and returns where the next thread goes on, its state in the
 * context and the monitor.  Sleeps in the host while no thread can run. */
uint64_t threads_switch(struct monitor *m, struct rt_ctx *c, uint64_t pc);

/* From a slice timer's signal handler: the running thread's slice ended. */
bool threads_on_slice(struct monitor *m);

/* For the personality's waits on descriptors while other threads live:
 * the deadline (host monotonic ns) the call keeps across retries, given the
 * one it computed now; and the block that makes it again later. */
uint64_t threads_wait_deadline(struct monitor *m, uint64_t deadline);
int64_t threads_retry(struct monitor *m);
/* How long such a wait may sleep in the host from now: until deadline, and
 * at most a slice while other threads live. */
uint64_t threads_wait_bound(const struct monitor *m, uint64_t now, uint64_t deadline);

/* Sleeps until the host monotonic time `deadline`: 0, or -EINTR with the
 * time left written to the guest timespec at rem (0: nowhere). */
int64_t threads_sleep(struct monitor *m, uint64_t deadline, uint64_t rem);

/* pause and sigsuspend: waits until a signal can be delivered (-EINTR). */
int64_t threads_sigwait(struct monitor *m);

/* Another thread than the running one can run now. */
bool threads_others_runnable(const struct monitor *m);

/* Whether a guest thread with this id exists; its pending signals (the
 * running thread's are the monitor's). */
uint64_t *threads_pending_of(struct monitor *m, uint64_t tid);

/* The system calls (syscalls.h lists them): clone, exit (of one thread),
 * futex, sched_yield, gettid, set_tid_address. */

/* After every system call: the call completed (not blocked). */
void threads_call_done(struct monitor *m);

/* The count of live threads for a saved state (1 when never cloned). */
unsigned threads_live(const struct monitor *m);

#endif
