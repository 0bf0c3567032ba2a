// epoll, eventfd and timerfd: epoll_create1/ctl ADD/MOD/DEL/wait and their errors, eventfd counters (plain and EFD_SEMAPHORE, overflow), timerfd one-shot/periodic/absolute/blocking (expiration counts printed as ranges), level- vs edge-triggered and one-shot epoll, HUP/ERR on pipes, fairness with maxevents 1, and an event loop over 3 timers and a pipe that prints the order of its deterministic events.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	case ELOOP: return "ELOOP";
	case ENOSYS: return "ENOSYS";
	case ECANCELED: return "ECANCELED";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static long R(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %ld\n", what, r);
	return r;
}

static const char *ev(uint32_t e)
{
	static char buf[128];
	buf[0] = 0;
	if (e & EPOLLIN) strcat(buf, "|IN");
	if (e & EPOLLPRI) strcat(buf, "|PRI");
	if (e & EPOLLOUT) strcat(buf, "|OUT");
	if (e & EPOLLERR) strcat(buf, "|ERR");
	if (e & EPOLLHUP) strcat(buf, "|HUP");
	if (e & EPOLLRDNORM) strcat(buf, "|RDNORM");
	if (e & EPOLLWRNORM) strcat(buf, "|WRNORM");
	if (e & EPOLLRDHUP) strcat(buf, "|RDHUP");
	if (e & ~(uint32_t)(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | EPOLLWRNORM | EPOLLRDHUP))
		strcat(buf, "|other");
	return buf[0] ? buf + 1 : "0";
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, op, fd, &e);
}

static int cmp_ev(const void *a, const void *b)
{
	uint64_t x = ((const struct epoll_event *)a)->data.u64, y = ((const struct epoll_event *)b)->data.u64;
	return x < y ? -1 : x > y;
}

/* epoll_wait; events sorted by data before printing (the kernel's order is not part of the interface). */
static int W(const char *what, int ep, int max, int timeout)
{
	struct epoll_event evs[16];
	memset(evs, 0xa5, sizeof evs);
	int n = epoll_wait(ep, evs, max, timeout);
	if (n < 0) {
		printf("%s: epoll_wait -1 %s\n", what, en(errno));
		return n;
	}
	qsort(evs, (size_t)n, sizeof evs[0], cmp_ev);
	printf("%s: %d", what, n);
	for (int i = 0; i < n; i++)
		printf(" {%llu %s}", (unsigned long long)evs[i].data.u64, ev(evs[i].events));
	printf("\n");
	return n;
}

