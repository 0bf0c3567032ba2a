// Directories and names: mkdir/rmdir/unlink/rename (incl. replacing), readdir listings (sorted), chdir/getcwd with relative paths, symlink/readlink/realpath, access, openat/mkdirat/unlinkat/fstatat/renameat/readlinkat/faccessat with dirfds, O_DIRECTORY/O_NOFOLLOW errors, ENAMETOOLONG, in a mkdtemp directory under /tmp (removed at the end).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	case EBUSY: return "EBUSY";
	case ELOOP: return "ELOOP";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case EXDEV: return "EXDEV";
	case ERANGE: return "ERANGE";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static char dir[] = "/tmp/opsub-XXXXXX";

static long R(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %ld\n", what, r);
	return r;
}

/* An fd result: "ok" or the errno name (fd numbers are printed elsewhere). */
static int F(const char *what, int fd)
{
	printf("%s: %s\n", what, fd >= 0 ? "ok" : en(errno));
	return fd;
}

/* Replaces the mkdtemp prefix with "$D" so host and guest print the same. */
static const char *rel(const char *p)
{
	static char buf[PATH_MAX + 8];
	size_t n = strlen(dir);
	if (p && strncmp(p, dir, n) == 0) {
		snprintf(buf, sizeof buf, "$D%s", p + n);
		return buf;
	}
	return p ? p : "(null)";
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char dtype(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_CHR: return 'c';
	case DT_FIFO: return 'p';
	case DT_UNKNOWN: return '?';
	}
	return '!';
}

/* Lists a directory: names sorted, each with its d_type letter. */
static void list(const char *what, const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		printf("list %s: %s\n", what, en(errno));
		return;
	}
	char *names[512];
	int n = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) && n < 512) {
		char *s = malloc(strlen(e->d_name) + 3);
		sprintf(s, "%s/%c", e->d_name, dtype(e->d_type));
		names[n++] = s;
	}
	int err = errno;
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], cmpstr);
	printf("list %s (%d%s%s):", what, n, err ? " error " : "", err ? en(err) : "");
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void touch(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("touch %s: %s\n", rel(path), en(errno));
		return;
	}
	if (content && write(fd, content, strlen(content)) < 0)
		printf("write %s: %s\n", rel(path), en(errno));
	close(fd);
}

