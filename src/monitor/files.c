/*
 * Files for the guest: descriptors, paths and the stat family on the
 * guest's own file system (fs/fs.h).  A guest path is copied once into the
 * monitor (read_path) and resolved by fs/path.c; inside a volume the kernel
 * opens it beneath the volume's directory (fs/volume.h), read-only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "fs/path.h"
#include "fs/volume.h"
#include "monitor/syscalls.h"

#define MAX_IOV 1024
#define MEMFS_DEV 0x2bu          /* st_dev of the in-memory tree */
#define MEMFS_MAGIC 0x01021994u  /* statfs: what tmpfs says */

static int64_t host_result(ssize_t r) { return r < 0 ? -errno : r; }

/* ---- guest bytes in ------------------------------------------------------------ */

/* Copies the NUL-ended guest string at addr into out (FS_PATH_MAX). */
static int read_path(struct monitor *m, uint64_t addr, char *out)
{
	size_t n = 0;
	while (n < FS_PATH_MAX) {
		uint64_t chunk = GUEST_PAGE - (addr + n) % GUEST_PAGE;
		if (chunk > FS_PATH_MAX - n)
			chunk = FS_PATH_MAX - n;
		if (gm_read(&m->gm, out + n, addr + n, chunk))
			return -EFAULT;
		char *nul = memchr(out + n, 0, chunk);
		if (nul)
			return 0;
		n += chunk;
	}
	return -ENAMETOOLONG;
}

static bool is_dir_of(const struct ofile *of)
{
	return of->kind == OF_MEMDIR || (of->kind == OF_HOST && (of->flags & O_DIRECTORY));
}

/* Resolves the path (the monitor's copy) against dirfd (AT_FDCWD: the
 * working directory).  With empty_ok (AT_EMPTY_PATH), "" names dirfd's
 * own file. */
static int resolve_at(struct monitor *m, uint64_t dirfd, char *path, unsigned flags, bool empty_ok,
                      struct fs_where *w)
{
	const char *base = m->fs.cwd;
	if (path[0] != '/' && (int)dirfd == AT_FDCWD && m->fs.cwd_node && !m->fs.cwd_node->nlink)
		return -ENOENT;   /* nothing can be found in, or made in, a removed directory */
	if ((int)dirfd != AT_FDCWD && (path[0] != '/' || (!path[0] && empty_ok))) {
		struct ofile *d = fd_get((int)dirfd);
		if (!d)
			return -EBADF;
		if (!path[0] && empty_ok) {
			if (!d->path)
				return -EBADF;
			strcpy(path, d->path);
		} else if (!is_dir_of(d)) {
			return -ENOTDIR;
		}
		base = d->path;
	} else if (!path[0] && empty_ok) {
		strcpy(path, ".");
	}
	return fs_resolve(&m->fs, base, path, flags, w);
}

/* The same for the guest path at addr, copied once. */
static int where_at(struct monitor *m, uint64_t dirfd, uint64_t addr, unsigned flags, bool empty_ok,
                    struct fs_where *w)
{
	char path[FS_PATH_MAX];
	int r = read_path(m, addr, path);
	return r ? r : resolve_at(m, dirfd, path, flags, empty_ok, w);
}

/* ---- stat ------------------------------------------------------------------------ */

static uint32_t kind_mode(const struct mnode *n)
{
	switch (n->kind) {
	case MN_DIR: case MN_VOLUME: return S_IFDIR;
	case MN_FILE: return S_IFREG;
	case MN_LINK: return S_IFLNK;
	default: return S_IFCHR;
	}
}

static void stat_node(const struct mnode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = MEMFS_DEV;
	st->st_ino = n->ino;
	st->st_mode = kind_mode(n) | n->mode;
	st->st_nlink = n->nlink;   /* a directory counts its "." and its subdirectories' ".." */
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = n->kind == MN_FILE ? (off_t)n->file.size : n->kind == MN_LINK ? (off_t)strlen(n->link)
	              : n->kind == MN_DIR ? 4096 : 0;
	if (n->kind == MN_DEV)
		st->st_rdev = makedev(1, n->dev == MDEV_NULL ? 3 : n->dev == MDEV_ZERO ? 5 : 9);
	st->st_blksize = 4096;
	st->st_blocks = n->kind == MN_FILE ? (blkcnt_t)((n->file.size + 511) / 512) : 0;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

/* A description's stat: 0 or -errno. */
static int stat_of(const struct ofile *of, struct stat *st)
{
	switch (of->kind) {
	case OF_MEM: case OF_MEMDIR: case OF_DEV: case OF_LINK:
		stat_node(of->node, st);
		return 0;
	case OF_HOST:
		return host_fstat(of->host_fd, st) ? -errno : 0;
	case OF_STD: {
		struct stat host;
		if (host_fstat(of->host_fd, &host) != 0)
			return -errno;
		memset(st, 0, sizeof(*st));   /* only the kind of file, nothing of the host */
		st->st_mode = host.st_mode & S_IFMT;
		st->st_blksize = 4096;
		return 0;
	}
	default:
		memset(st, 0, sizeof(*st));
		st->st_mode = of->kind == OF_PIPE_R || of->kind == OF_PIPE_W ? S_IFIFO | 0600 : 0600;
		st->st_nlink = 1;
		st->st_blksize = 4096;
		st->st_uid = getuid();
		st->st_gid = getgid();
		return 0;
	}
}

/* The stat of what w names (following or not as resolved). */
static int stat_where(struct monitor *m, const struct fs_where *w, bool follow, struct stat *st)
{
	if (w->volume >= 0) {
		int fd = volume_open(m->fs.volume_fd[w->volume], w->vpath, !follow, true, st);
		if (fd < 0)
			return fd;
		close(fd);
		return 0;
	}
	if (!w->node)
		return -ENOENT;
	stat_node(w->node, st);
	return 0;
}

static int put_stat(struct monitor *m, uint64_t addr, int r, const struct stat *st)
{
	return r ? r : gm_write(&m->gm, addr, st, sizeof(*st));
}

int64_t sys_fstat(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	struct stat st;
	return of ? put_stat(m, a[1], stat_of(of, &st), &st) : -EBADF;
}

/* The stat of path (or, with AT_EMPTY_PATH and "", of dirfd's file). */
static int stat_path(struct monitor *m, uint64_t dirfd, char *path, uint64_t flags, struct stat *st)
{
	if ((flags & AT_EMPTY_PATH) && !path[0] && (int)dirfd != AT_FDCWD) {
		struct ofile *of = fd_get((int)dirfd);
		return of ? stat_of(of, st) : -EBADF;
	}
	bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
	struct fs_where w;
	int r = resolve_at(m, dirfd, path, follow ? PATH_FOLLOW : 0, flags & AT_EMPTY_PATH, &w);
	return r ? r : stat_where(m, &w, follow, st);
}

static int64_t stat_at(struct monitor *m, uint64_t dirfd, uint64_t addr, uint64_t out, uint64_t flags)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	char path[FS_PATH_MAX];
	struct stat st;
	int r = read_path(m, addr, path);
	return put_stat(m, out, r ? r : stat_path(m, dirfd, path, flags, &st), &st);
}

