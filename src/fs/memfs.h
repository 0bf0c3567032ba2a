/*
 * The guest's file system: a tree of nodes in the monitor's own memory.
 * The root image (a host directory or an archive, read once before the
 * jail closes: fs/image.h) is copied in; everything the guest writes stays
 * here, private to this guest and bounded by a byte budget; read-only host
 * directories (fs/volume.h) hang off it at mount-point nodes.
 *
 * Nothing here touches the host: names, links and data are the monitor's
 * copies, so a symbolic link or ".." can only lead to another node of this
 * tree.  Paths given to memfs_add are the image loader's, trusted; guest
 * paths go through fs/path.h.
 */
#ifndef OPSUB_FS_MEMFS_H
#define OPSUB_FS_MEMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum mnode_kind { MN_DIR, MN_FILE, MN_LINK, MN_DEV, MN_VOLUME };

/* The character devices of /dev, and /proc/self/maps: a file the monitor
 * writes as it is read (the guest's mappings then). */
enum mdev { MDEV_NULL, MDEV_ZERO, MDEV_RANDOM, MDEV_URANDOM, MDEV_MAPS };

/* Every node and name is charged this much besides its bytes, so that a
 * guest making millions of empty files runs out of budget too. */
#define MEMFS_NODE_COST 256u
#define MEMFS_ENTRY_COST 256u     /* a name's entry, besides its bytes (a hard link costs as much as a node) */
#define MEMFS_NAME_MAX 255u

struct mnode;

struct mdirent {
	uint64_t off;              /* position for readdir, increasing, never reused */
	char *name;
	struct mnode *node;
};

struct mnode {
	enum mnode_kind kind;
	uint32_t mode;             /* permission bits (07777) */
	uint64_t ino;
	unsigned nlink;            /* names pointing here */
	unsigned opens;            /* open descriptions holding it */
	struct timespec atime, mtime, ctime;
	union {
		struct {
			struct mnode *parent;   /* the root is its own parent */
			struct mdirent *ent;    /* ordered by off */
			unsigned n, cap;
			uint64_t next_off;
		} dir;
		struct {
			uint8_t *data;
			uint64_t size, cap;
		} file;
		char *link;                 /* the target, as written */
		enum mdev dev;
		unsigned volume;            /* index into the fs's volumes */
	};
};

struct memfs {
	struct mnode *root;
	uint64_t bytes;            /* charged: data capacity + node and name costs */
	uint64_t limit;            /* bytes may not pass this (ENOSPC) */
	uint64_t next_ino;
	uint64_t changes;          /* counts every change the guest makes */
};

/* An empty root directory; limit 0 means no limit (while the image loads). */
int memfs_init(struct memfs *fs, uint64_t limit);
void memfs_free(struct memfs *fs);

/* Charges n bytes the guest holds elsewhere in the monitor (a pipe's
 * buffer) to the same budget: 0 or -ENOSPC; uncharge gives them back. */
int memfs_charge(struct memfs *fs, uint64_t n);
void memfs_uncharge(struct memfs *fs, uint64_t n);

/* For the image loader and the monitor's set-up: adds the node at the
 * absolute `path` ("/a/b", no ".", ".." or links on the way), making
 * missing parent directories (mode 0755).  kind MN_FILE takes `data`/`len`
 * as its contents, MN_LINK `data` as the NUL-ended target, MN_DEV `len` as
 * the enum mdev, MN_VOLUME `len` as the volume index; MN_DIR ignores them
 * and an existing directory is kept (mode updated).  Returns the node, or
 * NULL with a one-line reason. */
struct mnode *memfs_add(struct memfs *fs, const char *path, enum mnode_kind kind, uint32_t mode, const void *data,
                        uint64_t len, char *err, size_t errlen);

/* ---- operations on nodes (the personality's, after path resolution) ---- */

struct mnode *memfs_lookup(const struct mnode *dir, const char *name);
/* A new node named `name` in dir (which must not have it): the node or
 * NULL with errno (ENOSPC, ENAMETOOLONG, ENOMEM). */
struct mnode *memfs_create(struct memfs *fs, struct mnode *dir, const char *name, enum mnode_kind kind,
                           uint32_t mode, const char *link_target);
/* Links an existing node under a new name (hard link): 0 or -errno. */
int memfs_link(struct memfs *fs, struct mnode *dir, const char *name, struct mnode *node);
/* Removes the name; the node goes when no name and no open holds it. */
int memfs_unlink(struct memfs *fs, struct mnode *dir, const char *name);
/* rename(2) within the tree, Linux's rules (EISDIR, ENOTDIR, ENOTEMPTY,
 * EINVAL for a directory into itself); flags: RENAME_NOREPLACE. */
int memfs_rename(struct memfs *fs, struct mnode *from_dir, const char *from, struct mnode *to_dir,
                 const char *to, unsigned flags);
/* An open description lets go of the node: frees it if it has no name. */
void memfs_put(struct memfs *fs, struct mnode *node);

/* File data: reads at off (short at the end), writes at off growing the
 * file (ENOSPC past the budget, EFBIG past MEMFS_FILE_MAX), resizes. */
#define MEMFS_FILE_MAX (1ull << 40)
int64_t memfs_read(struct mnode *f, void *buf, uint64_t len, uint64_t off);
int64_t memfs_write(struct memfs *fs, struct mnode *f, const void *buf, uint64_t len, uint64_t off);
int memfs_truncate(struct memfs *fs, struct mnode *f, uint64_t size);

/* The first entry of dir after position `after` (0: from the start), or
 * NULL at the end. */
const struct mdirent *memfs_next(const struct mnode *dir, uint64_t after);

void memfs_touch(struct mnode *n, bool modified);

#endif
