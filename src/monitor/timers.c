/*
 * The guest's timers and the monitor's own (timers.h): the host timers,
 * their signal handler, and the calls alarm, getitimer, setitimer and
 * timer_create's family.
 */
#include "monitor/timers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "monitor/fault.h"
#include "monitor/guest_clock.h"
#include "monitor/guest_state.h"
#include "monitor/monitor.h"
#include "monitor/syscalls.h"

/* The host timers, by index (the signal's value): setitimer's which, then
 * the retry, the slice and the POSIX timers. */
#define RETRY_TIMER ITIMER_COUNT
#define SLICE_TIMER (ITIMER_COUNT + 1)
#define POSIX_BASE  (ITIMER_COUNT + 2)
#define RETRY_NS    1000000

static const int itimer_signal[ITIMER_COUNT] = {SIGALRM, SIGVTALRM, SIGPROF};

/* ---- the host timers ------------------------------------------------------------------ */

/* Host timer `which` firing every ns, or stopped. */
static void periodic(struct monitor *m, int which, bool on, long ns)
{
	struct itimerspec its = {0};
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = ns;
	timer_settime(m->timers.host[which], 0, &its, NULL);
}

void timers_slice(struct monitor *m, bool on)
{
	periodic(m, SLICE_TIMER, on, (long)THREAD_SLICE_NS);
}

/* The retry timer runs while a delivery waits for the guest to reach a
 * safe point (the timer's first signal may find it in trusted code). */
static void retry(struct monitor *m, bool on)
{
	periodic(m, RETRY_TIMER, on, RETRY_NS);
}

/* Trusted code may be interrupted by a timer's handler at any point: off
 * first, then on again if something waits, so that a signal posted in
 * between keeps its retries. */
void timers_retry(struct monitor *m)
{
	retry(m, false);
	if (signals_waiting(m))
		retry(m, true);
}

/* A POSIX timer's host timer fired: its signal to the process, or to its
 * thread while that lives. */
static void posix_expired(struct monitor *m, int k)
{
	const struct posix_timer *p = &m->timers.posix[k];
	if (!p->used || p->notify == SIGEV_NONE)
		return;
	uint64_t *to = p->notify == SIGEV_THREAD_ID ? threads_pending_of(m, p->tid) : NULL;
	m->sig.timerid[p->signo] = k;
	m->sig.value[p->signo] = p->value;
	signals_post(m, to ? to : &m->sig.pending, p->signo, SI_TIMER);
}

static bool on_timer(int hostsig, const siginfo_t *si)
{
	(void)hostsig;
	struct monitor *m = the_monitor;
	int which = si->si_value.sival_int;
	if (which == SLICE_TIMER)
		return threads_on_slice(m);
	if (which >= 0 && which < ITIMER_COUNT)
		signals_post(m, &m->sig.pending, itimer_signal[which], SI_KERNEL);
	if (which >= POSIX_BASE && which < POSIX_BASE + POSIX_TIMERS)
		posix_expired(m, which - POSIX_BASE);
	bool waiting = signals_waiting(m) != 0;
	retry(m, waiting);   /* nothing trusted runs inside a handler: no race here */
	return waiting;
}

int timers_install(struct monitor *m, char *err, size_t errlen)
{
	static const clockid_t clocks[POSIX_BASE] = {
		CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC, CLOCK_MONOTONIC,
	};
	for (int i = 0; i < HOST_TIMERS; i++) {
		struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = FAULT_TIMER_SIGNAL,
		                       .sigev_value.sival_int = i};
		if (timer_create(i < POSIX_BASE ? clocks[i] : CLOCK_MONOTONIC, &sev, &m->timers.host[i])) {
			snprintf(err, errlen, "cannot create the guest's timers: %s", strerror(errno));
			return -1;
		}
	}
	if (fault_on_request(FAULT_TIMER_SIGNAL, on_timer)) {
		snprintf(err, errlen, "cannot install the timers' signal handler");
		return -1;
	}
	return 0;
}

bool timers_posix_used(const struct monitor *m)
{
	for (int k = 0; k < POSIX_TIMERS; k++)
		if (m->timers.posix[k].used)
			return true;
	return false;
}

void timers_save(const struct monitor *m, struct gs_personality *p)
{
	for (int i = 0; i < ITIMER_COUNT; i++) {
		struct itimerspec its = {0};
		timer_gettime(m->timers.host[i], &its);
		p->itimer_ns[i][0] = (uint64_t)timespec_ns(its.it_value);
		p->itimer_ns[i][1] = (uint64_t)timespec_ns(its.it_interval);
	}
}

void timers_restore(struct monitor *m, const struct gs_personality *p)
{
	for (int i = 0; i < ITIMER_COUNT; i++) {
		struct itimerspec its = {ns_timespec((int64_t)p->itimer_ns[i][1]), ns_timespec((int64_t)p->itimer_ns[i][0])};
		timer_settime(m->timers.host[i], 0, &its, NULL);
	}
}

/* ---- interval timers ----------------------------------------------------------------- */

struct k_itimerval { int64_t interval_sec, interval_usec, value_sec, value_usec; };

static int64_t get_itimer(struct monitor *m, int which, struct k_itimerval *v)
{
	struct itimerspec its;
	if (timer_gettime(m->timers.host[which], &its))
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
	return timer_settime(m->timers.host[which], 0, &its, NULL) ? -errno : 0;
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

static struct posix_timer *posix_timer(struct monitor *m, uint64_t id)
{
	return id < POSIX_TIMERS && m->timers.posix[id].used ? &m->timers.posix[id] : NULL;
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
	while (k < POSIX_TIMERS && m->timers.posix[k].used)
		k++;
	if (k == POSIX_TIMERS)
		return -EAGAIN;
	int32_t id = k;
	if (gm_write(&m->gm, a[2], &id, 4))
		return -EFAULT;
	m->timers.posix[k] = (struct posix_timer){.used = true, .clock = (int32_t)a[0], .notify = ev.notify,
	                                          .signo = ev.signo, .tid = (uint32_t)ev.tid,
	                                          .value = a[1] ? ev.value : (uint64_t)k};
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
	timer_t host = m->timers.host[POSIX_BASE + a[0]];
	if (timer_gettime(host, &old))
		return -errno;
	if ((a[1] & TIMER_ABSTIME) && (its.it_value.tv_sec || its.it_value.tv_nsec)) {
		/* the guest's absolute time as a wait from now (at least 1 ns: armed) */
		struct timespec now;
		guest_clock_gettime(p->clock, &now);
		int64_t left = timespec_ns(its.it_value) - timespec_ns(now);
		its.it_value = ns_timespec(left > 0 ? left : 1);
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
	if (timer_gettime(m->timers.host[POSIX_BASE + a[0]], &its))
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