int64_t sys_stat(struct monitor *m, ARGS) { return stat_at(m, (uint64_t)AT_FDCWD, a[0], a[1], 0); }
int64_t sys_lstat(struct monitor *m, ARGS) { return stat_at(m, (uint64_t)AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW); }
int64_t sys_newfstatat(struct monitor *m, ARGS) { return stat_at(m, a[0], a[1], a[2], a[3]); }

int64_t sys_statx(struct monitor *m, ARGS)
{
	uint64_t flags = a[2] & ~(uint64_t)(AT_STATX_SYNC_TYPE);
	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	/* newfstatat's answer, rewritten in statx's layout */
	char path[FS_PATH_MAX];
	struct stat st;
	int r = read_path(m, a[1], path);
	if (!r)
		r = stat_path(m, a[0], path, flags, &st);
	if (r)
		return r;
	struct statx sx;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = (uint32_t)st.st_blksize;
	sx.stx_nlink = (uint32_t)st.st_nlink;
	sx.stx_uid = st.st_uid;
	sx.stx_gid = st.st_gid;
	sx.stx_mode = (uint16_t)st.st_mode;
	sx.stx_ino = st.st_ino;
	sx.stx_size = (uint64_t)st.st_size;
	sx.stx_blocks = (uint64_t)st.st_blocks;
	sx.stx_atime = (struct statx_timestamp){st.st_atim.tv_sec, (uint32_t)st.st_atim.tv_nsec, 0};
	sx.stx_mtime = (struct statx_timestamp){st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec, 0};
	sx.stx_ctime = (struct statx_timestamp){st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec, 0};
	sx.stx_rdev_major = major(st.st_rdev);
	sx.stx_rdev_minor = minor(st.st_rdev);
	sx.stx_dev_major = major(st.st_dev);
	sx.stx_dev_minor = minor(st.st_dev);
	return gm_write(&m->gm, a[4], &sx, sizeof(sx));
}

/* ---- reading and writing ---------------------------------------------------------- */

static int64_t dev_read(struct mnode *n, void *buf, uint64_t len)
{
	switch (n->dev) {
	case MDEV_NULL: return 0;
	case MDEV_ZERO: memset(buf, 0, len); return (int64_t)len;
	default: return host_result(getrandom(buf, len > 33554431 ? 33554431 : len, 0));
	}
}

int64_t of_read(struct monitor *m, struct ofile *of, void *buf, uint64_t len, int64_t off)
{
	if ((of->flags & O_ACCMODE) == O_WRONLY || (of->flags & O_PATH))
		return -EBADF;
	int64_t r;
	uint64_t at = off < 0 ? of->pos : (uint64_t)off;
	switch (of->kind) {
	case OF_STD:
		return host_result(off < 0 ? read(of->host_fd, buf, len) : pread(of->host_fd, buf, len, off));
	case OF_HOST:
		return host_result(off < 0 ? read(of->host_fd, buf, len) : pread(of->host_fd, buf, len, off));
	case OF_MEM:
		r = memfs_read(of->node, buf, len, at);
		break;
	case OF_DEV:
		return dev_read(of->node, buf, len);
	case OF_MEMDIR: case OF_LINK:
		return -EISDIR;
	case OF_EPOLL:
		return -EINVAL;
	default:
		if (off >= 0)
			return -ESPIPE;
		while ((r = waitobj_read(of, buf, len)) == -EAGAIN && !(of->flags & O_NONBLOCK))
			if ((r = wait_for(m, of, POLLIN)) < 0)
				return r;
		return r;
	}
	if (r > 0 && off < 0)
		of->pos += (uint64_t)r;
	return r;
}

int64_t of_write(struct monitor *m, struct ofile *of, const void *buf, uint64_t len, int64_t off)
{
	if ((of->flags & O_ACCMODE) == O_RDONLY || (of->flags & O_PATH))
		return -EBADF;
	int64_t r;
	switch (of->kind) {
	case OF_STD:
		return host_result(off < 0 ? write(of->host_fd, buf, len) : pwrite(of->host_fd, buf, len, off));
	case OF_MEM: {
		/* O_APPEND appends even for pwrite, as Linux does */
		uint64_t at = (of->flags & O_APPEND) ? of->node->file.size : off >= 0 ? (uint64_t)off : of->pos;
		r = memfs_write(&m->fs.mem, of->node, buf, len, at);
		if (r > 0 && off < 0)
			of->pos = at + (uint64_t)r;
		return r;
	}
	case OF_DEV:
		return (int64_t)len;
	case OF_HOST:
		return -EBADF;
	default:
		if (off >= 0)
			return -ESPIPE;
		while ((r = waitobj_write(of, buf, len)) == -EAGAIN && !(of->flags & O_NONBLOCK))
			if ((r = wait_for(m, of, POLLOUT)) < 0)
				return r;
		return r;
	}
}

/* Checks [addr, addr+len) for the transfer: 0 or -EFAULT. */
static int check_buf(struct monitor *m, uint64_t addr, uint64_t len, bool into_guest)
{
	if (!gm_access_ok(&m->gm, addr, len, into_guest ? GP_W : GP_R))
		return -EFAULT;
	return into_guest && !gm_prepare_write(&m->gm, addr, len) ? -EFAULT : 0;
}

static int64_t rw(struct monitor *m, uint64_t fd, uint64_t addr, uint64_t len, int64_t off, bool is_read)
{
	struct ofile *of = fd_get((int)fd);
	if (!of)
		return -EBADF;
	if (off < -1)
		return -EINVAL;
	if (len > 0x7ffff000)
		len = 0x7ffff000;   /* Linux's largest single transfer */
	int r = check_buf(m, addr, len, is_read);
	if (r)
		return r;
	return is_read ? of_read(m, of, guest_ptr(addr), len, off) : of_write(m, of, guest_ptr(addr), len, off);
}

int64_t sys_read(struct monitor *m, ARGS) { return rw(m, a[0], a[1], a[2], -1, true); }
int64_t sys_write(struct monitor *m, ARGS) { return rw(m, a[0], a[1], a[2], -1, false); }
int64_t sys_pread64(struct monitor *m, ARGS) { return (int64_t)a[3] < 0 ? -EINVAL : rw(m, a[0], a[1], a[2], (int64_t)a[3], true); }
int64_t sys_pwrite64(struct monitor *m, ARGS) { return (int64_t)a[3] < 0 ? -EINVAL : rw(m, a[0], a[1], a[2], (int64_t)a[3], false); }

