/*
 * Shared helpers of the file-system attacks (tests/fsjail/attacks).
 *
 * Every attack is a static musl program run twice by tests/fsjail/run.sh:
 * natively, with host paths arranged as a naive implementation would see
 * them (there it must succeed: the proof that the test can fail), and
 * under `opsub run` with guest paths (there it must not).  The attacks
 * never print a path they were given (the secret's directory name is
 * checked for in the output too), only what they did and what came back:
 *
 *   R NAME OK <first bytes read, unprintables as '.'>   a read succeeded
 *   R NAME ERR ENAME                                     it failed
 *   OP NAME OK | OP NAME ERR ENAME                       any other call
 *   COUNT NAME N                                         a counter
 *   NOTE text                                            informational
 *   PAUSE                                                waits for a line on stdin
 *   DONE                                                 reached the end
 *
 * run.sh decides PASS/FAIL from these lines, the token of the secret file
 * it created on the host, and the host's state before and after.
 */
#ifndef FSJAIL_H
#define FSJAIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__attribute__((unused)) static const char *ename(int e)
{
	static char buf[16];
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(EIO) E(ENXIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY)
	E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ETXTBSY)
	E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS)
	E(ENOTEMPTY) E(ELOOP) E(ENODATA) E(EOPNOTSUPP) E(EOVERFLOW) E(EDQUOT)
#undef E
	}
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

__attribute__((unused)) static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* OP NAME OK|ERR for a call's result (r < 0: errno holds the error). */
__attribute__((unused)) static long op(const char *name, long r)
{
	if (r < 0)
		out("OP %s ERR %s", name, ename(errno));
	else
		out("OP %s OK", name);
	return r;
}

/* Prints what a descriptor reads (first 200 bytes) as an R line; closes it. */
__attribute__((unused)) static int report_fd(const char *name, int fd)
{
	if (fd < 0) {
		out("R %s ERR %s", name, ename(errno));
		return -1;
	}
	char buf[201];
	ssize_t n = read(fd, buf, 200);
	int e = errno;
	close(fd);
	if (n < 0) {
		out("R %s ERR %s", name, ename(e));
		return -1;
	}
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			buf[i] = '.';
	buf[n] = 0;
	out("R %s OK %s", name, buf);
	return 0;
}

/* R line for openat(dfd, path) + read. */
__attribute__((unused)) static int try_read_at(const char *name, int dfd, const char *path)
{
	return report_fd(name, openat(dfd, path, O_RDONLY));
}

__attribute__((unused)) static int try_read(const char *name, const char *path)
{
	return try_read_at(name, AT_FDCWD, path);
}

/* "../" n times, then rest (a leading '/' of rest dropped), into buf. */
__attribute__((unused)) static char *dotdots(char *buf, size_t len, int n, const char *rest)
{
	size_t k = 0;
	for (int i = 0; i < n && k + 3 < len; i++, k += 3)
		memcpy(buf + k, "../", 3);
	while (*rest == '/')
		rest++;
	snprintf(buf + k, len - k, "%s", rest);
	return buf;
}

__attribute__((unused)) static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Prints PAUSE and waits until stdin has a line or ends. */
__attribute__((unused)) static void pause_here(void)
{
	out("PAUSE");
	char c;
	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

#endif
