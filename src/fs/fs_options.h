/*
 * The file-system options as the operator writes them, checked the same
 * way wherever they come from: `opsub run --root/--volume/--tmp-size`,
 * `opsub guest-proc` (the daemon passes them on) and a guest's "root",
 * "volumes" and "tmp_size" in the daemon's config (docs/daemon.md).
 * Each check answers with a one-line reason the caller prefixes with the
 * option or field at fault.  fs_parse_volume and fs_check_guest_path are
 * declared in fs/fs.h.
 */
#ifndef OPSUB_FS_FS_OPTIONS_H
#define OPSUB_FS_FS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"

#define FS_TMP_SIZE_MIN (1ull << 20)
/* Room for one parsed volume: the host path and the normalized guest path. */
#define FS_VOLUME_BUF (2 * FS_PATH_MAX + 2)

/* A root image: an existing directory or regular file (an archive; that it
 * is one shows when it is read).  0, or -1 with a reason. */
int fs_check_root(const char *path, char *err, size_t errlen);

/* A tmp_size: "256M", "1G" (powers of 1024), FS_TMP_SIZE_MIN..FS_TMP_SIZE_MAX. */
int fs_parse_tmp_size(const char *text, uint64_t *out, char *err, size_t errlen);

/* Parses one "HOSTDIR:GUESTDIR[:ro]" (fs_parse_volume, into buf of
 * FS_VOLUME_BUF bytes, which must outlive o) and appends it to o: refused
 * past FS_MAX_VOLUMES, or when its guest path is another volume's, inside
 * it, or holds it.  0, or -1 with a reason. */
int fs_add_volume(struct fs_options *o, const char *text, char *buf, char *err, size_t errlen);

/* --host-libs: the host's x86-64 library directories (/lib/x86_64-linux-gnu,
 * /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64 and musl's
 * /usr/lib/x86_64-linux-musl, glibc's locales in /usr/lib/locale and
 * Debian's /etc/alternatives, those that are directories here) as
 * read-only volumes at the same guest paths, so that a dynamically linked
 * program finds its interpreter, libraries (also those Debian links through
 * its alternatives, as libblas.so.3) and the locale its environment names.
 * Each
 * volume's text goes to texts[its index] (static strings).  0, or -1 with
 * a reason. */
int fs_add_host_libs(struct fs_options *o, char buf[][FS_VOLUME_BUF], const char *texts[], char *err, size_t errlen);

/* Whether opt is "--root", "--volume" or "--tmp-size". */
bool fs_is_option(const char *opt);
/* Takes one of them and its value (NULL: none came) into o, a volume
 * parsed into buf[o->nvolumes]: 0, or -1 with a one-line reason that names
 * the option and says what to give (for usage_error). */
int fs_take_option(struct fs_options *o, char buf[][FS_VOLUME_BUF], const char *opt, const char *val, char *err,
                   size_t errlen);

#endif