static void efd_read(const char *what, int fd)
{
	uint64_t v = 0;
	ssize_t n = read(fd, &v, sizeof v);
	if (n < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %zd bytes, value %llu\n", what, n, (unsigned long long)v);
}

static void efd_write(const char *what, int fd, uint64_t v)
{
	ssize_t n = write(fd, &v, sizeof v);
	if (n < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %zd\n", what, n);
}

static uint64_t tfd_count(int fd, int *err)
{
	uint64_t v = 0;
	*err = 0;
	if (read(fd, &v, sizeof v) != sizeof v) {
		*err = errno;
		return 0;
	}
	return v;
}

static void fl(const char *what, int fd)
{
	int a = fcntl(fd, F_GETFL), b = fcntl(fd, F_GETFD);
	if (a < 0 || b < 0) {
		printf("%s: fcntl -1 %s\n", what, en(errno));
		return;
	}
	printf("%s: %s%s%s\n", what, (a & O_ACCMODE) == O_RDWR ? "O_RDWR" : (a & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "O_WRONLY",
	       a & O_NONBLOCK ? "|O_NONBLOCK" : "", b & FD_CLOEXEC ? " FD_CLOEXEC" : "");
}

static void section_eventfd(void)
{
	printf("== eventfd\n");
	int e = eventfd(0, EFD_NONBLOCK);
	printf("eventfd(0, EFD_NONBLOCK): %s\n", e >= 0 ? "ok" : en(errno));
	fl("eventfd flags", e);
	efd_read("read at 0", e);
	efd_write("write 3", e, 3);
	efd_write("write 4", e, 4);
	efd_read("read", e);
	efd_read("read again", e);
	R("write 4-byte buffer", write(e, "abcd", 4));
	R("read 4-byte buffer", read(e, (char[4]){0}, 4));
	efd_write("write UINT64_MAX", e, UINT64_MAX);
	efd_write("write UINT64_MAX-1", e, UINT64_MAX - 1);
	efd_write("write 1 more (would overflow, nonblocking)", e, 1);
	efd_read("read", e);
	efd_write("write 0", e, 0);
	efd_read("read after writing 0", e);
	close(e);
	e = eventfd(5, EFD_CLOEXEC);
	fl("eventfd(5, EFD_CLOEXEC) flags", e);
	efd_read("read (blocking, value there)", e);
	close(e);
	e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	printf("eventfd(3, EFD_SEMAPHORE|EFD_NONBLOCK): %s\n", e >= 0 ? "ok" : en(errno));
	efd_read("sem read 1", e);
	efd_read("sem read 2", e);
	efd_read("sem read 3", e);
	efd_read("sem read 4", e);
	efd_write("sem write 2", e, 2);
	{
		int ep = epoll_create1(0);
		ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 7);
		W("epoll on semaphore with 2", ep, 8, 0);
		efd_read("sem read", e);
		W("epoll on semaphore with 1", ep, 8, 0);
		efd_read("sem read", e);
		W("epoll on semaphore with 0", ep, 8, 0);
		close(ep);
	}
	close(e);
	R("eventfd bad flags", eventfd(0, 0x2));
	{
		int a = eventfd(0, 0);
		uint64_t v = 0;
		R("eventfd_write 9", eventfd_write(a, 9));
		R("eventfd_read", eventfd_read(a, &v));
		printf("value %llu\n", (unsigned long long)v);
		struct pollfd p = {.fd = a, .events = POLLIN | POLLOUT};
		int r = poll(&p, 1, 0);
		printf("poll eventfd at 0: %d revents %s\n", r, p.revents == POLLOUT ? "OUT" : p.revents == (POLLIN | POLLOUT) ? "IN|OUT" : "other");
		close(a);
	}
}

static void section_epoll_basics(void)
{
	printf("== epoll basics\n");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	printf("epoll_create1(EPOLL_CLOEXEC): %s\n", ep >= 0 ? "ok" : en(errno));
	fl("epoll fd", ep);
	R("epoll_create1 bad flags", epoll_create1(0x1));
	{
		int x = epoll_create(0); /* musl maps it to epoll_create1(0) */
		printf("epoll_create 0: %s\n", x >= 0 ? "ok" : en(errno));
		if (x >= 0)
			close(x);
	}
	int ep2 = epoll_create(1);
	printf("epoll_create 1: %s\n", ep2 >= 0 ? "ok" : en(errno));
	int e = eventfd(0, EFD_NONBLOCK);
	R("ADD eventfd IN", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 42));
	R("ADD it again", ctl(ep, EPOLL_CTL_ADD, e, EPOLLIN, 42));
	W("wait, counter 0, timeout 0", ep, 8, 0);
	double t0 = now_ms();
	W("wait, counter 0, timeout 10 ms", ep, 8, 10);
	double dt = now_ms() - t0;
	printf("waited 9 ms or more: %s, under 2 s: %s\n", dt >= 9 ? "yes" : "no", dt < 2000 ? "yes" : "no");
	eventfd_write(e, 1);
	W("wait after write", ep, 8, 0);
	W("wait again (level-triggered)", ep, 8, -1);
	R("MOD to OUT", ctl(ep, EPOLL_CTL_MOD, e, EPOLLOUT, 43));
	W("wait", ep, 8, 0);
	R("MOD to IN|OUT", ctl(ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLOUT, 44));
	W("wait", ep, 8, 0);
	R("MOD to 0 events", ctl(ep, EPOLL_CTL_MOD, e, 0, 45));
	W("wait", ep, 8, 0);
	R("DEL", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
	W("wait after DEL", ep, 8, 0);
	R("DEL again", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
	R("MOD unregistered", ctl(ep, EPOLL_CTL_MOD, e, EPOLLIN, 1));
	R("bad op", ctl(ep, 99, e, EPOLLIN, 1));
	R("ADD epoll fd to itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 1));
	R("ADD closed fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 1));
	R("ctl on a non-epoll fd", ctl(e, EPOLL_CTL_ADD, ep, EPOLLIN, 1));
	R("ctl on a closed epoll fd", ctl(999, EPOLL_CTL_ADD, e, EPOLLIN, 1));
	{
		char dir[] = "/tmp/opsub-XXXXXX";
		if (mkdtemp(dir)) {
			char path[64];
			snprintf(path, sizeof path, "%s/f", dir);
			int f = open(path, O_RDWR | O_CREAT, 0644);
			R("ADD a regular file", ctl(ep, EPOLL_CTL_ADD, f, EPOLLIN, 1));
			close(f);
			unlink(path);
			rmdir(dir);
		}
	}
	{
		struct epoll_event evs[1];
		R("wait maxevents 0", epoll_wait(ep, evs, 0, 0));
		R("wait maxevents -1", epoll_wait(ep, evs, -1, 0));
		R("wait on a non-epoll fd", epoll_wait(e, evs, 1, 0));
		R("wait on a closed fd", epoll_wait(999, evs, 1, 0));
	}
	/* An epoll fd inside another one. */
	R("ADD eventfd to the second epoll", ctl(ep2, EPOLL_CTL_ADD, e, EPOLLIN, 5));
	R("ADD the second epoll to the first", ctl(ep, EPOLL_CTL_ADD, ep2, EPOLLIN, 6));
	efd_read("drain the eventfd", e);
	W("outer wait, nothing ready", ep, 8, 0);
	eventfd_write(e, 1);
	W("outer wait, inner ready", ep, 8, 0);
	W("inner wait", ep2, 8, 0);
	R("ADD the first epoll to the second (loop)", ctl(ep2, EPOLL_CTL_ADD, ep, EPOLLIN, 7));
	close(ep2);
	W("outer wait after closing the inner epoll", ep, 8, 0);
	close(e);
	close(ep);
}

static void section_pipes(void)
{
	printf("== epoll on pipes\n");
	int ep = epoll_create1(0);
	int p[2];
	pipe(p);
	R("ADD read end IN", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1));
	R("ADD write end OUT", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 2));
	W("empty pipe", ep, 8, 0);
	write(p[1], "ab", 2);
	W("2 bytes in", ep, 8, 0);
	char buf[8];
	read(p[0], buf, 2);
	R("DEL write end", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
	close(p[1]);
	W("writer closed (HUP, not asked for)", ep, 8, 0);
	close(p[0]);
	W("read end closed (removed from the set)", ep, 8, 0);

	pipe(p);
	R("ADD write end OUT", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 3));
	close(p[0]);
	W("reader closed (ERR)", ep, 8, 0);
	close(p[1]);

	printf("== closing one of two descriptors of a registered pipe\n");
	pipe(p);
	int d = dup(p[0]);
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 4);
	write(p[1], "x", 1);
	close(p[0]);
	W("registered fd closed, its dup open: still reported", ep, 8, 0);
	read(d, buf, 1);
	close(d);
	close(p[1]);
	W("all closed", ep, 8, 0);

	printf("== edge-triggered\n");
	pipe2(p, O_NONBLOCK);
	R("ADD read end IN|ET", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 10));
	W("empty", ep, 8, 0);
	write(p[1], "a", 1);
	W("after 1 byte", ep, 8, 0);
	W("again, no new data (no event)", ep, 8, 0);
	write(p[1], "b", 1);
	W("after another byte (new edge)", ep, 8, 0);
	read(p[0], buf, 1);
	W("after reading 1 of 2 (no event)", ep, 8, 0);
	read(p[0], buf, 8);
	write(p[1], "c", 1);
	W("drained then written", ep, 8, 0);
	R("MOD IN|ET (re-arms)", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 11));
	W("after MOD with data still there", ep, 8, 0);
	W("and again", ep, 8, 0);
	read(p[0], buf, 8);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);

	printf("== level-triggered for comparison\n");
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 12);
	write(p[1], "a", 1);
	W("after 1 byte", ep, 8, 0);
	W("again (still readable)", ep, 8, 0);
	read(p[0], buf, 8);
	W("drained", ep, 8, 0);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);

	printf("== EPOLLONESHOT\n");
	R("ADD IN|ONESHOT", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, 13));
	write(p[1], "a", 1);
	W("first", ep, 8, 0);
	W("second (disarmed)", ep, 8, 0);
	R("MOD IN|ONESHOT (re-arm)", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 14));
	W("after re-arm", ep, 8, 0);
	W("disarmed again", ep, 8, 0);
	read(p[0], buf, 8);
	close(p[0]);
	close(p[1]);

	printf("== edge-triggered write end\n");
	pipe2(p, O_NONBLOCK);
	R("ADD write end OUT|ET", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLET, 20));
	W("writable", ep, 8, 0);
	W("no change", ep, 8, 0);
	{
		static char chunk[4096];
		while (write(p[1], chunk, sizeof chunk) > 0)
			;
		W("full", ep, 8, 0);
		while (read(p[0], chunk, sizeof chunk) > 0)
			;
		W("drained (new edge)", ep, 8, 0);
	}
	close(p[0]);
	close(p[1]);

	printf("== fairness with maxevents 1\n");
	{
		int fds[3][2];
		for (int i = 0; i < 3; i++) {
			pipe(fds[i]);
			write(fds[i][1], "x", 1);
			ctl(ep, EPOLL_CTL_ADD, fds[i][0], EPOLLIN, 100 + (uint64_t)i);
		}
		int seen[3] = {0, 0, 0};
		for (int k = 0; k < 3; k++) {
			struct epoll_event e1;
			if (epoll_wait(ep, &e1, 1, 0) == 1 && e1.data.u64 >= 100 && e1.data.u64 < 103)
				seen[e1.data.u64 - 100]++;
		}
		printf("three waits of one event each saw all three fds: %s\n", seen[0] == 1 && seen[1] == 1 && seen[2] == 1 ? "yes" : "no");
		W("maxevents 2", ep, 2, 0);
		W("maxevents 8", ep, 8, 0);
		for (int i = 0; i < 3; i++) {
			close(fds[i][0]);
			close(fds[i][1]);
		}
	}
	close(ep);
}

