/*
 * Helper for tests/files/run.sh: how the guest's --tmp-size budget behaves
 * for one process, in /tmp.  Run as "space" under "opsub run --tmp-size 4M";
 * prints one line per step, which run.sh compares with what Linux's tmpfs
 * would do with a 4 MiB size:
 *   - 3 MiB fits; deleted, it can be written again (space comes back);
 *   - 5 MiB in one go stops short with a partial count, the next write
 *     fails with ENOSPC;
 *   - a deleted file still open keeps its space until it is closed;
 *   - shrinking with ftruncate gives space back.
 * Natively (no limit) it prints something else: run.sh does not compare it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024L * 1024L)

static char chunk[64 * 1024];

/* Writes up to `len` bytes in 64 KiB chunks; returns what was written, sets *err to the errno that stopped it. */
static long fill(int fd, long len, int *err)
{
	long done = 0;
	*err = 0;
	while (done < len) {
		long n = len - done < (long)sizeof chunk ? len - done : (long)sizeof chunk;
		ssize_t w = write(fd, chunk, (size_t)n);
		if (w < 0) {
			*err = errno;
			break;
		}
		done += w;
		if (w < n) { /* short: the next write tells why */
			w = write(fd, chunk, 1);
			*err = w < 0 ? errno : 0;
			break;
		}
	}
	return done;
}

static const char *en(int e)
{
	return e == 0 ? "ok" : e == ENOSPC ? "ENOSPC" : e == EFBIG ? "EFBIG" : strerror(e);
}

static void step(const char *what, const char *path, long len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("%s: open %s\n", what, en(errno));
		return;
	}
	int err;
	long n = fill(fd, len, &err);
	close(fd);
	printf("%s: %s%s\n", what, n == len ? "all" : n > 0 ? "partial" : "none", err ? (err == ENOSPC ? ", ENOSPC" : ", other error") : "");
}

int main(void)
{
	memset(chunk, 'z', sizeof chunk);
	step("write 3 MiB", "/tmp/a", 3 * MiB);
	printf("unlink: %s\n", unlink("/tmp/a") == 0 ? "ok" : en(errno));
	step("write 3 MiB again", "/tmp/b", 3 * MiB);
	printf("unlink: %s\n", unlink("/tmp/b") == 0 ? "ok" : en(errno));
	step("write 5 MiB", "/tmp/c", 5 * MiB);
	printf("unlink: %s\n", unlink("/tmp/c") == 0 ? "ok" : en(errno));

	int fd = open("/tmp/held", O_RDWR | O_CREAT | O_TRUNC, 0644);
	int err;
	long n = fill(fd, 3 * MiB, &err);
	printf("held file 3 MiB: %s\n", n == 3 * MiB ? "all" : "short");
	printf("unlink while open: %s\n", unlink("/tmp/held") == 0 ? "ok" : en(errno));
	step("write 3 MiB while the deleted file is open", "/tmp/d", 3 * MiB);
	unlink("/tmp/d");
	char back[16];
	printf("the deleted file is still readable: %s\n", pread(fd, back, sizeof back, MiB) == (ssize_t)sizeof back && back[0] == 'z' ? "yes" : "no");
	printf("ftruncate it to 0: %s\n", ftruncate(fd, 0) == 0 ? "ok" : en(errno));
	step("write 3 MiB after shrinking it", "/tmp/e", 3 * MiB);
	unlink("/tmp/e");
	close(fd);
	step("write 3 MiB after closing it", "/tmp/f", 3 * MiB);
	unlink("/tmp/f");
	return 0;
}
