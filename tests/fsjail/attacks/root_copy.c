// Attack: change the host's image through the guest's root.
//   write  modify, truncate, append, delete, create, mkdir, rmdir, rename,
//          chmod, symlink in /data; write through "hl" (in the image dir a
//          hard link to a host file outside it), through "slink" (a link to
//          an absolute host path outside), "rlink" (a "../../.." link to
//          it) and "dlink/created" (a link to a host directory outside);
//          the guest must see its own writes (R ..._readback lines)
//   check  prints the tree under /data (type, mode, size, a hash of the
//          contents, link targets) and what "hl" holds
// argv: PHASE BASE.  Natively BASE is a copy of the image directory: the
// writes change it and the host files outside (the proof); under opsub BASE
// is "/": the host image and the outside files stay as they were, and a
// second guest on the same root sees the original (its check equals the
// native check of the untouched image).
#include "fsjail.h"

static char pb[8][4096];
static int pi;
static const char *P(const char *base, const char *name)
{
	char *b = pb[pi++ & 7];
	snprintf(b, 4096, "%s/%s", base, name);
	return b;
}

static void put(const char *name, const char *path, int flags, const char *text)
{
	int fd = open(path, flags, 0644);
	if (fd < 0) {
		out("OP %s ERR %s", name, ename(errno));
		return;
	}
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	if (n < 0)
		out("OP %s ERR %s", name, ename(errno));
	else
		out("OP %s OK", name);
}

static uint64_t fnv(const char *path)
{
	uint64_t h = 1469598103934665603ull;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	unsigned char b[4096];
	ssize_t n;
	while ((n = read(fd, b, sizeof b)) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ b[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static void walk(const char *path, const char *shown)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		out("T %s ERR %s", shown, ename(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		char t[4097];
		ssize_t n = readlink(path, t, 4096);
		t[n < 0 ? 0 : n] = 0;
		out("T %s link %o -> %s", shown, st.st_mode & 07777, t);
	} else if (S_ISREG(st.st_mode)) {
		out("T %s file %o %lld %016llx", shown, st.st_mode & 07777, (long long)st.st_size,
		    (unsigned long long)fnv(path));
	} else if (S_ISDIR(st.st_mode)) {
		out("T %s dir %o", shown, st.st_mode & 07777);
		DIR *d = opendir(path);
		struct dirent *e;
		char names[256][256];
		int n = 0;
		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < 256)
				snprintf(names[n++], 256, "%s", e->d_name);
		if (d)
			closedir(d);
		qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
		for (int i = 0; i < n; i++) {
			char p[4096], s[4096];
			snprintf(p, sizeof p, "%s/%s", path, names[i]);
			snprintf(s, sizeof s, "%s/%s", shown, names[i]);
			walk(p, s);
		}
	} else {
		out("T %s other %o", shown, st.st_mode);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *phase = argv[1], *b = argv[2];
	if (!strcmp(phase, "write")) {
		put("modify", P(b, "data/file"), O_WRONLY | O_TRUNC, "modified by the guest\n");
		try_read("modify_readback", P(b, "data/file"));
		put("append", P(b, "data/log"), O_WRONLY | O_APPEND, "appended\n");
		op("truncate", truncate(P(b, "data/big"), 3));
		op("unlink", unlink(P(b, "data/del")));
		try_read("unlink_readback", P(b, "data/del"));
		put("create", P(b, "data/new"), O_WRONLY | O_CREAT | O_EXCL, "new file\n");
		try_read("create_readback", P(b, "data/new"));
		op("mkdir", mkdir(P(b, "data/newdir"), 0755));
		op("rmdir", rmdir(P(b, "data/emptydir")));
		op("rename", rename(P(b, "data/ren"), P(b, "data/ren2")));
		op("chmod", chmod(P(b, "data/mode"), 0600));
		op("symlink", symlink("file", P(b, "data/newlink")));
		op("mkdir_top", mkdir(P(b, "topdir"), 0755));
		put("hardlink_out", P(b, "hl"), O_WRONLY | O_TRUNC, "PWNED through a hard link\n");
		try_read("hardlink_out_readback", P(b, "hl"));
		put("abs_link_out", P(b, "slink"), O_WRONLY | O_CREAT | O_TRUNC, "PWNED through an absolute link\n");
		put("rel_link_out", P(b, "rlink"), O_WRONLY | O_CREAT | O_TRUNC, "PWNED through a relative link\n");
		put("dir_link_out", P(b, "dlink/created"), O_WRONLY | O_CREAT | O_TRUNC, "PWNED through a dir link\n");
		op("dir_link_mkdir", mkdir(P(b, "dlink/createddir"), 0755));
		op("dir_link_unlink", unlink(P(b, "dlink/victim")));
	} else {
		walk(P(b, "data"), "data");
		walk(P(b, "topdir"), "topdir");
		try_read("hl", P(b, "hl"));
		walk(P(b, "slink"), "slink");
		walk(P(b, "rlink"), "rlink");
		walk(P(b, "dlink"), "dlink");
		walk(P(b, "self"), "self");
	}
	out("DONE");
	return 0;
}
