/*
 * The root image loader (fs/image.h): a host directory walked without
 * following a single host symbolic link, or an archive read through
 * libarchive, copied into the guest's memfs before the jail closes.
 */
#include "fs/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"

/* Each level of a host directory holds a descriptor open while its
 * entries are read: deeper trees are refused rather than running out. */
#define IMAGE_MAX_DEPTH 256
/* Entries of one image, whatever their kind: max_bytes bounds the data,
 * this the nodes (a compressed archive of empty files costs nothing to
 * send and a node each to hold). */
#define IMAGE_MAX_ENTRIES (1u << 20)
#define CHUNK (64u << 10)

struct loader {
	struct memfs *fs;
	const char *image;             /* the operator's path, for messages */
	uint64_t max_bytes, bytes;     /* file data: the cap, and taken so far */
	unsigned entries;
	char path[FS_PATH_MAX];        /* the node at hand, "/a/b" */
	uint8_t *chunk;                /* CHUNK bytes of file data in passing */
	char *err;
	size_t errlen;
};

/* Host or archive text as a message shows it: control characters
 * escaped (a reason is one line), long names cut. */
static const char *shown(const char *s, char out[256])
{
	size_t n = 0;
	for (; *s && n < 240; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, 256 - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	if (*s)
		n += (size_t)snprintf(out + n, 256 - n, "...");
	out[n] = 0;
	return out;
}

/* "root image PATH: " and the reason; always -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct loader *l, const char *fmt, ...)
{
	char s[256];
	int n = snprintf(l->err, l->errlen, "root image %s: ", shown(l->image, s));
	if (n < 0 || (size_t)n >= l->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The node at hand, as messages name it: relative to the image's root. */
static const char *here(const struct loader *l, char out[256])
{
	return shown(l->path[0] ? l->path + 1 : ".", out);
}

static int count_entry(struct loader *l)
{
	if (++l->entries > IMAGE_MAX_ENTRIES)
		return fail(l, "it has more than %u entries", IMAGE_MAX_ENTRIES);
	return 0;
}

/* memfs_add at the node at hand, its failure in the loader's words. */
static struct mnode *add(struct loader *l, enum mnode_kind kind, uint32_t mode, const void *data)
{
	char why[256], s[256], w[256];
	struct mnode *n = memfs_add(l->fs, l->path[0] ? l->path : "/", kind, mode & 07777, data, 0, why, sizeof(why));
	if (!n)
		fail(l, "cannot take '%s': %s", here(l, s), shown(why, w));   /* why may quote the name */
	return n;
}

/* The refusal of a file that would take the data past max_bytes. */
static int too_big(struct loader *l)
{
	char s[256];
	return fail(l, "'%s' takes the image past its limit of %llu bytes of file data", here(l, s),
	            (unsigned long long)l->max_bytes);
}

/* Appends file data to f, within max_bytes. */
static int put_data(struct loader *l, struct mnode *f, const void *buf, uint64_t len)
{
	char s[256];
	if (len > l->max_bytes - l->bytes)
		return too_big(l);
	int64_t r = memfs_write(l->fs, f, buf, len, f->file.size);
	if (r < 0 || (uint64_t)r != len)
		return fail(l, "cannot take '%s': %s", here(l, s), strerror(r < 0 ? (int)-r : ENOSPC));
	l->bytes += len;
	return 0;
}

/* Refuses up front a file whose size alone breaks the cap. */
static int check_size(struct loader *l, uint64_t size)
{
	return size > l->max_bytes - l->bytes ? too_big(l) : 0;
}

/* ---- a host directory ---------------------------------------------------- */

static int walk(struct loader *l, int dfd, size_t plen, unsigned depth);

static int host_dir(struct loader *l, int dfd, const char *name, size_t plen, unsigned depth)
{
	char s[256];
	if (depth > IMAGE_MAX_DEPTH)
		return fail(l, "'%s' is nested deeper than %d directories", here(l, s), IMAGE_MAX_DEPTH);
	/* O_NOFOLLOW: a link swapped in since fstatat is refused, not followed */
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail(l, "cannot open directory '%s': %s", here(l, s), strerror(e));
	}
	struct mnode *n = add(l, MN_DIR, st.st_mode, NULL);
	if (!n) {
		close(fd);
		return -1;
	}
	if (walk(l, fd, plen, depth))
		return -1;
	n->mtime = st.st_mtim;   /* after its entries, which touched it */
	return 0;
}

