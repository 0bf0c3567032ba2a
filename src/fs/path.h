/*
 * Guest path resolution: the one place a guest's path becomes a node.
 * The path is the monitor's copy (read once from guest memory); every
 * component is looked up in the memfs tree, symbolic links are expanded
 * there (at most 40, ELOOP), ".." stops at the guest's root, and a path
 * that enters a volume hands the rest to the kernel beneath the volume's
 * directory (fs/volume.h).  A name in /proc/self/fd stops the walk: it is
 * a descriptor's number (w->fd), for the personality.  Errors are Linux's:
 * ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG.
 */
#ifndef OPSUB_FS_PATH_H
#define OPSUB_FS_PATH_H

#include <stdbool.h>

#include "fs/fs.h"

enum {
	PATH_FOLLOW = 1,       /* follow a link in the last component */
	PATH_MUST_DIR = 2,     /* the result must be a directory (also: a trailing '/') */
};

struct fs_where {
	struct mnode *dir;                 /* the last component's directory (memfs) */
	struct mnode *node;                /* what the path names; NULL: the last name is free */
	char name[MEMFS_NAME_MAX + 1];     /* the last component ("" for "/") */
	int volume;                        /* >= 0: the path is inside this volume ... */
	char vpath[FS_PATH_MAX];           /* ... at this path beneath its directory */
	char canon[FS_PATH_MAX];           /* the guest path it names, without links */
	bool trailing_slash;
	int fd;                            /* >= 0: the path is /proc/self/fd/N, descriptor N, which
	                                    * only the personality knows (-ENOTDIR: more follows) */
};

/* Resolves `path` relative to the canonical directory `base` (absolute
 * paths ignore it).  0 with w filled (w->node may be NULL when only the
 * last component is missing), or -errno. */
int fs_resolve(const struct guest_fs *fs, const char *base, const char *path, unsigned flags, struct fs_where *w);

#endif
