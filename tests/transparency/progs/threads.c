// cflags: -pthread
// POSIX threads on the guest's one CPU: workers with thread-local data, a
// mutex and a condition variable, join values, a pipe between threads
// (a blocking read while the writer sleeps), pthread_kill interrupting a
// sleep in the target thread, a barrier and a semaphore, 500 threads made
// and joined, a detached thread, a timed wait that times out, a spin-wait
// handed over without a system call, and the main thread leaving with
// pthread_exit while another finishes the output.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long total;
static int ready;
static __thread long mine = 5;

static void *work(void *arg)
{
	long id = (long)arg, s = 0;
	for (long i = 0; i < 3000000; i++)
		s += (i ^ id) % 7;
	mine += s;
	pthread_mutex_lock(&mu);
	total += mine;
	ready++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return (void *)(s & 0xff);
}

static int pfd[2];
static void *producer(void *a)
{
	(void)a;
	for (int i = 0; i < 1000; i++) {
		struct timespec ts = {0, 100000};
		if (i % 100 == 0)
			nanosleep(&ts, NULL);
		if (write(pfd[1], &i, sizeof(i)) != (ssize_t)sizeof(i))
			abort();
	}
	close(pfd[1]);
	return NULL;
}

static volatile sig_atomic_t got_usr1;
static pthread_t target;
static void on_usr1(int s)
{
	(void)s;
	got_usr1 = pthread_equal(pthread_self(), target) ? 1 : 2;
}

static volatile int sleeper_ready;
static void *sleeper(void *a)
{
	(void)a;
	__atomic_store_n(&sleeper_ready, 1, __ATOMIC_RELEASE);
	struct timespec ts = {5, 0};
	int r = nanosleep(&ts, &ts);
	return (void *)(long)(r == -1 && errno == EINTR);
}

static sem_t sem;
static pthread_barrier_t bar;
static int order[4], oi;
static void *barrier_worker(void *a)
{
	pthread_barrier_wait(&bar);
	sem_wait(&sem);
	pthread_mutex_lock(&mu);
	order[oi++] = (int)(long)a;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *identity(void *a) { return a; }

static volatile int flag;
static void *set_flag(void *a)
{
	(void)a;
	__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *named(void *a)
{
	char *out = a;
	prctl(PR_GET_NAME, out);                    /* inherited from its creator */
	prctl(PR_SET_NAME, "worker");
	prctl(PR_GET_NAME, out + 16);
	return NULL;
}

static void *last_words(void *a)
{
	pthread_join(*(pthread_t *)a, NULL);   /* the main thread, gone by pthread_exit */
	printf("the main thread left first; this one ends the process\n");
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_t t[4];
	long rets = 0;
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, work, (void *)i);
	pthread_mutex_lock(&mu);
	while (ready < 4)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		rets += (long)r;
	}
	printf("workers: total %ld, join values %ld, main's thread-local %ld\n", total, rets, mine);

	if (pipe(pfd))
		return 1;
	pthread_t p;
	pthread_create(&p, NULL, producer, NULL);
	long sum = 0;
	int v;
	ssize_t r;
	while ((r = read(pfd[0], &v, sizeof(v))) == (ssize_t)sizeof(v))
		sum += v;
	pthread_join(p, NULL);
	printf("pipe between threads: sum %ld, end %zd\n", sum, r);

	signal(SIGUSR1, on_usr1);
	pthread_create(&target, NULL, sleeper, NULL);
	struct timespec ts = {0, 20000000};
	while (!__atomic_load_n(&sleeper_ready, __ATOMIC_ACQUIRE))
		sched_yield();
	nanosleep(&ts, NULL);   /* long enough, even on a busy host, for it to be asleep */
	pthread_kill(target, SIGUSR1);
	void *res;
	pthread_join(target, &res);
	printf("pthread_kill: handler ran in the target %d, its sleep interrupted %ld\n", got_usr1, (long)res);

	sem_init(&sem, 0, 0);
	pthread_barrier_init(&bar, NULL, 5);
	pthread_t w[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&w[i], NULL, barrier_worker, (void *)i);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 4; i++)
		sem_post(&sem);
	for (int i = 0; i < 4; i++)
		pthread_join(w[i], NULL);
	int seen = 0;
	for (int i = 0; i < 4; i++)
		seen |= 1 << order[i];
	printf("barrier and semaphore: all four ran %d\n", seen == 15);

	long tot = 0;
	for (int round = 0; round < 10; round++) {
		pthread_t m[50];
		for (long i = 0; i < 50; i++)
			if (pthread_create(&m[i], NULL, identity, (void *)i))
				return 2;
		for (int i = 0; i < 50; i++) {
			void *x;
			pthread_join(m[i], &x);
			tot += (long)x;
		}
	}
	printf("500 threads made and joined: %ld\n", tot);

	pthread_t d;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_create(&d, &at, identity, NULL);

	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 30000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mu);
	int tr = pthread_cond_timedwait(&cv, &mu, &dl);
	pthread_mutex_unlock(&mu);
	printf("timed wait: %s\n", tr == ETIMEDOUT ? "ETIMEDOUT" : strerror(tr));

	pthread_t f;
	pthread_create(&f, NULL, set_flag, NULL);
	while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
		;   /* no system call: the other thread runs only if this one is preempted */
	pthread_join(f, NULL);
	printf("spin-wait handed over\n");

	char names[32] = "", mine_now[16] = "";
	prctl(PR_SET_NAME, "main-thread");
	pthread_t nt;
	pthread_create(&nt, NULL, named, names);
	pthread_join(nt, NULL);
	prctl(PR_GET_NAME, mine_now);
	printf("thread names: new '%s', set '%s', the creator's still '%s'\n", names, names + 16, mine_now);

	static pthread_t self;
	self = pthread_self();
	pthread_t l;
	pthread_create(&l, NULL, last_words, &self);
	pthread_exit(NULL);
}
