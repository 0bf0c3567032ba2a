/* The file-system options' checks (fs/fs_options.h, fs/fs.h). */
#include "fs/fs_options.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/parse.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Operator text as a message shows it: control characters escaped (a
 * reason is one line), cut at a readable length. */
static const char *shown(const char *s, char out[128])
{
	size_t n = 0;
	for (; *s && n < 120; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, 128 - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	if (*s)
		n += (size_t)snprintf(out + n, 128 - n, "...");
	out[n] = 0;
	return out;
}

static const char *kind_of(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	       : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : "not a directory";
}

int fs_check_guest_path(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char s[128];
	if (path[0] != '/')
		FAIL("guest path '%s' must be absolute (start with '/')", shown(path, s));
	size_t n = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			FAIL("guest path '%s' has a '%.*s' component: write it without '.' or '..'", shown(path, s), (int)len, p);
		if (len > MEMFS_NAME_MAX)
			FAIL("guest path '%s' has a name longer than %u bytes", shown(path, s), MEMFS_NAME_MAX);
		if (n + 1 + len >= FS_PATH_MAX || n + 1 + len >= outlen)
			FAIL("guest path '%s' is longer than %zu bytes", shown(path, s),
			     (outlen < FS_PATH_MAX ? outlen : FS_PATH_MAX) - 1);
		out[n++] = '/';
		memcpy(out + n, p, len);
		n += len;
		p += len;
	}
	if (!n)
		FAIL("guest path '/' is the guest's root: give a directory below it, e.g. /data");
	out[n] = 0;
	return 0;
}

/* Splits off a trailing ":ro" (and refuses any other mode): the length of
 * text without it. */
static int mode_suffix(const char *text, size_t *len, char *err, size_t errlen)
{
	const char *last = strrchr(text, ':');
	*len = strlen(text);
	if (!last || last == strchr(text, ':'))
		return 0;   /* HOST:GUEST: no mode */
	if (!strcmp(last, ":ro")) {
		*len = (size_t)(last - text);
		return 0;
	}
	if (!strcmp(last, ":rw"))
		FAIL("volumes are read-only: drop ':rw'");
	if (last[1] != '/') {
		char s[128];
		FAIL("unknown volume mode '%s': the only one is ':ro' (the default)", shown(last + 1, s));
	}
	return 0;
}

int fs_parse_volume(const char *text, char *buf, size_t buflen, struct fs_volume_spec *v, char *err, size_t errlen)
{
	char s[128];
	size_t len;
	if (mode_suffix(text, &len, err, errlen))
		return -1;
	/* the guest path follows the last ':' (a host directory may hold one) */
	const char *colon = memrchr(text, ':', len);
	if (!colon)
		FAIL("a volume is HOSTDIR:GUESTDIR[:ro], e.g. /srv/data:/data");
	size_t host_len = (size_t)(colon - text);
	if (!host_len)
		FAIL("a volume needs a host directory before the ':', e.g. /srv/data:/data");
	if (host_len >= FS_PATH_MAX || host_len + 1 >= buflen)
		FAIL("the volume's host directory is longer than %d bytes", FS_PATH_MAX - 1);
	memcpy(buf, text, host_len);
	buf[host_len] = 0;
	char guest[FS_PATH_MAX];
	size_t guest_len = len - host_len - 1;
	if (guest_len >= sizeof(guest))
		FAIL("the volume's guest path is longer than %d bytes", FS_PATH_MAX - 1);
	memcpy(guest, colon + 1, guest_len);
	guest[guest_len] = 0;
	char *out = buf + host_len + 1;
	if (fs_check_guest_path(guest, out, buflen - host_len - 1, err, errlen))
		return -1;
	struct stat st;
	if (stat(buf, &st))
		FAIL("host directory %s: %s", shown(buf, s), strerror(errno));
	if (!S_ISDIR(st.st_mode))
		FAIL("host directory %s is %s: a volume maps a directory", shown(buf, s), kind_of(st.st_mode));
	v->host = buf;
	v->guest = out;
	return 0;
}

/* Whether guest path a is b or holds it ("/data" holds "/data/x", not "/database"). */
static bool holds(const char *a, const char *b)
{
	size_t n = strlen(a);
	return !strncmp(a, b, n) && (b[n] == 0 || b[n] == '/');
}

