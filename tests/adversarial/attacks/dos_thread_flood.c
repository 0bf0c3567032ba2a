// Attack (denial of service): make more threads than opsub allows, half of
// them waiting (futex waits, short sleeps in a loop), half spinning without
// a system call, send a signal to every one, then wake and join them all.
// Natively: completes (DONE).
// Under opsub: the threads take turns on one CPU (the spinners are
// preempted), clone fails with EAGAIN past 256 threads, and the program
// completes: no thread can starve the main one or crash the monitor.
// native: completes
#include "attack.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#define WANT 300

static volatile int stop;
static int futex_word;

static void *spinner(void *a)
{
	(void)a;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

static void *waiter(void *a)
{
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if ((long)a & 2) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		} else {
			sc6(SYS_futex, (long)&futex_word, 0 /* FUTEX_WAIT */, 0, 0, 0, 0);
		}
	}
	return NULL;
}

static void on_usr1(int s) { (void)s; }

int main(void)
{
	signal(SIGUSR1, on_usr1);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10);
	pthread_t t[WANT];
	int made = 0, refused = 0;
	for (long i = 0; i < WANT; i++) {
		if (pthread_create(&t[made], &at, (i & 1) ? spinner : waiter, (void *)i)) {
			refused++;
			continue;
		}
		made++;
	}
	note("made %d threads, %d refused", made, refused);
	for (int i = 0; i < made; i++)
		pthread_kill(t[i], SIGUSR1);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&futex_word, 1, __ATOMIC_RELEASE);
	sc6(SYS_futex, (long)&futex_word, 1 /* FUTEX_WAKE */, 1 << 30, 0, 0, 0);
	for (int i = 0; i < made; i++)
		pthread_join(t[i], NULL);
	puts("DONE");
	return 0;
}
