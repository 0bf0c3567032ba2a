/*
 * Guest signals: what a Linux process sees of its own signals, delivered
 * to the guest's handlers as the kernel delivers them (docs/guest-abi.md,
 * Signals).
 *
 * Sources: signals the guest sends itself (kill, tkill, tgkill, raise), its
 * interval timers (alarm, setitimer: SIGALRM, SIGVTALRM, SIGPROF) and its
 * POSIX timers (timer_create: any signal, to the process or one thread),
 * both in monitor/timers.h.
 * Faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) go to the guest's handler where
 * the fault leaves the guest at an instruction boundary
 * (signals_fault); elsewhere, and without a handler, they end the guest
 * (monitor.h).  Nothing outside the guest can send it a signal.
 *
 * A signal becomes pending (one bit per signal: real-time signals do not
 * queue more than one instance) and is delivered at the next safe point
 * where it is not blocked: at the exit of a system call, a branch or an
 * indirect lookup that left translated code (monitor.c, gate_dispatch),
 * where every guest register is in the runtime context and the next guest
 * instruction is known.  A timer's host signal that finds the guest in
 * translated code single-steps it to the next instruction boundary and
 * into the gates (monitor/fault.c), as a migration request does; one that
 * finds it elsewhere is sent again every millisecond until delivered.  A
 * blocking call returns -EINTR then (or is made again after the handler,
 * for calls Linux restarts under SA_RESTART).
 *
 * Delivery writes the kernel's x86-64 signal frame (struct rt_sigframe
 * with its XSAVE-format FPU state) on the guest stack or the alternate
 * signal stack, through the sandbox's checks, and enters the handler with
 * the kernel's registers.  rt_sigreturn reads the frame back once into the
 * monitor, checks it and restores only what a user program may hold:
 * flags a user program can set, an MXCSR and XSAVE header the CPU accepts;
 * a frame that fails ends the guest with SIGSEGV, as Linux does.
 */
#ifndef OPSUB_MONITOR_SIGNALS_H
#define OPSUB_MONITOR_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

#include "gates/ctx.h"

struct monitor;

#define SIG_BIT(sig) (1ull << ((sig) - 1))   /* the kernel's sigset_t, 64 signals */

struct guest_signals {
	uint64_t pending;               /* sent to the process: SIG_BIT of each; set by timer handlers too: atomic */
	uint64_t thread_pending;        /* sent to the running thread (tkill, tgkill) */
	int32_t code[65];               /* si_code of each pending signal */
	int32_t timerid[65];            /* SI_TIMER's timer and value */
	uint64_t value[65];
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags;        /* SS_DISABLE or 0, | SS_AUTODISARM */
	bool suspended;                 /* in rt_sigsuspend: the frame saves saved_mask */
	uint64_t saved_mask;
	bool restart;                   /* the last call may be made again (signals_note_interrupted) */
	uint64_t restart_nr, restart_pc;
	bool returned;                  /* rt_sigreturn restored every register */
	uint64_t return_pc;
};

/* A guest's signal state as it starts: nothing pending, no alternate stack. */
void signals_init(struct monitor *m);

/* The signals pending for the running thread and not blocked (atomic:
 * timers set bits at any time). */
uint64_t signals_waiting(const struct monitor *m);

/* At a safe point, the guest about to go on at pc: delivers the first
 * pending, unblocked signal (its handler, its default action or nothing
 * if ignored) and returns where the guest goes on.  May end the guest
 * (default action, or a frame that cannot be written).  A call noted as
 * interrupted (signals_note_interrupted) ends here: made again after a
 * handler with SA_RESTART or when no handler runs, else -EINTR; so the
 * note never outlives this safe point (signals_due). */
uint64_t signals_deliver(struct monitor *m, struct rt_ctx *c, uint64_t pc);

/* Something for signals_deliver at the next safe point: a signal to
 * deliver or an interrupted call to settle. */
bool signals_due(const struct monitor *m);

/* For the personality, after a system call returned -EINTR: the call
 * (number nr, instruction at pc) is made again after the handler if the
 * handler asks for SA_RESTART and Linux restarts that call. */
void signals_note_interrupted(struct monitor *m, uint64_t nr, uint64_t pc);

/* After a system call: true after rt_sigreturn, which restored every
 * register (no sysret convention), with the pc the guest goes on at. */
bool signals_take_return(struct monitor *m, uint64_t *pc);

/* The signal state of a saved guest (monitor/guest_state.h), and back
 * into a new process: pending signals, the alternate stack. */
struct gs_personality;
void signals_save(const struct monitor *m, struct gs_personality *p);
void signals_restore(struct monitor *m, const struct gs_personality *p);

/* Makes sig (1..64) pending in `to` (the process's set, m->sig.pending,
 * or a thread's) with its si_code, unless it is ignored, as Linux drops a
 * signal ignored when sent.  Async-signal-safe: the timers' handler posts
 * too (monitor/timers.h). */
void signals_post(struct monitor *m, uint64_t *to, int sig, int code);

/* A fault of the guest's own instruction (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE) with its si_code and si_addr, found where the guest's state is
 * its state before that instruction: true when a handler takes it (the
 * signal is pending for the running thread and is delivered as the guest
 * is resumed at the instruction, which it runs again if the handler
 * returns); false where Linux ends the process (no handler, ignored,
 * blocked). */
bool signals_fault(struct monitor *m, int sig, int code, uint64_t addr);

/* SIGSEGV's si_code for an access to addr, as Linux gives it: SEGV_ACCERR
 * on a mapped page, SEGV_MAPERR elsewhere (the host's protections of
 * guest memory cannot tell the two apart). */
int signals_access_code(const struct monitor *m, uint64_t addr);

/* A signal the guest sends itself, with the kernel's si_code (SI_USER,
 * SI_TKILL): pending unless ignored; delivered at the call's exit unless
 * blocked.  sig in 1..64. */
void signals_send_self(struct monitor *m, int sig, int code);

#endif