int fs_add_volume(struct fs_options *o, const char *text, char *buf, char *err, size_t errlen)
{
	if (o->nvolumes >= FS_MAX_VOLUMES)
		FAIL("a guest has at most %d volumes", FS_MAX_VOLUMES);
	struct fs_volume_spec v;
	if (fs_parse_volume(text, buf, FS_VOLUME_BUF, &v, err, errlen))
		return -1;
	char s[128], s2[128];
	/* a volume is a whole host subtree at one node: nothing else may hang
	 * inside it or above it on the same path */
	for (unsigned i = 0; i < o->nvolumes; i++)
		if (holds(o->volume[i].guest, v.guest) || holds(v.guest, o->volume[i].guest))
			FAIL("guest path %s overlaps the volume at %s: give each volume a path of its own", shown(v.guest, s),
			     shown(o->volume[i].guest, s2));
	o->volume[o->nvolumes++] = v;
	return 0;
}

int fs_check_root(const char *path, char *err, size_t errlen)
{
	char s[128];
	struct stat st;
	if (!path[0])
		FAIL("give a directory or an archive file");
	if (stat(path, &st))
		FAIL("%s: %s", shown(path, s), strerror(errno));
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		FAIL("%s is %s: give a directory or an archive file", shown(path, s), kind_of(st.st_mode));
	return 0;
}

int fs_parse_tmp_size(const char *text, uint64_t *out, char *err, size_t errlen)
{
	uint64_t v;
	if (!parse_size(text, &v) || v < FS_TMP_SIZE_MIN || v > FS_TMP_SIZE_MAX)
		FAIL("give a size from 1M to %lluG, e.g. 256M", FS_TMP_SIZE_MAX >> 30);
	*out = v;
	return 0;
}

int fs_add_host_libs(struct fs_options *o, char buf[][FS_VOLUME_BUF], const char *texts[], char *err, size_t errlen)
{
	static const char *const libs[] = {
		"/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro", "/usr/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:ro",
		"/lib64:/lib64:ro", "/usr/lib64:/usr/lib64:ro",
		"/usr/lib/x86_64-linux-musl:/usr/lib/x86_64-linux-musl:ro",   /* musl's loader and libc, in one file */
		"/usr/lib/locale:/usr/lib/locale:ro",   /* glibc's locales (setlocale from the environment) */
		"/etc/alternatives:/etc/alternatives:ro",   /* Debian's choices: libblas.so.3, liblapack.so.3 link there */
	};
	char why[256];
	unsigned added = 0;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		char host[64];
		struct stat st;
		snprintf(host, sizeof(host), "%.*s", (int)(strchr(libs[i], ':') - libs[i]), libs[i]);
		if (stat(host, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (fs_add_volume(o, libs[i], buf[o->nvolumes < FS_MAX_VOLUMES ? o->nvolumes : 0], why, sizeof(why)))
			FAIL("%s", why);
		texts[o->nvolumes - 1] = libs[i];
		added++;
	}
	if (!added)
		FAIL("this host has none of /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, "
		     "/usr/lib/x86_64-linux-musl");
	return 0;
}

bool fs_is_option(const char *opt)
{
	return !strcmp(opt, "--root") || !strcmp(opt, "--volume") || !strcmp(opt, "--tmp-size");
}

int fs_take_option(struct fs_options *o, char buf[][FS_VOLUME_BUF], const char *opt, const char *val, char *err,
                   size_t errlen)
{
	char why[256], s[128];
	if (!strcmp(opt, "--root")) {
		if (!val)
			FAIL("--root needs a directory or an archive file");
		if (fs_check_root(val, why, sizeof(why)))
			FAIL("--root %s", why);
		o->root = val;
	} else if (!strcmp(opt, "--volume")) {
		if (!val)
			FAIL("--volume needs HOSTDIR:GUESTDIR[:ro], e.g. /srv/data:/data");
		if (fs_add_volume(o, val, buf[o->nvolumes < FS_MAX_VOLUMES ? o->nvolumes : 0], why, sizeof(why)))
			FAIL("--volume %s: %s", shown(val, s), why);
	} else if (!strcmp(opt, "--tmp-size")) {
		if (!val || fs_parse_tmp_size(val, &o->tmp_size, why, sizeof(why)))
			FAIL("--tmp-size needs a size from 1M to %lluG, e.g. 256M", FS_TMP_SIZE_MAX >> 30);
	} else
		FAIL("unknown option %s", shown(opt, s));
	return 0;
}
