/*
 * The root image: a host directory or an archive (tar, optionally
 * compressed; the formats image.c lists, none that reads other host files)
 * copied into the guest's memfs
 * once, before the jail closes.  Only directories, regular files and
 * symbolic links are taken (links as text: they resolve inside the guest's
 * tree, never on the host); devices, sockets and FIFOs are skipped, hard
 * links in archives become copies.  Host symlinks are never followed while
 * reading a directory (O_NOFOLLOW walk with openat).  Permission bits are
 * kept, owners are not.
 */
#ifndef OPSUB_FS_IMAGE_H
#define OPSUB_FS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "fs/memfs.h"

/* Copies the image at host `path` (a directory, or a regular file read as
 * an archive) into fs at its root.  Stops with ENOSPC-style refusal when
 * the image holds more than `max_bytes` of file data.  0, or -1 with a
 * one-line reason (naming the entry at fault). */
#define IMAGE_MAX_BYTES_DEFAULT (4ull << 30)
int image_load(struct memfs *fs, const char *path, uint64_t max_bytes, char *err, size_t errlen);

#endif
