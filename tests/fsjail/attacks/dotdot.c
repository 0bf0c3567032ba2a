// Attack: climb out of the root (or out of a volume) with "..": a relative
// path of many "../", "/../../" before an absolute path, openat() with a
// directory descriptor and "..", openat(fd, "..") step by step, chdir("..")
// and fchdir() repeatedly, openat2() without RESOLVE flags, then a listing
// of what "/tmp" is up there.
// argv: START (directory to chdir to first) SECRET (absolute host path of
// the secret file).  Natively START is the image or volume directory on the
// host and every attempt reads the secret; under opsub START is "/" or the
// volume's guest path and every attempt must fail with ENOENT.
#include "fsjail.h"

#define UP 24

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *start = argv[1], *secret = argv[2];
	char p[8192];

	if (chdir(start) < 0) {
		out("NOTE chdir start failed: %s", ename(errno));
		return 1;
	}
	try_read("rel_dotdot", dotdots(p, sizeof p, UP, secret));
	snprintf(p, sizeof p, "/..//../../.%s", secret);
	try_read("abs_dotdot", p);
	snprintf(p, sizeof p, "./sub/../../../../../../../../../../../../../../../../..%s", secret);
	try_read("through_missing_dir", p);

	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		out("NOTE open . failed: %s", ename(errno));
	try_read_at("openat_dirfd", dfd, dotdots(p, sizeof p, UP, secret));

	/* openat(fd, "..") one level at a time, then the secret relative */
	int fd = dup(dfd);
	for (int i = 0; i < UP; i++) {
		int nfd = openat(fd, "..", O_RDONLY | O_DIRECTORY);
		if (nfd < 0) {
			out("NOTE openat .. failed: %s", ename(errno));
			break;
		}
		close(fd);
		fd = nfd;
	}
	try_read_at("openat_dotdot_chain", fd, secret + 1);
	if (fchdir(fd) < 0)
		out("NOTE fchdir failed: %s", ename(errno));
	try_read("fchdir_chain", secret + 1);
	close(fd);

	/* chdir("..") repeatedly from the start */
	if (chdir(start) < 0)
		out("NOTE chdir start failed: %s", ename(errno));
	for (int i = 0; i < UP; i++)
		if (chdir("..") < 0)
			out("NOTE chdir .. failed: %s", ename(errno));
	try_read("chdir_loop", secret + 1);

	/* openat2 with no RESOLVE_ flags, relative to the start */
	struct { uint64_t flags, mode, resolve; } how = {O_RDONLY, 0, 0};
	long r = syscall(437, dfd, dotdots(p, sizeof p, UP, secret), &how, sizeof how);
	report_fd("openat2_plain", (int)r);

	/* what is in "/tmp" up there: the secret's directory must not show */
	int ld = openat(dfd, dotdots(p, sizeof p, UP, "tmp"), O_RDONLY | O_DIRECTORY);
	if (ld < 0) {
		out("OP list_tmp ERR %s", ename(errno));
	} else {
		DIR *d = fdopendir(ld);
		struct dirent *e;
		int n = 0;
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, "fsjail-", 7)) {
				out("LS tmp %s", e->d_name);
				n++;
			}
		out("COUNT list_tmp_fsjail %d", n);
		if (d)
			closedir(d);
	}
	out("DONE");
	return 0;
}