/* Each iovec in turn, stopping at a short transfer, as Linux does for
 * files; the array is copied once, then each range checked. */
static int64_t rw_vec(struct monitor *m, uint64_t fd, uint64_t addr, uint64_t cnt, int64_t off, bool is_read)
{
	static uint64_t raw[2 * MAX_IOV];
	struct ofile *of = fd_get((int)fd);
	if (!of)
		return -EBADF;
	if (cnt > MAX_IOV)
		return -EINVAL;
	if (gm_read(&m->gm, raw, addr, cnt * 16))
		return -EFAULT;
	for (uint64_t i = 0; i < cnt; i++)
		if ((int64_t)raw[2 * i + 1] < 0 || check_buf(m, raw[2 * i], raw[2 * i + 1], is_read))
			return (int64_t)raw[2 * i + 1] < 0 ? -EINVAL : -EFAULT;
	if (of->kind == OF_STD) {
		static struct iovec iov[MAX_IOV];
		for (uint64_t i = 0; i < cnt; i++)
			iov[i] = (struct iovec){guest_ptr(raw[2 * i]), raw[2 * i + 1]};
		ssize_t r = is_read ? (off < 0 ? readv(of->host_fd, iov, (int)cnt) : preadv(of->host_fd, iov, (int)cnt, off))
		                    : (off < 0 ? writev(of->host_fd, iov, (int)cnt) : pwritev(of->host_fd, iov, (int)cnt, off));
		return host_result(r);
	}
	int64_t done = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		uint64_t len = raw[2 * i + 1];
		if (!len)
			continue;
		int64_t r = is_read ? of_read(m, of, guest_ptr(raw[2 * i]), len, off < 0 ? -1 : off + done)
		                    : of_write(m, of, guest_ptr(raw[2 * i]), len, off < 0 ? -1 : off + done);
		if (r < 0)
			return done ? done : r;
		done += r;
		if ((uint64_t)r < len)
			break;
	}
	return done;
}

int64_t sys_readv(struct monitor *m, ARGS) { return rw_vec(m, a[0], a[1], a[2], -1, true); }
int64_t sys_writev(struct monitor *m, ARGS) { return rw_vec(m, a[0], a[1], a[2], -1, false); }
int64_t sys_preadv(struct monitor *m, ARGS) { return (int64_t)a[3] < 0 ? -EINVAL : rw_vec(m, a[0], a[1], a[2], (int64_t)a[3], true); }
int64_t sys_pwritev(struct monitor *m, ARGS) { return (int64_t)a[3] < 0 ? -EINVAL : rw_vec(m, a[0], a[1], a[2], (int64_t)a[3], false); }

/* Through a buffer of the monitor's: the guest's data is only ever read
 * into it and written out of it. */
int64_t sys_sendfile(struct monitor *m, ARGS)
{
	static uint8_t buf[65536];
	struct ofile *out = fd_get((int)a[0]), *in = fd_get((int)a[1]);
	if (!out || !in)
		return -EBADF;
	int64_t off = -1;
	if (a[2] && gm_read(&m->gm, &off, a[2], 8))
		return -EFAULT;
	if (a[2] && off < 0)
		return -EINVAL;
	uint64_t want = a[3] < sizeof(buf) ? a[3] : sizeof(buf);
	int64_t r = of_read(m, in, buf, want, a[2] ? off : -1);
	if (r <= 0)
		return r;
	int64_t w = of_write(m, out, buf, (uint64_t)r, -1);
	if (w < 0)
		return w;
	if (a[2]) {
		off += w;
		return gm_write(&m->gm, a[2], &off, 8) ? -EFAULT : w;
	}
	if (w < r && in->kind != OF_STD)
		in->pos -= (uint64_t)(r - w);   /* what was not written is read again */
	return w;
}

int64_t sys_lseek(struct monitor *m, ARGS)
{
	(void)m;
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	int64_t off = (int64_t)a[1];
	int whence = (int)a[2];
	switch (of->kind) {
	case OF_STD: case OF_HOST:
		return host_result(lseek(of->host_fd, off, whence));
	case OF_MEM: case OF_DEV: case OF_MEMDIR: {
		int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)of->pos
		               : whence == SEEK_END && of->kind == OF_MEM ? (int64_t)of->node->file.size : -1;
		if (of->kind == OF_MEM && (whence == SEEK_DATA || whence == SEEK_HOLE)) {
			if ((uint64_t)off >= of->node->file.size)
				return -ENXIO;
			base = 0;
			if (whence == SEEK_HOLE)
				off = (int64_t)of->node->file.size;
		}
		if (base < 0 && whence != SEEK_END)
			return -EINVAL;
		if (base < 0)
			base = 0;
		if (of->kind == OF_MEMDIR && !(whence == SEEK_SET && off >= 0))
			return -EINVAL;
		if (off > 0 && base > INT64_MAX - off)
			return -EOVERFLOW;
		if (base + off < 0)
			return -EINVAL;
		of->pos = (uint64_t)(base + off);
		return base + off;
	}
	case OF_LINK:
		return -EBADF;
	default:
		return -ESPIPE;
	}
}

int64_t sys_ioctl(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	if (a[1] == FIONBIO) {
		int on;
		if (gm_read(&m->gm, &on, a[2], 4))
			return -EFAULT;
		of->flags = on ? of->flags | O_NONBLOCK : of->flags & ~O_NONBLOCK;
		return 0;
	}
	if (a[1] == FIOCLEX || a[1] == FIONCLEX) {
		fd_set_cloexec((int)a[0], a[1] == FIOCLEX);
		return 0;
	}
	if (a[1] == FIONREAD && (of->kind == OF_PIPE_R || of->kind == OF_MEM)) {
		int n = of->kind == OF_PIPE_R ? (int)of->pipe->len
		        : of->pos < of->node->file.size ? (int)(of->node->file.size - of->pos) : 0;
		return gm_write(&m->gm, a[2], &n, 4);
	}
	if (of->kind != OF_STD)
		return -ENOTTY;
	uint8_t buf[64];
	size_t size;
	switch (a[1]) {
	case TIOCGWINSZ: size = sizeof(struct winsize); break;
	case TCGETS: size = 36; break;              /* the kernel's struct termios */
	default: return -ENOTTY;
	}
	if (!gm_access_ok(&m->gm, a[2], size, GP_W))
		return -EFAULT;
	if (ioctl(of->host_fd, a[1], buf) != 0)
		return -errno;
	return gm_write(&m->gm, a[2], buf, size);
}

