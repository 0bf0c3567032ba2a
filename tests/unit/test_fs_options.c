/*
 * test_fs_options.c: a guest's file-system options as the operator gives
 * them (`opsub run --root/--volume/--tmp-size`, a guest's "root",
 * "volumes" and "tmp_size"), and the root image loader: every bad value is
 * refused with one line that says what is wrong; an image is copied
 * without following a single host symbolic link, and an archive cannot
 * place anything outside its root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "fs/fs.h"
#include "fs/fs_options.h"
#include "fs/image.h"
#include "fs/memfs.h"

/* A scratch directory per test run, removed at the end. */
static char scratch[] = "/tmp/opsub-test-fs-XXXXXX";

static int make_scratch(void **state)
{
	(void)state;
	return mkdtemp(scratch) ? 0 : -1;
}

static int remove_scratch(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

/* scratch/rel, made with its parents (a directory, or a file with `text`). */
static const char *at(const char *rel, char out[512])
{
	snprintf(out, 512, "%s/%s", scratch, rel);
	return out;
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	int fd = open(at(rel, p), O_CREAT | O_TRUNC | O_WRONLY, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(p, mode);
}

static void make_dir(const char *rel, mode_t mode)
{
	char p[512];
	assert_int_equal(mkdir(at(rel, p), mode), 0);
	chmod(p, mode);
}

/* Asserts err is one line containing `says`. */
static void one_line_with(const char *err, const char *says)
{
	if (!strstr(err, says) || strchr(err, '\n'))
		fail_msg("got \"%s\", wanted one line with \"%s\"", err, says);
}

/* ---- guest paths ----------------------------------------------------------- */

static void test_guest_paths(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } good[] = {
		{"/data", "/data"}, {"//a///b/", "/a/b"}, {"/a/b.c/..d/...", "/a/b.c/..d/..."}, {"/x/", "/x"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char out[FS_PATH_MAX], err[256] = "";
		if (fs_check_guest_path(good[i].in, out, sizeof(out), err, sizeof(err)))
			fail_msg("'%s' refused: %s", good[i].in, err);
		assert_string_equal(out, good[i].out);
	}
	static char long_name[300], long_path[FS_PATH_MAX + 10];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[0] = '/';
	for (size_t i = 0; i + 2 < sizeof(long_path); i += 2)
		memcpy(long_path + i, "/p", 2);
	static const struct { const char *in, *says; } bad[] = {
		{"data", "must be absolute"}, {"", "must be absolute"}, {"/", "is the guest's root"},
		{"///", "is the guest's root"}, {"/a/./b", "has a '.' component"}, {"/a/../b", "has a '..' component"},
		{"/..", "has a '..' component"}, {"/a/.", "has a '.' component"}, {long_name, "longer than 255"},
		{long_path, "is longer than 4095 bytes"}, {"/a\nb/..", "'/a\\x0ab/..'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[FS_PATH_MAX], err[256] = "";
		if (!fs_check_guest_path(bad[i].in, out, sizeof(out), err, sizeof(err)))
			fail_msg("'%.40s' accepted as '%.40s'", bad[i].in, out);
		one_line_with(err, bad[i].says);
	}
	/* a small out is never overrun */
	char small[4], err[256];
	assert_int_equal(fs_check_guest_path("/abcdef", small, sizeof(small), err, sizeof(err)), -1);
	one_line_with(err, "longer than 3 bytes");
}

/* ---- volumes ----------------------------------------------------------------- */

static void test_volumes(void **state)
{
	(void)state;
	char host[512], colon[512], file[512], text[2048], err[256], buf[FS_VOLUME_BUF];
	struct fs_volume_spec v;
	make_dir("vol", 0755);
	make_dir("a:b", 0755);
	write_file("plain", "x", 0644);
	at("vol", host);
	at("a:b", colon);
	at("plain", file);

	static const struct { const char *suffix, *guest; } good[] = {
		{":/data", "/data"}, {":/data/:ro", "/data"}, {"://srv//x/", "/srv/x"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", host, good[i].suffix);
		if (fs_parse_volume(text, buf, sizeof(buf), &v, err, sizeof(err)))
			fail_msg("'%s' refused: %s", text, err);
		assert_string_equal(v.host, host);
		assert_string_equal(v.guest, good[i].guest);
	}
	/* a host directory may hold ':' (the guest path follows the last one) */
	snprintf(text, sizeof(text), "%s:/c:ro", colon);
	assert_int_equal(fs_parse_volume(text, buf, sizeof(buf), &v, err, sizeof(err)), 0);
	assert_string_equal(v.host, colon);
	assert_string_equal(v.guest, "/c");

	static const struct { const char *fmt, *says; } bad[] = {
		{"%s:/data:rw", "volumes are read-only: drop ':rw'"},
		{"%s:/data:rx", "unknown volume mode 'rx'"},
		{"%s", "a volume is HOSTDIR:GUESTDIR[:ro]"},
		{":/data%.0s", "needs a host directory before the ':'"},
		{"%s/nope:/data", "No such file or directory"},
		{"%s:data", "must be absolute"},
		{"%s:/", "is the guest's root"},
		{"%s:/a/../b", "has a '..' component"},
		{"%s:/a/./b:ro", "has a '.' component"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), bad[i].fmt, host);
		if (!fs_parse_volume(text, buf, sizeof(buf), &v, err, sizeof(err)))
			fail_msg("'%s' accepted", text);
		one_line_with(err, bad[i].says);
	}
	snprintf(text, sizeof(text), "%s:/data", file);
	assert_int_equal(fs_parse_volume(text, buf, sizeof(buf), &v, err, sizeof(err)), -1);
	one_line_with(err, "is a regular file: a volume maps a directory");
	/* a buffer too small is refused, not overrun */
	char tiny[8];
	snprintf(text, sizeof(text), "%s:/data", host);
	assert_int_equal(fs_parse_volume(text, tiny, sizeof(tiny), &v, err, sizeof(err)), -1);
}

/* Volumes may not overlap, and there are at most FS_MAX_VOLUMES. */
static void test_volume_set(void **state)
{
	(void)state;
	static char buf[FS_MAX_VOLUMES][FS_VOLUME_BUF];
	char host[512], text[1024], err[256];
	struct fs_options o = {0};
	make_dir("set", 0755);
	at("set", host);
	snprintf(text, sizeof(text), "%s:/data", host);
	assert_int_equal(fs_add_volume(&o, text, buf[o.nvolumes], err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "%s:/database", host);   /* a prefix in text only */
	assert_int_equal(fs_add_volume(&o, text, buf[o.nvolumes], err, sizeof(err)), 0);
	const char *overlapping[] = {"/data", "/data/sub"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "%s:%s", host, overlapping[i]);
		assert_int_equal(fs_add_volume(&o, text, buf[o.nvolumes], err, sizeof(err)), -1);
		one_line_with(err, "overlaps the volume at /data");
	}
	o = (struct fs_options){0};
	snprintf(text, sizeof(text), "%s:/data/sub", host);
	assert_int_equal(fs_add_volume(&o, text, buf[0], err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "%s:/data", host);
	assert_int_equal(fs_add_volume(&o, text, buf[1], err, sizeof(err)), -1);
	one_line_with(err, "overlaps the volume at /data/sub");
	o = (struct fs_options){0};
	for (unsigned i = 0; i < FS_MAX_VOLUMES; i++) {
		snprintf(text, sizeof(text), "%s:/v%u", host, i);
		assert_int_equal(fs_add_volume(&o, text, buf[i], err, sizeof(err)), 0);
	}
	assert_string_equal(o.volume[FS_MAX_VOLUMES - 1].guest, "/v15");
	assert_int_equal(fs_add_volume(&o, text, buf[0], err, sizeof(err)), -1);
	one_line_with(err, "at most 16 volumes");
	assert_string_equal(o.volume[0].guest, "/v0");   /* untouched */
}

/* ---- the command-line options ------------------------------------------------ */

static void test_options(void **state)
{
	(void)state;
	static char buf[FS_MAX_VOLUMES][FS_VOLUME_BUF];
	char dir[512], file[512], fifo[512], text[1024], err[512];
	struct fs_options o = {0};
	make_dir("opt", 0755);
	write_file("opt.tar", "", 0644);
	at("opt", dir);
	at("opt.tar", file);
	assert_int_equal(mkfifo(at("opt.fifo", fifo), 0644), 0);

	assert_true(fs_is_option("--root") && fs_is_option("--volume") && fs_is_option("--tmp-size"));
	assert_false(fs_is_option("--mem") || fs_is_option("--roots"));
	assert_int_equal(fs_take_option(&o, buf, "--root", dir, err, sizeof(err)), 0);
	assert_ptr_equal(o.root, dir);
	assert_int_equal(fs_take_option(&o, buf, "--root", file, err, sizeof(err)), 0);
	assert_int_equal(fs_take_option(&o, buf, "--tmp-size", "256M", err, sizeof(err)), 0);
	assert_int_equal(o.tmp_size, 256ull << 20);
	assert_int_equal(fs_take_option(&o, buf, "--tmp-size", "16G", err, sizeof(err)), 0);
	assert_int_equal(o.tmp_size, FS_TMP_SIZE_MAX);
	assert_int_equal(fs_take_option(&o, buf, "--tmp-size", "1M", err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "%s:/data:ro", dir);
	assert_int_equal(fs_take_option(&o, buf, "--volume", text, err, sizeof(err)), 0);
	assert_int_equal(o.nvolumes, 1);
	assert_string_equal(o.volume[0].guest, "/data");

	struct { const char *opt, *val, *says; } bad[] = {
		{"--root", NULL, "--root needs a directory or an archive file"},
		{"--root", "/nonexistent/x", "--root /nonexistent/x: No such file or directory"},
		{"--root", fifo, "is a FIFO: give a directory or an archive file"},
		{"--root", "/dev/null", "is a character device"},
		{"--tmp-size", NULL, "--tmp-size needs a size from 1M to 16G"},
		{"--tmp-size", "512K", "--tmp-size needs a size from 1M to 16G"},
		{"--tmp-size", "17G", "--tmp-size needs a size from 1M to 16G"},
		{"--tmp-size", "lots", "--tmp-size needs a size from 1M to 16G"},
		{"--tmp-size", "-1M", "--tmp-size needs a size from 1M to 16G"},
		{"--volume", NULL, "--volume needs HOSTDIR:GUESTDIR[:ro]"},
		{"--volume", "/tmp:/x:rw", "--volume /tmp:/x:rw: volumes are read-only: drop ':rw'"},
		{"--volume", text, "overlaps the volume at /data"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!fs_take_option(&o, buf, bad[i].opt, bad[i].val, err, sizeof(err)))
			fail_msg("%s %s accepted", bad[i].opt, bad[i].val ? bad[i].val : "(none)");
		one_line_with(err, bad[i].says);
	}
	assert_int_equal(o.tmp_size, 1ull << 20);   /* refusals change nothing */
	assert_int_equal(o.nvolumes, 1);
}

/* ---- the daemon's guest fields ------------------------------------------------ */

static int guest_json(const char *extra, bool from_stream, struct guest_config *g, char *err, size_t errlen)
{
	char text[4096];
	snprintf(text, sizeof(text),
	         "{\"name\":\"g\",\"program\":\"/proc/self/exe\",\"mac\":\"02:00:00:00:00:01\"%s}", extra);
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	if (!o)
		fail_msg("bad test JSON %s: %s", text, je.text);
	int rc = from_stream ? config_guest_from_stream(o, g, err, errlen) : config_guest(o, g, err, errlen);
	json_decref(o);
	return rc;
}

static void test_guest_config(void **state)
{
	(void)state;
	char dir[512], extra[2048], err[512] = "";
	struct guest_config g;
	make_dir("cfg", 0755);
	at("cfg", dir);
	snprintf(extra, sizeof(extra), ",\"root\":\"%s\",\"volumes\":[\"%s:/a\",\"%s:/b:ro\"],\"tmp_size\":\"128M\"", dir,
	         dir, dir);
	if (guest_json(extra, false, &g, err, sizeof(err)))
		fail_msg("refused: %s", err);
	assert_string_equal(g.root, dir);
	assert_int_equal(g.nvolumes, 2);
	snprintf(extra, sizeof(extra), "%s:/b:ro", dir);
	assert_string_equal(g.volume[1], extra);   /* kept as given: guest-proc parses it */
	assert_int_equal(g.tmp_size, 128ull << 20);
	config_guest_free(&g);

	/* host_libs: the volumes it stands for (those this host has), after
	 * those given, as `opsub run --host-libs` adds them; refused over a
	 * volume of its own */
	static const char *const libdirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	                                      "/usr/lib64", "/usr/lib/x86_64-linux-musl"};
	const char *libdir = NULL;
	for (size_t i = 0; i < sizeof(libdirs) / sizeof(libdirs[0]) && !libdir; i++) {
		struct stat st;
		if (!stat(libdirs[i], &st) && S_ISDIR(st.st_mode))
			libdir = libdirs[i];
	}
	snprintf(extra, sizeof(extra), ",\"volumes\":[\"%s:/a\"],\"host_libs\":true", dir);
	if (!libdir) {
		assert_int_equal(guest_json(extra, false, &g, err, sizeof(err)), -1);
		one_line_with(err, "\"host_libs\": this host has none of");
	} else {
		if (guest_json(extra, false, &g, err, sizeof(err)))
			fail_msg("refused: %s", err);
		char want[128];
		snprintf(want, sizeof(want), "%s:%s:ro", libdir, libdir);
		assert_true(g.nvolumes >= 2);
		assert_string_equal(g.volume[1], want);
		config_guest_free(&g);
		snprintf(extra, sizeof(extra), ",\"volumes\":[\"%s:%s/x\"],\"host_libs\":true", dir, libdir);
		assert_int_equal(guest_json(extra, false, &g, err, sizeof(err)), -1);
		one_line_with(err, "\"host_libs\": guest path");
	}
	config_guest_free(&g);
	assert_int_equal(guest_json(",\"host_libs\":false", false, &g, err, sizeof(err)), 0);
	assert_int_equal(g.nvolumes, 0);
	config_guest_free(&g);

	/* without them: an empty root, the default budget */
	assert_int_equal(guest_json("", false, &g, err, sizeof(err)), 0);
	assert_null(g.root);
	assert_int_equal(g.nvolumes, 0);
	assert_int_equal(g.tmp_size, 0);
	config_guest_free(&g);

	char many[4096] = ",\"volumes\":[";
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"%s:/v%d\"", i ? "," : "", dir, i);
	strcat(many, "]");
	struct { const char *extra; const char *says; } bad[] = {
		{",\"root\":\"/nonexistent\"", "guest 'g': \"root\": /nonexistent: No such file or directory"},
		{",\"root\":\"\"", "\"root\" must be a directory or an archive file"},
		{",\"root\":7", "\"root\" must be a directory or an archive file"},
		{",\"volumes\":\"/tmp:/x\"", "\"volumes\" must be an array of at most 16 strings"},
		{many, "\"volumes\" must be an array of at most 16 strings"},
		{",\"volumes\":[1]", "\"volumes\" must hold strings"},
		{",\"volumes\":[\"/tmp:/x:rw\"]", "guest 'g': volume \"/tmp:/x:rw\": volumes are read-only: drop ':rw'"},
		{",\"volumes\":[\"/tmp:/x\",\"/tmp:/x/y\"]", "overlaps the volume at /x"},
		{",\"tmp_size\":\"100K\"", "\"tmp_size\" must be a size from \"1M\" to \"16G\""},
		{",\"host_libs\":\"yes\"", "\"host_libs\" must be true or false"},
		{",\"tmp_size\":1048576", "\"tmp_size\" must be a size from \"1M\" to \"16G\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!guest_json(bad[i].extra, false, &g, err, sizeof(err)))
			fail_msg("%s accepted", bad[i].extra);
		one_line_with(err, bad[i].says);
		config_guest_free(&g);   /* what was taken before the refusal */
	}

	/* a stream may not name host paths, but keeps the budget */
	assert_int_equal(guest_json(",\"root\":\"/tmp\"", true, &g, err, sizeof(err)), -1);
	one_line_with(err, "may not bring \"root\", \"volumes\" or \"host_libs\"");
	config_guest_free(&g);
	assert_int_equal(guest_json(",\"volumes\":[]", true, &g, err, sizeof(err)), -1);
	one_line_with(err, "may not bring \"root\", \"volumes\" or \"host_libs\"");
	config_guest_free(&g);
	assert_int_equal(guest_json(",\"host_libs\":true", true, &g, err, sizeof(err)), -1);
	one_line_with(err, "may not bring \"root\", \"volumes\" or \"host_libs\"");
	config_guest_free(&g);
	assert_int_equal(guest_json(",\"tmp_size\":\"2G\"", true, &g, err, sizeof(err)), 0);
	assert_int_equal(g.tmp_size, 2ull << 30);
	config_guest_free(&g);
}

/* ---- the image loader: a host directory ----------------------------------------- */

/* The node at "/a/b" of fs, NULL if none (no link followed). */
static struct mnode *node_at(struct memfs *fs, const char *path)
{
	char buf[FS_PATH_MAX], *save;
	snprintf(buf, sizeof(buf), "%s", path);
	struct mnode *n = fs->root;
	for (char *name = strtok_r(buf, "/", &save); n && name; name = strtok_r(NULL, "/", &save))
		n = n->kind == MN_DIR ? memfs_lookup(n, name) : NULL;
	return n;
}

static void assert_file(struct memfs *fs, const char *path, const char *text, uint32_t mode)
{
	struct mnode *n = node_at(fs, path);
	if (!n || n->kind != MN_FILE)
		fail_msg("%s: %s", path, n ? "not a file" : "missing");
	char buf[256] = "";
	assert_int_equal(n->file.size, strlen(text));
	assert_int_equal(memfs_read(n, buf, sizeof(buf) - 1, 0), (int64_t)strlen(text));
	assert_string_equal(buf, text);
	if (mode)
		assert_int_equal(n->mode, mode);
}

static void assert_link(struct memfs *fs, const char *path, const char *target)
{
	struct mnode *n = node_at(fs, path);
	if (!n || n->kind != MN_LINK)
		fail_msg("%s: %s", path, n ? "not a link" : "missing");
	assert_string_equal(n->link, target);
}

/* scratch/tree: what both the directory and the tar tests load. */
static void make_tree(void)
{
	char p[512], q[512];
	make_dir("tree", 0755);
	write_file("tree/hello.txt", "hello\n", 0644);
	make_dir("tree/etc", 0750);
	write_file("tree/etc/secret", "s3cret", 0600);
	make_dir("tree/a", 0755);
	make_dir("tree/a/b", 0755);
	write_file("tree/a/b/tool", "#!/bin/sh\n", 04755);
	make_dir("tree/empty", 0700);
	assert_int_equal(symlink("/etc/passwd", at("tree/passwd", p)), 0);
	assert_int_equal(symlink("/etc", at("tree/hostetc", p)), 0);
	assert_int_equal(symlink("a/b/tool", at("tree/rel", p)), 0);
	assert_int_equal(mkfifo(at("tree/pipe", p), 0644), 0);
	/* a link to a directory outside the tree is a link, never a walk into it */
	make_dir("outside", 0755);
	write_file("outside/not-in-image", "no", 0644);
	assert_int_equal(symlink(at("outside", q), at("tree/a/out", p)), 0);
}

static void check_tree(struct memfs *fs)
{
	assert_file(fs, "/hello.txt", "hello\n", 0644);
	assert_file(fs, "/etc/secret", "s3cret", 0600);
	assert_file(fs, "/a/b/tool", "#!/bin/sh\n", 04755);
	assert_int_equal(node_at(fs, "/etc")->kind, MN_DIR);
	assert_int_equal(node_at(fs, "/etc")->mode, 0750);
	assert_int_equal(node_at(fs, "/empty")->kind, MN_DIR);
	assert_int_equal(node_at(fs, "/empty")->mode, 0700);
	assert_int_equal(node_at(fs, "/empty")->dir.n, 0);
	/* the host's /etc/passwd is not copied: the link's text is all */
	assert_link(fs, "/passwd", "/etc/passwd");
	assert_link(fs, "/hostetc", "/etc");
	assert_link(fs, "/rel", "a/b/tool");
	assert_int_equal(node_at(fs, "/a/out")->kind, MN_LINK);
	assert_null(node_at(fs, "/a/out/not-in-image"));
	assert_null(node_at(fs, "/pipe"));   /* FIFOs are skipped */
	assert_null(node_at(fs, "/etc/passwd"));
	/* only the tree's own files: the root holds exactly these */
	const char *names[] = {"hello.txt", "etc", "a", "empty", "passwd", "hostetc", "rel"};
	assert_int_equal(fs->root->dir.n, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(memfs_lookup(fs->root, names[i]));
}

static void test_image_directory(void **state)
{
	(void)state;
	char p[512], err[512] = "";
	struct memfs fs;
	make_tree();
	assert_int_equal(memfs_init(&fs, 0), 0);
	if (image_load(&fs, at("tree", p), IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)))
		fail_msg("refused: %s", err);
	check_tree(&fs);
	memfs_free(&fs);

	/* the image's own root may be reached through a link (the operator's
	 * path), nothing inside it is */
	char q[512];
	assert_int_equal(symlink(at("tree", p), at("tree-link", q)), 0);
	assert_int_equal(memfs_init(&fs, 0), 0);
	assert_int_equal(image_load(&fs, at("tree-link", p), IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)), 0);
	check_tree(&fs);
	memfs_free(&fs);
}

/* A file that takes the data past max_bytes is refused by name. */
static void test_image_max_bytes(void **state)
{
	(void)state;
	char p[512], err[512] = "";
	struct memfs fs;
	make_dir("big", 0755);
	write_file("big/small", "12345", 0644);
	char data[5000];
	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = 0;
	write_file("big/large", data, 0644);
	assert_int_equal(memfs_init(&fs, 0), 0);
	assert_int_equal(image_load(&fs, at("big", p), 4096, err, sizeof(err)), -1);
	one_line_with(err, "'large' takes the image past its limit of 4096 bytes of file data");
	one_line_with(err, "root image ");
	memfs_free(&fs);
	/* together just within */
	assert_int_equal(memfs_init(&fs, 0), 0);
	assert_int_equal(image_load(&fs, p, 5004, err, sizeof(err)), 0);
	memfs_free(&fs);
	assert_int_equal(memfs_init(&fs, 0), 0);
	assert_int_equal(image_load(&fs, p, 5003, err, sizeof(err)), -1);
	memfs_free(&fs);
}

/* A tree deeper than the loader walks is refused, not followed to the
 * end of the descriptors. */
static void test_image_depth(void **state)
{
	(void)state;
	char p[512], err[512] = "";
	struct memfs fs;
	make_dir("deep", 0755);
	int fd = open(at("deep", p), O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	close(fd);
	assert_int_equal(memfs_init(&fs, 0), 0);
	assert_int_equal(image_load(&fs, p, IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)), -1);
	one_line_with(err, "is nested deeper than 256 directories");
	memfs_free(&fs);
}

static void test_image_refusals(void **state)
{
	(void)state;
	char p[512], err[512] = "";
	struct memfs fs;
	struct { const char *path, *says; } bad[] = {
		{"/nonexistent/image", "root image /nonexistent/image: No such file or directory"},
		{"/dev/null", "neither a directory nor a regular file"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(memfs_init(&fs, 0), 0);
		assert_int_equal(image_load(&fs, bad[i].path, IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)), -1);
		one_line_with(err, bad[i].says);
		memfs_free(&fs);
	}
	write_file("not-an-archive", "just some text, no archive at all\n", 0644);
	assert_int_equal(memfs_init(&fs, 0), 0);
	assert_int_equal(image_load(&fs, at("not-an-archive", p), IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)), -1);
	one_line_with(err, "not a directory nor an archive opsub reads");
	memfs_free(&fs);
	/* an empty file is an empty image */
	write_file("empty-file", "", 0644);
	assert_int_equal(memfs_init(&fs, 0), 0);
	if (image_load(&fs, at("empty-file", p), IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)))
		fail_msg("refused: %s", err);
	assert_int_equal(fs.root->dir.n, 0);
	memfs_free(&fs);
}

/* ---- the image loader: archives -------------------------------------------------- */

struct entry {
	const char *name;
	mode_t type;               /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO; 0: a hard link */
	const char *data;          /* file data, a link's target or a hard link's */
	mode_t perm;
};

enum format { TAR, TAR_GZ, CPIO_XZ, ZIP, NFORMATS };

/* scratch/rel: an archive of these entries. */
static const char *write_archive(const char *rel, const struct entry *e, size_t n, enum format f, char path[512])
{
	struct archive *a = archive_write_new();
	if (f == TAR || f == TAR_GZ)
		archive_write_set_format_pax_restricted(a);
	else if (f == CPIO_XZ)
		archive_write_set_format_cpio_newc(a);
	else
		archive_write_set_format_zip(a);
	if (f == TAR_GZ)
		archive_write_add_filter_gzip(a);
	if (f == CPIO_XZ)
		archive_write_add_filter_xz(a);
	assert_int_equal(archive_write_open_filename(a, at(rel, path)), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_perm(ae, e[i].perm);
		archive_entry_set_size(ae, 0);   /* cpio wants it on every entry */
		if (!e[i].type) {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].data);
		} else {
			archive_entry_set_filetype(ae, e[i].type);
			if (e[i].type == AE_IFLNK)
				archive_entry_set_symlink(ae, e[i].data);
			if (e[i].type == AE_IFREG)
				archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
		}
		if (archive_write_header(a, ae) != ARCHIVE_OK)
			fail_msg("%s: cannot write entry %s: %s", rel, e[i].name, archive_error_string(a));
		if (e[i].type == AE_IFREG)
			assert_int_equal(archive_write_data(a, e[i].data, strlen(e[i].data)), (la_ssize_t)strlen(e[i].data));
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return path;
}

