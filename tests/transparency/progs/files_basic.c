// Regular files: open/creat/O_EXCL/O_TRUNC/O_APPEND, read/write/pread/pwrite/readv/writev, lseek (SEEK_END, holes), ftruncate grow/shrink, stat/fstat/lstat sizes and modes, and stdio fopen/fprintf/fgets/fseek, in a mkdtemp directory under /tmp (removed at the end).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ESPIPE: return "ESPIPE";
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EFBIG: return "EFBIG";
	case ELOOP: return "ELOOP";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case EFAULT: return "EFAULT";
	case EOVERFLOW: return "EOVERFLOW";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static char dir[] = "/tmp/opsub-XXXXXX";

static const char *P(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

/* Prints "what: value" for a non-negative result, "what: -1 ENAME" otherwise. */
static long R(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %ld\n", what, r);
	return r;
}

static const char *ftype(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	}
	return "?";
}

static void show_stat(const char *what, int r, const struct stat *st)
{
	if (r < 0) {
		printf("%s: -1 %s\n", what, en(errno));
		return;
	}
	if (S_ISDIR(st->st_mode))   /* directory sizes and link counts are file-system specific */
		printf("%s: %s mode %04o\n", what, ftype(st->st_mode), (unsigned)(st->st_mode & 07777));
	else if (S_ISCHR(st->st_mode))
		printf("%s: %s mode %04o\n", what, ftype(st->st_mode), (unsigned)(st->st_mode & 07777));
	else
		printf("%s: %s mode %04o size %lld nlink %lu\n", what, ftype(st->st_mode),
		       (unsigned)(st->st_mode & 07777), (long long)st->st_size, (unsigned long)st->st_nlink);
}

static void st_path(const char *what, const char *path)
{
	struct stat st;
	int r = stat(path, &st);
	show_stat(what, r, &st);
}

static void st_fd(const char *what, int fd)
{
	struct stat st;
	int r = fstat(fd, &st);
	show_stat(what, r, &st);
}