static int host_file(struct loader *l, int dfd, const char *name)
{
	char s[256];
	/* O_NONBLOCK|O_NOCTTY: a FIFO or device swapped in since fstatat
	 * neither blocks nor becomes a terminal; it is skipped below */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail(l, "cannot open '%s': %s", here(l, s), strerror(e));
	}
	int rc = 0;
	struct mnode *f = NULL;
	if (!S_ISREG(st.st_mode))
		goto out;
	if (check_size(l, (uint64_t)st.st_size) || !(f = add(l, MN_FILE, st.st_mode, NULL))) {
		rc = -1;
		goto out;
	}
	/* to the end as it is now: the size may have changed since fstat */
	for (;;) {
		ssize_t n = read(fd, l->chunk, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(l, "cannot read '%s': %s", here(l, s), strerror(errno));
			break;
		}
		if (!n || (rc = put_data(l, f, l->chunk, (uint64_t)n)))
			break;
	}
	f->mtime = st.st_mtim;
out:
	close(fd);
	return rc;
}

static int host_link(struct loader *l, int dfd, const char *name)
{
	char s[256], target[FS_PATH_MAX];
	/* the link's text only: it resolves in the guest's tree, never here */
	ssize_t n = readlinkat(dfd, name, target, sizeof(target));
	if (n < 0)
		return fail(l, "cannot read link '%s': %s", here(l, s), strerror(errno));
	if ((size_t)n >= sizeof(target))
		return fail(l, "link '%s' has a target longer than %d bytes", here(l, s), FS_PATH_MAX - 1);
	target[n] = 0;
	struct stat st;
	struct mnode *node = add(l, MN_LINK, 0777, target);
	if (node && !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		node->mtime = st.st_mtim;
	return node ? 0 : -1;
}

/* One entry of the directory at l->path (length plen). */
static int host_entry(struct loader *l, int dfd, const char *name, size_t plen, unsigned depth)
{
	char s[256], n[256];
	size_t len = strlen(name);
	if (plen + 1 + len >= sizeof(l->path))
		return fail(l, "'%s/%s' is a path longer than %d bytes", here(l, s), shown(name, n), FS_PATH_MAX - 1);
	l->path[plen] = '/';
	memcpy(l->path + plen + 1, name, len + 1);
	struct stat st;
	int rc = 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		rc = fail(l, "cannot look at '%s': %s", here(l, s), strerror(errno));
	else if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && count_entry(l))
		rc = -1;
	else if (S_ISDIR(st.st_mode))
		rc = host_dir(l, dfd, name, plen + 1 + len, depth + 1);
	else if (S_ISREG(st.st_mode))
		rc = host_file(l, dfd, name);
	else if (S_ISLNK(st.st_mode))
		rc = host_link(l, dfd, name);
	/* devices, sockets and FIFOs are no part of an image: skipped */
	l->path[plen] = 0;
	return rc;
}

/* The entries of the directory open as dfd (which this closes), whose
 * node is l->path (length plen). */
static int walk(struct loader *l, int dfd, size_t plen, unsigned depth)
{
	char s[256];
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return fail(l, "cannot read directory '%s': %s", here(l, s), strerror(e));
	}
	int rc = 0;
	struct dirent *e;
	errno = 0;
	while (!rc && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = host_entry(l, dirfd(d), e->d_name, plen, depth);
		errno = 0;
	}
	if (!rc && errno)
		rc = fail(l, "cannot read directory '%s': %s", here(l, s), strerror(errno));
	closedir(d);
	return rc;
}