int64_t file_map_check(struct monitor *m, uint64_t fd, uint64_t flags, uint64_t prot)
{
	(void)m;
	struct ofile *of = fd_get((int)fd);
	if (!of)
		return -EBADF;
	bool mappable = of->kind == OF_MEM || (of->kind == OF_HOST && !(of->flags & O_DIRECTORY)) ||
	                (of->kind == OF_DEV && of->node->dev == MDEV_ZERO);
	if (!mappable || (of->flags & O_PATH))
		return of->flags & O_PATH ? -EBADF : -ENODEV;
	if ((of->flags & O_ACCMODE) == O_WRONLY)
		return -EACCES;
	if ((flags & MAP_TYPE) == MAP_SHARED && (prot & PROT_WRITE))
		return (of->flags & O_ACCMODE) == O_RDONLY ? -EACCES : -ENODEV;   /* no shared writable file memory */
	return 0;
}

int64_t file_map_fill(struct monitor *m, uint64_t fd, uint64_t addr, uint64_t len, uint64_t off)
{
	struct ofile *of = fd_get((int)fd);
	if (of->kind == OF_DEV)
		return 0;   /* /dev/zero: the fresh mapping is zeros */
	if (!gm_prepare_write(&m->gm, addr, len))
		return -ENOMEM;
	for (uint64_t done = 0; done < len;) {
		int64_t r = of->kind == OF_MEM ? memfs_read(of->node, guest_ptr(addr + done), len - done, off + done)
		                               : host_result(pread(of->host_fd, guest_ptr(addr + done), len - done,
		                                                   (off_t)(off + done)));
		if (r < 0)
			return r == -EINTR ? r : -EIO;
		if (r == 0)
			break;
		done += (uint64_t)r;
	}
	return 0;
}

/* ---- opening ----------------------------------------------------------------------- */

static int set_path(struct ofile *of, const char *canon)
{
	of->path = strdup(canon);
	return of->path ? 0 : -ENOMEM;
}

/* A description for what w names, opened with Linux's open flags. */
static int64_t open_where(struct monitor *m, struct fs_where *w, uint64_t flags, uint32_t mode)
{
	int acc = (int)(flags & O_ACCMODE);
	bool writes = acc != O_RDONLY || (flags & O_TRUNC);
	if (acc == 3)
		return -EINVAL;
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -EOPNOTSUPP;
	int keep = (int)(flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY));
	if (flags & O_PATH)
		keep = O_PATH | (int)(flags & O_DIRECTORY), writes = false;
	struct ofile *of;
	if (w->volume >= 0) {
		struct stat st;
		if (writes)
			return -EROFS;
		int fd = volume_open(m->fs.volume_fd[w->volume], w->vpath, flags & O_NOFOLLOW, flags & O_PATH, &st);
		if (fd < 0)
			return fd == -ENOENT && (flags & O_CREAT) ? -EROFS : fd;
		if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
			close(fd);
			return -ENOTDIR;
		}
		if (S_ISLNK(st.st_mode) && !(flags & O_PATH)) {
			close(fd);
			return -ELOOP;
		}
		if (!(of = of_new(OF_HOST, keep | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0)))) {
			close(fd);
			return -ENOMEM;
		}
		of->host_fd = fd;
	} else {
		struct mnode *n = w->node;
		if (n && (flags & O_CREAT) && (flags & O_EXCL))
			return -EEXIST;
		if (!n) {
			if (!(flags & O_CREAT))
				return -ENOENT;
			if (w->trailing_slash)
				return -EISDIR;
			n = memfs_create(&m->fs.mem, w->dir, w->name, MN_FILE, mode & ~m->umask, NULL);
			if (!n)
				return -errno;
		}
		if (n->kind == MN_DIR && (flags & O_CREAT))
			return -EISDIR;
		if (n->kind == MN_LINK && !(flags & O_PATH))
			return -ELOOP;   /* a link the walk did not follow: O_NOFOLLOW */
		if ((flags & O_DIRECTORY) && n->kind != MN_DIR)
			return -ENOTDIR;
		if (n->kind == MN_DIR && writes)
			return -EISDIR;
		enum of_kind k = n->kind == MN_DIR ? OF_MEMDIR : n->kind == MN_FILE ? OF_MEM
		                 : n->kind == MN_LINK ? OF_LINK : OF_DEV;
		if (!(of = of_new(k, keep | (k == OF_MEMDIR ? O_DIRECTORY : 0))))
			return -ENOMEM;
		of->node = n;
		n->opens++;
		if (k == OF_MEM && (flags & O_TRUNC) && !(flags & O_PATH)) {
			int r = memfs_truncate(&m->fs.mem, n, 0);
			if (r) {
				of_put(of);
				return r;
			}
		}
	}
	if (set_path(of, w->canon)) {
		of_put(of);
		return -ENOMEM;
	}
	return fd_install(of, 0, flags & O_CLOEXEC);
}

static int64_t open_at(struct monitor *m, uint64_t dirfd, uint64_t path, uint64_t flags, uint64_t mode)
{
	struct fs_where w;
	bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
	int r = where_at(m, dirfd, path, (follow ? PATH_FOLLOW : 0) | (flags & O_DIRECTORY ? PATH_MUST_DIR : 0), false, &w);
	return r ? r : open_where(m, &w, flags, (uint32_t)mode & 07777);
}

int64_t sys_open(struct monitor *m, ARGS) { return open_at(m, (uint64_t)AT_FDCWD, a[0], a[1], a[2]); }
int64_t sys_openat(struct monitor *m, ARGS) { return open_at(m, a[0], a[1], a[2], a[3]); }
int64_t sys_creat(struct monitor *m, ARGS)
{
	return open_at(m, (uint64_t)AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
}

int64_t sys_close(struct monitor *m, ARGS)
{
	int r = fd_close((int)a[0]);
	if (!r && (int)a[0] <= 2 && (int)a[0] >= 0)
		m->closed_fds |= (uint8_t)(1u << a[0]);
	return r;
}

/* ---- descriptors ---------------------------------------------------------------------- */

static int64_t dup_to(struct monitor *m, uint64_t old, uint64_t new, uint64_t flags, bool dup3)
{
	struct ofile *of = fd_get((int)old);
	if (!of)
		return -EBADF;
	if (flags & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if ((int)new < 0 || (int)new >= (int)fd_limit())
		return -EBADF;
	if (old == new)
		return dup3 ? -EINVAL : (int64_t)new;
	if ((int)new <= 2)
		m->closed_fds &= (uint8_t)~(1u << new);
	of->refs++;
	return fd_install_at(of, (int)new, flags & O_CLOEXEC);
}

int64_t sys_dup(struct monitor *m, ARGS)
{
	(void)m;
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	of->refs++;
	return fd_install(of, 0, false);
}

int64_t sys_dup2(struct monitor *m, ARGS) { return dup_to(m, a[0], a[1], 0, false); }
int64_t sys_dup3(struct monitor *m, ARGS) { return dup_to(m, a[0], a[1], a[2], true); }

static int64_t lock_check(const struct ofile *of, const struct flock *fl, int cmd)
{
	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK && fl->l_type != F_UNLCK)
		return -EINVAL;
	if (of->kind != OF_MEM && of->kind != OF_HOST)
		return 0;
	bool set = cmd != F_GETLK && cmd != F_OFD_GETLK;
	if (set && ((fl->l_type == F_WRLCK && (of->flags & O_ACCMODE) == O_RDONLY) ||
	            (fl->l_type == F_RDLCK && (of->flags & O_ACCMODE) == O_WRONLY)))
		return -EBADF;
	if ((cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) && fl->l_pid != 0)
		return -EINVAL;
	int64_t base;
	switch (fl->l_whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)of->pos; break;
	case SEEK_END: base = of->kind == OF_MEM ? (int64_t)of->node->file.size : 0; break;
	default: return -EINVAL;
	}
	int64_t start = base + fl->l_start;
	if (start < 0 || (fl->l_len < 0 && start + fl->l_len < 0))
		return -EINVAL;
	return 0;
}

