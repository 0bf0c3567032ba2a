// /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd and /proc/self/fd/N as on Linux: fopen("/dev/stdout", "w") writes to stdout (no file is made), stdin read through /dev/stdin, a pipe on 0 read through /dev/fd/0 and /proc/self/fd/0, stdout written through /dev/stdout, /dev/fd/1 and /proc/self/fd/1 (O_APPEND: natively stdout is a regular file, opened anew), a file reopened through /proc/self/fd/N with its own offset (also after unlink, and O_TRUNC), readlink, stat/lstat/statx, access, getdents of /proc/self/fd, a closed descriptor (ENOENT) and names that cannot be made there.
// stdin: proc_self_fd.in
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case ELOOP: return "ELOOP";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static char dir[] = "/tmp/opsub-fd-XXXXXX";

static void R(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %ld\n", what, r);
}

static char type_of(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' : S_ISCHR(m) ? 'c' : '?';
}

/* statx's stx_mode, by the kernel's layout (musl's headers have no struct statx). */
static long statx_mode(const char *path, int flags, mode_t *mode)
{
	unsigned char sx[256];
	long r = syscall(SYS_statx, AT_FDCWD, path, flags, 0x7ffu /* STATX_BASIC_STATS */, sx);
	unsigned short m;
	memcpy(&m, sx + 28, sizeof m);
	*mode = r < 0 ? 0 : m;
	return r;
}

/* Everything from a fresh open of path, printed. */
static void read_via(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("read %s: %s\n", path, en(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("read %s: %zd '%s'\n", path, n, buf);
	close(fd);
}

/* A line written through path (O_APPEND: natively a regular stdout is
 * opened anew at offset 0), then stdout's own offset moved past it. */
static void write_via(const char *path)
{
	char line[128];
	fflush(stdout);
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0) {
		printf("write %s: %s\n", path, en(errno));
		return;
	}
	int len = snprintf(line, sizeof line, "written through %s\n", path);
	ssize_t n = write(fd, line, (size_t)len);
	close(fd);
	lseek(1, 0, SEEK_END);
	printf("write %s: %s\n", path, n == len ? "whole" : "short");
}

static void link_text(const char *path)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0) {
		printf("readlink %s: %s\n", path, en(errno));
		return;
	}
	buf[n] = 0;
	char *bracket = strchr(buf, '[');   /* pipe:[INODE]: the inode is the kernel's */
	if (bracket)
		bracket[1] = 0;
	printf("readlink %s: '%s'\n", path, buf);
}

static void listing(int open_fd, int closed_fd)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		printf("opendir /proc/self/fd: %s\n", en(errno));
		return;
	}
	int seen[4] = {0}, closed_seen = 0, self_seen = 0, links = 1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		links &= e->d_type == DT_LNK;
		if (fd <= 2)
			seen[fd] = 1;
		seen[3] |= fd == open_fd;
		closed_seen |= fd == closed_fd;
		self_seen |= fd == dirfd(d);
	}
	closedir(d);
	printf("listing: 0 %d, 1 %d, 2 %d, open file %d, closed %d, the directory's own %d, all links %d\n", seen[0],
	       seen[1], seen[2], seen[3], closed_seen, self_seen, links);
}