static void print_file(const char *what, const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s: open -1 %s\n", what, en(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		printf("%s: read -1 %s\n", what, en(errno));
		return;
	}
	printf("%s: %zd bytes \"", what, n);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n')
			printf("\\n");
		else if (c >= 32 && c < 127)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("\"\n");
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char sub[1024];
				snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static uint32_t fnv(const unsigned char *p, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int main(void)
{
	umask(022);
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed: %s\n", en(errno));
		return 1;
	}
	printf("== open/creat\n");
	int fd = open(P("a"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	printf("open a O_CREAT|O_WRONLY|O_TRUNC 0644: %s\n", fd >= 0 ? "ok" : en(errno));
	R("write hello", write(fd, "hello world\n", 12));
	st_fd("fstat a", fd);
	R("close a", close(fd));
	R("open a O_CREAT|O_EXCL", open(P("a"), O_CREAT | O_EXCL | O_WRONLY, 0644));
	R("open missing O_RDONLY", open(P("missing"), O_RDONLY));
	R("open missing/x", open(P("missing/x"), O_RDONLY));
	R("open a/x (a is a file)", open(P("a/x"), O_RDONLY));
	R("open a/x O_CREAT", open(P("a/x"), O_CREAT | O_WRONLY, 0644));
	R("open missing/x O_CREAT", open(P("missing/x"), O_CREAT | O_WRONLY, 0644));
	R("open dir O_WRONLY", open(dir, O_WRONLY));
	R("open dir O_RDWR", open(dir, O_RDWR));
	R("open dir O_CREAT", open(dir, O_CREAT | O_RDONLY, 0644));
	fd = creat(P("b"), 0600);
	printf("creat b 0600: %s\n", fd >= 0 ? "ok" : en(errno));
	st_fd("fstat b", fd);
	R("read on creat fd (write-only)", read(fd, (char[4]){0}, 4));
	close(fd);
	fd = creat(P("c"), 0777);
	st_fd("fstat c (0777 & ~022)", fd);
	close(fd);
	fd = open(P("e"), O_CREAT | O_EXCL | O_RDWR, 0640);
	printf("open e O_CREAT|O_EXCL 0640: %s\n", fd >= 0 ? "ok" : en(errno));
	st_fd("fstat e", fd);
	close(fd);
	print_file("a content", P("a"));

	printf("== O_TRUNC\n");
	fd = open(P("a"), O_WRONLY | O_TRUNC);
	st_fd("fstat a after O_TRUNC", fd);
	R("write abc", write(fd, "abc", 3));
	close(fd);
	fd = open(P("a"), O_RDONLY | O_TRUNC); /* O_TRUNC with O_RDONLY truncates on Linux */
	st_fd("fstat a after O_RDONLY|O_TRUNC", fd);
	R("write on O_RDONLY fd", write(fd, "x", 1));
	close(fd);

	printf("== O_APPEND\n");
	fd = open(P("a"), O_WRONLY | O_TRUNC);
	R("write abc", write(fd, "abc", 3));
	close(fd);
	fd = open(P("a"), O_WRONLY | O_APPEND);
	R("lseek 0 SEEK_SET", lseek(fd, 0, SEEK_SET));
	R("write def (appends)", write(fd, "def", 3));
	R("lseek 0 SEEK_CUR", lseek(fd, 0, SEEK_CUR));
	R("lseek 1 SEEK_SET", lseek(fd, 1, SEEK_SET));
	R("pwrite X at 0 (O_APPEND: appends on Linux)", pwrite(fd, "X", 1, 0));
	R("lseek 0 SEEK_CUR after pwrite", lseek(fd, 0, SEEK_CUR));
	close(fd);
	print_file("a content", P("a"));
	fd = open(P("a"), O_RDWR | O_APPEND);
	char b8[8] = {0};
	R("read 2 from O_RDWR|O_APPEND at 0", read(fd, b8, 2));
	printf("read data: %s\n", b8);
	R("write gh", write(fd, "gh", 2));
	R("lseek 0 SEEK_CUR", lseek(fd, 0, SEEK_CUR));
	close(fd);
	print_file("a content", P("a"));

	printf("== read/write/pread/pwrite\n");
	fd = open(P("d"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	R("write alphabet", write(fd, "abcdefghijklmnopqrstuvwxyz", 26));
	char buf[64];
	memset(buf, 0, sizeof buf);
	R("pread 5 at 10", pread(fd, buf, 5, 10));
	printf("pread data: %s\n", buf);
	R("offset after pread", lseek(fd, 0, SEEK_CUR));
	R("pwrite XYZ at 3", pwrite(fd, "XYZ", 3, 3));
	R("offset after pwrite", lseek(fd, 0, SEEK_CUR));
	R("pwrite at 30 (past EOF)", pwrite(fd, "!", 1, 30));
	st_fd("fstat d", fd);
	R("lseek 0", lseek(fd, 0, SEEK_SET));
	memset(buf, 0, sizeof buf);
	R("read 64", read(fd, buf, 64));
	for (int i = 0; i < 31; i++)
		if (buf[i] == 0)
			buf[i] = '_';
	printf("read data: %.31s\n", buf);
	R("read at EOF", read(fd, buf, 64));
	R("pread past EOF", pread(fd, buf, 8, 1000));
	R("pread at EOF-2", pread(fd, buf, 8, 29));
	R("pread negative offset", pread(fd, buf, 8, -1));
	R("pwrite negative offset", pwrite(fd, buf, 8, -1));
	R("lseek -1 SEEK_SET", lseek(fd, -1, SEEK_SET));
	R("lseek -100 SEEK_CUR", lseek(fd, -100, SEEK_CUR));
	R("lseek whence 99", lseek(fd, 0, 99));
	R("read 0 bytes", read(fd, buf, 0));
	R("write 0 bytes", write(fd, buf, 0));
	R("read bad fd", read(999, buf, 1));
	R("write bad fd", write(-1, buf, 1));
	R("lseek bad fd", lseek(999, 0, SEEK_SET));
	R("pread bad fd", pread(999, buf, 1, 0));
	close(fd);

	printf("== readv/writev\n");
	fd = open(P("v"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct iovec wv[3] = {{"one-", 4}, {"", 0}, {"two-three\n", 10}};
	R("writev 3 iovecs", writev(fd, wv, 3));
	R("writev 0 iovecs", writev(fd, wv, 0));
	R("writev -1 iovecs", writev(fd, wv, -1));
	lseek(fd, 0, SEEK_SET);
	char r1[2], r2[5], r3[100];
	memset(r3, 0, sizeof r3);
	struct iovec rv[3] = {{r1, 2}, {r2, 5}, {r3, 100}};
	R("readv 2+5+100", readv(fd, rv, 3));
	printf("readv parts: '%.2s' '%.5s' '%.6s'\n", r1, r2, r3);
	R("preadv at 4", preadv(fd, rv, 3, 4));
	printf("preadv parts: '%.2s' '%.5s' '%.3s'\n", r1, r2, r3);
	struct iovec pw[2] = {{"AB", 2}, {"CD", 2}};
	R("pwritev at 1", pwritev(fd, pw, 2, 1));
	close(fd);
	print_file("v content", P("v"));

	printf("== lseek SEEK_END and holes\n");
	fd = open(P("h"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	R("write 5", write(fd, "12345", 5));
	R("lseek 0 SEEK_END", lseek(fd, 0, SEEK_END));
	R("lseek -2 SEEK_END", lseek(fd, -2, SEEK_END));
	R("read 10 at EOF-2", read(fd, buf, 10));
	R("lseek 10000 SEEK_END", lseek(fd, 10000, SEEK_END));
	R("write Z after hole", write(fd, "Z", 1));
	st_fd("fstat h", fd);
	R("lseek before start via SEEK_END", lseek(fd, -10007, SEEK_END));
	{
		static unsigned char big[20000];
		memset(big, 0xaa, sizeof big);
		R("pread whole file", pread(fd, big, sizeof big, 0));
		int zeros = 1;
		for (int i = 5; i < 10005; i++)
			if (big[i] != 0)
				zeros = 0;
		printf("hole reads as zeros: %s, last byte %c, first bytes %.5s\n", zeros ? "yes" : "no", big[10005], big);
	}
	R("lseek 1<<40 SEEK_SET", lseek(fd, (off_t)1 << 40, SEEK_SET));
	R("read far past EOF", read(fd, buf, 4));
	close(fd);

	printf("== ftruncate/truncate\n");
	fd = open(P("t"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	R("write 10", write(fd, "0123456789", 10));
	R("ftruncate 100000", ftruncate(fd, 100000));
	st_fd("fstat t", fd);
	memset(buf, 0x55, 16);
	R("pread 16 at 99990", pread(fd, buf, 16, 99990));
	printf("tail zero: %s\n", memcmp(buf, (char[10]){0}, 10) == 0 ? "yes" : "no");
	R("offset unchanged", lseek(fd, 0, SEEK_CUR));
	R("ftruncate 5", ftruncate(fd, 5));
	st_fd("fstat t", fd);
	R("read at offset 10 (past new EOF)", read(fd, buf, 4));
	R("pread 10 at 0", pread(fd, buf, 10, 0));
	R("ftruncate 8 (grow)", ftruncate(fd, 8));
	memset(buf, 0x55, 16);
	R("pread 16 at 0", pread(fd, buf, 16, 0));
	printf("bytes: %.5s %d %d %d\n", buf, buf[5], buf[6], buf[7]);
	R("ftruncate -1", ftruncate(fd, -1));
	close(fd);
	R("truncate path 3", truncate(P("t"), 3));
	st_path("stat t", P("t"));
	R("truncate missing", truncate(P("missing"), 3));
	R("truncate dir", truncate(dir, 3));
	fd = open(P("t"), O_RDONLY);
	R("ftruncate on O_RDONLY fd", ftruncate(fd, 0));
	close(fd);
	R("ftruncate bad fd", ftruncate(999, 0));
	fd = open(P("t"), O_WRONLY | O_APPEND);
	R("ftruncate 0 on O_APPEND fd", ftruncate(fd, 0));
	R("write after truncate", write(fd, "xy", 2));
	close(fd);
	print_file("t content", P("t"));

	printf("== stat/lstat/fstat\n");
	st_path("stat a", P("a"));
	st_path("stat b", P("b"));
	st_path("stat dir", dir);
	st_path("stat /tmp", "/tmp");
	st_path("stat /", "/");
	st_path("stat /dev/null", "/dev/null");
	st_path("stat missing", P("missing"));
	st_path("stat a/ (trailing slash on a file)", P("a/"));
	st_path("stat empty path", "");
	st_path("stat dir/. ", P("."));
	st_path("stat dir/a/..", P("a/.."));
	R("symlink lnk -> a", symlink("a", P("lnk")));
	R("symlink dangling -> nowhere", symlink("nowhere", P("dangling")));
	{
		struct stat st;
		int r = lstat(P("lnk"), &st);
		show_stat("lstat lnk", r, &st);
		r = stat(P("lnk"), &st);
		show_stat("stat lnk", r, &st);
		r = lstat(P("dangling"), &st);
		show_stat("lstat dangling", r, &st);
		r = stat(P("dangling"), &st);
		show_stat("stat dangling", r, &st);
		r = lstat(P("a"), &st);
		show_stat("lstat a", r, &st);
		r = fstat(999, &st);
		show_stat("fstat bad fd", r, &st);
		r = fstat(0, &st);
		printf("fstat stdin ok: %s\n", r == 0 ? "yes" : en(errno));
		struct stat s1, s2;
		stat(P("a"), &s1);
		fd = open(P("a"), O_RDONLY);
		fstat(fd, &s2);
		close(fd);
		printf("stat and fstat agree on ino/dev: %s\n", s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev ? "yes" : "no");
		stat(P("b"), &s2);
		printf("a and b have different inodes: %s\n", s1.st_ino != s2.st_ino ? "yes" : "no");
		stat(P("lnk"), &s2);
		printf("lnk resolves to a's inode: %s\n", s1.st_ino == s2.st_ino ? "yes" : "no");
	}

	printf("== EISDIR/EBADF\n");
	fd = open(dir, O_RDONLY);
	printf("open dir O_RDONLY: %s\n", fd >= 0 ? "ok" : en(errno));
	R("read dir fd", read(fd, buf, 4));
	R("write dir fd", write(fd, buf, 4));
	close(fd);

	printf("== bulk write/read\n");
	{
		static unsigned char data[300000], back[300000];
		for (size_t i = 0; i < sizeof data; i++)
			data[i] = (unsigned char)(i * 7 + i / 251);
		fd = open(P("bulk"), O_RDWR | O_CREAT | O_TRUNC, 0644);
		size_t off = 0;
		int writes = 0;
		while (off < sizeof data) {
			size_t n = sizeof data - off < 7000 ? sizeof data - off : 7000;
			ssize_t w = write(fd, data + off, n);
			if (w <= 0) {
				printf("bulk write failed: %s\n", en(errno));
				break;
			}
			off += (size_t)w;
			writes++;
		}
		printf("bulk wrote %zu bytes in %d writes\n", off, writes);
		lseek(fd, 0, SEEK_SET);
		off = 0;
		int reads = 0;
		for (;;) {
			ssize_t r = read(fd, back + off, sizeof back - off < 4096 ? sizeof back - off : 4096);
			if (r <= 0)
				break;
			off += (size_t)r;
			reads++;
		}
		printf("bulk read %zu bytes in %d reads, equal %s, fnv %08x\n", off, reads,
		       memcmp(data, back, sizeof data) == 0 ? "yes" : "no", fnv(back, off, 2166136261u));
		st_fd("fstat bulk", fd);
		close(fd);
	}

	printf("== stdio\n");
	{
		FILE *f = fopen(P("s.txt"), "w");
		printf("fopen w: %s\n", f ? "ok" : en(errno));
		for (int i = 1; i <= 5; i++)
			fprintf(f, "line %d: %d squared is %d\n", i, i, i * i);
		printf("ftell after writes: %ld\n", ftell(f));
		printf("fclose: %d\n", fclose(f));
		f = fopen(P("s.txt"), "r");
		char line[128];
		while (fgets(line, sizeof line, f))
			printf("fgets: %s", line);
		printf("feof: %d ferror: %d\n", feof(f) != 0, ferror(f) != 0);
		printf("fseek -8 SEEK_END: %d\n", fseek(f, -8, SEEK_END));
		printf("ftell: %ld\n", ftell(f));
		if (fgets(line, sizeof line, f))
			printf("fgets: %s", line);
		printf("fseek 5 SEEK_SET: %d\n", fseek(f, 5, SEEK_SET));
		printf("fgetc: %c\n", fgetc(f));
		printf("ungetc: %c\n", ungetc('Q', f));
		printf("fgetc: %c\n", fgetc(f));
		rewind(f);
		printf("after rewind fgetc: %c\n", fgetc(f));
		fclose(f);
		f = fopen(P("s.txt"), "a");
		fprintf(f, "appended\n");
		fclose(f);
		f = fopen(P("s.txt"), "r+");
		fputs("LINE", f);
		fclose(f);
		f = fopen(P("s.txt"), "r");
		int n = 0;
		while (fgets(line, sizeof line, f))
			if (++n == 1 || n == 6)
				printf("line %d: %s", n, line);
		fclose(f);
		f = fopen(P("nope/x.txt"), "w");
		printf("fopen nope/x.txt w: %s\n", f ? "ok" : en(errno));
		f = fopen(P("missing.txt"), "r");
		printf("fopen missing r: %s\n", f ? "ok" : en(errno));
		f = fopen(P("x.txt"), "wx");
		printf("fopen x.txt wx: %s\n", f ? "ok" : en(errno));
		if (f)
			fclose(f);
		f = fopen(P("x.txt"), "wx");
		printf("fopen x.txt wx again: %s\n", f ? "ok" : en(errno));
		f = fopen(dir, "w");
		printf("fopen dir w: %s\n", f ? "ok" : en(errno));
		st_path("stat s.txt", P("s.txt"));
	}

	rm_rf(dir);
	struct stat st;
	printf("cleanup: dir %s\n", stat(dir, &st) < 0 && errno == ENOENT ? "gone" : "still there");
	return 0;
}
