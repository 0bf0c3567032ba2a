// Pipes in one process: pipe/pipe2 (O_NONBLOCK, O_CLOEXEC, bad flags), write then read, partial reads, EAGAIN on an empty nonblocking pipe, EOF after the writer closes, EPIPE with SIGPIPE ignored, ESPIPE for lseek/pread, filling a nonblocking pipe, FIONREAD, and dup'd write ends keeping the pipe open.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case ESPIPE: return "ESPIPE";
	case EFAULT: return "EFAULT";
	case EMFILE: return "EMFILE";
	case ENOSYS: return "ENOSYS";
	case EISDIR: return "EISDIR";
	case ENOTTY: return "ENOTTY";
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

static void flags(const char *what, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	int fdf = fcntl(fd, F_GETFD);
	if (fl < 0 || fdf < 0) {
		printf("%s: fcntl -1 %s\n", what, en(errno));
		return;
	}
	const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR";
	printf("%s: %s%s%s\n", what, acc, fl & O_NONBLOCK ? "|O_NONBLOCK" : "", fdf & FD_CLOEXEC ? " FD_CLOEXEC" : "");
}

static void nread(const char *what, int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) < 0)
		printf("%s: FIONREAD -1 %s\n", what, en(errno));
	else
		printf("%s: FIONREAD %d\n", what, n);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	char buf[256];

	printf("== pipe\n");
	R("pipe", pipe(p));
	printf("read end < write end: %s\n", p[0] < p[1] ? "yes" : "no");
	flags("read end", p[0]);
	flags("write end", p[1]);
	{
		struct stat st;
		fstat(p[0], &st);
		printf("fstat read end: fifo %d size %lld\n", S_ISFIFO(st.st_mode), (long long)st.st_size);
	}
	R("write hello", write(p[1], "hello", 5));
	R("write world", write(p[1], " world", 6));
	nread("read end", p[0]);
	memset(buf, 0, sizeof buf);
	R("read 3", read(p[0], buf, 3));
	printf("data: %s\n", buf);
	memset(buf, 0, sizeof buf);
	R("read 100 (returns what is there)", read(p[0], buf, 100));
	printf("data: %s\n", buf);
	nread("read end", p[0]);
	R("read on the write end", read(p[1], buf, 1));
	R("write on the read end", write(p[0], "x", 1));
	R("lseek on a pipe", lseek(p[0], 0, SEEK_CUR));
	R("pread on a pipe", pread(p[0], buf, 1, 0));
	R("pwrite on a pipe", pwrite(p[1], "x", 1, 0));
	R("ftruncate on a pipe", ftruncate(p[1], 0));
	{
		struct iovec v[3] = {{"ab", 2}, {"cd", 2}, {"ef", 2}};
		R("writev 3 parts", writev(p[1], v, 3));
		char x1[1], x2[10];
		struct iovec rv[2] = {{x1, 1}, {x2, 10}};
		R("readv 1+10", readv(p[0], rv, 2));
		printf("parts: '%.1s' '%.5s'\n", x1, x2);
	}
	R("close write end", close(p[1]));
	R("read after the writer closed (EOF)", read(p[0], buf, 10));
	R("read again (EOF)", read(p[0], buf, 10));
	R("close read end", close(p[0]));

	printf("== EOF after remaining data\n");
	pipe(p);
	write(p[1], "tail", 4);
	close(p[1]);
	memset(buf, 0, sizeof buf);
	R("read 10", read(p[0], buf, 10));
	printf("data: %s\n", buf);
	R("read 10 (EOF)", read(p[0], buf, 10));
	close(p[0]);

	printf("== dup'd write end keeps the pipe open\n");
	pipe(p);
	int w2 = dup(p[1]);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	R("read with one writer left (EAGAIN)", read(p[0], buf, 10));
	R("write via the dup", write(w2, "dup", 3));
	R("read", read(p[0], buf, 10));
	close(w2);
	R("read after the last writer closed (EOF)", read(p[0], buf, 10));
	close(p[0]);

	printf("== EPIPE\n");
	pipe(p);
	close(p[0]);
	R("write with no reader", write(p[1], "x", 1));
	{
		struct iovec v = {"abc", 3};
		R("writev with no reader", writev(p[1], &v, 1));
	}
	close(p[1]);

	printf("== pipe2\n");
	R("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK));
	flags("read end", p[0]);
	flags("write end", p[1]);
	R("read on empty nonblocking pipe", read(p[0], buf, 10));
	R("read 0 bytes on empty pipe", read(p[0], buf, 0));
	{
		/* Fill the pipe: count how much fits, without printing the capacity. */
		static char chunk[4096];
		memset(chunk, 'f', sizeof chunk);
		long total = 0;
		int writes = 0;
		for (;;) {
			ssize_t n = write(p[1], chunk, sizeof chunk);
			if (n < 0) {
				printf("fill stopped with %s after %s\n", en(errno), total > 0 ? "a positive count" : "nothing");
				break;
			}
			total += n;
			if (++writes > 100000) {
				printf("fill never stopped\n");
				break;
			}
		}
		printf("filled count > 0: %s, a multiple of 4096: %s\n", total > 0 ? "yes" : "no", total % 4096 == 0 ? "yes" : "no");
		R("write 1 more byte (full)", write(p[1], "x", 1));
		int fio = -1;
		ioctl(p[0], FIONREAD, &fio);
		printf("FIONREAD equals the filled count: %s\n", fio == total ? "yes" : "no");
		/* Drain it and check every byte. */
		long got = 0;
		int ok = 1;
		for (;;) {
			ssize_t n = read(p[0], chunk, 1000);
			if (n <= 0) {
				printf("drain stopped with %s\n", n == 0 ? "EOF" : en(errno));
				break;
			}
			for (ssize_t i = 0; i < n; i++)
				if (chunk[i] != 'f')
					ok = 0;
			got += n;
		}
		printf("drained everything: %s, bytes intact: %s\n", got == total ? "yes" : "no", ok ? "yes" : "no");
		/* A write larger than the space left, nonblocking: partial. */
		static char big[1 << 20];
		ssize_t n = write(p[1], big, sizeof big);
		printf("1 MiB nonblocking write: %s\n", n < 0 ? en(errno) : n > 0 && n < (ssize_t)sizeof big ? "partial, > 0" : n == (ssize_t)sizeof big ? "all" : "0");
	}
	close(p[0]);
	close(p[1]);
	R("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC));
	flags("read end", p[0]);
	flags("write end", p[1]);
	close(p[0]);
	close(p[1]);
	R("pipe2 O_CLOEXEC|O_NONBLOCK", pipe2(p, O_CLOEXEC | O_NONBLOCK));
	flags("read end", p[0]);
	close(p[0]);
	close(p[1]);
	R("pipe2 bad flags", pipe2(p, O_APPEND));
	R("pipe2 0", pipe2(p, 0));
	flags("read end", p[0]);
	R("F_SETFL O_NONBLOCK on the read end", fcntl(p[0], F_SETFL, O_NONBLOCK));
	flags("read end", p[0]);
	R("read (EAGAIN)", read(p[0], buf, 1));
	R("F_SETFL 0", fcntl(p[0], F_SETFL, 0));
	flags("read end", p[0]);

	printf("== blocking pipe, data already there\n");
	{
		/* 60000 bytes in a blocking pipe (fits in the default 64 KiB), read back in odd sizes. */
		static unsigned char out[60000], in[60000];
		for (size_t i = 0; i < sizeof out; i++)
			out[i] = (unsigned char)(i * 13 + 5);
		R("write 60000", write(p[1], out, sizeof out));
		size_t got = 0;
		int reads = 0;
		while (got < sizeof in) {
			ssize_t n = read(p[0], in + got, (size_t)(reads % 5 + 1) * 777);
			if (n <= 0)
				break;
			got += (size_t)n;
			reads++;
		}
		printf("read back %zu bytes in %d reads, equal: %s\n", got, reads, memcmp(in, out, sizeof in) == 0 ? "yes" : "no");
	}
	close(p[1]);
	R("read (EOF)", read(p[0], buf, 1));
	close(p[0]);
	R("read closed fd", read(p[0], buf, 1));

	printf("== many pipes\n");
	{
		int fds[100][2], ok = 1;
		for (int i = 0; i < 100; i++)
			if (pipe(fds[i]) < 0)
				ok = 0;
		for (int i = 0; i < 100; i++) {
			char c = (char)('A' + i % 26);
			if (write(fds[i][1], &c, 1) != 1)
				ok = 0;
		}
		for (int i = 99; i >= 0; i--) {
			char c = 0;
			if (read(fds[i][0], &c, 1) != 1 || c != (char)('A' + i % 26))
				ok = 0;
			close(fds[i][0]);
			close(fds[i][1]);
		}
		printf("100 pipes, one byte each: %s\n", ok ? "ok" : "wrong");
	}
	return 0;
}