static const char *write_tar(const char *rel, const struct entry *e, size_t n, bool gz, char path[512])
{
	return write_archive(rel, e, n, gz ? TAR_GZ : TAR, path);
}

static void test_image_archive(void **state)
{
	(void)state;
	static const struct entry entries[] = {
		{"./", AE_IFDIR, NULL, 0755},
		{"./etc/", AE_IFDIR, NULL, 0750},
		{"./etc/hosts", AE_IFREG, "127.0.0.1 localhost\n", 0644},
		{"/abs/file", AE_IFREG, "leading slash dropped", 0600},
		{"usr//bin/./tool", AE_IFREG, "tool", 0755},
		{"bin/sh", AE_IFLNK, "/usr/bin/tool", 0777},
		{"lib/up", AE_IFLNK, "../../../etc/passwd", 0777},   /* text: it resolves in the guest's tree */
		/* tar only (the cpio and zip writers take neither) */
		{"etc/hosts.copy", 0, "./etc/hosts", 0644},
		{"dev/fifo", AE_IFIFO, NULL, 0644},
	};
	static const char *const names[NFORMATS] = {"good.tar", "good.tar.gz", "good.cpio.xz", "good.zip"};
	for (enum format f = TAR; f < NFORMATS; f++) {
		char p[512], err[512] = "";
		struct memfs fs;
		bool tar = f == TAR || f == TAR_GZ;
		write_archive(names[f], entries, sizeof(entries) / sizeof(entries[0]) - (tar ? 0 : 2), f, p);
		assert_int_equal(memfs_init(&fs, 0), 0);
		if (image_load(&fs, p, IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)))
			fail_msg("%s refused: %s", p, err);
		assert_int_equal(node_at(&fs, "/etc")->mode, 0750);
		assert_file(&fs, "/etc/hosts", "127.0.0.1 localhost\n", 0644);
		assert_file(&fs, "/abs/file", "leading slash dropped", 0600);
		assert_file(&fs, "/usr/bin/tool", "tool", 0755);
		assert_link(&fs, "/bin/sh", "/usr/bin/tool");
		assert_link(&fs, "/lib/up", "../../../etc/passwd");
		if (tar) {
			assert_file(&fs, "/etc/hosts.copy", "127.0.0.1 localhost\n", 0644);   /* a hard link: a copy */
			assert_ptr_not_equal(node_at(&fs, "/etc/hosts.copy"), node_at(&fs, "/etc/hosts"));
		}
		assert_null(node_at(&fs, "/dev/fifo"));   /* skipped: FIFOs are no part of an image */
		memfs_free(&fs);
	}
}

