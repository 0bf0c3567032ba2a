// Attack: make the host path argv[1] exist without open(): mkdir, mkdirat,
// symlink, symlinkat, link and rename (of a file the attack creates first).
// Natively: the path appears.
// Under opsub: path calls are denied (-EACCES) or unknown (-ENOSYS).
// variants: mkdir mkdirat symlink symlinkat link rename
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv), *path = argv[1];
	char src[512];
	long r;
	snprintf(src, sizeof(src), "%s.src", path);
	if (!strcmp(v, "link") || !strcmp(v, "rename")) {
		long fd = sc2(SYS_creat, src, 0644);   /* natively: a file to link/rename */
		note("creat of the source returned %ld", fd);
	}
	if (!strcmp(v, "mkdir"))
		r = sc2(SYS_mkdir, path, 0755);
	else if (!strcmp(v, "mkdirat"))
		r = sc3(SYS_mkdirat, AT_FDCWD, path, 0755);
	else if (!strcmp(v, "symlink"))
		r = sc2(SYS_symlink, "/etc/passwd", path);
	else if (!strcmp(v, "symlinkat"))
		r = sc3(SYS_symlinkat, "/etc/passwd", AT_FDCWD, path);
	else if (!strcmp(v, "link"))
		r = sc2(SYS_link, src, path);
	else
		r = sc2(SYS_rename, src, path);
	if (r == 0)
		escaped("%s made %s", v, path);
	else
		note("%s returned %ld", v, r);
	return 0;
}
