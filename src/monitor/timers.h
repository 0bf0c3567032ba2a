/*
 * The guest's timers and the monitor's own, all host timers (POSIX timers
 * of the opsub process) made before the jail closes, whose signal
 * (FAULT_TIMER_SIGNAL) carries which one fired:
 *
 *   the interval timers of alarm and setitimer: ITIMER_REAL on the host's
 *     monotonic clock (SIGALRM), ITIMER_VIRTUAL and ITIMER_PROF on the
 *     process's CPU time (SIGVTALRM, SIGPROF);
 *   POSIX_TIMERS timers for timer_create, on the host's monotonic clock,
 *     each sending its signal to the process or to one thread;
 *   the retry: every millisecond while a signal waits to be delivered (a
 *     timer's first signal may find the guest in trusted code);
 *   the slice: every THREAD_SLICE_MS while threads take turns.
 *
 * The handler posts the guest signal (monitor/signals.h) and, when one
 * can be delivered or a slice ended, steps a guest in translated code to
 * the next safe point (monitor/fault.h).
 */
#ifndef OPSUB_MONITOR_TIMERS_H
#define OPSUB_MONITOR_TIMERS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct monitor;
struct gs_personality;

enum { ITIMER_COUNT = 3, POSIX_TIMERS = 8 };
#define HOST_TIMERS (ITIMER_COUNT + 2 + POSIX_TIMERS)

struct posix_timer {
	bool used;
	int32_t clock;                  /* CLOCK_REALTIME, _MONOTONIC or _BOOTTIME */
	int32_t notify;                 /* SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID */
	int32_t signo;
	uint32_t tid;                   /* SIGEV_THREAD_ID's thread */
	uint64_t value;                 /* sigev_value, the signal's si_value */
};

struct guest_timers {
	timer_t host[HOST_TIMERS];      /* the interval timers, the retry, the slice, the POSIX timers */
	struct posix_timer posix[POSIX_TIMERS];
};

/* Makes the host timers and installs their handler.  0, or -1 with a reason. */
int timers_install(struct monitor *m, char *err, size_t errlen);

/* From trusted code after a delivery or a restore: the retry runs while a
 * signal waits to be delivered, and stops otherwise. */
void timers_retry(struct monitor *m);

/* Starts or stops the threads' slices (monitor/threads.h). */
void timers_slice(struct monitor *m, bool on);

/* The guest holds a POSIX timer (a saved state cannot carry them). */
bool timers_posix_used(const struct monitor *m);

/* What is left of each interval timer in a saved state, and armed again
 * for that long in a new process. */
void timers_save(const struct monitor *m, struct gs_personality *p);
void timers_restore(struct monitor *m, const struct gs_personality *p);

#endif
