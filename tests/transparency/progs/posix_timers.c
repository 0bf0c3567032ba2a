// cflags: -pthread
// POSIX timers: a one-shot timer whose signal carries its sigev_value
// (SI_TIMER), a periodic one counted by its handler, timer_gettime while
// armed and after timer_delete, an absolute CLOCK_REALTIME expiry, a
// SIGEV_NONE timer that only counts down, SIGEV_THREAD (the C library's
// helper thread runs the function), and the errors of a bad timer.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits, code_ok, value_ok;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	code_ok = si->si_code == SI_TIMER && sig == SIGRTMIN + 1;
	value_ok = si->si_value.sival_int == 4242;
}

static volatile int thread_calls;
static void notify(union sigval v)
{
	thread_calls += v.sival_int;
}

static void wait_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1};
	ev.sigev_value.sival_int = 4242;
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t))
		return 1;
	struct itimerspec once = {.it_value = {0, 10000000}}, later = {.it_value = {5, 0}}, cur;
	timer_settime(t, 0, &later, NULL);
	timer_gettime(t, &cur);
	printf("armed: %s\n", cur.it_value.tv_sec >= 3 && cur.it_value.tv_sec <= 5 ? "yes" : "no");
	timer_settime(t, 0, &once, NULL);   /* re-armed: ten milliseconds */
	wait_ms(50);
	printf("one-shot: hits %d, SI_TIMER %d, value %d\n", hits, code_ok, value_ok);

	struct itimerspec every = {.it_interval = {0, 2000000}, .it_value = {0, 2000000}};
	hits = 0;
	timer_settime(t, 0, &every, NULL);
	double acc = 0;
	for (long i = 1; i < 20000000 && hits < 5; i++)
		acc += 1.0 / (double)i;
	while (hits < 5)
		wait_ms(1);
	timer_delete(t);
	errno = 0;
	int gone = timer_gettime(t, &cur);
	printf("periodic: at least five, %s; timer_gettime after delete %d %s\n", hits >= 5 ? "yes" : "no", gone,
	       errno == EINVAL ? "EINVAL" : "?");

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec at = {.it_value = {now.tv_sec, now.tv_nsec + 15000000}};
	if (at.it_value.tv_nsec >= 1000000000) {
		at.it_value.tv_sec++;
		at.it_value.tv_nsec -= 1000000000;
	}
	if (timer_create(CLOCK_REALTIME, &ev, &t))
		return 2;
	hits = 0;
	timer_settime(t, TIMER_ABSTIME, &at, NULL);
	wait_ms(60);
	printf("absolute CLOCK_REALTIME: hits %d\n", hits);
	timer_delete(t);

	struct sigevent none = {.sigev_notify = SIGEV_NONE};
	timer_create(CLOCK_MONOTONIC, &none, &t);
	struct itimerspec long_one = {.it_value = {100, 0}};
	timer_settime(t, 0, &long_one, NULL);
	timer_gettime(t, &cur);
	printf("SIGEV_NONE counts down: %s\n", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100 ? "yes" : "no");
	timer_delete(t);

	struct sigevent th = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = notify};
	th.sigev_value.sival_int = 3;
	if (timer_create(CLOCK_MONOTONIC, &th, &t))
		return 3;
	timer_settime(t, 0, &once, NULL);
	for (int i = 0; i < 2000 && !thread_calls; i++)
		wait_ms(1);
	printf("SIGEV_THREAD: the function ran with its value: %d\n", thread_calls);
	timer_delete(t);

	errno = 0;
	int r = timer_settime((timer_t)(long)12345, 0, &once, NULL);
	printf("bad timer: %d %s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
	(void)acc;
	return 0;
}
