// poll/ppoll/select/pselect on pipes and files: readiness of each end, timeouts of 0 and 10 ms (elapsed time checked as a range), POLLHUP after the writer closes, POLLERR after the reader closes, POLLNVAL for a closed fd, negative fds ignored, EBADF/EINVAL from select, regular files always ready.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EINTR: return "EINTR";
	case ENOSYS: return "ENOSYS";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static const char *ev(short e)
{
	static char buf[128];
	buf[0] = 0;
	if (e & POLLIN) strcat(buf, "|IN");
	if (e & POLLPRI) strcat(buf, "|PRI");
	if (e & POLLOUT) strcat(buf, "|OUT");
	if (e & POLLERR) strcat(buf, "|ERR");
	if (e & POLLHUP) strcat(buf, "|HUP");
	if (e & POLLNVAL) strcat(buf, "|NVAL");
	if (e & POLLRDNORM) strcat(buf, "|RDNORM");
	if (e & POLLWRNORM) strcat(buf, "|WRNORM");
	if (e & POLLRDHUP) strcat(buf, "|RDHUP");
	if (e & ~(POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLNVAL | POLLRDNORM | POLLWRNORM | POLLRDHUP))
		strcat(buf, "|other");
	return buf[0] ? buf + 1 : "0";
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* poll on n fds, prints the result and each revents. */
static void P(const char *what, struct pollfd *fds, int n, int timeout)
{
	for (int i = 0; i < n; i++)
		fds[i].revents = (short)0x5a5a; /* must be overwritten */
	int r = poll(fds, (nfds_t)n, timeout);
	if (r < 0) {
		printf("%s: poll -1 %s\n", what, en(errno));
		return;
	}
	printf("%s: poll %d", what, r);
	for (int i = 0; i < n; i++)
		printf(" [%s]", ev(fds[i].revents));
	printf("\n");
}

static void S(const char *what, int nfds, int rfd, int wfd, int efd, long usec)
{
	fd_set r, w, e;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	if (rfd >= 0) FD_SET(rfd, &r);
	if (wfd >= 0) FD_SET(wfd, &w);
	if (efd >= 0) FD_SET(efd, &e);
	struct timeval tv = {0, usec};
	int n = select(nfds, &r, &w, &e, usec < 0 ? NULL : &tv);
	if (n < 0) {
		printf("%s: select -1 %s\n", what, en(errno));
		return;
	}
	printf("%s: select %d r%d w%d e%d\n", what, n, rfd >= 0 && FD_ISSET(rfd, &r), wfd >= 0 && FD_ISSET(wfd, &w), efd >= 0 && FD_ISSET(efd, &e));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	if (pipe(p) < 0) {
		printf("pipe: %s\n", en(errno));
		return 1;
	}

	printf("== poll on an empty pipe\n");
	struct pollfd f[4];
	f[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	f[1] = (struct pollfd){.fd = p[1], .events = POLLOUT};
	P("empty, timeout 0", f, 2, 0);
	f[1].events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	f[0].events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	P("empty, all events asked", f, 2, 0);
	f[0].events = POLLIN;
	double t0 = now_ms();
	P("read end only, timeout 10 ms", f, 1, 10);
	double dt = now_ms() - t0;
	printf("waited 9 ms or more: %s, under 2 s: %s\n", dt >= 9 ? "yes" : "no", dt < 2000 ? "yes" : "no");
	f[0].events = 0;
	P("events 0", f, 1, 0);

	printf("== data\n");
	write(p[1], "abc", 3);
	f[0].events = POLLIN;
	f[1].events = POLLOUT;
	P("after write", f, 2, 0);
	t0 = now_ms();
	P("after write, timeout 1000 ms (ready at once)", f, 2, 1000);
	dt = now_ms() - t0;
	printf("returned within 500 ms: %s\n", dt < 500 ? "yes" : "no");
	P("after write, timeout -1 (ready)", f, 2, -1);
	char buf[8];
	read(p[0], buf, 3);
	P("after draining", f, 2, 0);

	printf("== negative fds, closed fds\n");
	f[0] = (struct pollfd){.fd = -1, .events = POLLIN};
	f[1] = (struct pollfd){.fd = p[1], .events = POLLOUT};
	f[2] = (struct pollfd){.fd = 999, .events = POLLIN};
	P("negative, write end, fd 999", f, 3, 0);
	int q[2];
	pipe(q);
	close(q[0]);
	f[0] = (struct pollfd){.fd = q[0], .events = POLLIN};
	P("just-closed fd", f, 1, 0);
	f[0].events = 0;
	P("just-closed fd, events 0", f, 1, 0);

	printf("== POLLERR when the reader is gone\n");
	f[0] = (struct pollfd){.fd = q[1], .events = POLLOUT};
	P("write end, reader closed", f, 1, 0);
	f[0].events = 0;
	P("write end, reader closed, events 0", f, 1, 0);
	close(q[1]);

	printf("== POLLHUP when the writer is gone\n");
	pipe(q);
	write(q[1], "z", 1);
	close(q[1]);
	f[0] = (struct pollfd){.fd = q[0], .events = POLLIN};
	P("data left, writer closed", f, 1, 0);
	read(q[0], buf, 1);
	P("drained, writer closed", f, 1, 0);
	f[0].events = 0;
	P("drained, writer closed, events 0", f, 1, 0);
	t0 = now_ms();
	f[0].events = POLLIN;
	P("writer closed, timeout -1 (returns at once)", f, 1, -1);
	printf("returned within 500 ms: %s\n", now_ms() - t0 < 500 ? "yes" : "no");
	close(q[0]);

	printf("== the same fd twice\n");
	write(p[1], "x", 1);
	f[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	f[1] = (struct pollfd){.fd = p[0], .events = POLLOUT};
	f[2] = (struct pollfd){.fd = p[0], .events = POLLIN | POLLOUT};
	P("read end three times", f, 3, 0);
	read(p[0], buf, 1);

	printf("== full pipe\n");
	{
		int fl = fcntl(p[1], F_GETFL);
		fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
		static char chunk[4096];
		while (write(p[1], chunk, sizeof chunk) > 0)
			;
		f[0] = (struct pollfd){.fd = p[1], .events = POLLOUT};
		f[1] = (struct pollfd){.fd = p[0], .events = POLLIN};
		P("full: write end, read end", f, 2, 0);
		t0 = now_ms();
		P("full, write end only, timeout 10 ms", f, 1, 10);
		dt = now_ms() - t0;
		printf("waited 9 ms or more: %s\n", dt >= 9 ? "yes" : "no");
		S("select full pipe", p[1] + 1, p[0], p[1], -1, 0);
		while (read(p[0], chunk, sizeof chunk) == (ssize_t)sizeof chunk) {
			int r = poll(f, 1, 0);
			if (r == 1)
				break;
		}
		P("after reading one page or more", f, 1, 0);
		/* drain fully */
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		while (read(p[0], chunk, sizeof chunk) > 0)
			;
		fcntl(p[0], F_SETFL, 0);
		fcntl(p[1], F_SETFL, fl);
	}

	printf("== ppoll\n");
	{
		f[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
		struct timespec ts = {0, 0};
		int r = ppoll(f, 1, &ts, NULL);
		printf("ppoll empty, timeout 0: %d [%s]\n", r, ev(f[0].revents));
		ts.tv_nsec = 10 * 1000 * 1000;
		t0 = now_ms();
		r = ppoll(f, 1, &ts, NULL);
		dt = now_ms() - t0;
		printf("ppoll empty, timeout 10 ms: %d, waited 9 ms or more: %s\n", r, dt >= 9 ? "yes" : "no");
		write(p[1], "q", 1);
		sigset_t ss;
		sigemptyset(&ss);
		sigaddset(&ss, SIGUSR1);
		r = ppoll(f, 1, NULL, &ss);
		printf("ppoll with data, no timeout, a sigmask: %d [%s]\n", r, ev(f[0].revents));
		read(p[0], buf, 1);
		ts.tv_nsec = -1;
		r = ppoll(f, 1, &ts, NULL);
		printf("ppoll bad timespec: %d %s\n", r, r < 0 ? en(errno) : "");
	}

	printf("== select\n");
	S("empty pipe, timeout 0", p[1] + 1, p[0], p[1], -1, 0);
	t0 = now_ms();
	S("empty pipe, read end, timeout 10 ms", p[0] + 1, p[0], -1, -1, 10000);
	dt = now_ms() - t0;
	printf("waited 9 ms or more: %s, under 2 s: %s\n", dt >= 9 ? "yes" : "no", dt < 2000 ? "yes" : "no");
	write(p[1], "abc", 3);
	S("with data", p[1] + 1, p[0], p[1], -1, 0);
	S("with data, exceptfds", p[1] + 1, p[0], -1, p[0], 0);
	S("with data, no timeout", p[1] + 1, p[0], -1, -1, -1);
	S("nfds too small to include the read end", p[0], p[0], -1, -1, 0);
	read(p[0], buf, 3);
	{
		/* A low, just-closed number: fds past the kernel's fd table size are
		 * ignored by select natively, and that size is host-dependent. */
		int c = dup(p[0]);
		close(c);
		S("just-closed fd in the set", c + 1, c, -1, -1, 0);
	}
	S("negative nfds", -1, -1, -1, -1, 0);
	{
		struct timeval tv = {0, -5};
		fd_set r;
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		int n = select(p[0] + 1, &r, NULL, NULL, &tv);
		printf("select negative usec: %d %s\n", n, n < 0 ? en(errno) : "");
		tv = (struct timeval){0, 0};
		n = select(0, NULL, NULL, NULL, &tv);
		printf("select with no sets, timeout 0: %d\n", n);
		tv = (struct timeval){0, 10000};
		t0 = now_ms();
		n = select(0, NULL, NULL, NULL, &tv);
		dt = now_ms() - t0;
		printf("select as a 10 ms sleep: %d, waited 9 ms or more: %s\n", n, dt >= 9 ? "yes" : "no");
	}
	close(p[1]);
	S("writer closed: read end readable (EOF)", p[0] + 1, p[0], -1, -1, 0);
	{
		fd_set r;
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		struct timespec ts = {0, 0};
		int n = pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL);
		printf("pselect writer closed: %d r%d\n", n, FD_ISSET(p[0], &r) != 0);
	}
	close(p[0]);

	printf("== regular files\n");
	{
		char dir[] = "/tmp/opsub-XXXXXX";
		if (mkdtemp(dir)) {
			char path[64];
			snprintf(path, sizeof path, "%s/f", dir);
			int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
			f[0] = (struct pollfd){.fd = fd, .events = POLLIN | POLLOUT};
			P("empty regular file", f, 1, 0);
			S("select on a regular file", fd + 1, fd, fd, -1, 0);
			int dfd = open(dir, O_RDONLY | O_DIRECTORY);
			f[0] = (struct pollfd){.fd = dfd, .events = POLLIN | POLLOUT};
			P("directory", f, 1, 0);
			close(dfd);
			close(fd);
			unlink(path);
			rmdir(dir);
			struct stat st;
			printf("cleanup: dir %s\n", stat(dir, &st) < 0 && errno == ENOENT ? "gone" : "still there");
		} else {
			printf("mkdtemp: %s\n", en(errno));
		}
		int nul = open("/dev/null", O_RDWR);
		f[0] = (struct pollfd){.fd = nul, .events = POLLIN | POLLOUT};
		P("/dev/null", f, 1, 0);
		close(nul);
	}

	printf("== poll as a sleep\n");
	t0 = now_ms();
	int r = poll(NULL, 0, 15);
	dt = now_ms() - t0;
	printf("poll(NULL, 0, 15): %d, waited 14 ms or more: %s, under 2 s: %s\n", r, dt >= 14 ? "yes" : "no", dt < 2000 ? "yes" : "no");
	return 0;
}
