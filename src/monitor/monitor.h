/*
 * The monitor: one guest in this process.  It builds the sandbox (guest
 * memory, runtime context, translator), loads the program, runs it through
 * the gates and ends it: on exit_group with the guest's status, on a guest
 * fault with the status a native process would get from the signal.
 *
 * One guest per process: the runtime context is found through the host GS
 * base and the monitor state is a process global, which the fault handler
 * needs anyway.
 */
#ifndef OPSUB_SANDBOX_MONITOR_H
#define OPSUB_SANDBOX_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <poll.h>

#include "fs/fs.h"
#include "gates/ctx.h"
#include "monitor/freeze_check.h"
#include "monitor/signals.h"
#include "monitor/threads.h"
#include "monitor/timers.h"
#include "sandbox/guest_mem.h"
#include "translator/translator.h"

struct monitor;

struct monitor_opts {
	uint64_t mem_size;        /* guest memory, bytes */
	bool stats;               /* print translator statistics at the end */
	bool trace_syscalls;      /* print every guest syscall on stderr */
	bool no_verify;           /* skip the verifier (measurement only) */
	double seconds;           /* stop the guest after this long (0: never) */
	int mem_fd;               /* guest memory from the daemon, -1: create one */
	bool track_writes;        /* register guest memory for the daemon's dirty log (gm_track_writes) */
	bool restore;             /* start from a saved state (freeze_load), not a program */
	struct fs_options fs;     /* the guest's file system (fs/fs.h) */
	/* Called with the program loaded, just before the jail closes and the
	 * guest runs (the network driver attaches here). */
	int (*before_run)(struct monitor *m, char *err, size_t errlen);
};

struct monitor {
	struct monitor_opts opts;
	struct guest_mem gm;
	struct rt_ctx *ctx;
	uint64_t *ibl;             /* writable view of ctx's IBL table, for the translator */
	struct translator tr;
	uint64_t start_ns;
	uint64_t first_insn_ns;    /* when the guest's first instruction ran */
	int exit_status;
	uint64_t syscalls, hypercalls;
	/* Single-stepping to the next guest instruction boundary (after a
	 * write to a watched page, or to serve a request: monitor/fault.c). */
	bool stepping;
	/* Linux personality state */
	uint64_t tid_address;
	uint8_t closed_fds;                /* bit per fd 0..2 (a saved state's; monitor/fdtab.h holds the rest) */
	struct guest_fs fs;                /* its files (fs/fs.h) */
	uint64_t fs_changes_at_start;      /* fs.mem.changes when the guest began */
	uint32_t umask;
	int32_t nice;                      /* setpriority's, kept for getpriority */
	char thread_name[16];              /* prctl(PR_SET_NAME): the running thread's */
	uint64_t sigmask;
	uint64_t sigactions[65][4];        /* by signal, the kernel's struct sigaction */
	struct guest_signals sig;          /* monitor/signals.h: the running thread's and the process's */
	struct guest_threads thr;          /* monitor/threads.h */
	struct guest_timers timers;        /* monitor/timers.h */
	uint64_t syscall_next;             /* during a system call: the guest pc after it */
	/* Extra gate users (the network driver) hook in here. */
	int64_t (*hypercall_ext)(struct monitor *m, uint64_t nr, const uint64_t a[6]);
	/* GATE_FAST_HC through the fast gate (gates/gate.h): general-register-
	 * only code, returns the result or GATE_SLOW before changing anything. */
	int64_t (*hypercall_fast)(struct monitor *m, uint64_t a0, uint64_t a1);
	/* The network driver's part of a saved state (driver/netdrv_state.c):
	 * port_save writes a DRIVER section's body (struct gs_driver first)
	 * into out and returns its size, 0 if more than room; port_restore
	 * applies a checked state's. */
	size_t (*port_save)(struct monitor *m, uint8_t *out, size_t room);
	int (*port_restore)(struct monitor *m, const struct gs_view *v, char *err, size_t errlen);
	/* A network port's readiness for the guest's poll and epoll: true
	 * when frames wait now, else the receive interrupts' eventfds are
	 * armed and added to p[*n] (at most max).  NULL: no ports. */
	bool (*port_arm)(struct monitor *m, unsigned port, struct pollfd *p, unsigned *n, unsigned max);
	void *ext;
};

extern struct monitor *the_monitor;

/* Runs PROGRAM with argv/envp under the translator; returns the exit status
 * opsub should exit with (the guest's, 128+signal, or 2 for bad input). */
int monitor_run(const struct monitor_opts *o, const char *path, char *const argv[], char *const envp[]);

/* Ends the guest now with `status` (prints statistics when asked). */
__attribute__((noreturn)) void monitor_finish(int status);

/* Reports a guest fault on stderr and ends the guest with 128+sig. */
__attribute__((noreturn)) void monitor_guest_fault(int sig, uint64_t pc, uint64_t addr, bool addr_known,
                                                   const char *why);

/* Monotonic time in ns. */
uint64_t monitor_now_ns(void);

#endif