/* ".." in an entry is refused, naming the entry; so is anything through a
 * link, and data past max_bytes. */
static void test_image_archive_refusals(void **state)
{
	(void)state;
	static const struct entry dotdot[] = {
		{"ok", AE_IFREG, "fine", 0644},
		{"a/../../x", AE_IFREG, "escape", 0644},
	};
	static const struct entry dotdot_link[] = {
		{"ok", AE_IFREG, "fine", 0644},
		{"x", 0, "../../etc/passwd", 0644},
	};
	static const struct entry through_link[] = {
		{"etc", AE_IFLNK, "/etc", 0777},
		{"etc/passwd", AE_IFREG, "root::0:0::/:/bin/sh\n", 0644},
	};
	static const struct entry dangling[] = {
		{"x", 0, "missing", 0644},
	};
	static const struct entry large[] = {
		{"a", AE_IFREG, "0123456789", 0644},
		{"b", AE_IFREG, "0123456789", 0644},
	};
	static const struct { const struct entry *e; size_t n; uint64_t max; const char *says; } bad[] = {
		{dotdot, 2, IMAGE_MAX_BYTES_DEFAULT, "entry 'a/../../x' has a '..' component"},
		{dotdot_link, 2, IMAGE_MAX_BYTES_DEFAULT, "entry '../../etc/passwd' has a '..' component"},
		{through_link, 2, IMAGE_MAX_BYTES_DEFAULT, "cannot take 'etc/passwd'"},
		{dangling, 1, IMAGE_MAX_BYTES_DEFAULT, "entry 'x' is a hard link to 'missing', which is no earlier regular file"},
		{large, 2, 15, "'b' takes the image past its limit of 15 bytes"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char p[512], name[32], err[512] = "";
		struct memfs fs;
		snprintf(name, sizeof(name), "bad%zu.tar", i);
		write_tar(name, bad[i].e, bad[i].n, false, p);
		assert_int_equal(memfs_init(&fs, 0), 0);
		if (!image_load(&fs, p, bad[i].max, err, sizeof(err)))
			fail_msg("%s accepted", p);
		one_line_with(err, bad[i].says);
		char root[600];
		snprintf(root, sizeof(root), "root image %s: ", p);
		one_line_with(err, root);
		memfs_free(&fs);
	}
}

/* A tar made by tar(1) of the same tree the directory test loads. */
static void test_image_tar_of_tree(void **state)
{
	(void)state;
	char p[512], cmd[1200], err[512] = "";
	struct memfs fs;
	struct stat st;
	if (stat(at("tree", p), &st))
		make_tree();
	snprintf(cmd, sizeof(cmd), "tar -C '%s/tree' -cJf '%s/tree.tar.xz' . 2>/dev/null", scratch, scratch);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(memfs_init(&fs, 0), 0);
	if (image_load(&fs, at("tree.tar.xz", p), IMAGE_MAX_BYTES_DEFAULT, err, sizeof(err)))
		fail_msg("refused: %s", err);
	check_tree(&fs);
	memfs_free(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_paths),
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_volume_set),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_guest_config),
		cmocka_unit_test(test_image_directory),
		cmocka_unit_test(test_image_max_bytes),
		cmocka_unit_test(test_image_depth),
		cmocka_unit_test(test_image_refusals),
		cmocka_unit_test(test_image_archive),
		cmocka_unit_test(test_image_archive_refusals),
		cmocka_unit_test(test_image_tar_of_tree),
	};
	return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
