#include "fs/path.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

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

/* The rest of the walk goes to volume `index`: vpath gets the rest as
 * written (the kernel resolves it beneath the volume), canon its lexical
 * reading, with ".." stopping at the volume's root as the kernel's does. */
static int enter_volume(struct walk *k, unsigned index, struct fs_where *w)
{
	const char *rest = k->buf + k->pos;
	while (*rest == '/')
		rest++;
	if (strlen(rest) >= sizeof(w->vpath))
		return -ENAMETOOLONG;
	strcpy(w->vpath, *rest ? rest : ".");
	w->volume = (int)index;
	size_t root_len = strlen(w->canon);
	char name[MEMFS_NAME_MAX + 1];
	int r;
	while ((r = next_component(k, name)) > 0) {
		if (!strcmp(name, ".."))
			w->canon[strlen(w->canon) > root_len ? (size_t)(strrchr(w->canon, '/') - w->canon) : root_len] = 0;
		else if (strcmp(name, ".") && (r = canon_push(w->canon, name)))
			return r;
		strcpy(w->name, name);
	}
	if (!w->canon[0])
		strcpy(w->canon, "/");
	return r;
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
			w->dir = dir;
			w->node = node;
			return enter_volume(&k, node->volume, w);
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
	if (node && node->kind == MN_VOLUME) {
		w->dir = dir;
		w->node = node;
		return enter_volume(&k, node->volume, w);
	}
	w->dir = node == fs->mem.root ? node : dir;
	w->node = node;
	if (!w->canon[0])
		strcpy(w->canon, "/");
	if (node && (flags & PATH_MUST_DIR) && node->kind != MN_DIR && node->kind != MN_VOLUME)
		return -ENOTDIR;
	return 0;
}
