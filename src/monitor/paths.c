/*
 * Files for the guest, by path: open, the stat family, names (mkdir,
 * unlink, rename, links), the working directory, access and attributes.
 * A guest path is copied once into the monitor (read_path) and resolved
 * by fs/path.c; inside a volume the kernel opens it beneath the volume's
 * directory (fs/volume.h), read-only.  /proc/self/fd/N names descriptor N
 * (descriptor_entry).  Descriptors are files.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/path.h"
#include "fs/volume.h"
#include "monitor/files.h"
#include "monitor/syscalls.h"

/* ---- guest bytes in ------------------------------------------------------------ */

/* Copies the NUL-ended guest string at addr into out (max bytes with the
 * NUL, else -ENAMETOOLONG), reading no page past the NUL. */
static int read_string(struct monitor *m, uint64_t addr, char *out, size_t max)
{
	size_t n = 0;
	while (n < max) {
		uint64_t chunk = GUEST_PAGE - (addr + n) % GUEST_PAGE;
		if (chunk > max - n)
			chunk = max - n;
		if (gm_read(&m->gm, out + n, addr + n, chunk))
			return -EFAULT;
		char *nul = memchr(out + n, 0, chunk);
		if (nul)
			return 0;
		n += chunk;
	}
	return -ENAMETOOLONG;
}

static int read_path(struct monitor *m, uint64_t addr, char *out) { return read_string(m, addr, out, FS_PATH_MAX); }

/* A resolve flag beside fs/path.h's: the caller takes /proc/self/fd/N as
 * descriptor N itself (w->fd) where it names no node of the tree. */
#define PATH_DESCRIPTOR 0x100u

/* /proc/self/fd/N (also through /dev/fd, /dev/stdin, ...): Linux's "magic
 * link" to descriptor N's open file, not a link by its text.  Followed, a
 * file of the tree becomes its node (even if unlinked since) and a volume's
 * its path looked up again (paths are remembered as text); 0-2 from the
 * host, pipes and the like have no file to name, so w->fd stays for the
 * calls that take the description itself.  A name no other call may make
 * or remove: EEXIST. */
static int descriptor_entry(struct monitor *m, int r, unsigned flags, struct fs_where *w)
{
	const struct ofile *of = fd_get(w->fd);
	if (!of)
		return -ENOENT;
	if (r)
		return r;   /* -ENOTDIR: the path goes on beyond it (not walked, even into a directory) */
	if (!(flags & PATH_FOLLOW) && !w->trailing_slash)
		return flags & PATH_DESCRIPTOR ? 0 : -EEXIST;
	if (((flags & PATH_MUST_DIR) || w->trailing_slash) && !is_dir_of(of))
		return -ENOTDIR;
	if (of->kind == OF_HOST)
		return fs_resolve(&m->fs, "/", of->path, flags, w);
	if (of->kind == OF_MEM || of->kind == OF_MEMDIR || of->kind == OF_DEV || of->kind == OF_LINK) {
		w->fd = -1;
		w->node = of->node;
		strcpy(w->canon, of->path);
	}
	return 0;
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
	int r = fs_resolve(&m->fs, base, path, flags, w);
	return w->fd >= 0 ? descriptor_entry(m, r, flags, w) : r;
}

/* The same for the guest path at addr, copied once. */
static int where_at(struct monitor *m, uint64_t dirfd, uint64_t addr, unsigned flags, bool empty_ok,
                    struct fs_where *w)
{
	char path[FS_PATH_MAX];
	int r = read_path(m, addr, path);
	return r ? r : resolve_at(m, dirfd, path, flags, empty_ok, w);
}

/* lstat of /proc/self/fd/N: a link whose owner bits show the access mode, as Linux's. */
static int stat_descriptor_link(const struct ofile *of, struct stat *st)
{
	static const uint32_t access_bits[] = {0500, 0300, 0700, 0};   /* by O_ACCMODE: read, write, both */
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFLNK | access_bits[of->flags & O_ACCMODE];
	st->st_nlink = 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = 64;
	st->st_blksize = 1024;
	clock_gettime(CLOCK_REALTIME, &st->st_mtim);   /* made as it is looked at */
	st->st_atim = st->st_ctim = st->st_mtim;
	return 0;
}

