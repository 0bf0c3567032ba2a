// Attack (rename_race, guest side): while a host process (racer) changes the
// volume under it, open the same path again and again for SECONDS and count
// what comes back:
//   swap  BASE/d/secret: racer exchanges BASE/d (a directory holding a decoy
//         "secret") with a symbolic link to the host secret's directory
//         (absolute or "../../.." relative);
//   cwd   chdir(BASE/a/b), then open("../../secret"): racer moves BASE/a/b
//         out of the volume (next to the secret, one level down) and back;
//   fd    fd = open(BASE/a/b), then openat(fd, "../../secret"): same racer;
//   plain BASE/f: racer exchanges BASE/f (the decoy) with a FIFO or a device
//         node (/dev/zero's numbers): the monitor must never open either
//         (natively a FIFO blocks the opener for good, a device reads).
// Prints COUNT decoy/other/empty/err/iterations; the first read that is not the
// decoy is printed as an R line (natively: the secret's token).
// argv: MODE BASE SECONDS.  Natively BASE is the volume's host directory
// (what a naive implementation would open through); under opsub its guest
// path.  run.sh: natively the token must show within SECONDS; under opsub
// never, and the decoy must have been read (the race was really run).
#include "fsjail.h"

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *mode = argv[1], *base = argv[2];
	double end = now() + atof(argv[3]);
	long decoy = 0, other = 0, empty = 0, err = 0, it = 0;
	char p[4096], buf[256];
	int shown = 0;
	snprintf(p, sizeof p, "%s/d/secret", base);
	while (now() < end && it < 5000000) {
		it++;
		int fd = -1;
		if (!strcmp(mode, "swap")) {
			fd = open(p, O_RDONLY);
		} else if (!strcmp(mode, "plain")) {
			char f[4096];
			snprintf(f, sizeof f, "%s/f", base);
			fd = open(f, O_RDONLY);
		} else if (!strcmp(mode, "cwd")) {
			char b[4096];
			snprintf(b, sizeof b, "%s/a/b", base);
			if (chdir(b) == 0)
				fd = open("../../secret", O_RDONLY);
		} else if (!strcmp(mode, "fd")) {
			char b[4096];
			snprintf(b, sizeof b, "%s/a/b", base);
			int dfd = open(b, O_RDONLY | O_DIRECTORY);
			if (dfd >= 0) {
				fd = openat(dfd, "../../secret", O_RDONLY);
				close(dfd);
			}
		} else {
			return 2;
		}
		if (fd < 0) {
			err++;
			continue;
		}
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n < 0) {
			err++;
			continue;
		}
		buf[n] = 0;
		if (n == 0) {
			empty++;
		} else if (!strncmp(buf, "decoy", 5)) {
			decoy++;
		} else {
			other++;
			if (!shown++) {
				for (ssize_t i = 0; i < n; i++)
					if (buf[i] < 0x20 || buf[i] > 0x7e)
						buf[i] = '.';
				buf[strcspn(buf, "\n")] = 0;
				out("R race OK %s", buf);
			}
		}
	}
	out("COUNT decoy %ld", decoy);
	out("COUNT other %ld", other);
	out("COUNT empty %ld", empty);
	out("COUNT err %ld", err);
	out("COUNT iterations %ld", it);
	out("DONE");
	return 0;
}
