/*
 * A guest's file system as the operator describes it: a root image (a host
 * directory or an archive, copied into memory before the jail closes), a
 * private in-memory file system for everything the guest writes (bounded
 * by tmp_size), and read-only host directories mapped in at guest paths.
 *
 * With no option a guest gets an empty root with /tmp and /dev (null,
 * zero, random, urandom, and stdin, stdout, stderr and fd: links into
 * /proc/self/fd).  Nothing a guest does reaches a host path the
 * operator did not name: the root is a copy, and a volume is opened only
 * beneath its directory by the kernel (openat2 RESOLVE_IN_ROOT: fs/volume.h).
 */
#ifndef OPSUB_FS_FS_H
#define OPSUB_FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/memfs.h"

#define FS_MAX_VOLUMES 16
#define FS_TMP_SIZE_DEFAULT (64ull << 20)
#define FS_TMP_SIZE_MAX (16ull << 30)
#define FS_PATH_MAX 4096

struct fs_volume_spec {
	const char *host;          /* an existing host directory */
	const char *guest;         /* absolute guest path, normalized */
};

/* What `opsub run --root/--volume/--tmp-size` and a guest's "root",
 * "volumes" and "tmp_size" say.  Strings are borrowed. */
struct fs_options {
	const char *root;          /* host directory or archive; NULL: empty */
	struct fs_volume_spec volume[FS_MAX_VOLUMES];
	unsigned nvolumes;
	uint64_t tmp_size;         /* bytes the guest may write; 0: FS_TMP_SIZE_DEFAULT */
};

/* Parses "HOSTDIR:GUESTDIR[:ro]" into v (pointing into a copy the caller
 * owns in buf): 0, or -1 with a one-line reason ("rw" is refused: volumes
 * are read-only).  The guest path must be absolute, without "." or ".."
 * components, and not "/". */
int fs_parse_volume(const char *text, char *buf, size_t buflen, struct fs_volume_spec *v, char *err, size_t errlen);

/* A guest path the operator gives (a volume's): absolute, no "."/".."
 * components, not "/" itself; written normalized (no doubled or trailing
 * slashes) into out.  0, or -1 with a reason. */
int fs_check_guest_path(const char *path, char *out, size_t outlen, char *err, size_t errlen);

struct guest_fs {
	struct memfs mem;
	int volume_fd[FS_MAX_VOLUMES];     /* O_PATH directory descriptors */
	unsigned nvolumes;
	char cwd[FS_PATH_MAX];             /* canonical absolute guest path */
	struct mnode *cwd_node;            /* its node, held (NULL: "/" or in a volume) */
	char exe[FS_PATH_MAX];             /* what /proc/self/exe names */
	struct mnode *fd_dir;              /* /proc/self/fd, held: its names are the personality's descriptors */
};

/* Builds the file system before the jail closes: 0, or -1 with a one-line
 * reason naming the option at fault.  exe: the program's path. */
int fs_setup(struct guest_fs *fs, const struct fs_options *o, const char *exe, char *err, size_t errlen);

#endif