int64_t sys_fcntl(struct monitor *m, ARGS)
{
	int fd = (int)a[0];
	struct ofile *of = fd_get(fd);
	if (!of)
		return -EBADF;
	switch ((int)a[1]) {
	case F_DUPFD: case F_DUPFD_CLOEXEC:
		if ((int)a[2] < 0 || (int)a[2] >= (int)fd_limit())
			return -EINVAL;
		of->refs++;
		return fd_install(of, (int)a[2], (int)a[1] == F_DUPFD_CLOEXEC);
	case F_GETFD: return fd_cloexec(fd) ? FD_CLOEXEC : 0;
	case F_SETFD: fd_set_cloexec(fd, a[2] & FD_CLOEXEC); return 0;
	case F_GETFL:
		if (of->kind == OF_STD)
			return host_result(fcntl(of->host_fd, F_GETFL));
		return (of->flags & ~O_DIRECTORY) | 0100000;   /* Linux's O_LARGEFILE, always set on x86-64 */
	case F_SETFL:
		/* only these change (Linux: O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME) */
		of->flags = (of->flags & ~(O_APPEND | O_NONBLOCK)) | (int)(a[2] & (O_APPEND | O_NONBLOCK));
		return 0;
	case F_GETLK: case F_OFD_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_SETLK: case F_OFD_SETLKW: {
		/* one process: no lock of anyone else's is ever in the way, so
		 * every lock is granted and F_GETLK finds none; the request is
		 * checked as Linux checks it */
		struct flock fl;
		if (gm_read(&m->gm, &fl, a[2], sizeof(fl)))
			return -EFAULT;
		int64_t r = lock_check(of, &fl, (int)a[1]);
		if (r || ((int)a[1] != F_GETLK && (int)a[1] != F_OFD_GETLK))
			return r;
		fl.l_type = F_UNLCK;
		return gm_write(&m->gm, a[2], &fl, sizeof(fl));
	}
	case F_GETPIPE_SZ: case F_SETPIPE_SZ:   /* the size stays Linux's default */
		return of->kind == OF_PIPE_R || of->kind == OF_PIPE_W ? (int64_t)PIPE_CAPACITY : -EBADF;
	default:
		return -EINVAL;
	}
}

int64_t sys_flock(struct monitor *m, ARGS) { (void)m; return fd_get((int)a[0]) ? 0 : -EBADF; }
int64_t sys_fsync(struct monitor *m, ARGS) { (void)m; return fd_get((int)a[0]) ? 0 : -EBADF; }
int64_t sys_fadvise64(struct monitor *m, ARGS)
{
	(void)m;
	struct ofile *of = fd_get((int)a[0]);
	return !of ? -EBADF : of->kind >= OF_PIPE_R ? -ESPIPE : a[3] > 5 ? -EINVAL : 0;
}

static int64_t truncate_of(struct monitor *m, struct ofile *of, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	if (of->kind == OF_HOST)
		return of->flags & O_DIRECTORY ? -EISDIR : -EROFS;
	if (of->kind == OF_MEMDIR)
		return -EISDIR;
	if (of->kind != OF_MEM)
		return -EINVAL;
	return memfs_truncate(&m->fs.mem, of->node, (uint64_t)len);
}

int64_t sys_ftruncate(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	if ((of->flags & O_ACCMODE) == O_RDONLY || (of->flags & O_PATH))
		return of->kind == OF_MEMDIR ? -EISDIR : -EINVAL;
	return truncate_of(m, of, (int64_t)a[1]);
}

int64_t sys_truncate(struct monitor *m, ARGS)
{
	struct fs_where w;
	int r = where_at(m, (uint64_t)AT_FDCWD, a[0], PATH_FOLLOW, false, &w);
	if (r)
		return r;
	if (w.volume >= 0)
		return -EROFS;
	if (!w.node)
		return -ENOENT;
	if (w.node->kind == MN_DIR)
		return -EISDIR;
	if (w.node->kind != MN_FILE)
		return -EINVAL;
	return (int64_t)a[1] < 0 ? -EINVAL : memfs_truncate(&m->fs.mem, w.node, a[1]);
}

