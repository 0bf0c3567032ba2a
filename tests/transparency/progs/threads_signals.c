// cflags: -pthread
// Threads and signals together: a 1 kHz SIGALRM (SA_RESTART) lands on
// whichever thread runs while four threads share a mutex with sleeps in
// between and two more pass 20,000 words through a pipe; every count and
// sum must come out as natively.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t ticks;
static long shared;
static int pfd[2];
static void on_alrm(int s)
{
	(void)s;
	ticks++;
	double d = ticks * 1.5;
	(void)d;
}
static void *adder(void *a)
{
	long n = (long)a;
	for (long i = 0; i < 200000; i++) {
		pthread_mutex_lock(&mu);
		shared += n;
		pthread_mutex_unlock(&mu);
		if (i % 50000 == 0) {
			struct timespec ts = {0, 200000};
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
	}
	return 0;
}
static void *reader(void *a)
{
	(void)a;
	long s = 0;
	int v;
	ssize_t r;
	while ((r = read(pfd[0], &v, sizeof v)) != 0) {
		if (r == sizeof v)
			s += v;
		else if (!(r < 0 && errno == EINTR))
			abort();
	}
	return (void *)s;
}
static void *writer(void *a)
{
	(void)a;
	for (int i = 0; i < 20000; i++) {
		while (write(pfd[1], &i, sizeof i) < 0 && errno == EINTR)
			;
	}
	close(pfd[1]);
	return 0;
}
int main(void)
{
	struct sigaction sa = {.sa_handler = on_alrm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, 0);
	struct itimerval it = {{0, 1000}, {0, 1000}};
	setitimer(ITIMER_REAL, &it, 0);
	if (pipe(pfd))
		return 1;
	pthread_t t[6];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], 0, adder, (void *)(i + 1));
	pthread_create(&t[4], 0, reader, 0);
	pthread_create(&t[5], 0, writer, 0);
	void *rs;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], 0);
	pthread_join(t[5], 0);
	pthread_join(t[4], &rs);
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, 0);
	printf("shared %ld pipe %ld ticks>0 %d\n", shared, (long)rs, ticks > 0);
	return 0;
}
