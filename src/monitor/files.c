/*
 * Files for the guest, by descriptor: reading and writing (files, devices,
 * volume files and, through wait.c, pipes and events), seeking, dup,
 * fcntl and locks, directories' entries, mmap of files and fstat.  Paths
 * are paths.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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
#include "monitor/files.h"
#include "monitor/syscalls.h"

#define MAX_IOV 1024
#define MEMFS_DEV 0x2bu          /* st_dev of the in-memory tree */
#define MEMFS_MAGIC 0x01021994u  /* statfs: what tmpfs says */

static int64_t host_result(ssize_t r) { return r < 0 ? -errno : r; }

bool is_dir_of(const struct ofile *of)
{
	return of->kind == OF_MEMDIR || (of->kind == OF_HOST && (of->flags & O_DIRECTORY));
}

/* ---- stat ------------------------------------------------------------------------ */

static uint32_t kind_mode(const struct mnode *n)
{
	switch (n->kind) {
	case MN_DIR: case MN_VOLUME: return S_IFDIR;
	case MN_FILE: return S_IFREG;
	case MN_LINK: return S_IFLNK;
	default: return n->dev == MDEV_MAPS ? S_IFREG : S_IFCHR;   /* /proc files are regular, size 0 */
	}
}

void stat_node(const struct mnode *n, struct stat *st)
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
	if (n->kind == MN_DEV && n->dev != MDEV_MAPS)
		st->st_rdev = makedev(1, n->dev == MDEV_NULL ? 3 : n->dev == MDEV_ZERO ? 5 : n->dev == MDEV_RANDOM ? 8 : 9);
	st->st_blksize = 4096;
	st->st_blocks = n->kind == MN_FILE ? (blkcnt_t)((n->file.size + 511) / 512) : 0;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

/* A description's stat: 0 or -errno. */
#define STD_DEV 0x2cu            /* st_dev of the host's descriptors 0-2 */

/* The stat of host descriptor 0, 1 or 2: what a program needs of a file
 * the host gave it (its kind, permissions and, regular, its size) and
 * nothing that names the host's file: the inode number is 1 + the lowest
 * of 0-2 open on the same host file, so a program still sees when its
 * input is its output, as cat checks, and no two different files look
 * the same (they once all had inode 0: cat - > file refused to run). */
