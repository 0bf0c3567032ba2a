#include "fs/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int volume_attach(const char *host_dir, unsigned index, char *err, size_t errlen)
{
	int fd = open(host_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "volume %s: %s (it must be an existing directory)", host_dir, strerror(errno));
		return -1;
	}
	int want = VOLUME_FD_BASE + (int)index;
	if (fd != want && (dup3(fd, want, O_CLOEXEC) < 0 || close(fd))) {
		snprintf(err, errlen, "volume %s: cannot move its descriptor to %d: %s", host_dir, want, strerror(errno));
		close(fd);
		return -1;
	}
	return want;
}

int host_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}

static int open_beneath(int vfd, const char *rel, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY),   /* openat2 refuses O_NOCTTY with O_PATH */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | resolve,
	};
	long fd = syscall(SYS_openat2, vfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

int volume_open(int vfd, const char *rel, bool nofollow, bool path_only, struct stat *st)
{
	uint64_t nf = nofollow ? O_NOFOLLOW : 0;
	/* O_PATH opens nothing: a device or FIFO is seen before it is opened */
	int pfd = open_beneath(vfd, rel, O_PATH | nf, 0);
	if (pfd < 0)
		return pfd;
	if (host_fstat(pfd, st)) {
		int e = -errno;
		close(pfd);
		return e;
	}
	if (path_only || S_ISLNK(st->st_mode)) {
		if (S_ISLNK(st->st_mode) || S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
			return pfd;
		close(pfd);
		return -EACCES;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		close(pfd);
		return -EACCES;
	}
	close(pfd);
	int fd = open_beneath(vfd, rel, O_RDONLY | O_NONBLOCK | nf, 0);
	if (fd < 0)
		return fd;
	struct stat again;
	/* a host rename between the two opens: refuse rather than serve
	 * something that was not checked */
	if (host_fstat(fd, &again) || again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		close(fd);
		return -EAGAIN;
	}
	return fd;
}

int volume_lstat(int vfd, const char *rel, struct stat *st, char *link, size_t linklen)
{
	int fd = open_beneath(vfd, rel, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return fd;
	int r = host_fstat(fd, st) ? -errno : 0;
	if (!r && link && S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(fd, "", link, linklen);
		if (n < 0)
			r = -errno;
		else if ((size_t)n >= linklen)
			r = -ENAMETOOLONG;
		else
			link[n] = 0;
	}
	close(fd);
	return r;
}