/* ---- an archive ------------------------------------------------------------ */

/* An archive entry's name as a memfs path into out ("/a/b"; "" for the
 * root): leading "/" and "./", empty and "." components dropped; ".."
 * refused (the image may not reach outside its root). */
static int entry_path(struct loader *l, const char *name, char out[FS_PATH_MAX])
{
	char s[256];
	size_t n = 0;
	for (const char *p = name; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return fail(l, "entry '%s' has a '..' component: an image may not reach outside its root",
			            shown(name, s));
		if (len && !(len == 1 && p[0] == '.')) {
			if (n + 1 + len >= FS_PATH_MAX)
				return fail(l, "entry '%s' is a path longer than %d bytes", shown(name, s), FS_PATH_MAX - 1);
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	out[n] = 0;
	return 0;
}

/* The node at memfs path `path` ("" for the root), NULL if none. */
static struct mnode *find(struct memfs *fs, const char *path)
{
	struct mnode *n = fs->root;
	char name[MEMFS_NAME_MAX + 1];
	for (const char *p = path; n && *p;) {
		p++;   /* the '/' */
		size_t len = strcspn(p, "/");
		if (n->kind != MN_DIR || len > MEMFS_NAME_MAX)
			return NULL;
		memcpy(name, p, len);
		name[len] = 0;
		n = memfs_lookup(n, name);
		p += len;
	}
	return n;
}

static const char *archive_why(struct archive *a)
{
	const char *why = archive_error_string(a);
	return why ? why : "an error libarchive does not explain";
}

static void set_mtime(struct mnode *n, struct archive_entry *e)
{
	if (n && archive_entry_mtime_is_set(e))
		n->mtime = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
}

static int archive_file(struct loader *l, struct archive *a, struct archive_entry *e)
{
	char s[256], w[256];
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 && check_size(l, (uint64_t)archive_entry_size(e)))
		return -1;
	struct mnode *f = add(l, MN_FILE, archive_entry_perm(e), NULL);
	if (!f)
		return -1;
	for (;;) {
		la_ssize_t n = archive_read_data(a, l->chunk, CHUNK);
		if (n < 0)
			return fail(l, "cannot read entry '%s': %s", here(l, s), shown(archive_why(a), w));
		if (!n)
			break;
		if (put_data(l, f, l->chunk, (uint64_t)n))
			return -1;
	}
	set_mtime(f, e);
	return 0;
}

/* A hard link without data of its own: a copy of the earlier file. */
static int archive_hard_link(struct loader *l, struct archive_entry *e, const char *target_name)
{
	char s[256], t[256], target[FS_PATH_MAX];
	if (entry_path(l, target_name, target))
		return -1;
	if (!strcmp(target, l->path))
		return 0;   /* a link to itself: the file is there already */
	struct mnode *from = find(l->fs, target);
	if (!from || from->kind != MN_FILE)
		return fail(l, "entry '%s' is a hard link to '%s', which is no earlier regular file", here(l, s),
		            shown(target_name, t));
	if (check_size(l, from->file.size))
		return -1;
	struct mnode *f = add(l, MN_FILE, from->mode, NULL);
	/* from is still there: add replaces only the node at this entry's path */
	if (!f || put_data(l, f, from->file.data, from->file.size))
		return -1;
	set_mtime(f, e);
	return 0;
}

static int take_entry(struct loader *l, struct archive *a, struct archive_entry *e)
{
	char s[256];
	const char *name = archive_entry_pathname(e);
	if (!name)
		return fail(l, "entry %u has a name in no encoding opsub can read", l->entries);
	if (entry_path(l, name, l->path))
		return -1;
	const char *hard = archive_entry_hardlink(e);
	/* a hard link that carries data (cpio's last link, pax) is a file */
	if (hard && !(archive_entry_size_is_set(e) && archive_entry_size(e) > 0))
		return archive_hard_link(l, e, hard);
	struct mnode *n;
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		n = add(l, MN_DIR, archive_entry_perm(e), NULL);
		set_mtime(n, e);
		return n ? 0 : -1;
	case AE_IFREG:
		if (!l->path[0])
			return fail(l, "entry '%s' is a file at the image's root", shown(name, s));
		return archive_file(l, a, e);
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!l->path[0])
			return fail(l, "entry '%s' is a link at the image's root", shown(name, s));
		if (!target || !target[0])
			return fail(l, "entry '%s' is a symbolic link without a target", here(l, s));
		if (strlen(target) >= FS_PATH_MAX)
			return fail(l, "entry '%s' is a link to a target longer than %d bytes", here(l, s), FS_PATH_MAX - 1);
		n = add(l, MN_LINK, 0777, target);
		set_mtime(n, e);
		return n ? 0 : -1;
	}
	default:
		return 0;   /* devices, sockets and FIFOs are no part of an image */
	}
}