static void cat(const char *what, const char *path)
{
	char buf[128];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("cat %s: %s\n", what, en(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	printf("cat %s: '%s'\n", what, buf);
}

static void show_cwd(const char *what)
{
	char buf[PATH_MAX];
	char *r = getcwd(buf, sizeof buf);
	printf("%s: %s\n", what, r ? rel(r) : en(errno));
}

static void rd_link(const char *what, const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof buf);
	if (n < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %zd '%.*s'\n", what, n, (int)n, buf);
}

static void rpath(const char *what, const char *path)
{
	char buf[PATH_MAX];
	char *r = realpath(path, buf);
	printf("%s: %s\n", what, r ? rel(r) : en(errno));
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
				char sub[PATH_MAX];
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

int main(void)
{
	umask(022);
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed: %s\n", en(errno));
		return 1;
	}
	printf("== mkdir/rmdir\n");
	R("chdir dir", chdir(dir));
	show_cwd("getcwd");
	R("mkdir d1", mkdir("d1", 0755));
	R("mkdir d1 again", mkdir("d1", 0755));
	R("mkdir d1/d2", mkdir("d1/d2", 0700));
	R("mkdir x/y (no x)", mkdir("x/y", 0755));
	R("mkdir d1/d3/ (trailing slash)", mkdir("d1/d3/", 0755));
	{
		struct stat st;
		stat("d1/d2", &st);
		printf("d1/d2 mode %04o isdir %d\n", (unsigned)(st.st_mode & 07777), S_ISDIR(st.st_mode));
	}
	touch("f1", "file one");
	R("mkdir over file", mkdir("f1", 0755));
	R("mkdir f1/sub", mkdir("f1/sub", 0755));
	R("rmdir d1 (not empty)", rmdir("d1"));
	R("rmdir f1 (a file)", rmdir("f1"));
	R("rmdir missing", rmdir("missing"));
	R("rmdir d1/d3", rmdir("d1/d3"));
	R("rmdir .", rmdir("."));
	R("rmdir d1/d2/..", rmdir("d1/d2/.."));
	R("unlink d1 (a dir)", unlink("d1"));
	R("unlink missing", unlink("missing"));
	list("dir", ".");
	list("d1", "d1");

	printf("== unlink and open files\n");
	touch("gone", "still readable");
	int fd = F("open gone", open("gone", O_RDONLY));
	R("unlink gone", unlink("gone"));
	R("access gone", access("gone", F_OK));
	{
		char buf[64] = {0};
		R("read unlinked file", read(fd, buf, sizeof buf - 1));
		printf("data: %s\n", buf);
		struct stat st;
		fstat(fd, &st);
		printf("fstat unlinked: size %lld nlink %lu\n", (long long)st.st_size, (unsigned long)st.st_nlink);
	}
	close(fd);
	touch("gone", "new");
	cat("gone recreated", "gone");
	R("unlink gone", unlink("gone"));

	printf("== rename\n");
	touch("r1", "first");
	touch("r2", "second");
	R("rename r1 r3", rename("r1", "r3"));
	R("access r1", access("r1", F_OK));
	cat("r3", "r3");
	R("rename r3 r2 (replaces)", rename("r3", "r2"));
	cat("r2", "r2");
	R("access r3", access("r3", F_OK));
	R("rename r2 r2 (same)", rename("r2", "r2"));
	cat("r2", "r2");
	R("rename missing x", rename("missing", "x"));
	R("rename r2 d1 (file over dir)", rename("r2", "d1"));
	R("mkdir e1", mkdir("e1", 0755));
	R("rename e1 r2 (dir over file)", rename("e1", "r2"));
	R("rename e1 d1 (dir over non-empty dir)", rename("e1", "d1"));
	R("mkdir e2", mkdir("e2", 0755));
	R("rename e1 e2 (dir over empty dir)", rename("e1", "e2"));
	R("access e1", access("e1", F_OK));
	R("rename d1 d1/d2/sub (into itself)", rename("d1", "d1/d2/sub"));
	touch("d1/d2/inner", "inner");
	R("rename d1 moved (non-empty dir)", rename("d1", "moved"));
	cat("moved/d2/inner", "moved/d2/inner");
	R("rename moved/d2/inner ./inner2 (across dirs)", rename("moved/d2/inner", "inner2"));
	R("rename r2 missing/x", rename("r2", "missing/x"));
	R("rename r2 f1/x (f1 is a file)", rename("r2", "f1/x"));
	list("dir", ".");
	list("moved", "moved");

	printf("== chdir/getcwd\n");
	R("chdir moved/d2", chdir("moved/d2"));
	show_cwd("getcwd");
	touch("here", "in d2");
	R("chdir ..", chdir(".."));
	show_cwd("getcwd");
	cat("d2/here", "d2/here");
	R("chdir ./d2/../d2/.", chdir("./d2/../d2/."));
	show_cwd("getcwd");
	R("chdir ../../", chdir("../../"));
	show_cwd("getcwd");
	R("chdir f1 (a file)", chdir("f1"));
	R("chdir missing", chdir("missing"));
	show_cwd("getcwd after failed chdirs");
	fd = open("moved", O_RDONLY | O_DIRECTORY);
	R("fchdir moved", fchdir(fd));
	close(fd);
	show_cwd("getcwd");
	R("fchdir bad fd", fchdir(999));
	fd = open(dir, O_RDONLY);
	fchdir(fd);
	close(fd);
	{
		char small[4];
		char *r = getcwd(small, sizeof small);
		printf("getcwd small buffer: %s\n", r ? "ok" : en(errno));
		r = getcwd(small, 0);
		printf("getcwd size 0: %s\n", r ? "ok" : en(errno));
	}
	R("chdir /", chdir("/"));
	show_cwd("getcwd");
	R("chdir /tmp", chdir("/tmp"));
	show_cwd("getcwd");
	R("chdir dir", chdir(dir));
	show_cwd("getcwd");
	R("mkdir cwdgone", mkdir("cwdgone", 0755));
	R("chdir cwdgone", chdir("cwdgone"));
	R("rmdir ../cwdgone (our cwd)", rmdir("../cwdgone"));
	{
		char buf[PATH_MAX];
		char *r = getcwd(buf, sizeof buf);
		printf("getcwd after removal: %s\n", r ? "ok" : en(errno));
		int f2 = open("newfile", O_CREAT | O_WRONLY, 0644);
		printf("create in removed cwd: %s\n", f2 >= 0 ? "ok" : en(errno));
		if (f2 >= 0)
			close(f2);
	}
	R("chdir dir", chdir(dir));

	printf("== symlinks\n");
	R("symlink f1 -> s1", symlink("f1", "s1"));
	R("symlink moved -> sd", symlink("moved", "sd"));
	R("symlink loop a->b", symlink("loopb", "loopa"));
	R("symlink loop b->a", symlink("loopa", "loopb"));
	R("symlink absolute", symlink("/tmp", "stmp"));
	R("symlink dangling", symlink("no/such/thing", "sdang"));
	R("symlink existing name", symlink("f1", "s1"));
	rd_link("readlink s1", "s1");
	rd_link("readlink sdang", "sdang");
	rd_link("readlink stmp", "stmp");
	rd_link("readlink f1 (not a link)", "f1");
	rd_link("readlink missing", "missing");
	{
		char b3[3];
		ssize_t n = readlink("sdang", b3, sizeof b3);
		printf("readlink truncated: %zd '%.*s'\n", n, (int)(n > 0 ? n : 0), b3);
	}
	cat("s1", "s1");
	cat("sd/d2/here", "sd/d2/here");
	cat("loopa", "loopa");
	R("chdir sd", chdir("sd"));
	show_cwd("getcwd via symlink (resolved)");
	R("chdir ..", chdir(".."));
	show_cwd("getcwd");
	rpath("realpath .", ".");
	rpath("realpath s1", "s1");
	rpath("realpath sd/d2/../d2/here", "sd/d2/../d2/here");
	rpath("realpath sdang", "sdang");
	rpath("realpath loopa", "loopa");
	rpath("realpath missing", "missing");
	rpath("realpath stmp", "stmp");
	R("O_NOFOLLOW on symlink", open("s1", O_RDONLY | O_NOFOLLOW));
	fd = F("O_NOFOLLOW on file", open("f1", O_RDONLY | O_NOFOLLOW));
	close(fd);
	R("O_DIRECTORY on file", open("f1", O_RDONLY | O_DIRECTORY));
	R("O_DIRECTORY on symlink to file", open("s1", O_RDONLY | O_DIRECTORY));
	fd = F("O_DIRECTORY on symlink to dir", open("sd", O_RDONLY | O_DIRECTORY));
	close(fd);
	R("O_CREAT|O_EXCL on dangling symlink", open("sdang", O_CREAT | O_EXCL | O_WRONLY, 0644));
	R("O_CREAT|O_EXCL on symlink", open("s1", O_CREAT | O_EXCL | O_WRONLY, 0644));
	R("unlink s1 (removes the link)", unlink("s1"));
	R("access f1 after unlinking its link", access("f1", F_OK));
	R("rmdir sd (a symlink to a dir)", rmdir("sd"));
	R("unlink sd", unlink("sd"));
	R("access moved", access("moved", F_OK));
	R("mkdir on dangling symlink", mkdir("sdang", 0755));
	{
		struct stat st;
		R("lstat loopa", lstat("loopa", &st));
		R("stat loopa", stat("loopa", &st));
		R("stat sdang", stat("sdang", &st));
	}

	printf("== access\n");
	R("access f1 F_OK", access("f1", F_OK));
	R("access f1 R_OK|W_OK", access("f1", R_OK | W_OK));
	R("access . X_OK", access(".", X_OK));
	R("access missing", access("missing", F_OK));
	R("access f1/x", access("f1/x", F_OK));
	R("access bad mode", access("f1", 0100));
	R("access /", access("/", R_OK | X_OK));

	printf("== *at calls\n");
	int dfd = F("open moved O_DIRECTORY", open("moved", O_RDONLY | O_DIRECTORY));
	fd = F("openat dfd d2/here", openat(dfd, "d2/here", O_RDONLY));
	{
		char buf[32] = {0};
		R("read", read(fd, buf, sizeof buf - 1));
		printf("data: %s\n", buf);
	}
	close(fd);
	fd = F("openat dfd new O_CREAT", openat(dfd, "new", O_CREAT | O_WRONLY, 0600));
	R("write", write(fd, "at!", 3));
	close(fd);
	cat("moved/new", "moved/new");
	R("mkdirat dfd sub", mkdirat(dfd, "sub", 0755));
	R("mkdirat dfd sub again", mkdirat(dfd, "sub", 0755));
	R("mkdirat AT_FDCWD m2", mkdirat(AT_FDCWD, "m2", 0755));
	{
		struct stat st;
		int r = fstatat(dfd, "new", &st, 0);
		printf("fstatat dfd new: %d size %lld mode %04o\n", r, (long long)st.st_size, (unsigned)(st.st_mode & 07777));
		R("fstatat dfd missing", fstatat(dfd, "missing", &st, 0));
		r = fstatat(dfd, "", &st, AT_EMPTY_PATH);
		printf("fstatat dfd \"\" AT_EMPTY_PATH: %d isdir %d\n", r, r == 0 && S_ISDIR(st.st_mode));
		R("fstatat dfd \"\" without AT_EMPTY_PATH", fstatat(dfd, "", &st, 0));
		R("symlinkat", symlinkat("new", dfd, "lnew"));
		r = fstatat(dfd, "lnew", &st, AT_SYMLINK_NOFOLLOW);
		printf("fstatat lnew NOFOLLOW: %d islnk %d\n", r, S_ISLNK(st.st_mode));
		r = fstatat(dfd, "lnew", &st, 0);
		printf("fstatat lnew: %d isreg %d\n", r, S_ISREG(st.st_mode));
		R("fstatat bad flag", fstatat(dfd, "new", &st, 0x40000000));
		R("fstatat bad dirfd", fstatat(999, "new", &st, 0));
		r = fstatat(999, "/tmp", &st, 0);
		printf("fstatat bad dirfd absolute path: %d\n", r);
		int ffd = open("f1", O_RDONLY);
		R("fstatat relative to a file fd", fstatat(ffd, "x", &st, 0));
		R("openat relative to a file fd", openat(ffd, "x", O_RDONLY));
		close(ffd);
		char buf[64];
		ssize_t n = readlinkat(dfd, "lnew", buf, sizeof buf);
		printf("readlinkat lnew: %zd '%.*s'\n", n, (int)(n > 0 ? n : 0), buf);
	}
	R("faccessat dfd new", faccessat(dfd, "new", R_OK, 0));
	R("faccessat dfd missing", faccessat(dfd, "missing", F_OK, 0));
	R("renameat dfd new -> AT_FDCWD top", renameat(dfd, "new", AT_FDCWD, "top"));
	cat("top", "top");
	R("unlinkat dfd sub (no AT_REMOVEDIR)", unlinkat(dfd, "sub", 0));
	R("unlinkat dfd sub AT_REMOVEDIR", unlinkat(dfd, "sub", AT_REMOVEDIR));
	R("unlinkat dfd lnew AT_REMOVEDIR", unlinkat(dfd, "lnew", AT_REMOVEDIR));
	R("unlinkat dfd lnew", unlinkat(dfd, "lnew", 0));
	R("unlinkat dfd bad flag", unlinkat(dfd, "d2", 0x1));
	R("unlinkat AT_FDCWD m2 AT_REMOVEDIR", unlinkat(AT_FDCWD, "m2", AT_REMOVEDIR));
	list("moved", "moved");
	{
		/* fdopendir on a dirfd */
		int d2 = openat(dfd, "d2", O_RDONLY | O_DIRECTORY);
		DIR *d = fdopendir(d2);
		int n = 0;
		struct dirent *e;
		while (d && (e = readdir(d)))
			n++;
		printf("fdopendir d2 entries: %d\n", n);
		if (d) {
			rewinddir(d);
			n = 0;
			while ((e = readdir(d)))
				n++;
			printf("after rewinddir: %d\n", n);
			closedir(d);
		}
	}
	close(dfd);

	printf("== big directory\n");
	R("mkdir big", mkdir("big", 0755));
	for (int i = 0; i < 300; i++) {
		char name[64];
		snprintf(name, sizeof name, "big/entry-%03d-%s", i, i % 2 ? "odd-name-with-a-longer-suffix" : "e");
		touch(name, NULL);
	}
	for (int i = 0; i < 300; i += 3) {
		char name[64];
		snprintf(name, sizeof name, "big/entry-%03d-%s", i, i % 2 ? "odd-name-with-a-longer-suffix" : "e");
		unlink(name);
	}
	{
		DIR *d = opendir("big");
		int n = 0;
		unsigned long sum = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			n++;
			for (const char *c = e->d_name; *c; c++)
				sum += (unsigned char)*c;
		}
		closedir(d);
		printf("big: %d entries, name byte sum %lu\n", n, sum);
	}

	printf("== long names\n");
	{
		char name[300];
		memset(name, 'n', 255);
		name[255] = 0;
		fd = F("create 255-byte name", open(name, O_CREAT | O_WRONLY, 0644));
		if (fd >= 0)
			close(fd);
		R("unlink 255-byte name", unlink(name));
		memset(name, 'n', 256);
		name[256] = 0;
		R("create 256-byte name", open(name, O_CREAT | O_WRONLY, 0644));
		R("mkdir 256-byte name", mkdir(name, 0755));
		R("stat 256-byte name", access(name, F_OK));
		char *longp = malloc(PATH_MAX + 100);
		size_t k = 0;
		while (k < PATH_MAX + 10) {
			memcpy(longp + k, "aaaaaaa/", 8);
			k += 8;
		}
		longp[k] = 0;
		R("open path of > PATH_MAX bytes", open(longp, O_RDONLY));
		R("mkdir path of > PATH_MAX bytes", mkdir(longp, 0755));
		free(longp);
	}
	R("open empty path", open("", O_RDONLY));
	R("mkdir empty path", mkdir("", 0755));
	R("unlink empty path", unlink(""));

	R("chdir /", chdir("/"));
	rm_rf(dir);
	struct stat st;
	printf("cleanup: dir %s\n", stat(dir, &st) < 0 && errno == ENOENT ? "gone" : "still there");
	return 0;
}