static int stat_std(int host_fd, struct stat *st)
{
	struct stat host, other;
	if (host_fstat(host_fd, &host) != 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->st_mode = host.st_mode & (S_IFMT | 0777);
	st->st_size = S_ISREG(host.st_mode) ? host.st_size : 0;
	st->st_nlink = 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = 4096;
	st->st_dev = STD_DEV;
	st->st_ino = (ino_t)host_fd + 1;
	for (int fd = 0; fd < host_fd; fd++)
		if (host_fstat(fd, &other) == 0 && other.st_dev == host.st_dev && other.st_ino == host.st_ino) {
			st->st_ino = (ino_t)fd + 1;
			break;
		}
	return 0;
}

int stat_of(const struct ofile *of, struct stat *st)
{
	switch (of->kind) {
	case OF_MEM: case OF_MEMDIR: case OF_DEV: case OF_LINK:
		stat_node(of->node, st);
		return 0;
	case OF_HOST:
		return host_fstat(of->host_fd, st) ? -errno : 0;
	case OF_STD:
		return stat_std(of->host_fd, st);
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

int put_stat(struct monitor *m, uint64_t addr, int r, const struct stat *st)
{
	return r ? r : gm_write(&m->gm, addr, st, sizeof(*st));
}

int64_t sys_fstat(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	struct stat st;
	return of ? put_stat(m, a[1], stat_of(of, &st), &st) : -EBADF;
}

/* ---- reading and writing ---------------------------------------------------------- */

/* /proc/self/maps as Linux writes it, from the guest's page table: one
 * line per run of mapped pages with the same protection (no offsets,
 * devices or names: the C libraries look only at the ranges), read from
 * at as if the whole text had been made then. */
static int64_t maps_read(struct monitor *m, void *buf, uint64_t len, uint64_t at)
{
	static char text[1 << 18];
	size_t n = 0;
	uint64_t pages = m->gm.size / GUEST_PAGE;
	for (uint64_t p = 0; p < pages && n < sizeof(text) - 64;) {
		uint8_t prot = m->gm.page[p] & (GP_MAPPED | GP_R | GP_W | GP_X);
		uint64_t q = p + 1;
		while (q < pages && (m->gm.page[q] & (GP_MAPPED | GP_R | GP_W | GP_X)) == prot)
			q++;
		uint64_t from = p * GUEST_PAGE, to = q * GUEST_PAGE;
		if (prot & GP_MAPPED)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%08" PRIx64 "-%08" PRIx64 " %c%c%cp 00000000 00:00 0\n",
			                      from, to, prot & GP_R ? 'r' : '-', prot & GP_W ? 'w' : '-', prot & GP_X ? 'x' : '-');
		p = q;
	}
	if (at >= n)
		return 0;
	uint64_t k = len < n - at ? len : n - at;
	memcpy(buf, text + at, k);
	return (int64_t)k;
}

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
		if (of->node->dev != MDEV_MAPS)
			return dev_read(of->node, buf, len);
		r = maps_read(m, buf, len, at);
		break;
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
	case OF_DEV:
		return 0;   /* Linux: null, zero and random ignore seeks */
	case OF_MEM: case OF_MEMDIR: {
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
	/* A shared mapping would have to follow later writes to the file: not
	 * offered for the guest's own files (programs such as SQLite then read
	 * instead).  A volume's file the guest cannot write, so a read-only
	 * shared mapping of it is a copy, as a private one is (the JDK maps its
	 * lib/modules so, glibc its gconv-modules.cache). */
	if ((flags & MAP_TYPE) != MAP_PRIVATE && (of->kind != OF_HOST || (prot & PROT_WRITE)))
		return (prot & PROT_WRITE) && (of->flags & O_ACCMODE) == O_RDONLY ? -EACCES : -ENODEV;
	return 0;
}

/* A host file's bytes straight into the guest memory's memfd (gm_fill),
 * from a read-only mapping of the file: the kernel copies page cache to
 * page cache, where a pread into the guest mapping took a page fault per
 * page (a dynamically linked program's libraries are megabytes at
 * start-up).  Returns how much of [0, len) is settled (copied, or past the
 * end of the file: zeros); the caller reads the rest, which reports an
 * error or a file that shrank. */
static uint64_t fill_from_host(const struct guest_mem *gm, int host_fd, uint64_t addr, uint64_t len, uint64_t off)
{
	struct stat st;
	if (host_fstat(host_fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((uint64_t)st.st_size <= off)
		return len;
	uint64_t in_file = len < (uint64_t)st.st_size - off ? len : (uint64_t)st.st_size - off;
	void *file = mmap(NULL, in_file, PROT_READ, MAP_PRIVATE, host_fd, (off_t)off);
	if (file == MAP_FAILED)
		return 0;
	uint64_t done = gm_fill(gm, addr, file, in_file);
	munmap(file, in_file);
	return done == in_file ? len : done;
}

int64_t file_map_fill(struct monitor *m, uint64_t fd, uint64_t addr, uint64_t len, uint64_t off)
{
	struct ofile *of = fd_get((int)fd);
	if (of->kind == OF_DEV)
		return 0;   /* /dev/zero: the fresh mapping is zeros */
	if (!gm_prepare_write(&m->gm, addr, len))
		return -ENOMEM;
	uint64_t done = of->kind == OF_HOST ? fill_from_host(&m->gm, of->host_fd, addr, len, off) : 0;
	while (done < len) {
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

/* /proc/self/fd's entries: the open descriptors, as links, descriptor N
 * at position 3 + N.  Whether the buffer filled up. */
static bool put_descriptors(uint8_t *out, size_t room, size_t *used, struct ofile *dir)
{
	for (uint64_t fd = dir->pos - 2; fd < FD_MAX; fd++) {   /* pos >= 2: past "." and ".." */
		char name[12];
		snprintf(name, sizeof(name), "%d", (int)fd);
		if (fd_get((int64_t)fd) && !put_dirent(out, room, used, dir->node->ino, fd + 3, DT_LNK, name))
			return true;
		dir->pos = fd + 3;
	}
	return false;
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
		if (d == m->fs.fd_dir)
			full = full || put_descriptors(buf, room, &used, of);
		else
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

int64_t put_statfs(struct monitor *m, uint64_t addr, bool volume)
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

int64_t sys_fstatfs(struct monitor *m, ARGS)
{
	struct ofile *of = fd_get((int)a[0]);
	return of ? put_statfs(m, a[1], of->kind == OF_HOST) : -EBADF;
}
