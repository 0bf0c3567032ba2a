#include "fs/memfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>

int memfs_charge(struct memfs *fs, uint64_t n)
{
	if (fs->limit && (n > fs->limit || fs->bytes > fs->limit - n))
		return -ENOSPC;
	fs->bytes += n;
	return 0;
}

void memfs_uncharge(struct memfs *fs, uint64_t n) { fs->bytes -= n; }

void memfs_touch(struct mnode *n, bool modified)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	n->atime = now;
	if (modified)
		n->mtime = n->ctime = now;
}

static struct mnode *node_new(struct memfs *fs, enum mnode_kind kind, uint32_t mode)
{
	if (memfs_charge(fs, MEMFS_NODE_COST)) {
		errno = ENOSPC;
		return NULL;
	}
	struct mnode *n = calloc(1, sizeof(*n));
	if (!n) {
		memfs_uncharge(fs, MEMFS_NODE_COST);
		errno = ENOMEM;
		return NULL;
	}
	n->kind = kind;
	n->mode = mode & 07777;
	n->ino = ++fs->next_ino;
	memfs_touch(n, true);
	return n;
}

/* Frees a node nobody names or holds open (a directory only when empty). */
static void node_free(struct memfs *fs, struct mnode *n)
{
	switch (n->kind) {
	case MN_DIR: free(n->dir.ent); break;
	case MN_FILE: memfs_uncharge(fs, n->file.cap); free(n->file.data); break;
	case MN_LINK: memfs_uncharge(fs, strlen(n->link) + 1); free(n->link); break;
	default: break;
	}
	memfs_uncharge(fs, MEMFS_NODE_COST);
	free(n);
}

int memfs_init(struct memfs *fs, uint64_t limit)
{
	memset(fs, 0, sizeof(*fs));
	fs->root = node_new(fs, MN_DIR, 0755);
	if (!fs->root)
		return -1;
	fs->root->dir.parent = fs->root;
	fs->root->nlink = 2;
	fs->limit = limit;
	return 0;
}

static void free_tree(struct memfs *fs, struct mnode *d)
{
	for (unsigned i = 0; i < d->dir.n; i++) {
		struct mnode *c = d->dir.ent[i].node;
		memfs_uncharge(fs, strlen(d->dir.ent[i].name) + 1 + MEMFS_ENTRY_COST);
		free(d->dir.ent[i].name);
		if (c->kind == MN_DIR)
			free_tree(fs, c);
		else if (--c->nlink == 0)
			node_free(fs, c);
	}
	d->dir.n = 0;
	node_free(fs, d);
}

void memfs_free(struct memfs *fs)
{
	if (fs->root)
		free_tree(fs, fs->root);
	fs->root = NULL;
}

/* ---- directories ----------------------------------------------------------- */

static struct mdirent *find(const struct mnode *dir, const char *name)
{
	for (unsigned i = 0; i < dir->dir.n; i++)
		if (!strcmp(dir->dir.ent[i].name, name))
			return &dir->dir.ent[i];
	return NULL;
}

struct mnode *memfs_lookup(const struct mnode *dir, const char *name)
{
	if (!strcmp(name, "."))
		return (struct mnode *)dir;
	if (!strcmp(name, ".."))
		return dir->dir.parent;
	struct mdirent *e = find(dir, name);
	return e ? e->node : NULL;
}