int64_t sys_fallocate(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	if (a[1] != 0 || (int64_t)a[2] < 0 || (int64_t)a[3] <= 0)
		return a[1] != 0 ? -EOPNOTSUPP : -EINVAL;
	if ((of->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (of->kind != OF_MEM)
		return of->kind == OF_HOST ? -EROFS : -ENODEV;
	uint64_t end = a[2] + a[3];
	return end > of->node->file.size ? memfs_truncate(&m->fs.mem, of->node, end) : 0;
}

/* ---- directories -------------------------------------------------------------------------- */

/* Appends one linux_dirent64 at out+*used (room bytes): false if it does not fit. */
static bool put_dirent(uint8_t *out, size_t room, size_t *used, uint64_t ino, uint64_t off, uint8_t type,
                       const char *name)
{
	size_t nlen = strlen(name), reclen = (19 + nlen + 1 + 7) & ~(size_t)7;
	if (*used + reclen > room)
		return false;
	uint8_t *p = out + *used;
	memset(p, 0, reclen);
	memcpy(p, &ino, 8);
	memcpy(p + 8, &off, 8);
	uint16_t rl = (uint16_t)reclen;
	memcpy(p + 16, &rl, 2);
	p[18] = type;
	memcpy(p + 19, name, nlen);
	*used += reclen;
	return true;
}

static uint8_t dirent_type(const struct mnode *n)
{
	switch (n->kind) {
	case MN_DIR: case MN_VOLUME: return DT_DIR;
	case MN_FILE: return DT_REG;
	case MN_LINK: return DT_LNK;
	default: return DT_CHR;
	}
}

int64_t sys_getdents64(struct monitor *m, ARGS)
{
	static uint8_t buf[65536];
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	size_t room = a[2] < sizeof(buf) ? a[2] : sizeof(buf), used = 0;
	if (of->kind == OF_HOST) {
		if (!(of->flags & O_DIRECTORY))
			return -ENOTDIR;
		long r = syscall(SYS_getdents64, of->host_fd, buf, room);
		if (r < 0)
			return -errno;
		used = (size_t)r;
	} else {
		if (of->kind != OF_MEMDIR)
			return -ENOTDIR;
		/* positions: 0 ".", 1 "..", then 2 + each entry's off */
		const struct mnode *d = of->node;
		bool full = false;
		while (of->pos < 2 && !full) {
			const struct mnode *n = of->pos == 0 ? d : d->dir.parent;
			full = !put_dirent(buf, room, &used, n->ino, of->pos + 1, DT_DIR, of->pos == 0 ? "." : "..");
			of->pos += !full;
		}
		for (const struct mdirent *e; !full && d->nlink && (e = memfs_next(d, of->pos - 2));) {
			full = !put_dirent(buf, room, &used, e->node->ino, e->off + 2, dirent_type(e->node), e->name);
			if (!full)
				of->pos = e->off + 2;
		}
		if (full && !used)
			return -EINVAL;   /* the buffer holds not even one entry */
		memfs_touch(of->node, false);
	}
	if (!used)
		return 0;
	return gm_write(&m->gm, a[1], buf, used) ? -EFAULT : (int64_t)used;
}

int64_t sys_getcwd(struct monitor *m, ARGS)
{
	if (m->fs.cwd_node && !m->fs.cwd_node->nlink)
		return -ENOENT;   /* removed */
	size_t len = strlen(m->fs.cwd) + 1;
	if (a[1] < len)
		return -ERANGE;
	return gm_write(&m->gm, a[0], m->fs.cwd, len) ? -EFAULT : (int64_t)len;
}

static int64_t change_dir(struct monitor *m, const struct fs_where *w)
{
	if (w->volume >= 0) {
		struct stat st;
		int fd = volume_open(m->fs.volume_fd[w->volume], w->vpath, false, true, &st);
		if (fd < 0)
			return fd;
		close(fd);
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	} else if (!w->node) {
		return -ENOENT;
	} else if (w->node->kind != MN_DIR) {
		return -ENOTDIR;
	}
	/* held like an open directory, so that its removal is seen */
	if (m->fs.cwd_node)
		memfs_put(&m->fs.mem, m->fs.cwd_node);
	m->fs.cwd_node = w->volume >= 0 ? NULL : w->node;
	if (m->fs.cwd_node)
		m->fs.cwd_node->opens++;
	strcpy(m->fs.cwd, w->canon);
	return 0;
}

int64_t sys_chdir(struct monitor *m, ARGS)
{
	struct fs_where w;
	int r = where_at(m, (uint64_t)AT_FDCWD, a[0], PATH_FOLLOW | PATH_MUST_DIR, false, &w);
	return r ? r : change_dir(m, &w);
}

int64_t sys_fchdir(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	if (!is_dir_of(of))
		return -ENOTDIR;
	struct fs_where w;
	int r = fs_resolve(&m->fs, "/", of->path, PATH_FOLLOW, &w);
	return r ? r : change_dir(m, &w);
}

int64_t sys_chroot(struct monitor *m, ARGS) { (void)m; (void)a; return -EPERM; }

/* ---- names ------------------------------------------------------------------------------------ */

/* The directory a new name goes in: memfs only (volumes are read-only). */
static int64_t name_site(struct monitor *m, uint64_t dirfd, uint64_t path, unsigned flags, struct fs_where *w)
{
	int r = where_at(m, dirfd, path, flags, false, w);
	if (r)
		return r;
	if (w->volume >= 0)
		return -EROFS;
	if (!w->name[0] || !strcmp(w->name, ".") || !strcmp(w->name, ".."))
		return w->node ? -EBUSY : -ENOENT;
	return 0;
}

static int64_t make_dir(struct monitor *m, uint64_t dirfd, uint64_t path, uint64_t mode)
{
	struct fs_where w;
	int r = where_at(m, dirfd, path, 0, false, &w);
	if (r)
		return r;
	if (w.node || !w.name[0])
		return -EEXIST;
	if (w.volume >= 0)
		return -EROFS;
	return memfs_create(&m->fs.mem, w.dir, w.name, MN_DIR, (uint32_t)mode & ~m->umask & 07777, NULL) ? 0 : -errno;
}

int64_t sys_mkdir(struct monitor *m, ARGS) { return make_dir(m, (uint64_t)AT_FDCWD, a[0], a[1]); }
int64_t sys_mkdirat(struct monitor *m, ARGS) { return make_dir(m, a[0], a[1], a[2]); }
int64_t sys_mknodat(struct monitor *m, ARGS) { (void)m; (void)a; return -EPERM; }

static int64_t remove_name(struct monitor *m, uint64_t dirfd, uint64_t path, bool dir)
{
	struct fs_where w;
	int r = where_at(m, dirfd, path, 0, false, &w);
	if (r)
		return r;
	if (w.volume >= 0)
		return w.node && w.node->kind == MN_VOLUME && !strcmp(w.vpath, ".") ? -EBUSY : -EROFS;
	if (!w.node)
		return -ENOENT;
	if (dir) {
		if (!strcmp(w.name, "."))
			return -EINVAL;
		if (!w.name[0] || !strcmp(w.name, ".."))
			return w.name[0] ? -ENOTEMPTY : -EBUSY;
		if (w.node->kind != MN_DIR)
			return -ENOTDIR;
	} else if (w.node->kind == MN_DIR) {
		return -EISDIR;
	} else if (w.trailing_slash) {
		return -ENOTDIR;
	}
	return memfs_unlink(&m->fs.mem, w.dir, w.name);
}

int64_t sys_unlink(struct monitor *m, ARGS) { return remove_name(m, (uint64_t)AT_FDCWD, a[0], false); }
int64_t sys_rmdir(struct monitor *m, ARGS) { return remove_name(m, (uint64_t)AT_FDCWD, a[0], true); }
int64_t sys_unlinkat(struct monitor *m, ARGS)
{
	if (a[2] & ~(uint64_t)AT_REMOVEDIR)
		return -EINVAL;
	return remove_name(m, a[0], a[1], a[2] & AT_REMOVEDIR);
}

static int64_t rename_at(struct monitor *m, uint64_t odir, uint64_t opath, uint64_t ndir, uint64_t npath,
                         uint64_t flags)
{
	if (flags & ~(uint64_t)RENAME_NOREPLACE)
		return flags & (RENAME_EXCHANGE | RENAME_WHITEOUT) ? -EINVAL : -EINVAL;
	struct fs_where from, to;
	int r = name_site(m, odir, opath, 0, &from);
	if (r)
		return r == -EBUSY ? -EBUSY : r;
	if (!from.node)
		return -ENOENT;
	if ((r = where_at(m, ndir, npath, 0, false, &to)))
		return r;
	if (to.volume >= 0)
		return -EXDEV;
	if (!to.name[0] || !strcmp(to.name, ".") || !strcmp(to.name, ".."))
		return -EBUSY;
	if (from.node->kind == MN_VOLUME || (to.node && to.node->kind == MN_VOLUME))
		return -EBUSY;
	if ((from.trailing_slash || to.trailing_slash) && from.node->kind != MN_DIR)
		return -ENOTDIR;
	return memfs_rename(&m->fs.mem, from.dir, from.name, to.dir, to.name, (unsigned)flags);
}

int64_t sys_rename(struct monitor *m, ARGS) { return rename_at(m, (uint64_t)AT_FDCWD, a[0], (uint64_t)AT_FDCWD, a[1], 0); }
int64_t sys_renameat(struct monitor *m, ARGS) { return rename_at(m, a[0], a[1], a[2], a[3], 0); }
int64_t sys_renameat2(struct monitor *m, ARGS) { return rename_at(m, a[0], a[1], a[2], a[3], a[4]); }

static int64_t link_at(struct monitor *m, uint64_t odir, uint64_t opath, uint64_t ndir, uint64_t npath, uint64_t flags)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct fs_where from, to;
	int r = where_at(m, odir, opath, flags & AT_SYMLINK_FOLLOW ? PATH_FOLLOW : 0, flags & AT_EMPTY_PATH, &from);
	if (r)
		return r;
	if (from.volume >= 0)
		return -EXDEV;
	if (!from.node)
		return -ENOENT;
	if ((r = where_at(m, ndir, npath, 0, false, &to)))
		return r;
	if (to.volume >= 0)
		return -EROFS;
	if (to.node)
		return -EEXIST;
	return memfs_link(&m->fs.mem, to.dir, to.name, from.node);
}

int64_t sys_link(struct monitor *m, ARGS) { return link_at(m, (uint64_t)AT_FDCWD, a[0], (uint64_t)AT_FDCWD, a[1], 0); }
int64_t sys_linkat(struct monitor *m, ARGS) { return link_at(m, a[0], a[1], a[2], a[3], a[4]); }

static int64_t symlink_at(struct monitor *m, uint64_t target, uint64_t dirfd, uint64_t path)
{
	char text[FS_PATH_MAX];
	int r = read_path(m, target, text);
	if (r)
		return r;
	if (!text[0])
		return -ENOENT;
	struct fs_where w;
	if ((r = where_at(m, dirfd, path, 0, false, &w)))
		return r;
	if (w.volume >= 0)
		return -EROFS;
	if (w.node || !w.name[0])
		return -EEXIST;
	return memfs_create(&m->fs.mem, w.dir, w.name, MN_LINK, 0777, text) ? 0 : -errno;
}

int64_t sys_symlink(struct monitor *m, ARGS) { return symlink_at(m, a[0], (uint64_t)AT_FDCWD, a[1]); }
int64_t sys_symlinkat(struct monitor *m, ARGS) { return symlink_at(m, a[0], a[1], a[2]); }

static int64_t readlink_at(struct monitor *m, uint64_t dirfd, uint64_t path, uint64_t buf, uint64_t size)
{
	if ((int64_t)size <= 0)
		return -EINVAL;
	struct fs_where w;
	int r = where_at(m, dirfd, path, 0, true, &w);
	if (r)
		return r;
	char text[FS_PATH_MAX];
	size_t len;
	if (w.volume >= 0) {
		struct stat st;
		int fd = volume_open(m->fs.volume_fd[w.volume], w.vpath, true, true, &st);
		if (fd < 0)
			return fd;
		ssize_t n = S_ISLNK(st.st_mode) ? readlinkat(fd, "", text, sizeof(text)) : -1;
		int e = S_ISLNK(st.st_mode) ? errno : EINVAL;
		close(fd);
		if (n < 0)
			return -e;
		len = (size_t)n;
	} else {
		if (!w.node)
			return -ENOENT;
		if (w.node->kind != MN_LINK)
			return -EINVAL;
		len = strlen(w.node->link);
		memcpy(text, w.node->link, len);
	}
	if (len > size)
		len = size;
	return gm_write(&m->gm, buf, text, len) ? -EFAULT : (int64_t)len;
}

int64_t sys_readlink(struct monitor *m, ARGS) { return readlink_at(m, (uint64_t)AT_FDCWD, a[0], a[1], a[2]); }
int64_t sys_readlinkat(struct monitor *m, ARGS) { return readlink_at(m, a[0], a[1], a[2], a[3]); }

static int64_t access_at(struct monitor *m, uint64_t dirfd, uint64_t path, uint64_t mode, uint64_t flags)
{
	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) || flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct fs_where w;
	int r = where_at(m, dirfd, path, flags & AT_SYMLINK_NOFOLLOW ? 0 : PATH_FOLLOW, flags & AT_EMPTY_PATH, &w);
	if (r)
		return r;
	struct stat st;
	if ((r = stat_where(m, &w, !(flags & AT_SYMLINK_NOFOLLOW), &st)))
		return r;
	if ((mode & W_OK) && w.volume >= 0)
		return -EROFS;
	/* the guest is its files' owner: permission bits as the owner's */
	if ((mode & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

int64_t sys_access(struct monitor *m, ARGS) { return access_at(m, (uint64_t)AT_FDCWD, a[0], a[1], 0); }
int64_t sys_faccessat(struct monitor *m, ARGS) { return access_at(m, a[0], a[1], a[2], 0); }
int64_t sys_faccessat2(struct monitor *m, ARGS) { return access_at(m, a[0], a[1], a[2], a[3]); }

/* ---- attributes ----------------------------------------------------------------------------------- */

/* The memfs node a path names, for the calls that change attributes. */
static int64_t attr_node(struct monitor *m, uint64_t dirfd, uint64_t path, bool follow, struct mnode **n)
{
	struct fs_where w;
	int r = where_at(m, dirfd, path, follow ? PATH_FOLLOW : 0, false, &w);
	if (r)
		return r;
	if (w.volume >= 0)
		return -EROFS;
	if (!w.node)
		return -ENOENT;
	*n = w.node;
	return 0;
}

static int64_t chmod_node(struct mnode *n, uint64_t mode)
{
	the_monitor->fs.mem.changes++;
	n->mode = (uint32_t)mode & 07777;
	memfs_touch(n, false);
	clock_gettime(CLOCK_REALTIME, &n->ctime);
	return 0;
}

int64_t sys_chmod(struct monitor *m, ARGS)
{
	struct mnode *n;
	int64_t r = attr_node(m, (uint64_t)AT_FDCWD, a[0], true, &n);
	return r ? r : chmod_node(n, a[1]);
}

int64_t sys_fchmodat(struct monitor *m, ARGS)
{
	struct mnode *n;
	int64_t r = attr_node(m, a[0], a[1], true, &n);
	return r ? r : chmod_node(n, a[2]);
}

int64_t sys_fchmod(struct monitor *m, ARGS)
{
	(void)m;
	struct ofile *of = fd_get((int)a[0]);
	if (!of)
		return -EBADF;
	if (of->kind == OF_HOST)
		return -EROFS;
	return of->kind == OF_MEM || of->kind == OF_MEMDIR || of->kind == OF_DEV ? chmod_node(of->node, a[1]) : 0;
}

/* Owners stay the guest's: changing to itself succeeds, as for any owner. */
static int64_t chown_ok(uint64_t uid, uint64_t gid)
{
	bool uid_ok = (uint32_t)uid == (uint32_t)-1 || (uint32_t)uid == getuid();
	bool gid_ok = (uint32_t)gid == (uint32_t)-1 || (uint32_t)gid == getgid();
	return uid_ok && gid_ok ? 0 : -EPERM;
}

int64_t sys_chown(struct monitor *m, ARGS)
{
	struct mnode *n;
	int64_t r = attr_node(m, (uint64_t)AT_FDCWD, a[0], true, &n);
	return r ? r : chown_ok(a[1], a[2]);
}

int64_t sys_fchownat(struct monitor *m, ARGS)
{
	struct mnode *n;
	int64_t r = attr_node(m, a[0], a[1], !(a[4] & AT_SYMLINK_NOFOLLOW), &n);
	return r ? r : chown_ok(a[2], a[3]);
}

int64_t sys_fchown(struct monitor *m, ARGS)
{
	(void)m;
	return fd_get((int)a[0]) ? chown_ok(a[1], a[2]) : -EBADF;
}

int64_t sys_umask(struct monitor *m, ARGS)
{
	uint32_t old = m->umask;
	m->umask = (uint32_t)a[0] & 0777;
	return old;
}

static int64_t set_times(struct monitor *m, struct mnode *n, const struct timespec ts[2])
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	m->fs.mem.changes++;
	for (int i = 0; i < 2; i++) {
		if (ts && ts[i].tv_nsec == UTIME_OMIT)
			continue;
		struct timespec t = !ts || ts[i].tv_nsec == UTIME_NOW ? now : ts[i];
		if (ts && ts[i].tv_nsec != UTIME_NOW && (t.tv_nsec < 0 || t.tv_nsec >= 1000000000))
			return -EINVAL;
		*(i ? &n->mtime : &n->atime) = t;
	}
	n->ctime = now;
	return 0;
}

int64_t sys_utimensat(struct monitor *m, ARGS)
{
	struct timespec ts[2];
	if (a[2] && gm_read(&m->gm, ts, a[2], sizeof(ts)))
		return -EFAULT;
	struct mnode *n;
	int64_t r;
	if (!a[1]) {   /* futimens */
		struct ofile *of = fd_get((int)a[0]);
		if (!of)
			return -EBADF;
		if (of->kind == OF_HOST)
			return -EROFS;
		if (of->kind != OF_MEM && of->kind != OF_MEMDIR && of->kind != OF_DEV)
			return 0;
		n = of->node;
	} else if ((r = attr_node(m, a[0], a[1], !(a[3] & AT_SYMLINK_NOFOLLOW), &n))) {
		return r;
	}
	return set_times(m, n, a[2] ? ts : NULL);
}

int64_t sys_utimes(struct monitor *m, ARGS)
{
	uint64_t tv[4];
	struct timespec ts[2];
	if (a[1] && gm_read(&m->gm, tv, a[1], sizeof(tv)))
		return -EFAULT;
	for (int i = 0; i < 2; i++)
		ts[i] = (struct timespec){(time_t)tv[2 * i], (long)tv[2 * i + 1] * 1000};
	struct mnode *n;
	int64_t r = attr_node(m, (uint64_t)AT_FDCWD, a[0], true, &n);
	return r ? r : set_times(m, n, a[1] ? ts : NULL);
}

int64_t sys_utime(struct monitor *m, ARGS)
{
	uint64_t tb[2];
	struct timespec ts[2];
	if (a[1] && gm_read(&m->gm, tb, a[1], sizeof(tb)))
		return -EFAULT;
	ts[0] = (struct timespec){(time_t)tb[0], 0};
	ts[1] = (struct timespec){(time_t)tb[1], 0};
	struct mnode *n;
	int64_t r = attr_node(m, (uint64_t)AT_FDCWD, a[0], true, &n);
	return r ? r : set_times(m, n, a[1] ? ts : NULL);
}

static int64_t put_statfs(struct monitor *m, uint64_t addr, bool volume)
{
	struct statfs sf;
	memset(&sf, 0, sizeof(sf));
	const struct memfs *fs = &m->fs.mem;
	sf.f_type = MEMFS_MAGIC;
	sf.f_bsize = sf.f_frsize = 4096;
	sf.f_blocks = fs->limit / 4096;
	sf.f_bfree = sf.f_bavail = fs->limit > fs->bytes ? (fs->limit - fs->bytes) / 4096 : 0;
	sf.f_files = fs->limit / MEMFS_NODE_COST;
	sf.f_ffree = sf.f_bfree * 4096 / MEMFS_NODE_COST;
	sf.f_namelen = MEMFS_NAME_MAX;
	sf.f_flags = volume ? ST_RDONLY : 0;
	return gm_write(&m->gm, addr, &sf, sizeof(sf));
}

int64_t sys_statfs(struct monitor *m, ARGS)
{
	struct fs_where w;
	int r = where_at(m, (uint64_t)AT_FDCWD, a[0], PATH_FOLLOW, false, &w);
	if (r)
		return r;
	if (w.volume < 0 && !w.node)
		return -ENOENT;
	return put_statfs(m, a[1], w.volume >= 0);
}

int64_t sys_fstatfs(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	return of ? put_statfs(m, a[1], of->kind == OF_HOST) : -EBADF;
}
