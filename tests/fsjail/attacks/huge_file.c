// Attack: fill the guest's writable file system past --tmp-size and make
// the monitor hold more host memory than the budget.
//   write      one file, 64 KiB, then 4 KiB, then 1-byte writes, until an
//              error or CAP bytes
//   unlinked   4 MiB files unlinked while open (their data still held),
//              until an error or CAP bytes
//   truncate   ftruncate to 9 MiB, 1 TiB, 1 TiB + 4 KiB, 2^62; pwrite at
//              1 TiB - 1 and at 1 TiB; fallocate 16 MiB
//   files      empty files until an error or CAP of them
//   dirs       directories, likewise
//   longnames  empty files with 255-byte names
//   symlinks   links with 4095-byte targets
//   hardlinks  hard links with short names (hex numbers) to one file: a
//              name costs memory (its copy, its directory entry) like a node
//   refund     unlink ARGV[4] (a big file of the image), then as write
//   none       nothing (the baseline of the memory measurement)
// then PAUSE (run.sh reads the monitor's VmRSS while the guest holds it
// all), then DONE.
// argv: VARIANT DIR CAP.  Natively DIR is a host scratch directory: CAP is
// reached without an error (the host has no such limit: the proof);
// under opsub (--tmp-size 8M) the guest gets ENOSPC (EFBIG for the huge
// sizes) well before CAP, and the monitor's memory stays bounded.
#include "fsjail.h"

static char name255[256];

static const char *longname(long i)
{
	memset(name255, 'n', 255);
	name255[255] = 0;
	char num[24];
	int k = snprintf(num, sizeof num, "%ld", i);
	memcpy(name255, num, k);
	return name255;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *v = argv[1], *dir = argv[2];
	long long cap = atoll(argv[3]);
	long long count = 0;
	int err = 0;
	char p[8192];
	if (chdir(dir) < 0) {
		out("NOTE chdir failed: %s", ename(errno));
		return 1;
	}
	if (!strcmp(v, "refund")) {
		/* the image's own files are not the guest's writes: deleting
		 * one must not make room for more than the budget */
		op("unlink_image_file", argc > 4 ? unlink(argv[4]) : -1);
		v = "write";
	}
	if (!strcmp(v, "write")) {
		/* 64 KiB writes until the first error, then 4 KiB, then single
		 * bytes: every byte the budget allows */
		static char chunk[65536];
		memset(chunk, 'w', sizeof chunk);
		int fd = open("big", O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0) {
			out("NOTE open big failed: %s", ename(errno));
			return 1;
		}
		static const size_t sizes[] = {65536, 4096, 1};
		for (int k = 0; k < 3 && count < cap; k++) {
			err = 0;
			while (count < cap) {
				size_t len = sizes[k];
				if ((long long)len > cap - count)
					len = cap - count;
				ssize_t n = write(fd, chunk, len);
				if (n <= 0) {
					err = n < 0 ? errno : EIO;
					break;
				}
				count += n;
			}
		}
		out("COUNT written %lld", count);
		out("OP fill %s %s", err ? "ERR" : "OK", err ? ename(err) : "");
		close(fd);
	} else if (!strcmp(v, "unlinked")) {
		/* files written to 4 MiB, unlinked while still open: the budget
		 * must still count them (their bytes are still held) */
		static char chunk[65536];
		memset(chunk, 'u', sizeof chunk);
		for (int i = 0; count < cap && !err; i++) {
			snprintf(p, sizeof p, "u%d", i);
			int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
			if (fd < 0) {
				err = errno;
				break;
			}
			for (long long f = 0; f < (4 << 20) && count < cap; f += sizeof chunk) {
				ssize_t n = write(fd, chunk, sizeof chunk);
				if (n <= 0) {
					err = n < 0 ? errno : EIO;
					break;
				}
				count += n;
			}
			if (unlink(p) < 0)
				out("NOTE unlink failed: %s", ename(errno));
			/* fd stays open */
		}
		out("COUNT written %lld", count);
		out("OP fill %s %s", err ? "ERR" : "OK", err ? ename(err) : "");
	} else if (!strcmp(v, "truncate")) {
		int fd = open("sparse", O_CREAT | O_RDWR | O_TRUNC, 0644);
		if (fd < 0) {
			out("NOTE open sparse failed: %s", ename(errno));
			return 1;
		}
		op("trunc_9m", ftruncate(fd, 9ll << 20));
		op("trunc_1t", ftruncate(fd, 1ll << 40));
		op("trunc_1t_4k", ftruncate(fd, (1ll << 40) + 4096));
		op("trunc_2p62", ftruncate(fd, 1ll << 62));
		op("trunc_0", ftruncate(fd, 0));
		op("pwrite_1t_minus_1", pwrite(fd, "x", 1, (1ll << 40) - 1));
		op("pwrite_1t", pwrite(fd, "x", 1, 1ll << 40));
		op("trunc_0b", ftruncate(fd, 0));
		op("lseek_write_100g", lseek(fd, 100ll << 30, SEEK_SET) < 0 ? -1 : write(fd, "x", 1));
		op("trunc_0c", ftruncate(fd, 0));
		op("fallocate_16m", fallocate(fd, 0, 0, 16ll << 20));
		op("truncate_path_1t", truncate("sparse", 1ll << 40));
		struct stat st;
		if (fstat(fd, &st) == 0)
			out("COUNT final_size %lld", (long long)st.st_size);
		close(fd);
	} else if (!strcmp(v, "symlinks")) {
		static char target[4096];
		memset(target, 't', 4095);
		while (count < cap) {
			snprintf(p, sizeof p, "s%lld", count);
			if (symlink(target, p) < 0) {
				err = errno;
				break;
			}
			count++;
		}
	} else if (!strcmp(v, "hardlinks")) {
		int fd = open("target", O_CREAT | O_WRONLY, 0644);
		if (fd < 0) {
			out("NOTE open target failed: %s", ename(errno));
			return 1;
		}
		close(fd);
		while (count < cap) {
			snprintf(p, sizeof p, "%llx", count);
			if (link("target", p) < 0) {
				err = errno;
				break;
			}
			count++;
		}
	} else if (!strcmp(v, "files") || !strcmp(v, "dirs") || !strcmp(v, "longnames")) {
		while (count < cap) {
			const char *name = p;
			if (v[0] == 'l')
				name = longname(count);
			else
				snprintf(p, sizeof p, "%c%lld", v[0], count);
			int r;
			if (v[0] == 'd') {
				r = mkdir(name, 0755);
			} else {
				r = open(name, O_CREAT | O_WRONLY | O_EXCL, 0644);
				if (r >= 0)
					close(r);
			}
			if (r < 0) {
				err = errno;
				break;
			}
			count++;
		}
	} else if (strcmp(v, "none")) {
		return 2;
	}
	if (strcmp(v, "write") && strcmp(v, "unlinked") && strcmp(v, "truncate") && strcmp(v, "none")) {
		out("COUNT made %lld", count);
		out("OP fill %s %s", err ? "ERR" : "OK", err ? ename(err) : "");
	}
	pause_here();
	out("DONE");
	return 0;
}
