// cflags: -pthread
// Taking signals synchronously: sigwaitinfo on a blocked signal already
// pending, sigtimedwait timing out, and the usual server pattern: every
// thread blocks SIGALRM and SIGUSR1, one thread takes them with sigwait
// while a worker computes and a periodic timer fires.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static sigset_t set;
static volatile int done;

static void *taker(void *a)
{
	(void)a;
	int alarms = 0, sig;
	while (sigwait(&set, &sig) == 0) {
		if (sig == SIGUSR1)
			break;
		alarms++;
	}
	return (void *)(long)alarms;
}

int main(void)
{
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	siginfo_t si;
	raise(SIGUSR1);
	int r = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s, si_signo %s, si_code %s\n", r == SIGUSR1 ? "SIGUSR1" : "?",
	       si.si_signo == SIGUSR1 ? "SIGUSR1" : "?", si.si_code == SI_TKILL ? "SI_TKILL" : "other");
	struct timespec ts = {0, 20000000};
	errno = 0;
	r = sigtimedwait(&set, &si, &ts);
	printf("sigtimedwait with nothing pending: %d %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");

	pthread_t t;
	pthread_create(&t, NULL, taker, NULL);
	struct itimerval it = {{0, 2000}, {0, 2000}};
	setitimer(ITIMER_REAL, &it, NULL);
	double acc = 0;
	for (long i = 1; i < 20000000; i++)
		acc += 1.0 / (double)i;
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_kill(t, SIGUSR1);
	void *alarms;
	pthread_join(t, &alarms);
	printf("sum %.9f; the waiting thread took timer signals: %s\n", acc, (long)alarms > 0 ? "yes" : "no");
	return 0;
}
