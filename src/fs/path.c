#include "fs/path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/volume.h"

#define MAX_LINKS 40

/* The rest of a path still to walk: text in buf from pos. */
struct walk {
	char buf[2 * FS_PATH_MAX];
	size_t pos;
};

/* Takes the next component into name: 1, 0 at the end, or -ENAMETOOLONG. */
static int next_component(struct walk *k, char name[MEMFS_NAME_MAX + 1])
{
	while (k->buf[k->pos] == '/')
		k->pos++;
	if (!k->buf[k->pos])
		return 0;
	size_t len = strcspn(k->buf + k->pos, "/");
	if (len > MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, k->buf + k->pos, len);
	name[len] = 0;
	k->pos += len;
	return 1;
}

static bool at_end(const struct walk *k)
{
	size_t p = k->pos;
	while (k->buf[p] == '/')
		p++;
	return !k->buf[p];
}

/* Replaces what has been walked by `target`, followed by the rest. */
static int splice_link(struct walk *k, const char *target)
{
	size_t tlen = strlen(target), rest = strlen(k->buf + k->pos);
	if (tlen + 1 + rest + 1 > sizeof(k->buf))
		return -ENAMETOOLONG;
	memmove(k->buf + tlen + 1, k->buf + k->pos, rest + 1);
	memcpy(k->buf, target, tlen);
	k->buf[tlen] = '/';
	if (!rest)
		k->buf[tlen] = 0;
	k->pos = 0;
	return 0;
}

static int canon_push(char *canon, const char *name)
{
	size_t len = strlen(canon), nlen = strlen(name);
	if (len + 1 + nlen >= FS_PATH_MAX)
		return -ENAMETOOLONG;
	canon[len] = '/';
	memcpy(canon + len + 1, name, nlen + 1);
	return 0;
}

static void canon_pop(char *canon)
{
	char *slash = strrchr(canon, '/');
	if (slash)
		*slash = 0;
}

/* Whether a component of path is "..". */
static bool has_dotdot(const char *path)
{
	for (const char *c = path; *c;) {
		while (*c == '/')
			c++;
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return true;
		c += len;
	}
	return false;
}

/* The rest of the walk in the volume whose mount point `vol` (in directory
 * `parent`) the walk has reached.  A rest without ".." whose lookup meets
 * no link (RESOLVE_NO_SYMLINKS) goes to the kernel whole, as the guest
 * wrote it (w->vpath).  Otherwise it is walked a component at a time: a
 * link's target is walked in the guest's tree, an absolute one from the
 * guest's root, a relative one from the link's directory, and ".." at the
 * volume's root leaves the volume, as on Linux (the kernel's
 * RESOLVE_IN_ROOT would keep both inside the volume's directory, so that
 * Debian's /usr/lib/x86_64-linux-gnu/libclang-cpp.so.14, a link to
 * ../llvm-14/lib/..., was not there).  Nothing leaves the guest's tree: a
 * target is only ever looked up in it.  Returns 0 when the walk ends in the
 * volume (w filled), 1 when it goes on in the memfs tree from *at (k and
 * w->canon updated), or -errno. */
