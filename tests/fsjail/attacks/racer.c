// Host-side helper of rename_race (never run under opsub): for SECONDS,
//   racer exchange A B SECONDS   renameat2(A, B, RENAME_EXCHANGE) in a loop
//                                (a directory and a symbolic link trade places)
//   racer move A B SECONDS       rename(A, B); rename(B, A) in a loop
//                                (a directory leaves the volume and comes back)
// then prints "COUNT swaps N".  Stops early on SIGTERM.
// native: helper
#include "fsjail.h"
#include <signal.h>

static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	signal(SIGTERM, on_term);
	const char *a = argv[2], *b = argv[3];
	double end = now() + atof(argv[4]);
	long n = 0;
	int exchange = !strcmp(argv[1], "exchange");
	while (!stop && now() < end) {
		if (exchange) {
			if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) < 0) {
				out("NOTE renameat2 failed: %s", ename(errno));
				return 1;
			}
		} else {
			if (rename(a, b) < 0 || rename(b, a) < 0) {
				out("NOTE rename failed: %s", ename(errno));
				return 1;
			}
		}
		n++;
	}
	out("COUNT swaps %ld", n);
	return 0;
}
