// Attack: the guest makes its own symbolic links in its writable /tmp that
// point out: "/..//../SECRET", "../../..(many)/SECRET", the secret's
// directory, a link to "../../.." used as a prefix, a link through a volume
// ("VOL/../../..SECRET"), a link made with symlinkat relative to a
// directory descriptor; then loops (a <-> b, self), a chain of 45 links
// (Linux: ELOOP past 40) and an exponential "laughs" link (e12 -> e11 x8,
// ..., e0 -> "."), which a resolver that limits only the nesting depth
// would expand 8^12 times.
// argv: WORK SECRET VOLDIR.  Natively WORK is a host scratch directory (what
// a naive implementation's /tmp would be) and the escapes read the secret;
// under opsub WORK is /tmp and they must fail (ENOENT), the loops ELOOP.
#include "fsjail.h"

#define UP 24

static void mklink(const char *target, const char *work, const char *name)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", work, name);
	unlink(p);
	if (symlink(target, p) < 0)
		out("NOTE symlink %s failed: %s", name, ename(errno));
}

static void read_in(const char *rname, const char *work, const char *rel)
{
	char p[8192];
	snprintf(p, sizeof p, "%s/%s", work, rel);
	try_read(rname, p);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *work = argv[1], *secret = argv[2], *vol = argv[3];
	char t[8192], dir[4096];

	snprintf(t, sizeof t, "/..//../%s", secret + 1);
	mklink(t, work, "l_abs");
	read_in("link_abs_dotdot", work, "l_abs");

	mklink(dotdots(t, sizeof t, UP, secret), work, "l_rel");
	read_in("link_rel_dotdot", work, "l_rel");

	snprintf(dir, sizeof dir, "%s", secret);
	*strrchr(dir, '/') = 0;
	mklink(dir, work, "l_dir");
	read_in("link_dir", work, "l_dir/secret");

	mklink(dotdots(t, sizeof t, UP, ""), work, "l_up");
	snprintf(t, sizeof t, "l_up%s", secret);
	read_in("link_up_prefix", work, t);

	char v[8192];
	snprintf(v, sizeof v, "%s/%s", vol, dotdots(t, sizeof t, UP, secret));
	mklink(v, work, "l_vol");
	read_in("link_through_volume", work, "l_vol");

	int wfd = open(work, O_RDONLY | O_DIRECTORY);
	if (symlinkat(dotdots(t, sizeof t, UP, secret), wfd, "l_at") < 0)
		out("NOTE symlinkat failed: %s", ename(errno));
	try_read_at("symlinkat_rel", wfd, "l_at");

	/* loops: must be ELOOP, natively too */
	mklink("l_loop_b", work, "l_loop_a");
	mklink("l_loop_a", work, "l_loop_b");
	read_in("loop_pair", work, "l_loop_a");
	mklink("l_self", work, "l_self");
	read_in("loop_self", work, "l_self");
	read_in("loop_self_dir", work, "l_self/x");

	/* a chain of 45 links ending at a real file */
	snprintf(t, sizeof t, "%s/chain_end", work);
	int fd = open(t, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "chain-end\n", 10) != 10)
			out("NOTE write chain_end failed");
		close(fd);
	}
	for (int i = 0; i < 45; i++) {
		char name[32], target[32];
		snprintf(name, sizeof name, "l_chain%d", i);
		if (i == 44)
			snprintf(target, sizeof target, "chain_end");
		else
			snprintf(target, sizeof target, "l_chain%d", i + 1);
		mklink(target, work, name);
	}
	read_in("chain45", work, "l_chain0");
	read_in("chain5", work, "l_chain40");

	/* laughs: each level names the previous one 8 times */
	mklink(".", work, "e0");
	for (int i = 1; i <= 12; i++) {
		char name[16], target[128] = "";
		snprintf(name, sizeof name, "e%d", i);
		for (int k = 0; k < 8; k++) {
			char c[16];
			snprintf(c, sizeof c, "%se%d", k ? "/" : "", i - 1);
			strcat(target, c);
		}
		mklink(target, work, name);
	}
	double t0 = now();
	read_in("laughs", work, "e12/chain_end");
	out("NOTE laughs took %.3f s", now() - t0);
	out("DONE");
	return 0;
}