static int add_entry(struct memfs *fs, struct mnode *dir, const char *name, struct mnode *node)
{
	size_t len = strlen(name);
	if (len > MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (dir->dir.n == dir->dir.cap) {
		unsigned cap = dir->dir.cap ? dir->dir.cap * 2 : 8;
		struct mdirent *e = realloc(dir->dir.ent, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		dir->dir.ent = e;
		dir->dir.cap = cap;
	}
	if (memfs_charge(fs, len + 1 + MEMFS_ENTRY_COST))
		return -ENOSPC;
	char *copy = strdup(name);
	if (!copy) {
		memfs_uncharge(fs, len + 1 + MEMFS_ENTRY_COST);
		return -ENOMEM;
	}
	dir->dir.ent[dir->dir.n++] = (struct mdirent){++dir->dir.next_off, copy, node};
	fs->changes++;
	node->nlink++;
	if (node->kind == MN_DIR) {
		node->dir.parent = dir;
		dir->nlink++;
	}
	memfs_touch(dir, true);
	return 0;
}

/* Takes the entry out of dir; the node's link count drops, nothing is freed. */
static struct mnode *remove_entry(struct memfs *fs, struct mnode *dir, struct mdirent *e)
{
	struct mnode *node = e->node;
	fs->changes++;
	memfs_uncharge(fs, strlen(e->name) + 1 + MEMFS_ENTRY_COST);
	free(e->name);
	unsigned i = (unsigned)(e - dir->dir.ent);
	memmove(e, e + 1, (dir->dir.n - i - 1) * sizeof(*e));   /* keeps the readdir order */
	dir->dir.n--;
	node->nlink--;
	if (node->kind == MN_DIR)
		dir->nlink--;
	memfs_touch(dir, true);
	return node;
}

const struct mdirent *memfs_next(const struct mnode *dir, uint64_t after)
{
	unsigned lo = 0, hi = dir->dir.n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (dir->dir.ent[mid].off <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < dir->dir.n ? &dir->dir.ent[lo] : NULL;
}

struct mnode *memfs_create(struct memfs *fs, struct mnode *dir, const char *name, enum mnode_kind kind,
                           uint32_t mode, const char *link_target)
{
	struct mnode *n = node_new(fs, kind, mode);
	if (!n)
		return NULL;
	int r = 0;
	if (kind == MN_LINK) {
		size_t len = strlen(link_target) + 1;
		r = memfs_charge(fs, len);
		if (!r && !(n->link = strdup(link_target))) {
			memfs_uncharge(fs, len);
			r = -ENOMEM;
		}
		if (r) {
			n->kind = MN_DEV;   /* nothing of its own to free */
			node_free(fs, n);
			errno = -r;
			return NULL;
		}
	}
	if (kind == MN_DIR)
		n->nlink = 1;   /* its own "." */
	r = add_entry(fs, dir, name, n);
	if (r) {
		node_free(fs, n);
		errno = -r;
		return NULL;
	}
	return n;
}

int memfs_link(struct memfs *fs, struct mnode *dir, const char *name, struct mnode *node)
{
	if (node->kind == MN_DIR)
		return -EPERM;
	if (find(dir, name))
		return -EEXIST;
	int r = add_entry(fs, dir, name, node);
	if (!r)
		memfs_touch(node, true);
	return r;
}

void memfs_put(struct memfs *fs, struct mnode *node)
{
	if (node->opens)
		node->opens--;
	if (!node->opens && node->nlink == 0)
		node_free(fs, node);
}

int memfs_unlink(struct memfs *fs, struct mnode *dir, const char *name)
{
	struct mdirent *e = find(dir, name);
	if (!e)
		return -ENOENT;
	struct mnode *n = e->node;
	if (n->kind == MN_DIR && n->dir.n)
		return -ENOTEMPTY;
	remove_entry(fs, dir, e);
	if (n->kind == MN_DIR)
		n->nlink = 0;   /* its "." goes with it */
	if (n->nlink == 0 && !n->opens)
		node_free(fs, n);
	return 0;
}

static bool is_ancestor(const struct mnode *a, const struct mnode *d)
{
	for (;;) {
		if (d == a)
			return true;
		if (d->dir.parent == d)
			return false;
		d = d->dir.parent;
	}
}

int memfs_rename(struct memfs *fs, struct mnode *from_dir, const char *from, struct mnode *to_dir,
                 const char *to, unsigned flags)
{
	struct mdirent *src = find(from_dir, from);
	if (!src)
		return -ENOENT;
	struct mnode *n = src->node;
	struct mdirent *dst = find(to_dir, to);
	if (dst && dst->node == n)
		return 0;   /* the same file: nothing happens */
	if (dst && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (n->kind == MN_DIR && is_ancestor(n, to_dir))
		return -EINVAL;
	if (dst) {
		struct mnode *old = dst->node;
		if (n->kind == MN_DIR && old->kind != MN_DIR)
			return -ENOTDIR;
		if (n->kind != MN_DIR && old->kind == MN_DIR)
			return -EISDIR;
		if (old->kind == MN_DIR && old->dir.n)
			return -ENOTEMPTY;
	}
	if (strlen(to) > MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (dst) {
		/* the name now points at n: no allocation, so nothing can fail */
		struct mnode *old = dst->node;
		dst->node = n;
		n->nlink++;
		if (n->kind == MN_DIR) {
			to_dir->nlink++;
			n->dir.parent = to_dir;
		}
		old->nlink--;
		if (old->kind == MN_DIR) {
			to_dir->nlink--;
			old->nlink = 0;
		}
		if (old->nlink == 0 && !old->opens)
			node_free(fs, old);
		memfs_touch(to_dir, true);
		fs->changes++;
	} else {
		int r = add_entry(fs, to_dir, to, n);
		if (r)
			return r;
	}
	remove_entry(fs, from_dir, find(from_dir, from));   /* the array may have moved */
	n->ctime = to_dir->mtime;
	return 0;
}

/* ---- file data -------------------------------------------------------------- */

/* Makes room for `size` bytes, charging the capacity. */
static int reserve(struct memfs *fs, struct mnode *f, uint64_t size)
{
	if (size <= f->file.cap)
		return 0;
	if (size > MEMFS_FILE_MAX)
		return -EFBIG;
	uint64_t cap = f->file.cap ? f->file.cap : 4096;
	while (cap < size)
		cap = cap < (1ull << 20) ? cap * 2 : cap + (cap >> 2);
	if (memfs_charge(fs, cap - f->file.cap)) {
		cap = (size + 4095) & ~4095ull;   /* the budget may still hold what is asked */
		if (memfs_charge(fs, cap - f->file.cap))
			return -ENOSPC;
	}
	uint8_t *d = realloc(f->file.data, cap);
	if (!d) {
		memfs_uncharge(fs, cap - f->file.cap);
		return -ENOMEM;
	}
	f->file.data = d;
	f->file.cap = cap;
	return 0;
}

int64_t memfs_read(struct mnode *f, void *buf, uint64_t len, uint64_t off)
{
	if (off >= f->file.size)
		return 0;
	uint64_t n = f->file.size - off < len ? f->file.size - off : len;
	memcpy(buf, f->file.data + off, n);
	return (int64_t)n;
}

int64_t memfs_write(struct memfs *fs, struct mnode *f, const void *buf, uint64_t len, uint64_t off)
{
	if (len == 0)
		return 0;
	if (off > MEMFS_FILE_MAX || len > MEMFS_FILE_MAX - off)
		return -EFBIG;
	int r = reserve(fs, f, off + len);
	if (r)
		return r;
	if (off > f->file.size)
		memset(f->file.data + f->file.size, 0, off - f->file.size);
	memcpy(f->file.data + off, buf, len);
	fs->changes++;
	if (off + len > f->file.size)
		f->file.size = off + len;
	memfs_touch(f, true);
	return (int64_t)len;
}

int memfs_truncate(struct memfs *fs, struct mnode *f, uint64_t size)
{
	if (size > MEMFS_FILE_MAX)
		return -EFBIG;
	if (size > f->file.size) {
		int r = reserve(fs, f, size);
		if (r)
			return r;
		memset(f->file.data + f->file.size, 0, size - f->file.size);
	} else if (size < f->file.cap / 2) {
		/* give the budget back when most of the room is no longer used */
		uint64_t cap = (size + 4095) & ~4095ull;
		uint8_t *d = cap ? realloc(f->file.data, cap) : (free(f->file.data), NULL);
		if (!cap || d) {
			memfs_uncharge(fs, f->file.cap - cap);
			f->file.data = d;
			f->file.cap = cap;
		}
	}
	f->file.size = size;
	fs->changes++;
	memfs_touch(f, true);
	return 0;
}

/* ---- the image loader's entry ----------------------------------------------- */

struct mnode *memfs_add(struct memfs *fs, const char *path, enum mnode_kind kind, uint32_t mode, const void *data,
                        uint64_t len, char *err, size_t errlen)
{
	char buf[4096];
	if (path[0] != '/' || strlen(path) >= sizeof(buf)) {
		snprintf(err, errlen, "'%s': not an absolute path of at most %zu bytes", path, sizeof(buf) - 1);
		return NULL;
	}
	strcpy(buf, path);
	struct mnode *dir = fs->root;
	char *save, *name = strtok_r(buf, "/", &save);
	if (!name) {
		if (kind != MN_DIR) {
			snprintf(err, errlen, "'/' can only be a directory");
			return NULL;
		}
		dir->mode = mode & 07777;
		return dir;
	}
	for (char *next; (next = strtok_r(NULL, "/", &save)); name = next) {
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			snprintf(err, errlen, "'%s': '.' and '..' are not taken", path);
			return NULL;
		}
		struct mnode *c = memfs_lookup(dir, name);
		if (!c)
			c = memfs_create(fs, dir, name, MN_DIR, 0755, NULL);
		if (!c || c->kind != MN_DIR) {
			snprintf(err, errlen, "'%s': %s", path, c ? "a parent is not a directory" : strerror(errno));
			return NULL;
		}
		dir = c;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(err, errlen, "'%s': '.' and '..' are not taken", path);
		return NULL;
	}
	struct mnode *n = memfs_lookup(dir, name);
	if (n && kind == MN_DIR && n->kind == MN_DIR) {
		n->mode = mode & 07777;
		return n;
	}
	if (n && memfs_unlink(fs, dir, name)) {
		snprintf(err, errlen, "'%s': already there and not replaceable", path);
		return NULL;
	}
	n = memfs_create(fs, dir, name, kind, mode, kind == MN_LINK ? (const char *)data : NULL);
	if (!n) {
		snprintf(err, errlen, "'%s': %s", path, errno == ENOSPC ? "the image is larger than its budget" : strerror(errno));
		return NULL;
	}
	if (kind == MN_FILE && len) {
		int64_t r = memfs_write(fs, n, data, len, 0);
		if (r < 0) {
			memfs_unlink(fs, dir, name);
			snprintf(err, errlen, "'%s': %s", path, strerror((int)-r));
			return NULL;
		}
	}
	if (kind == MN_DEV)
		n->dev = (enum mdev)len;
	if (kind == MN_VOLUME)
		n->volume = (unsigned)len;
	return n;
}