static void section_timerfd(void)
{
	printf("== timerfd\n");
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	printf("timerfd_create(CLOCK_MONOTONIC, NONBLOCK|CLOEXEC): %s\n", t >= 0 ? "ok" : en(errno));
	fl("timerfd flags", t);
	R("timerfd_create bad clock", timerfd_create(12345, 0));
	R("timerfd_create bad flags", timerfd_create(CLOCK_MONOTONIC, 0x1));
	int err;
	tfd_count(t, &err);
	printf("read unarmed: %s\n", en(err));
	struct itimerspec cur;
	R("gettime unarmed", timerfd_gettime(t, &cur));
	printf("unarmed value zero: %s\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0 && cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0 ? "yes" : "no");
	struct itimerspec its = {.it_value = {0, 20 * 1000000L}};
	double t0 = now_ms();
	R("settime one-shot 20 ms", timerfd_settime(t, 0, &its, NULL));
	timerfd_gettime(t, &cur);
	printf("remaining in (0, 20 ms]: %s, interval 0: %s\n",
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000L ? "yes" : "no",
	       cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0 ? "yes" : "no");
	tfd_count(t, &err);
	printf("read before expiry: %s\n", en(err));
	struct pollfd pf = {.fd = t, .events = POLLIN};
	int r = poll(&pf, 1, 2000);
	double dt = now_ms() - t0;
	printf("poll: %d IN %d, waited 19 ms or more: %s, under 2 s: %s\n", r, (pf.revents & POLLIN) != 0, dt >= 19 ? "yes" : "no", dt < 2000 ? "yes" : "no");
	uint64_t c = tfd_count(t, &err);
	printf("one-shot count: %llu %s\n", (unsigned long long)c, en(err));
	tfd_count(t, &err);
	printf("read again: %s\n", en(err));
	timerfd_gettime(t, &cur);
	printf("after expiry value zero: %s\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0 ? "yes" : "no");

	its = (struct itimerspec){.it_value = {0, 5 * 1000000L}, .it_interval = {0, 5 * 1000000L}};
	R("settime periodic 5 ms", timerfd_settime(t, 0, &its, NULL));
	sleep_ms(30);
	c = tfd_count(t, &err);
	printf("periodic after 30 ms: count >= 1: %s, <= 1000: %s %s\n", c >= 1 ? "yes" : "no", c <= 1000 ? "yes" : "no", en(err));
	timerfd_gettime(t, &cur);
	printf("interval kept 5 ms: %s\n", cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 5000000L ? "yes" : "no");
	sleep_ms(12);
	c = tfd_count(t, &err);
	printf("periodic after 12 more ms: count >= 1: %s %s\n", c >= 1 ? "yes" : "no", en(err));
	struct itimerspec old;
	its = (struct itimerspec){{0, 0}, {0, 0}};
	R("disarm", timerfd_settime(t, 0, &its, &old));
	printf("old interval 5 ms: %s\n", old.it_interval.tv_nsec == 5000000L ? "yes" : "no");
	sleep_ms(12);
	tfd_count(t, &err);
	printf("read after disarm: %s\n", en(err));
	R("read 4-byte buffer", read(t, (char[4]){0}, 4));
	its = (struct itimerspec){.it_value = {0, 1000000000L}};
	R("settime nsec = 1e9", timerfd_settime(t, 0, &its, NULL));
	its = (struct itimerspec){.it_value = {-1, 0}};
	R("settime negative sec", timerfd_settime(t, 0, &its, NULL));
	its = (struct itimerspec){.it_value = {0, 1000000L}};
	R("settime bad flags", timerfd_settime(t, 0x100, &its, NULL));
	R("settime on a non-timerfd", timerfd_settime(0, 0, &its, NULL));
	R("gettime on a closed fd", timerfd_gettime(999, &cur));

	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	its = (struct itimerspec){.it_value = now};
	its.it_value.tv_nsec += 15 * 1000000L;
	if (its.it_value.tv_nsec >= 1000000000L) {
		its.it_value.tv_nsec -= 1000000000L;
		its.it_value.tv_sec++;
	}
	t0 = now_ms();
	R("settime ABSTIME now+15 ms", timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
	r = poll(&pf, 1, 2000);
	dt = now_ms() - t0;
	c = tfd_count(t, &err);
	printf("absolute: poll %d, count %llu, waited 10 ms or more: %s\n", r, (unsigned long long)c, dt >= 10 ? "yes" : "no");
	its.it_value = (struct timespec){1, 0}; /* 1 s after boot: long past */
	R("settime ABSTIME in the past", timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
	c = tfd_count(t, &err);
	printf("past absolute time: count %llu %s\n", (unsigned long long)c, en(err));
	close(t);

	t = timerfd_create(CLOCK_MONOTONIC, 0);
	its = (struct itimerspec){.it_value = {0, 10 * 1000000L}};
	timerfd_settime(t, 0, &its, NULL);
	t0 = now_ms();
	c = tfd_count(t, &err);
	dt = now_ms() - t0;
	printf("blocking read: count %llu %s, waited 9 ms or more: %s\n", (unsigned long long)c, en(err), dt >= 9 ? "yes" : "no");
	close(t);
	t = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	printf("timerfd_create(CLOCK_REALTIME): %s\n", t >= 0 ? "ok" : en(errno));
	its = (struct itimerspec){.it_value = {0, 5 * 1000000L}};
	timerfd_settime(t, 0, &its, NULL);
	pf.fd = t;
	r = poll(&pf, 1, 2000);
	c = tfd_count(t, &err);
	printf("realtime one-shot: poll %d count %llu\n", r, (unsigned long long)c);
	close(t);
}

/* The event loop: a pipe, two one-shot timers and a periodic one, all in one epoll set. */
static void section_loop(void)
{
	printf("== event loop\n");
	enum { PIPE = 1, T1 = 2, T2 = 3, TP = 4 };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int p[2];
	pipe2(p, O_NONBLOCK);
	int t1 = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int t2 = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int tp = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, PIPE);
	ctl(ep, EPOLL_CTL_ADD, t1, EPOLLIN, T1);
	ctl(ep, EPOLL_CTL_ADD, t2, EPOLLIN, T2);
	ctl(ep, EPOLL_CTL_ADD, tp, EPOLLIN, TP);
	struct itimerspec a = {.it_value = {0, 40 * 1000000L}};
	struct itimerspec b = {.it_value = {0, 140 * 1000000L}};
	struct itimerspec per = {.it_value = {0, 10 * 1000000L}, .it_interval = {0, 10 * 1000000L}};
	double t0 = now_ms();
	timerfd_settime(t1, 0, &a, NULL);
	timerfd_settime(t2, 0, &b, NULL);
	timerfd_settime(tp, 0, &per, NULL);
	write(p[1], "go", 2);
	int wfd = p[1];
	uint64_t ticks = 0;
	int steps = 0, done = 0, waits = 0;
	while (!done && waits < 10000) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, 3000);
		waits++;
		if (n < 0) {
			printf("epoll_wait: %s\n", en(errno));
			break;
		}
		if (n == 0) {
			printf("timed out waiting (3 s)\n");
			break;
		}
		qsort(evs, (size_t)n, sizeof evs[0], cmp_ev); /* pipe before timers within one batch */
		for (int i = 0; i < n; i++) {
			int err;
			uint64_t c;
			char buf[64];
			switch (evs[i].data.u64) {
			case PIPE: {
				ssize_t k = read(p[0], buf, sizeof buf - 1);
				if (k > 0) {
					buf[k] = 0;
					printf("%d: pipe '%s' [%s]\n", ++steps, buf, ev(evs[i].events));
				} else if (k == 0) {
					printf("%d: pipe EOF [%s]\n", ++steps, ev(evs[i].events));
					epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
					done = 1;
				} else {
					printf("%d: pipe read %s\n", ++steps, en(errno));
				}
				break;
			}
			case T1:
				c = tfd_count(t1, &err);
				printf("%d: timer 1 (40 ms) count %llu\n", ++steps, (unsigned long long)c);
				write(wfd, "from-timer-1", 12);
				break;
			case T2:
				c = tfd_count(t2, &err);
				printf("%d: timer 2 (140 ms) count %llu, closing the writer\n", ++steps, (unsigned long long)c);
				close(wfd);
				wfd = -1;
				break;
			case TP:
				c = tfd_count(tp, &err);
				if (!err)
					ticks += c;
				break;
			}
		}
	}
	double dt = now_ms() - t0;
	/* The periodic timer's expirations are counted by time: about 14 in 140 ms. */
	printf("periodic ticks >= 10: %s, loop took 135 ms or more: %s, under 5 s: %s\n", ticks >= 10 ? "yes" : "no", dt >= 135 ? "yes" : "no", dt < 5000 ? "yes" : "no");
	close(ep);
	close(p[0]);
	close(t1);
	close(t2);
	close(tp);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	section_eventfd();
	section_epoll_basics();
	section_pipes();
	section_timerfd();
	section_loop();
	return 0;
}