static int volume_walk(const struct guest_fs *fs, struct walk *k, const struct mnode *vol, struct mnode *parent,
                       unsigned flags, unsigned *links, struct fs_where *w, struct mnode **at)
{
	static char vrel[FS_PATH_MAX], target[FS_PATH_MAX];   /* one guest thread, as k */
	int vfd = fs->volume_fd[vol->volume];
	const char *rest = k->buf + k->pos;
	while (*rest == '/')
		rest++;
	if (strlen(rest) >= sizeof(w->vpath))
		return -ENAMETOOLONG;
	w->volume = (int)vol->volume;
	char name[MEMFS_NAME_MAX + 1];
	struct stat st;
	int r;
	if (!has_dotdot(rest)) {
		r = volume_lstat(vfd, *rest ? rest : ".", &st, NULL, 0);
		if (r != -ELOOP && !(r == 0 && S_ISLNK(st.st_mode) && (flags & PATH_FOLLOW))) {
			strcpy(w->vpath, *rest ? rest : ".");
			while ((r = next_component(k, name)) > 0) {
				if (strcmp(name, ".") && (r = canon_push(w->canon, name)))
					return r;
				strcpy(w->name, name);
			}
			return r;
		}
	}
	vrel[0] = 0;   /* the walk's place beneath the volume: no link, no ".." */
	while ((r = next_component(k, name)) > 0) {
		bool last = at_end(k);
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			canon_pop(w->canon);
			strcpy(w->name, name);
			char *slash = strrchr(vrel, '/');
			if (slash) {
				*slash = 0;
			} else if (vrel[0]) {
				vrel[0] = 0;
			} else {   /* out of the volume, to the directory it is in */
				w->volume = -1;
				*at = parent;
				return 1;
			}
			continue;
		}
		size_t len = strlen(vrel);
		if ((size_t)snprintf(vrel + len, sizeof(vrel) - len, len ? "/%s" : "%s", name) >= sizeof(vrel) - len)
			return -ENAMETOOLONG;
		r = volume_lstat(vfd, vrel, &st, target, sizeof(target));
		if (r == -ENOENT && last)
			st.st_mode = 0;   /* a free name: what it may become is the caller's */
		else if (r)
			return r;
		if (S_ISLNK(st.st_mode) && (!last || (flags & PATH_FOLLOW))) {
			vrel[len] = 0;   /* on from the link's directory */
			if (++*links > MAX_LINKS)
				return -ELOOP;
			if ((r = splice_link(k, target)))
				return r;
			if (target[0] == '/') {
				w->canon[0] = 0;
				w->volume = -1;
				*at = fs->mem.root;
				return 1;
			}
			continue;
		}
		if ((r = canon_push(w->canon, name)))
			return r;
		strcpy(w->name, name);
		if (!last && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	if (r < 0)
		return r;
	/* a trailing slash still asks the kernel for a directory */
	if ((size_t)snprintf(w->vpath, sizeof(w->vpath), "%s%s", vrel[0] ? vrel : ".", w->trailing_slash ? "/" : "") >=
	    sizeof(w->vpath))
		return -ENAMETOOLONG;
	return 0;
}

/* A name in /proc/self/fd: a descriptor's number as /proc writes it (no
 * sign, no leading zero), which ends the walk; any other name is not there. */
static int descriptor_name(struct walk *k, const char *name, struct fs_where *w)
{
	long fd = 0;
	for (const char *c = name; *c; c++) {
		if (*c < '0' || *c > '9' || (c == name && *c == '0' && c[1]))
			return -ENOENT;
		if ((fd = fd * 10 + (*c - '0')) > INT_MAX)
			return -ENOENT;
	}
	w->fd = (int)fd;
	strcpy(w->name, name);
	int r = canon_push(w->canon, name);
	return r ? r : at_end(k) ? 0 : -ENOTDIR;
}

int fs_resolve(const struct guest_fs *fs, const char *base, const char *path, unsigned flags, struct fs_where *w)
{
	static struct walk k;   /* one guest thread: too large for the gate's stack */
	w->fd = -1;
	size_t blen = strlen(base), plen = strlen(path);
	if (!plen)
		return -ENOENT;
	if (plen >= FS_PATH_MAX)
		return -ENAMETOOLONG;
	if (path[0] == '/') {
		memcpy(k.buf, path, plen + 1);
	} else {
		memcpy(k.buf, base, blen);
		k.buf[blen] = '/';
		memcpy(k.buf + blen + 1, path, plen + 1);
	}
	k.pos = 0;
	w->trailing_slash = path[plen - 1] == '/';
	if (w->trailing_slash)
		flags |= PATH_FOLLOW | PATH_MUST_DIR;
	w->volume = -1;
	w->node = NULL;
	w->canon[0] = 0;
	w->name[0] = 0;
	struct mnode *dir = fs->mem.root, *node = dir;
	unsigned links = 0;
	char name[MEMFS_NAME_MAX + 1];
	int r;
	while ((r = next_component(&k, name)) > 0) {
		if (node->kind == MN_VOLUME) {
			k.pos -= strlen(name);
			struct mnode *at = NULL;
			if ((r = volume_walk(fs, &k, node, dir, flags, &links, w, &at)) <= 0) {
				w->dir = dir;
				w->node = node;
				return r;
			}
			node = at;   /* on in the tree */
			dir = memfs_lookup(at, "..");
			continue;
		}
		if (node->kind != MN_DIR)
			return -ENOTDIR;
		dir = node;
		if (dir == fs->fd_dir && strcmp(name, ".") && strcmp(name, "..")) {
			w->dir = dir;
			return descriptor_name(&k, name, w);
		}
		bool last = at_end(&k);
		node = memfs_lookup(dir, name);
		if (!node) {
			if (!last)
				return -ENOENT;
			strcpy(w->name, name);
			if ((r = canon_push(w->canon, name)))
				return r;
			break;
		}
		if (node->kind == MN_LINK && (!last || (flags & PATH_FOLLOW))) {
			if (++links > MAX_LINKS)
				return -ELOOP;
			if ((r = splice_link(&k, node->link)))
				return r;
			if (node->link[0] == '/') {
				w->canon[0] = 0;
				dir = fs->mem.root;
			}
			node = dir;
			continue;
		}
		if (!strcmp(name, ".."))
			canon_pop(w->canon);
		else if (strcmp(name, ".") && (r = canon_push(w->canon, name)))
			return r;
		strcpy(w->name, name);
	}
	if (r < 0)
		return r;
	if (node && node->kind == MN_VOLUME) {   /* the mount point itself */
		w->dir = dir;
		w->node = node;
		w->volume = (int)node->volume;
		strcpy(w->vpath, ".");
		return 0;
	}
	w->dir = node == fs->mem.root ? node : dir;
	w->node = node;
	if (!w->canon[0])
		strcpy(w->canon, "/");
	if (node && (flags & PATH_MUST_DIR) && node->kind != MN_DIR && node->kind != MN_VOLUME)
		return -ENOTDIR;
	return 0;
}