/* The stat of what w names (following or not as resolved). */
static int stat_where(struct monitor *m, const struct fs_where *w, bool follow, struct stat *st)
{
	if (w->fd >= 0)
		return follow ? stat_of(fd_get(w->fd), st) : stat_descriptor_link(fd_get(w->fd), st);
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

/* The stat of path (or, with AT_EMPTY_PATH and "", of dirfd's file). */
static int stat_path(struct monitor *m, uint64_t dirfd, char *path, uint64_t flags, struct stat *st)
{
	if ((flags & AT_EMPTY_PATH) && !path[0] && (int)dirfd != AT_FDCWD) {
		struct ofile *of = fd_get((int)dirfd);
		return of ? stat_of(of, st) : -EBADF;
	}
	bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
	struct fs_where w;
	int r = resolve_at(m, dirfd, path, (follow ? PATH_FOLLOW : 0) | PATH_DESCRIPTOR, flags & AT_EMPTY_PATH, &w);
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

/* ---- opening ----------------------------------------------------------------------- */

static int set_path(struct ofile *of, const char *canon)
{
	of->path = strdup(canon);
	return of->path ? 0 : -ENOMEM;
}

/* Opening /proc/self/fd/N of a description with no file to open again
 * (0-2 from the host, pipes, eventfds, ...).  Linux opens the object anew
 * (a regular file the host gave as 0-2 at offset 0, truncated by O_TRUNC,
 * a pipe's other end for the other access mode); here the description is
 * shared, as dup does: its offset, access mode and status flags. */
static int64_t open_descriptor(int fd, uint64_t flags)
{
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (flags & O_NOFOLLOW)
		return -ELOOP;   /* the link itself, not followed */
	struct ofile *of = fd_get(fd);
	of->refs++;
	return fd_install(of, 0, flags & O_CLOEXEC);
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
	if (w->fd >= 0)
		return open_descriptor(w->fd, flags);
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
	unsigned how = (follow ? PATH_FOLLOW : 0) | (flags & O_DIRECTORY ? PATH_MUST_DIR : 0) | PATH_DESCRIPTOR;
	int r = where_at(m, dirfd, path, how, false, &w);
	return r ? r : open_where(m, &w, flags, (uint32_t)mode & 07777);
}

int64_t sys_open(struct monitor *m, ARGS) { return open_at(m, (uint64_t)AT_FDCWD, a[0], a[1], a[2]); }
int64_t sys_openat(struct monitor *m, ARGS) { return open_at(m, a[0], a[1], a[2], a[3]); }
int64_t sys_creat(struct monitor *m, ARGS)
{
	return open_at(m, (uint64_t)AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
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
	if (w.volume >= 0) {
		struct stat st;
		return stat_where(m, &w, false, &st) == 0 ? -EEXIST : -EROFS;
	}
	if (w.node || !w.name[0])
		return -EEXIST;
	return memfs_create(&m->fs.mem, w.dir, w.name, MN_DIR, (uint32_t)mode & ~m->umask & 07777, NULL) ? 0 : -errno;
}

int64_t sys_mkdir(struct monitor *m, ARGS) { return make_dir(m, (uint64_t)AT_FDCWD, a[0], a[1]); }
int64_t sys_mkdirat(struct monitor *m, ARGS) { return make_dir(m, a[0], a[1], a[2]); }
int64_t sys_mknodat(struct monitor *m, ARGS) { (void)m; (void)a; return -EPERM; }

static int64_t remove_name(struct monitor *m, uint64_t dirfd, uint64_t addr, bool dir)
{
	struct fs_where w;
	char path[FS_PATH_MAX];
	int r = read_path(m, addr, path);
	if (r || (r = resolve_at(m, dirfd, path, 0, false, &w)))
		return r;
	if (w.trailing_slash && w.volume < 0) {
		/* "link/": Linux removes neither the link nor its target */
		static struct fs_where last;
		size_t len = strlen(path);
		while (len > 1 && path[len - 1] == '/')
			path[--len] = 0;
		if (!resolve_at(m, dirfd, path, 0, false, &last) && last.node && last.node->kind == MN_LINK)
			return -ENOTDIR;
	}
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
	struct fs_where from, to;
	int r = where_at(m, odir, opath, 0, false, &from);
	if (!r && from.volume >= 0)
		return -EROFS;   /* within the volume, or out of it: nothing there changes */
	if (flags & ~(uint64_t)RENAME_NOREPLACE)
		return -EINVAL;   /* RENAME_EXCHANGE and RENAME_WHITEOUT are not offered */
	r = r ? r : name_site(m, odir, opath, 0, &from);
	if (r)
		return r == -EBUSY ? -EBUSY : r;
	if (!from.node)
		return -ENOENT;
	if ((r = where_at(m, ndir, npath, 0, false, &to)))
		return r;
	if (to.volume >= 0)
		return -EXDEV;   /* another file system (Linux checks this first) */
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
	if ((r = where_at(m, ndir, npath, 0, false, &to)))
		return r;
	if (from.volume >= 0 || to.volume >= 0)
		return from.volume == to.volume ? -EROFS : -EXDEV;
	if (!from.node)
		return -ENOENT;
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

/* What readlink says of /proc/self/fd/N for a description without a path:
 * Linux's names of such objects (opsub's have no inode numbers), and for
 * 0-2 from the host only the kind of file (its host path is not shown). */
static const char *anonymous_name(const struct ofile *of)
{
	struct stat st;
	switch (of->kind) {
	case OF_EVENT: return "anon_inode:[eventfd]";
	case OF_TIMER: return "anon_inode:[timerfd]";
	case OF_EPOLL: return "anon_inode:[eventpoll]";
	case OF_PORT: return "anon_inode:[opsub-port]";
	case OF_STD:
		stat_of(of, &st);
		return S_ISFIFO(st.st_mode) ? "pipe:[0]" : S_ISSOCK(st.st_mode) ? "socket:[0]" : "anon_inode:[host]";
	default: return "pipe:[0]";
	}
}

static int64_t readlink_at(struct monitor *m, uint64_t dirfd, uint64_t path, uint64_t buf, uint64_t size)
{
	if ((int64_t)size <= 0)
		return -EINVAL;
	struct fs_where w;
	int r = where_at(m, dirfd, path, PATH_DESCRIPTOR, true, &w);
	if (r)
		return r;
	char text[FS_PATH_MAX];
	size_t len;
	if (w.fd >= 0) {
		const struct ofile *of = fd_get(w.fd);
		len = strlen(strcpy(text, of->path ? of->path : anonymous_name(of)));
	} else if (w.volume >= 0) {
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
	unsigned how = (flags & AT_SYMLINK_NOFOLLOW ? 0 : PATH_FOLLOW) | PATH_DESCRIPTOR;
	int r = where_at(m, dirfd, path, how, flags & AT_EMPTY_PATH, &w);
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
	struct ofile *of = fd_get((int)a[0]);
	return !of ? -EBADF : of->kind == OF_HOST ? -EROFS : chown_ok(a[1], a[2]);
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

/* ---- extended attributes ---------------------------------------------------------------- */

/* The guest's files carry none and take none, as on a Linux file system
 * that stores none: get and remove find no attribute (ENODATA), list gives
 * an empty list, set is refused (EOPNOTSUPP).  Linux's order of checks:
 * the arguments, then the file, then the attribute's namespace. */
enum xattr_op { XATTR_OP_SET, XATTR_OP_GET, XATTR_OP_LIST, XATTR_OP_REMOVE };
enum xattr_target { XATTR_PATH, XATTR_LPATH, XATTR_FD };

/* set's flags, the name (1 to 255 bytes, else ERANGE) into name, and set's value (at most 64 KiB). */
static int xattr_args(struct monitor *m, ARGS, enum xattr_op op, char name[XATTR_NAME_MAX + 1])
{
	if (op == XATTR_OP_LIST)
		return 0;
	if (op == XATTR_OP_SET && (a[4] & ~(uint64_t)(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	int r = read_string(m, a[1], name, XATTR_NAME_MAX + 1);
	if (r == -EFAULT)
		return r;
	if (r || !name[0])
		return -ERANGE;
	if (op != XATTR_OP_SET || !a[3])
		return 0;
	if (a[3] > XATTR_SIZE_MAX)
		return -E2BIG;
	return gm_access_ok(&m->gm, a[2], a[3], GP_R) ? 0 : -EFAULT;
}

/* The file, found as stat (or lstat) finds it, or the descriptor (not O_PATH). */
static int xattr_file(struct monitor *m, uint64_t arg, enum xattr_target target)
{
	if (target == XATTR_FD) {
		const struct ofile *of = fd_get((int)arg);
		return of && !(of->flags & O_PATH) ? 0 : -EBADF;
	}
	char path[FS_PATH_MAX];
	struct stat st;
	int r = read_path(m, arg, path);
	return r ? r : stat_path(m, (uint64_t)AT_FDCWD, path, target == XATTR_LPATH ? AT_SYMLINK_NOFOLLOW : 0, &st);
}

/* A namespace Linux knows, with a name after it (no POSIX ACLs: "system." is not one). */
static int xattr_namespace(const char *name)
{
	static const char *const spaces[] = {"user.", "trusted.", "security."};
	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		size_t len = strlen(spaces[i]);
		if (!strncmp(name, spaces[i], len))
			return name[len] ? 0 : -EINVAL;
	}
	return -EOPNOTSUPP;
}

static int64_t xattr_call(struct monitor *m, ARGS, enum xattr_op op, enum xattr_target target)
{
	char name[XATTR_NAME_MAX + 1];
	int r = xattr_args(m, a, op, name);
	if (r || (r = xattr_file(m, a[0], target)))
		return r;
	if (op == XATTR_OP_LIST)
		return 0;
	if ((r = xattr_namespace(name)))
		return r;
	return op == XATTR_OP_SET ? -EOPNOTSUPP : -ENODATA;
}

#define XATTR_CALLS(op, OP) \
	int64_t sys_##op##xattr(struct monitor *m, ARGS) { return xattr_call(m, a, OP, XATTR_PATH); } \
	int64_t sys_l##op##xattr(struct monitor *m, ARGS) { return xattr_call(m, a, OP, XATTR_LPATH); } \
	int64_t sys_f##op##xattr(struct monitor *m, ARGS) { return xattr_call(m, a, OP, XATTR_FD); }
XATTR_CALLS(set, XATTR_OP_SET)
XATTR_CALLS(get, XATTR_OP_GET)
XATTR_CALLS(list, XATTR_OP_LIST)
XATTR_CALLS(remove, XATTR_OP_REMOVE)
#undef XATTR_CALLS

/* ---- the file system ------------------------------------------------------------------------ */

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

/* A regular file in the guest's file system, for reading by the monitor:
 * a volume's through the kernel, a memfs file as a copy in a memfd. */
static int open_guest_file(struct monitor *m, const char *path)
{
	struct fs_where w;
	int r = fs_resolve(&m->fs, "/", path, PATH_FOLLOW, &w);
	if (r)
		return r;
	if (w.volume >= 0) {
		struct stat st;
		int fd = volume_open(m->fs.volume_fd[w.volume], w.vpath, false, false, &st);
		if (fd >= 0 && !S_ISREG(st.st_mode)) {
			close(fd);
			return -EACCES;
		}
		return fd;
	}
	if (!w.node)
		return -ENOENT;
	if (w.node->kind != MN_FILE)
		return -EACCES;
	int fd = memfd_create("opsub-interp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t size = w.node->file.size;
	if (pwrite(fd, w.node->file.data, size, 0) != (ssize_t)size) {
		close(fd);
		return -EIO;
	}
	return fd;
}

int open_interpreter(void *monitor, const char *path)
{
	struct monitor *m = monitor;
	char real[PATH_MAX];
	int fd = open_guest_file(m, path);
	if (fd == -ENOENT && realpath(path, real) && strcmp(real, path))
		fd = open_guest_file(m, real);
	return fd;
}
