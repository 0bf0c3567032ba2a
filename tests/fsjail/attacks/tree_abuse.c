// Attack: corrupt the monitor's own tree (a cycle, a lost mount point, a
// tree too deep to free) so that it loops, crashes or frees twice.
//   cycle   rename a directory into its own subdirectory (directly, through
//           "..", through a link), over its parent, "/" and "." and "..";
//           rmdir "/", the cwd, a non-empty directory; then walk the tree
//           (a cycle would never end) and print what each call returned
//   mount   rename, rmdir, unlink the volume's mount point, rename over it,
//           rename the directory holding it; the volume must still read
//   deep    a chain of directories as deep as it goes (mkdirat + openat,
//           up to CAP), a walk down by path, rename of the top, exit (a
//           recursive free of 30000 levels on a small stack would crash)
// argv: VARIANT WORK [VOL] [CAP].  Natively WORK is a host scratch directory
// and the OP lines are Linux's answers: under opsub they must be the same
// (run.sh compares them), the walk must end and opsub must exit cleanly.
#include "fsjail.h"

static char pb[8][4096];
static int pi;
static const char *P(const char *base, const char *name)
{
	char *b = pb[pi++ & 7];
	snprintf(b, 4096, "%s/%s", base, name);
	return b;
}

static long nodes;
static void walk(int dfd, int depth)
{
	if (depth > 200) {
		out("NOTE walk deeper than 200: a cycle?");
		return;
	}
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		nodes++;
		int c = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (c >= 0)
			walk(c, depth + 1);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *v = argv[1], *w = argv[2];
	if (!strcmp(v, "cycle")) {
		mkdir(P(w, "a"), 0755);
		mkdir(P(w, "a/b"), 0755);
		mkdir(P(w, "a/b/c"), 0755);
		mkdir(P(w, "e"), 0755);
		int fd = open(P(w, "a/b/c/f"), O_CREAT | O_WRONLY, 0644);
		close(fd);
		symlink("a/b", P(w, "lb"));
		op("into_own_child", rename(P(w, "a"), P(w, "a/b/c/d")));
		op("into_self", rename(P(w, "a"), P(w, "a/x")));
		op("into_child_dotdot", rename(P(w, "a"), P(w, "a/b/../b/c/d")));
		op("into_child_via_link", rename(P(w, "a"), P(w, "lb/c/d")));
		op("onto_self", rename(P(w, "a/b"), P(w, "a/b")));
		op("child_over_parent", rename(P(w, "a/b/c"), P(w, "a")));
		op("parent_over_child", rename(P(w, "a"), P(w, "a/b/c")));
		op("dir_over_nonempty", rename(P(w, "e"), P(w, "a")));
		op("dir_over_file", rename(P(w, "e"), P(w, "a/b/c/f")));
		op("file_over_dir", rename(P(w, "a/b/c/f"), P(w, "e")));
		op("rename_dot", rename(P(w, "a/."), P(w, "dot")));
		op("rename_dotdot", rename(P(w, "a/b/.."), P(w, "dotdot")));
		op("rename_root", rename("/", P(w, "root")));
		op("rename_to_root", rename(P(w, "e"), "/"));
		op("rmdir_root", rmdir("/"));
		op("rmdir_dot", rmdir(P(w, "a/b/c/.")));
		op("rmdir_nonempty", rmdir(P(w, "a")));
		op("unlink_dir", unlink(P(w, "a")));
		op("link_dir", link(P(w, "a"), P(w, "a2")));
		op("exchange_parent_child", syscall(SYS_renameat2, AT_FDCWD, P(w, "a"), AT_FDCWD, P(w, "a/b"), 2));
		/* rmdir of the cwd, then use it */
		op("mkdir_gone", mkdir(P(w, "gone"), 0755));
		op("chdir_gone", chdir(P(w, "gone")));
		op("rmdir_cwd", rmdir(P(w, "gone")));
		op("create_in_removed_cwd", open("x", O_CREAT | O_WRONLY, 0644));
		op("mkdir_in_removed_cwd", mkdir("y", 0755));
		op("chdir_back", chdir(w));
		/* a directory removed while a descriptor holds it */
		mkdir(P(w, "held"), 0755);
		int hfd = open(P(w, "held"), O_RDONLY | O_DIRECTORY);
		op("rmdir_held", rmdir(P(w, "held")));
		op("create_in_removed_held", openat(hfd, "x", O_CREAT | O_WRONLY, 0644));
		op("mkdirat_in_removed_held", mkdirat(hfd, "y", 0755));
		/* a moved directory keeps its descriptor */
		mkdir(P(w, "mv1"), 0755);
		int mfd = open(P(w, "mv1"), O_RDONLY | O_DIRECTORY);
		op("rename_held", rename(P(w, "mv1"), P(w, "a/mv2")));
		op("create_in_moved", openat(mfd, "inside", O_CREAT | O_WRONLY, 0644));
		op("moved_file_seen", open(P(w, "a/mv2/inside"), O_RDONLY));
		op("dotdot_of_moved", openat(mfd, "../b/c/f", O_RDONLY));
		nodes = 0;
		walk(open(w, O_RDONLY | O_DIRECTORY), 0);
		out("COUNT nodes %ld", nodes);
	} else if (!strcmp(v, "mount")) {
		const char *vol = argc > 3 ? argv[3] : "/vol";
		char parent[4096];
		snprintf(parent, sizeof parent, "%s", vol);
		*strrchr(parent, '/') = 0;
		mkdir(P(w, "m"), 0755);
		op("rename_mount", rename(vol, P(w, "m/v")));
		op("rmdir_mount", rmdir(vol));
		op("unlink_mount", unlink(vol));
		op("rename_over_mount", rename(P(w, "m"), vol));
		op("exchange_mount", syscall(SYS_renameat2, AT_FDCWD, P(w, "m"), AT_FDCWD, vol, 2));
		op("symlink_over_mount", symlink("/tmp", vol));
		if (parent[0])
			op("rename_mount_parent", rename(parent, P(w, "m/p")));
		try_read("still_reads", P(vol, "hello"));
	} else if (!strcmp(v, "deep")) {
		long cap = argc > 3 ? atol(argv[3]) : 30000, depth = 0;
		int dfd = open(w, O_RDONLY | O_DIRECTORY), err = 0;
		if (mkdirat(dfd, "deep", 0755) < 0 || (dfd = openat(dfd, "deep", O_RDONLY | O_DIRECTORY)) < 0) {
			out("NOTE deep failed: %s", ename(errno));
			return 1;
		}
		while (depth < cap) {
			if (mkdirat(dfd, "d", 0755) < 0) {
				err = errno;
				break;
			}
			int n = openat(dfd, "d", O_RDONLY | O_DIRECTORY);
			if (n < 0) {
				err = errno;
				break;
			}
			close(dfd);
			dfd = n;
			depth++;
		}
		out("COUNT depth %ld", depth);
		out("OP fill %s %s", err ? "ERR" : "OK", err ? ename(err) : "");
		op("file_at_bottom", openat(dfd, "bottom", O_CREAT | O_WRONLY, 0644));
		/* a long relative path down, with chdir in steps of 500 */
		op("chdir_top", chdir(P(w, "deep")));
		char path[1100];
		long steps = 0;
		for (int i = 0; i < 500; i++)
			memcpy(path + 2 * i, "d/", 2);
		path[999] = 0;
		while (steps + 500 <= depth && chdir(path) == 0)
			steps += 500;
		out("COUNT chdir_levels %ld", steps);
		char cwd[256];
		op("getcwd_deep", getcwd(cwd, sizeof cwd) ? 0 : -1);
		op("chdir_back", chdir(w));
		op("rename_top", rename(P(w, "deep"), P(w, "deep2")));
		op("rmdir_top_nonempty", rmdir(P(w, "deep2")));
	} else if (!strcmp(v, "nest")) {
		/* deeper than any path: chains of 1000 levels (paths of 2000
		 * bytes), each old tree renamed into the bottom of a new chain */
		long cap = argc > 3 ? atol(argv[3]) : 100000, depth = 0;
		int err = 0;
		char path[4096];
		while (depth < cap && !err) {
			int len = snprintf(path, sizeof path, "%s/n", w);
			if (mkdir(path, 0755) < 0) {
				err = errno;
				break;
			}
			for (int i = 0; i < 1000; i++) {
				memcpy(path + len, "/d", 3);
				len += 2;
				if (mkdir(path, 0755) < 0) {
					err = errno;
					break;
				}
			}
			if (err)
				break;
			if (depth) {
				memcpy(path + len, "/t", 3);
				if (rename(P(w, "top"), path) < 0) {
					err = errno;
					break;
				}
			}
			if (rename(P(w, "n"), P(w, "top")) < 0) {
				err = errno;
				break;
			}
			depth += 1001;
		}
		out("COUNT depth %ld", depth);
		out("OP fill %s %s", err ? "ERR" : "OK", err ? ename(err) : "");
		/* the tree stays for the exit to free */
	} else {
		return 2;
	}
	out("DONE");
	return 0;
}
