/*
 * Read-only host directories in a guest's tree.  Each is opened (O_PATH)
 * before the jail closes; afterwards the monitor opens files beneath it
 * only with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV), so the kernel itself keeps "..", absolute links and
 * races with host renames inside the directory, and the jail lets openat2
 * run on volume descriptors only.  Only directories, regular files and
 * links are opened; a device, FIFO or socket in a volume is EACCES (it is
 * first opened O_PATH, which opens nothing).  Nothing is ever written.
 */
#ifndef OPSUB_FS_VOLUME_H
#define OPSUB_FS_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The volumes' descriptors are moved to VOLUME_FD_BASE + index, a range
 * the jail names by a mask (aligned to FS_MAX_VOLUMES, below the usual
 * limit of 1024 descriptors). */
#define VOLUME_FD_BASE 896

/* Opens the host directory as volume `index`: its descriptor, or -1 with
 * a one-line reason. */
int volume_attach(const char *host_dir, unsigned index, char *err, size_t errlen);

/* Opens `rel` beneath volume descriptor vfd for reading (a directory too):
 * nofollow: a link in the last component is not followed (O_PATH is then
 * returned for a link, for lstat and readlink).  st receives its fstat.
 * The descriptor, or -errno. */
int volume_open(int vfd, const char *rel, bool nofollow, bool path_only, struct stat *st);

/* What `rel` beneath volume vfd is, following no link on the way
 * (RESOLVE_NO_SYMLINKS: -ELOOP when one lies before the last component):
 * 0 with its stat and, for a link when `link` is given, its target
 * (NUL-terminated), or -errno.  Path resolution (fs/path.h) walks a
 * volume with it where links are, to follow them in the guest's tree. */
int volume_lstat(int vfd, const char *rel, struct stat *st, char *link, size_t linklen);

/* fstat through the fstat system call itself: the C library's wrapper
 * uses newfstatat, which the jail does not allow.  0 or -1 with errno. */
int host_fstat(int fd, struct stat *st);

#endif
