// File descriptors: dup/dup2/dup3 sharing offsets and flags, lowest-free-number allocation, F_DUPFD(_CLOEXEC), F_GETFL/F_SETFL (O_APPEND, O_NONBLOCK), F_GETFD/F_SETFD, F_SETLK/F_SETLKW/F_GETLK and lockf on a file, EBADF cases, RLIMIT_NOFILE (lowered to 64) and opening until EMFILE, in a mkdtemp directory under /tmp (removed at the end).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case EDEADLK: return "EDEADLK";
	case ENOLCK: return "ENOLCK";
	case ESPIPE: return "ESPIPE";
	case ENOSYS: return "ENOSYS";
	case EBUSY: return "EBUSY";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static char dir[] = "/tmp/opsub-XXXXXX";
static int base; /* the first fd this program opened: 3 when only 0-2 are open */

static const char *P(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static long R(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %ld\n", what, r);
	return r;
}

/* An fd result, printed relative to base. */
static int FD(const char *what, int fd)
{
	if (fd < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: base%+d\n", what, fd - base);
	return fd;
}

static void flags(const char *what, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		printf("%s: F_GETFL -1 %s\n", what, en(errno));
		return;
	}
	const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : (fl & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_ACC3";
	int rest = fl & ~(O_ACCMODE | O_APPEND | O_NONBLOCK | O_LARGEFILE);
	printf("%s: %s%s%s other %#o\n", what, acc, fl & O_APPEND ? "|O_APPEND" : "", fl & O_NONBLOCK ? "|O_NONBLOCK" : "", rest);
}

static void fdflags(const char *what, int fd)
{
	int f = fcntl(fd, F_GETFD);
	if (f < 0)
		printf("%s: F_GETFD -1 %s\n", what, en(errno));
	else
		printf("%s: F_GETFD %s\n", what, f & FD_CLOEXEC ? "FD_CLOEXEC" : "0");
}

static void off(const char *what, int fd)
{
	R(what, lseek(fd, 0, SEEK_CUR));
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

static void lockinfo(const char *what, int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	int r = fcntl(fd, F_GETLK, &fl);
	if (r < 0)
		printf("%s: F_GETLK -1 %s\n", what, en(errno));
	else
		printf("%s: F_GETLK -> %s\n", what, fl.l_type == F_UNLCK ? "F_UNLCK" : fl.l_type == F_WRLCK ? "F_WRLCK" : fl.l_type == F_RDLCK ? "F_RDLCK" : "?");
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

int main(void)
{
	umask(022);
	/* Descriptors inherited from the caller (a shell or CI harness may leave
	 * some open natively) would change the counts below: start with 0-2. */
	for (int i = 3; i < 1024; i++)
		close(i);
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed: %s\n", en(errno));
		return 1;
	}
	int fd = open(P("f"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open f: %s\n", en(errno));
		return 1;
	}
	base = fd;
	printf("first fd is 3: %s\n", fd == 3 ? "yes" : "no");

	printf("== dup shares the offset\n");
	int d1 = FD("dup", dup(fd));
	R("write 10 via fd", write(fd, "0123456789", 10));
	off("offset via dup", d1);
	R("lseek dup to 2", lseek(d1, 2, SEEK_SET));
	off("offset via fd", fd);
	char buf[32] = {0};
	R("read 3 via fd", read(fd, buf, 3));
	printf("data: %s\n", buf);
	off("offset via dup", d1);
	int other = FD("second open of the same file", open(P("f"), O_RDONLY));
	off("offset of the separate open", other);
	R("close dup", close(d1));
	off("offset via fd after closing the dup", fd);
	R("close dup again", close(d1));
	R("close -1", close(-1));
	R("close 100000", close(100000));

	printf("== lowest free number\n");
	int a = FD("open a", open(P("f"), O_RDONLY));
	int b = FD("open b", open(P("f"), O_RDONLY));
	int c = FD("open c", open(P("f"), O_RDONLY));
	close(b);
	FD("open after closing b", b = open(P("f"), O_RDONLY));
	close(a);
	close(c);
	FD("dup after closing a and c", a = dup(fd));
	FD("dup again", c = dup(fd));
	close(a);
	close(b);
	close(c);
	close(other);

	printf("== dup2/dup3\n");
	FD("dup2 fd -> base+10", dup2(fd, base + 10));
	off("offset via base+10", base + 10);
	FD("dup2 fd -> fd (same)", dup2(fd, fd));
	int g = open(P("g"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	R("write to g", write(g, "gggg", 4));
	FD("dup2 g -> base+10 (closes the old one)", dup2(g, base + 10));
	off("offset via base+10 (g's)", base + 10);
	FD("dup2 closed fd", dup2(base + 20, base + 21));
	FD("dup2 -> -1", dup2(fd, -1));
	FD("dup2 -> 1<<20", dup2(fd, 1 << 20));
	FD("dup3 fd -> fd", dup3(fd, fd, 0));
	FD("dup3 bad flags", dup3(fd, base + 11, O_CLOEXEC | O_APPEND));
	FD("dup3 O_CLOEXEC -> base+11", dup3(fd, base + 11, O_CLOEXEC));
	fdflags("base+11", base + 11);
	FD("dup2 -> base+11 (clears FD_CLOEXEC)", dup2(fd, base + 11));
	fdflags("base+11", base + 11);
	close(base + 10);
	close(base + 11);
	close(g);

	printf("== F_DUPFD\n");
	FD("F_DUPFD 0", d1 = fcntl(fd, F_DUPFD, 0));
	close(d1);
	FD("F_DUPFD base+40", d1 = fcntl(fd, F_DUPFD, base + 40));
	FD("F_DUPFD base+40 again (taken: next)", a = fcntl(fd, F_DUPFD, base + 40));
	fdflags("F_DUPFD result", d1);
	FD("F_DUPFD_CLOEXEC base+50", b = fcntl(fd, F_DUPFD_CLOEXEC, base + 50));
	fdflags("F_DUPFD_CLOEXEC result", b);
	FD("F_DUPFD -1", fcntl(fd, F_DUPFD, -1));
	FD("F_DUPFD on bad fd", fcntl(base + 30, F_DUPFD, 0));
	close(d1);
	close(a);
	close(b);

	printf("== F_GETFD/F_SETFD\n");
	fdflags("fd", fd);
	R("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	fdflags("fd", fd);
	d1 = dup(fd);
	fdflags("dup of it (not inherited)", d1);
	R("F_SETFD 0", fcntl(fd, F_SETFD, 0));
	fdflags("fd", fd);
	int cl = open(P("f"), O_RDONLY | O_CLOEXEC);
	fdflags("open O_CLOEXEC", cl);
	close(cl);
	R("F_GETFD bad fd", fcntl(base + 30, F_GETFD));

	printf("== F_GETFL/F_SETFL\n");
	flags("fd O_RDWR", fd);
	flags("dup", d1);
	R("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	flags("fd", fd);
	flags("dup (shared description)", d1);
	R("lseek 0", lseek(fd, 0, SEEK_SET));
	R("write XY (appends)", write(fd, "XY", 2));
	off("offset", fd);
	R("F_SETFL O_NONBLOCK (drops O_APPEND)", fcntl(fd, F_SETFL, O_NONBLOCK));
	flags("fd", fd);
	R("lseek 0", lseek(fd, 0, SEEK_SET));
	R("write AB at 0", write(fd, "AB", 2));
	R("read on nonblocking file", read(fd, buf, 4));
	R("F_SETFL O_WRONLY (access mode ignored)", fcntl(fd, F_SETFL, O_WRONLY));
	flags("fd", fd);
	R("read still allowed", pread(fd, buf, 12, 0));
	printf("content: %.12s\n", buf);
	int ro = open(P("f"), O_RDONLY);
	flags("O_RDONLY fd", ro);
	R("F_SETFL O_RDWR on it", fcntl(ro, F_SETFL, O_RDWR));
	R("write on it still fails", write(ro, "x", 1));
	close(ro);
	int wo = open(P("f"), O_WRONLY | O_APPEND);
	flags("O_WRONLY|O_APPEND fd", wo);
	close(wo);
	R("F_GETFL bad fd", fcntl(base + 30, F_GETFL));
	R("unknown fcntl cmd", fcntl(fd, 9999));
	close(d1);

	printf("== record locks\n");
	R("F_SETLK F_WRLCK whole file", setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	lockinfo("own lock", fd, F_WRLCK, 0, 0);
	R("F_SETLK F_WRLCK again (own, granted)", setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	R("F_SETLK F_RDLCK 0..10 (downgrade part)", setlk(fd, F_SETLK, F_RDLCK, 0, 10));
	R("F_SETLKW F_WRLCK 100..200", setlk(fd, F_SETLKW, F_WRLCK, 100, 100));
	R("F_SETLK F_UNLCK whole file", setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	lockinfo("after unlock", fd, F_WRLCK, 0, 0);
	R("F_SETLK bad l_type", setlk(fd, F_SETLK, 42, 0, 0));
	R("F_SETLK negative start", setlk(fd, F_SETLK, F_WRLCK, -5, 1));
	R("F_SETLK on bad fd", setlk(base + 30, F_SETLK, F_WRLCK, 0, 0));
	ro = open(P("f"), O_RDONLY);
	R("F_SETLK F_WRLCK on O_RDONLY fd", setlk(ro, F_SETLK, F_WRLCK, 0, 0));
	R("F_SETLK F_RDLCK on O_RDONLY fd", setlk(ro, F_SETLK, F_RDLCK, 0, 0));
	close(ro);
	wo = open(P("f"), O_WRONLY);
	R("F_SETLK F_RDLCK on O_WRONLY fd", setlk(wo, F_SETLK, F_RDLCK, 0, 0));
	close(wo);
	R("lockf F_TLOCK", lockf(fd, F_TLOCK, 0));
	R("lockf F_TEST", lockf(fd, F_TEST, 0));
	R("lockf F_ULOCK", lockf(fd, F_ULOCK, 0));
	R("lockf F_LOCK", lockf(fd, F_LOCK, 0));
	{
		int p[2];
		if (pipe(p) == 0) {
			R("F_SETLK on a pipe", setlk(p[0], F_SETLK, F_RDLCK, 0, 0));
			close(p[0]);
			close(p[1]);
		}
	}

	printf("== EBADF\n");
	int tmp = dup(fd);
	close(tmp);
	R("read closed fd", read(tmp, buf, 1));
	R("write closed fd", write(tmp, buf, 1));
	R("lseek closed fd", lseek(tmp, 0, SEEK_SET));
	R("fsync closed fd", fsync(tmp));
	R("fsync fd", fsync(fd));
	R("fdatasync fd", fdatasync(fd));

	printf("== RLIMIT_NOFILE\n");
	struct rlimit rl, orig;
	R("getrlimit", getrlimit(RLIMIT_NOFILE, &orig));
	printf("soft <= hard: %s, soft >= 64: %s\n", orig.rlim_cur <= orig.rlim_max ? "yes" : "no", orig.rlim_cur >= 64 ? "yes" : "no");
	rl = orig;
	rl.rlim_cur = 64;
	R("setrlimit soft 64", setrlimit(RLIMIT_NOFILE, &rl));
	R("getrlimit", getrlimit(RLIMIT_NOFILE, &rl));
	printf("soft now %llu\n", (unsigned long long)rl.rlim_cur);
	rl.rlim_cur = rl.rlim_max + 1;
	R("setrlimit soft > hard", setrlimit(RLIMIT_NOFILE, &rl));
	int fds[128], n = 0;
	for (;;) {
		int x = open(P("f"), O_RDONLY);
		if (x < 0) {
			printf("open #%d: %s\n", n + 1, en(errno));
			break;
		}
		fds[n++] = x;
		if (n == 128)
			break;
	}
	printf("opened %d more fds; highest is 63: %s\n", n, n > 0 && fds[n - 1] == 63 ? "yes" : "no");
	R("dup at the limit", dup(fd));
	R("F_DUPFD at the limit", fcntl(fd, F_DUPFD, 0));
	R("dup2 to 63 (in range, replaces)", dup2(fd, 63));
	R("dup2 to 64 (out of range)", dup2(fd, 64));
	R("F_DUPFD 64", fcntl(fd, F_DUPFD, 64));
	{
		int p[2];
		R("pipe at the limit", pipe(p));
	}
	R("creat at the limit", creat(P("new"), 0644));
	FILE *fp = fopen(P("f"), "r");
	printf("fopen at the limit: %s\n", fp ? "ok" : en(errno));
	close(fds[n / 2]);
	int again = open(P("f"), O_RDONLY);
	printf("open after one close gets that number: %s\n", again == fds[n / 2] ? "yes" : "no");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	R("setrlimit back to the original", setrlimit(RLIMIT_NOFILE, &orig));
	R("getrlimit", getrlimit(RLIMIT_NOFILE, &rl));
	printf("restored: %s\n", rl.rlim_cur == orig.rlim_cur && rl.rlim_max == orig.rlim_max ? "yes" : "no");
	FD("open after closing all", open(P("f"), O_RDONLY));

	rm_rf(dir);
	struct stat st;
	printf("cleanup: dir %s\n", stat(dir, &st) < 0 && errno == ENOENT ? "gone" : "still there");
	return 0;
}