int main(void)
{
	/* first, while stdout is still empty: natively "w" truncates a regular stdout */
	FILE *f = fopen("/dev/stdout", "w");
	if (f) {
		fprintf(f, "fopen /dev/stdout \"w\": written\n");
		fclose(f);
		lseek(1, 0, SEEK_END);
	} else {
		printf("fopen /dev/stdout: %s\n", en(errno));
	}
	struct stat st, st1;
	R("stat /dev/stdout", stat("/dev/stdout", &st));
	fstat(1, &st1);
	printf("stat /dev/stdout is fd 1's kind of file: %d\n", type_of(st.st_mode) == type_of(st1.st_mode));
	R("lstat /dev/stdout", lstat("/dev/stdout", &st));
	printf("lstat /dev/stdout: %c\n", type_of(st.st_mode));
	R("statx /dev/fd nofollow", statx_mode("/dev/fd", AT_SYMLINK_NOFOLLOW, &st.st_mode));
	printf("statx /dev/fd: %c\n", type_of(st.st_mode));
	R("statx /dev/fd/", statx_mode("/dev/fd/", 0, &st.st_mode));
	printf("statx /dev/fd/: %c %o\n", type_of(st.st_mode), st.st_mode & 07777);
	link_text("/dev/stdin");
	link_text("/dev/stdout");
	link_text("/dev/stderr");
	link_text("/dev/fd");

	/* stdin, a regular file: read once (natively each open starts at 0 again) */
	read_via("/dev/stdin");
	R("access /dev/stdin R_OK", access("/dev/stdin", R_OK));

	write_via("/dev/stdout");
	write_via("/dev/fd/1");
	write_via("/proc/self/fd/1");
	int e = open("/dev/stderr", O_WRONLY);
	R("write /dev/stderr", e < 0 ? e : write(e, "through /dev/stderr\n", 20));
	close(e);

	/* a pipe on 0: the same pipe through each name */
	int p[2];
	if (pipe(p) < 0)
		return 1;
	int saved = dup(0);
	dup2(p[0], 0);
	write(p[1], "pipe one", 8);
	read_via("/dev/fd/0");
	write(p[1], "pipe two", 8);
	read_via("/proc/self/fd/0");
	link_text("/proc/self/fd/0");
	R("stat /dev/stdin is a FIFO", stat("/dev/stdin", &st) < 0 ? -1 : S_ISFIFO(st.st_mode));
	dup2(saved, 0);
	close(saved);
	close(p[0]);
	close(p[1]);

	/* a regular file: opened anew, its own offset from 0 */
	if (!mkdtemp(dir)) {
		printf("mkdtemp: %s\n", en(errno));
		return 1;
	}
	char file[64], via[64], via_dev[64], beyond[80];
	snprintf(file, sizeof file, "%s/f", dir);
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "hello, file\n", 12);
	snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
	snprintf(via_dev, sizeof via_dev, "/dev/fd/%d", fd);
	read_via(via);
	read_via(via_dev);
	R("offset of the first descriptor", lseek(fd, 0, SEEK_CUR));
	char buf[256];
	ssize_t n = readlink(via, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink /proc/self/fd/N is the file's path: %d\n", !strcmp(buf, file));
	R("lstat /proc/self/fd/N", lstat(via, &st));
	printf("lstat /proc/self/fd/N (O_RDWR): %c %o\n", type_of(st.st_mode), st.st_mode & 07777);
	R("stat /proc/self/fd/N", stat(via, &st));
	printf("stat /proc/self/fd/N: %c size %lld\n", type_of(st.st_mode), (long long)st.st_size);
	R("access /proc/self/fd/N W_OK", access(via, W_OK));
	snprintf(beyond, sizeof beyond, "%s/x", via);
	R("open /proc/self/fd/N/x", open(beyond, O_RDONLY));
	R("open /proc/self/fd/N O_NOFOLLOW", open(via, O_RDONLY | O_NOFOLLOW));
	R("open /proc/self/fd/N O_CREAT|O_EXCL", open(via, O_WRONLY | O_CREAT | O_EXCL, 0644));
	R("mkdir /proc/self/fd/N", mkdir(via, 0755));
	R("open /proc/self/fd/nonsense O_CREAT", open("/proc/self/fd/nonsense", O_WRONLY | O_CREAT, 0644));
	R("unlink the file", unlink(file));
	read_via(via);
	int t = open(via, O_WRONLY | O_TRUNC);
	R("open /proc/self/fd/N O_TRUNC", t < 0 ? t : 0);
	fstat(fd, &st);
	printf("size after O_TRUNC: %lld\n", (long long)st.st_size);
	close(t);

	/* an O_WRONLY one, for lstat's bits, and a closed one */
	int w = 100;   /* above what the directory's own descriptor takes */
	int null = open("/dev/null", O_WRONLY);
	dup2(null, w);
	close(null);
	const char *wvia = "/dev/fd/100";
	R("lstat /dev/fd/W", lstat(wvia, &st));
	printf("lstat /dev/fd/W (O_WRONLY): %c %o\n", type_of(st.st_mode), st.st_mode & 07777);
	close(w);
	listing(fd, w);
	R("open closed /proc/self/fd/W", open(wvia, O_RDONLY));
	R("open closed /proc/self/fd/W O_CREAT", open(wvia, O_WRONLY | O_CREAT, 0644));
	R("stat closed", stat(wvia, &st));
	R("lstat closed", lstat(wvia, &st));
	R("access closed", access(wvia, F_OK));
	link_text(wvia);
	close(fd);
	R("rmdir", rmdir(dir));
	return 0;
}
