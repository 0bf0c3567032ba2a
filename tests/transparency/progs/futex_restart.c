// cflags: -pthread
// A futex wait without a timeout, interrupted by a signal whose handler
// asks for SA_RESTART, is made again: it never returns EINTR (Linux since
// 2.6.22), not even when the signal that woke the waiter is then taken by
// another thread.  A 2 kHz SIGALRM lands while one thread waits on a futex
// and two more sleep in short steps, so signals often arrive while no
// thread can run; every wait must end with 0 or EAGAIN.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 300
#define FUTEX_WAIT_PRIVATE 128   /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG: musl has no linux/futex.h */
#define FUTEX_WAKE_PRIVATE 129

static atomic_uint word;
static atomic_int done;
static volatile sig_atomic_t ticks;
static long eintr, other_errors;

static void on_alrm(int s)
{
	(void)s;
	ticks++;
}

static void nap(long ns)
{
	struct timespec ts = {0, ns};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *waker(void *a)
{
	(void)a;
	for (unsigned round = 1; round <= ROUNDS; round++) {
		nap(400000);
		atomic_store(&word, round);
		syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return 0;
}

static void *sleeper(void *a)
{
	long step = (long)a;
	while (!atomic_load(&done))
		nap(step);
	return 0;
}

/* The main thread waits: the first thread a signal can interrupt. */
int main(void)
{
	struct sigaction sa = {.sa_handler = on_alrm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, 0);
	struct itimerval it = {{0, 500}, {0, 500}};
	setitimer(ITIMER_REAL, &it, 0);
	pthread_t w, s1, s2;
	pthread_create(&s1, 0, sleeper, (void *)200000L);
	pthread_create(&s2, 0, sleeper, (void *)300000L);
	pthread_create(&w, 0, waker, 0);
	for (unsigned round = 1; round <= ROUNDS; round++) {
		unsigned seen;
		while ((seen = atomic_load(&word)) < round) {
			long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
			if (r < 0 && errno == EINTR)
				eintr++;
			else if (r < 0 && errno != EAGAIN)
				other_errors++;
		}
	}
	pthread_join(w, 0);
	atomic_store(&done, 1);
	pthread_join(s1, 0);
	pthread_join(s2, 0);
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, 0);
	printf("rounds %d eintr %ld other errors %ld ticks>0 %d\n", ROUNDS, eintr, other_errors, ticks > 0);
	return 0;
}
