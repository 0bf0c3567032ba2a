/* File I/O microbenchmark, run natively and under opsub alike.
 *
 *   file_io [DIR [N]]       DIR default /tmp, N (iterations) default 100000
 *
 * Makes a directory DIR/file_io.XXXXXX (mkdtemp) holding a 16 MiB file, and
 * prints one "name value" line per figure, each the raw wall time of the
 * loop (CLOCK_MONOTONIC) divided by the calls counted (nothing subtracted):
 *   pread_4k_ns      pread of 4 KiB at sequential offsets, wrapping (N)
 *   read_4k_ns       read of 4 KiB, lseek to 0 at the end of the file
 *                    (N reads counted; the lseeks are in the time)
 *   pwrite_4k_ns     pwrite of 4 KiB at sequential offsets, wrapping (N)
 *   open_close_ns    open(O_RDONLY) + close of the existing file (N)
 *   stat_ns          stat of the file's path (N)
 *   getdents_100_ns  a full listing (lseek 0, getdents64 until it returns 0)
 *                    of a directory of 100 files (N/10 listings)
 *   pipe_64_ns       write of 64 bytes into a pipe + read of them back (N)
 *   poll_ready_ns    poll(POLLIN, timeout 0) on a pipe with bytes waiting (N)
 *   seq_read_MBps    read of the whole file in 64 KiB chunks, repeated
 *                    (max(4, N*4 KiB / 16 MiB) passes), in MB/s (10^6 B/s)
 * Everything it made is removed at the end.  A figure whose call fails is
 * left out, with "file_io: CALL failed (RESULT): ERROR" on stderr, and the
 * others still run; the exit status is then 1.  A failure while setting up
 * (mkdtemp, making the file) ends the run at once. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE (16u << 20)
#define SMALL 4096u
#define CHUNK (64u << 10)
#define NFILES 100

static char buf[CHUNK] __attribute__((aligned(4096)));
static char dirbuf[32768] __attribute__((aligned(8)));
static char dir[4096], big[4200], sub[4200];
static volatile long sink;
static long n;
static int fd = -1;

static uint64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cleanup(void)
{
	char p[4300];
	for (int i = 0; i < NFILES; i++) {
		snprintf(p, sizeof p, "%s/f%03d", sub, i);
		unlink(p);
	}
	rmdir(sub);
	unlink(big);
	rmdir(dir);
}

/* A failed call: the message, and -1 for the figure's function to return. */
static int fail(const char *what, long r)
{
	int e = errno;
	fprintf(stderr, "file_io: %s failed (%ld): %s\n", what, r, strerror(e));
	return -1;
}

static void die(const char *what, long r)
{
	fail(what, r);
	if (fd >= 0)
		close(fd);
	cleanup();
	exit(1);
}

static void figure(const char *name, uint64_t ns, long calls)
{
	printf("%s %.1f\n", name, (double)ns / (double)calls);
}

/* pread 4 KiB, sequential offsets, wrapping. */
static int bench_pread(void)
{
	uint64_t off = 0;
	long r;
	uint64_t t0 = now();
	for (long i = 0; i < n; i++) {
		if ((r = pread(fd, buf, SMALL, (off_t)off)) != SMALL)
			return fail("pread", r);
		sink += buf[0];
		off += SMALL;
		if (off >= FILE_SIZE)
			off = 0;
	}
	figure("pread_4k_ns", now() - t0, n);
	return 0;
}

/* read 4 KiB; lseek to 0 at the end (only the reads counted). */
static int bench_read(void)
{
	long r;
	if ((r = lseek(fd, 0, SEEK_SET)) != 0)
		return fail("lseek", r);
	uint64_t t0 = now();
	for (long i = 0; i < n; i++) {
		r = read(fd, buf, SMALL);
		if (r == 0) {
			if ((r = lseek(fd, 0, SEEK_SET)) != 0)
				return fail("lseek", r);
			r = read(fd, buf, SMALL);
		}
		if (r != SMALL)
			return fail("read", r);
		sink += buf[0];
	}
	figure("read_4k_ns", now() - t0, n);
	return 0;
}

/* pwrite 4 KiB, sequential offsets, wrapping (the file does not grow). */
static int bench_pwrite(void)
{
	uint64_t off = 0;
	long r;
	uint64_t t0 = now();
	for (long i = 0; i < n; i++) {
		if ((r = pwrite(fd, buf, SMALL, (off_t)off)) != SMALL)
			return fail("pwrite", r);
		off += SMALL;
		if (off >= FILE_SIZE)
			off = 0;
	}
	figure("pwrite_4k_ns", now() - t0, n);
	return 0;
}

/* open + close of the existing file. */
static int bench_open_close(void)
{
	long r;
	uint64_t t0 = now();
	for (long i = 0; i < n; i++) {
		int f = open(big, O_RDONLY);
		if (f < 0)
			return fail("open", f);
		if ((r = close(f)) != 0)
			return fail("close", r);
	}
	figure("open_close_ns", now() - t0, n);
	return 0;
}

/* stat of a path. */
static int bench_stat(void)
{
	struct stat st;
	long r;
	uint64_t t0 = now();
	for (long i = 0; i < n; i++) {
		if ((r = stat(big, &st)) != 0)
			return fail("stat", r);
		sink += st.st_size;
	}
	uint64_t t1 = now();
	if (st.st_size != FILE_SIZE) {
		errno = EIO;
		return fail("stat (st_size is not 16 MiB)", (long)st.st_size);
	}
	figure("stat_ns", t1 - t0, n);
	return 0;
}

