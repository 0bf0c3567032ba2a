// Attack: change a read-only volume.  Every way of writing: open with
// O_WRONLY, O_RDWR, O_RDONLY|O_TRUNC, O_APPEND, O_CREAT (new, exclusive),
// creat, unlink, rmdir, rename inside, out (to the writable /tmp) and in,
// RENAME_EXCHANGE, mkdir, symlink, link (inside and out), mknod, truncate,
// chmod, chown, utimensat, setxattr; and through a read-only descriptor:
// fchmod, fchown, futimens, ftruncate, fallocate, MAP_SHARED writable map.
// argv: VOL TMP.  Natively VOL is a copy of the volume's host directory and
// every path call succeeds (as root) and changes it; under opsub VOL is the
// volume's guest path: each must fail (EROFS), the host directory unchanged.
#include "fsjail.h"
#include <sys/mman.h>
#include <sys/xattr.h>

static char pbuf[8][4096];
static int pi;
static const char *P(const char *dir, const char *name)
{
	char *b = pbuf[pi++ & 7];
	snprintf(b, 4096, "%s/%s", dir, name);
	return b;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *v = argv[1], *t = argv[2];
	int fd;
#define OPEN_OP(name, path, fl)                          \
	fd = (int)op(name, open(path, fl, 0644));        \
	if (fd >= 0) {                                   \
		if (write(fd, "X", 1) < 0) {}            \
		close(fd);                               \
	}
	OPEN_OP("open_wronly", P(v, "w1"), O_WRONLY);
	OPEN_OP("open_rdwr", P(v, "w2"), O_RDWR);
	OPEN_OP("open_rdonly_trunc", P(v, "w3"), O_RDONLY | O_TRUNC);
	OPEN_OP("open_append", P(v, "w4"), O_WRONLY | O_APPEND);
	OPEN_OP("open_creat_new", P(v, "new1"), O_WRONLY | O_CREAT);
	OPEN_OP("open_creat_excl", P(v, "new2"), O_WRONLY | O_CREAT | O_EXCL);
	OPEN_OP("open_creat_in_subdir", P(v, "sub/new3"), O_RDWR | O_CREAT);
	OPEN_OP("openat_creat", P(v, "new4"), O_RDWR | O_CREAT | O_TRUNC);
	fd = (int)op("creat", creat(P(v, "w5"), 0644));
	if (fd >= 0)
		close(fd);
	op("unlink", unlink(P(v, "del1")));
	op("rmdir", rmdir(P(v, "emptydir")));
	op("rename_inside", rename(P(v, "ren1"), P(v, "ren1b")));
	op("rename_out", rename(P(v, "ren2"), P(t, "ren2-out")));
	fd = open(P(t, "in1"), O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	op("rename_in", rename(P(t, "in1"), P(v, "in1")));
	op("rename_exchange", syscall(SYS_renameat2, AT_FDCWD, P(v, "x1"), AT_FDCWD, P(v, "x2"), 2));
	op("rename_over_dir", rename(P(v, "ren3"), P(v, "sub/ren3")));
	op("mkdir", mkdir(P(v, "newdir"), 0755));
	op("symlink", symlink("target", P(v, "newlink")));
	op("link_inside", link(P(v, "l1"), P(v, "l1b")));
	op("link_out", link(P(v, "l1"), P(t, "l1-out")));
	op("mknod_fifo", mknod(P(v, "fifo"), S_IFIFO | 0644, 0));
	op("truncate", truncate(P(v, "tr1"), 0));
	op("truncate_grow", truncate(P(v, "tr2"), 1 << 20));
	op("chmod", chmod(P(v, "m1"), 0777));
	op("chown", chown(P(v, "m2"), 1234, 1234));
	struct timespec ts[2] = {{1, 0}, {1, 0}};
	op("utimensat", utimensat(AT_FDCWD, P(v, "m3"), ts, 0));
	op("setxattr", setxattr(P(v, "m4"), "user.fsjail", "x", 1, 0));
	op("chmod_volume_root", chmod(v, 0700));

	/* through a read-only descriptor */
	fd = open(P(v, "ro1"), O_RDONLY);
	if (fd < 0) {
		out("NOTE open ro1 read-only failed: %s", ename(errno));
	} else {
		out("NOTE open ro1 read-only OK");
		op("fchmod", fchmod(fd, 0777));
		op("fchown", fchown(fd, 1234, 1234));
		op("futimens", futimens(fd, ts));
		op("fsetxattr", fsetxattr(fd, "user.fsjail", "x", 1, 0));
		op("ftruncate_rdonly", ftruncate(fd, 0));
		op("fallocate_rdonly", fallocate(fd, 0, 0, 1 << 20));
		op("write_rdonly", write(fd, "X", 1));
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		op("mmap_shared_write", m == MAP_FAILED ? -1 : 0);
		if (m != MAP_FAILED) {
			memcpy(m, "MAPPED", 6);
			msync(m, 4096, MS_SYNC);
			munmap(m, 4096);
		}
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			memcpy(m, "PRIVATE", 7);
			op("mmap_private_msync", msync(m, 4096, MS_SYNC));
			munmap(m, 4096);
		}
		close(fd);
	}
	/* the volume still reads (the test is not vacuous) */
	try_read("read_back", P(v, "ro2"));
	out("DONE");
	return 0;
}
