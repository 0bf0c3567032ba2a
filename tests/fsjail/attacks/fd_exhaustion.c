// Attack: open descriptors until the limit and push the monitor past its
// own: the same PATH opened again and again (a memfs file, a volume file,
// a volume directory), or dup() of one descriptor, until an error or CAP;
// PAUSE (run.sh counts the monitor's host descriptors while the guest holds
// all of them); then the edges: dup2/dup3/F_DUPFD to 1023, 1024, 1<<20, a
// reopen after one close, read/close of absurd numbers; close all; DONE.
// argv: MODE PATH CAP (MODE: open | dir | dup).  Natively (ulimit -n above
// CAP) CAP descriptors are opened: the host has no limit of 1024 for it;
// under opsub the guest gets EMFILE at about 1021 and opsub stays whole.
#include "fsjail.h"

static int fds[1 << 16];

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *mode = argv[1], *path = argv[2];
	long cap = atol(argv[3]);
	if (cap > (long)(sizeof fds / sizeof *fds))
		cap = sizeof fds / sizeof *fds;
	int flags = O_RDONLY, err = 0;
	if (!strcmp(mode, "dir"))
		flags |= O_DIRECTORY;
	if (!strcmp(mode, "create"))
		flags = O_RDWR | O_CREAT;
	int first = open(path, flags, 0644);
	if (first < 0) {
		out("NOTE first open failed: %s", ename(errno));
		return 1;
	}
	long n = 0;
	fds[n++] = first;
	while (n < cap) {
		int fd = !strcmp(mode, "dup") ? dup(first) : open(path, flags, 0644);
		if (fd < 0) {
			err = errno;
			break;
		}
		fds[n++] = fd;
	}
	out("COUNT opened %ld", n);
	out("OP fill %s %s", err ? "ERR" : "OK", err ? ename(err) : "");
	int maxfd = 0;
	for (long i = 0; i < n; i++)
		if (fds[i] > maxfd)
			maxfd = fds[i];
	out("COUNT maxfd %d", maxfd);
	pause_here();

	if (err) {
		/* at the limit: one more of each kind must fail, not crash */
		op("again_open", open(path, flags, 0644));
		op("again_dup", dup(first));
		int pfd[2];
		op("again_pipe", pipe(pfd));
		/* free one, reopen */
		close(fds[n - 1]);
		long r = op("reopen_after_close", open(path, flags, 0644));
		if (r >= 0)
			fds[n - 1] = (int)r;
	}
	op("dup2_1024", dup2(first, 1024));
	op("dup2_1m", dup2(first, 1 << 20));
	op("dup3_neg", syscall(SYS_dup3, first, -5, 0));
	op("fcntl_dupfd_1024", fcntl(first, F_DUPFD, 1024));
	op("fcntl_dupfd_2g", fcntl(first, F_DUPFD, 0x7fffffff));
	char c;
	op("read_1m", read(1 << 20, &c, 1));
	op("read_neg", read(-2, &c, 1));
	op("close_1m", close(1 << 20));
	op("close_intmax", close(0x7fffffff));
	for (long i = 0; i < n; i++)
		close(fds[i]);
	op("dup2_1023_after", dup2(0, 1023));
	close(1023);
	long r = op("open_after_all_closed", open(path, flags, 0644));
	if (r >= 0)
		close((int)r);
	out("DONE");
	return 0;
}