/* getdents64 over a directory of 100 files, per full listing. */
static int bench_getdents(void)
{
	long r;
	char p[4300];
	if ((r = mkdir(sub, 0755)) != 0)
		return fail("mkdir", r);
	for (int i = 0; i < NFILES; i++) {
		snprintf(p, sizeof p, "%s/f%03d", sub, i);
		int f = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (f < 0)
			return fail("open (O_CREAT, a small file)", f);
		close(f);
	}
	int dfd = open(sub, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return fail("open (O_DIRECTORY)", dfd);
	long listings = n / 10, entries = 0;
	uint64_t t0 = now();
	for (long i = 0; i < listings; i++) {
		if ((r = lseek(dfd, 0, SEEK_SET)) != 0) {
			fail("lseek (directory)", r);
			close(dfd);
			return -1;
		}
		entries = 0;
		while ((r = syscall(SYS_getdents64, dfd, dirbuf, sizeof dirbuf)) > 0)
			for (long q = 0; q < r; q += ((struct dirent *)(dirbuf + q))->d_reclen)
				entries++;
		if (r < 0) {
			char what[80];
			snprintf(what, sizeof what, "getdents64 (after %ld entries of %d)", entries, NFILES + 2);
			fail(what, r);
			close(dfd);
			return -1;
		}
	}
	uint64_t t1 = now();
	close(dfd);
	if (entries != NFILES + 2) {
		errno = EIO;
		return fail("getdents64 (entry count)", entries);
	}
	figure("getdents_100_ns", t1 - t0, listings);
	return 0;
}

/* pipe: write 64 bytes, read them back; then poll on a pipe with bytes waiting. */
static int bench_pipe(void)
{
	int pfd[2], ret = 0;
	long r;
	if ((r = pipe(pfd)) != 0)
		return fail("pipe", r);
	uint64_t t0 = now();
	for (long i = 0; i < n; i++) {
		if ((r = write(pfd[1], buf, 64)) != 64) {
			ret = fail("write (pipe)", r);
			goto out;
		}
		if ((r = read(pfd[0], buf, 64)) != 64) {
			ret = fail("read (pipe)", r);
			goto out;
		}
	}
	figure("pipe_64_ns", now() - t0, n);
out:
	if ((r = write(pfd[1], buf, 64)) != 64) {
		ret = fail("write (pipe, for poll)", r);
		goto done;
	}
	struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
	t0 = now();
	for (long i = 0; i < n; i++) {
		pf.revents = 0;
		if ((r = poll(&pf, 1, 0)) != 1 || !(pf.revents & POLLIN)) {
			ret = fail("poll", r);
			goto done;
		}
	}
	figure("poll_ready_ns", now() - t0, n);
done:
	close(pfd[0]);
	close(pfd[1]);
	return ret;
}

/* Sequential read of the whole file in 64 KiB chunks, repeated. */
static int bench_seq_read(void)
{
	long passes = (long)((uint64_t)n * SMALL / FILE_SIZE), r;
	if (passes < 4)
		passes = 4;
	uint64_t t0 = now();
	for (long p = 0; p < passes; p++) {
		if ((r = lseek(fd, 0, SEEK_SET)) != 0)
			return fail("lseek", r);
		for (unsigned o = 0; o < FILE_SIZE; o += CHUNK) {
			if ((r = read(fd, buf, CHUNK)) != CHUNK)
				return fail("read (64 KiB)", r);
			sink += buf[0];
		}
	}
	uint64_t t1 = now();
	printf("seq_read_MBps %.1f\n", (double)passes * FILE_SIZE * 1000.0 / (double)(t1 - t0));
	return 0;
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "/tmp";
	n = argc > 2 ? atol(argv[2]) : 100000;
	if (n < 10)
		n = 10;
	long r;

	if (snprintf(dir, sizeof dir, "%s/file_io.XXXXXX", base) >= (int)sizeof dir) {
		errno = ENAMETOOLONG;
		die("snprintf (directory name)", 0);
	}
	if (!mkdtemp(dir))
		die("mkdtemp", -1);
	snprintf(big, sizeof big, "%s/big", dir);
	snprintf(sub, sizeof sub, "%s/d", dir);

	/* The 16 MiB file, deterministic bytes. */
	for (unsigned i = 0; i < CHUNK; i++)
		buf[i] = (char)(i * 131u + 7u);
	fd = open(big, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open (O_CREAT, the 16 MiB file)", fd);
	for (unsigned off = 0; off < FILE_SIZE; off += CHUNK)
		if ((r = write(fd, buf, CHUNK)) != CHUNK)
			die("write (filling the file)", r);

	/* The bytes read back are the bytes written (a 4 KiB block inside a chunk). */
	static char back[SMALL];
	if ((r = pread(fd, back, SMALL, 5 * CHUNK + 3 * SMALL)) != SMALL)
		die("pread (checking the file)", r);
	if (memcmp(back, buf + 3 * SMALL, SMALL) != 0) {
		errno = EIO;
		die("pread (the bytes read back differ from those written)", r);
	}

	int bad = 0;
	bad |= bench_pread();
	bad |= bench_read();
	bad |= bench_pwrite();
	bad |= bench_open_close();
	bad |= bench_stat();
	bad |= bench_getdents();
	bad |= bench_pipe();
	bad |= bench_seq_read();

	close(fd);
	cleanup();
	fflush(stdout);
	return bad ? 1 : 0;
}