/* Registers the formats a root image comes in, and the compressions
 * libarchive reads itself: each only if it needs no external program (a
 * filter that would run one answers ARCHIVE_WARN, tried first on a
 * throw-away reader).  Not all of libarchive's formats: mtree names host
 * files whose contents it would read, and the rest (rar, lha, cab, xar,
 * ...) are parsers this process, not yet jailed, has no need to run. */
static void support(struct archive *a)
{
	static int (*const readers[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2, archive_read_support_filter_xz,
		archive_read_support_filter_lzma, archive_read_support_filter_lzip, archive_read_support_filter_zstd,
		archive_read_support_filter_lz4, archive_read_support_filter_compress,
		archive_read_support_format_tar, archive_read_support_format_cpio, archive_read_support_format_zip,
		archive_read_support_format_7zip, archive_read_support_format_iso9660, archive_read_support_format_empty,
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		struct archive *probe = archive_read_new();
		bool builtin = probe && readers[i](probe) == ARCHIVE_OK;
		archive_read_free(probe);
		if (builtin)
			readers[i](a);
	}
}

static int load_archive(struct loader *l, int fd)
{
	struct archive *a = archive_read_new();
	if (!a)
		return fail(l, "out of memory");
	support(a);
	int rc = 0, r = archive_read_open_fd(a, fd, CHUNK);
	struct archive_entry *e;
	if (r == ARCHIVE_OK)
		/* ARCHIVE_WARN: the entry is good (a name not in this locale) */
		while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
			if ((rc = count_entry(l)) || (rc = take_entry(l, a, e)))
				break;
	if (!rc && r != ARCHIVE_EOF) {
		char s[256];
		rc = l->entries ? fail(l, "cannot read it past entry %u: %s", l->entries, shown(archive_why(a), s))
		     : fail(l, "not a directory nor an archive opsub reads (tar, cpio, zip, 7z or ISO 9660, "
		               "maybe compressed with gzip, bzip2, xz, zstd, ...): %s", shown(archive_why(a), s));
	}
	archive_read_free(a);
	return rc;
}

int image_load(struct memfs *fs, const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
	struct loader l = {.fs = fs, .image = path, .max_bytes = max_bytes, .err = err, .errlen = errlen};
	struct stat st;
	/* the operator's own path may be a link; nothing inside it is followed.
	 * Looked at before the open: a device is never opened. */
	if (stat(path, &st))
		return fail(&l, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return fail(&l, "neither a directory nor a regular file (an archive)");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		int e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return fail(&l, "cannot open it: %s", strerror(e));
	}
	if (!(l.chunk = malloc(CHUNK))) {
		close(fd);
		return fail(&l, "out of memory");
	}
	int rc;
	if (S_ISDIR(st.st_mode)) {
		struct mnode *root = add(&l, MN_DIR, st.st_mode, NULL);
		if (!root) {
			close(fd);
			rc = -1;
		} else if (!(rc = walk(&l, fd, 0, 0)))   /* which closes fd */
			root->mtime = st.st_mtim;
	} else {
		rc = load_archive(&l, fd);
		close(fd);
	}
	free(l.chunk);
	return rc;
}
