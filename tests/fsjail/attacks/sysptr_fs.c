// Attack: the new file-system calls with pointers outside the guest's
// memory, so that the monitor copies file data, directory entries, link
// targets, the cwd or stat structures into the host's memory, or reads a
// path, a link target or file data from it: read/pread/readv/preadv of a
// memfs file and of a volume file, getdents64, readlink, getcwd, fstat,
// newfstatat, statx into ADDR; write/pwrite/writev from ADDR (read back),
// readv with its iovec array at ADDR; open, mkdir, symlink (both ends),
// rename, unlink, chdir, truncate, readlink, newfstatat with the path at
// ADDR.  ADDRs: 0x7f0000000000 (where a host library would be), 4 GiB
// exactly, 0xfffffffc (4 bytes below the top of the sandbox: every
// transfer crosses it; no paths there) and 2^64 - 4096 (wrapping).
// argv: MODE DIR VOLFILE.  MODE "native": the program maps its own page at
// 0x7f0000000000 holding path strings, and every call there succeeds (the
// kernel takes any mapped pointer: the proof); only that address is tried.
// MODE "guest": every call with every ADDR must fail (EFAULT; the path
// calls may also say ENOENT/EINVAL/ENAMETOOLONG for what a guest page
// holds), and nothing may come back.
#include "fsjail.h"
#include <sys/mman.h>
#include <sys/uio.h>

#define HOST 0x7f0000000000ull

static void try_at(const char *what, uint64_t a, long r)
{
	char name[96];
	snprintf(name, sizeof name, "%s@%llx", what, (unsigned long long)a);
	if (r < 0)
		out("OP %s ERR %s", name, ename((int)-r));
	else
		out("OP %s OK", name);
}
#define SC(...) syscall(__VA_ARGS__) < 0 ? -errno : 0

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int native = !strcmp(argv[1], "native");
	const char *dir = argv[2], *volfile = argv[3];
	if (chdir(dir) < 0)
		return 1;
	char *hp = NULL;
	if (native) {
		hp = mmap((void *)HOST, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (hp == MAP_FAILED)
			return 1;
	}
	int mf = open("memfile", O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (mf < 0 || write(mf, "memfs-data-0123456789abcdef", 27) != 27)
		return 1;
	int vf = open(volfile, O_RDONLY);
	int df = open(".", O_RDONLY | O_DIRECTORY);
	if (symlink("some-target", "lnk") < 0)
		return 1;
	if (vf < 0 || df < 0)
		out("NOTE volume file or dir: %s", ename(errno));

	mkdir("dir", 0755);
	if (chdir("dir") < 0)
		return 1;
	uint64_t addrs[] = {HOST, 1ull << 32, 0xfffffffcull, 0xfffffffffffff000ull};
	int n = native ? 1 : 4;
	for (int i = 0; i < n; i++) {
		uint64_t a = addrs[i];
		size_t len = 64;
		struct iovec iov = {(void *)a, len};
		char buf[64];
		/* into a */
		try_at("pread_memfs", a, SC(SYS_pread64, mf, a, len, 0));
		lseek(mf, 0, SEEK_SET);
		try_at("read_memfs", a, SC(SYS_read, mf, a, len));
		try_at("readv_memfs", a, SC(SYS_preadv, mf, &iov, 1, 0, 0));
		try_at("pread_volume", a, SC(SYS_pread64, vf, a, len, 0));
		try_at("readv_volume", a, SC(SYS_preadv, vf, &iov, 1, 0, 0));
		lseek(df, 0, SEEK_SET);
		try_at("getdents64", a, SC(SYS_getdents64, df, a, 4096));
		try_at("readlink", a, SC(SYS_readlink, "../lnk", a, len));
		try_at("getcwd", a, SC(SYS_getcwd, a, len));
		try_at("fstat", a, SC(SYS_fstat, mf, a));
		try_at("newfstatat", a, SC(SYS_newfstatat, AT_FDCWD, "../memfile", a, 0));
		try_at("statx", a, SC(SYS_statx, AT_FDCWD, "../memfile", 0, 0x7ff, a));
		try_at("fstat_volume", a, SC(SYS_fstat, vf, a));
		/* the iovec array itself at a */
		try_at("readv_iovec_array", a, SC(SYS_readv, mf, a, 1));
		/* from a: the file must not receive anything */
		if (ftruncate(mf, 0) < 0)
			out("NOTE ftruncate: %s", ename(errno));
		try_at("pwrite_memfs", a, SC(SYS_pwrite64, mf, a, len, 0));
		try_at("writev_memfs", a, SC(SYS_pwritev, mf, &iov, 1, 0, 0));
		ssize_t got = pread(mf, buf, sizeof buf - 1, 0);
		out("COUNT written_back@%llx %zd", (unsigned long long)a, got < 0 ? (ssize_t)-1 : got);
		/* paths at a */
		if (a == 0xfffffffcull)
			continue;
		if (hp) {
			strcpy(hp, "fsjail-hostname-a");
			strcpy(hp + 64, "fsjail-hostname-b");
			strcpy(hp + 128, "fsjail-hostname-c");
			strcpy(hp + 192, "fsjail-hostname-d");
			strcpy(hp + 256, "fsjail-hostname-b");
		}
		try_at("open_creat_path", a, SC(SYS_open, a, O_CREAT | O_WRONLY, 0644));
		try_at("mkdir_path", a + 64, SC(SYS_mkdir, a + 64, 0755));
		try_at("symlink_target", a + 128, SC(SYS_symlink, a + 128, "lnk2"));
		unlink("lnk2");
		try_at("symlink_name", a + 192, SC(SYS_symlink, "t", a + 192));
		try_at("truncate_path", a, SC(SYS_truncate, a, 0));
		try_at("rename_from", a, SC(SYS_rename, a, "renamed"));
		try_at("chdir_path", a + 256, SC(SYS_chdir, a + 256));
		if (chdir("..") == 0)
			(void)!chdir("dir");
		try_at("rmdir_path", a + 64, SC(SYS_rmdir, a + 64));
		try_at("readlink_path", a + 192, SC(SYS_readlink, a + 192, buf, sizeof buf));
		try_at("stat_path", a + 192, SC(SYS_newfstatat, AT_FDCWD, a + 192, buf, AT_SYMLINK_NOFOLLOW));
	}
	out("DONE");
	return 0;
}
