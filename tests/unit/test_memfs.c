/*
 * test_memfs.c: the guest's in-memory file system and path resolution.
 * The budget is exact (everything a guest makes is charged, and given back
 * when it goes), the tree keeps Linux's rules for rename and link counts,
 * and resolution never leaves the tree: ".." stops at the root, links are
 * expanded inside it (ELOOP after 40), and in a volume the rest of the
 * path goes to the kernel, or, where links or ".." are, is walked with the
 * links' targets in the guest's tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/memfs.h"
#include "fs/path.h"

static struct guest_fs gfs;

static int setup(void **state)
{
	(void)state;
	memset(&gfs, 0, sizeof(gfs));
	strcpy(gfs.cwd, "/");
	return memfs_init(&gfs.mem, 1 << 20);
}

static int teardown(void **state)
{
	(void)state;
	memfs_free(&gfs.mem);
	return 0;
}

static struct mnode *mk(const char *path, enum mnode_kind kind, const char *link)
{
	char err[256];
	struct mnode *n = memfs_add(&gfs.mem, path, kind, 0755, link, 0, err, sizeof(err));
	assert_non_null(n);
	return n;
}

static void test_budget_is_exact(void **state)
{
	(void)state;
	struct memfs *fs = &gfs.mem;
	uint64_t base = fs->bytes;
	struct mnode *d = memfs_create(fs, fs->root, "d", MN_DIR, 0755, NULL);
	assert_non_null(d);
	static uint8_t block[65536];
	unsigned files = 0;
	for (;; files++) {
		char name[32];
		snprintf(name, sizeof(name), "f%u", files);
		struct mnode *f = memfs_create(fs, d, name, MN_FILE, 0644, NULL);
		if (!f) {
			assert_int_equal(errno, ENOSPC);
			break;
		}
		int64_t r = memfs_write(fs, f, block, sizeof(block), 0);
		if (r < 0) {
			assert_int_equal(r, -ENOSPC);
			break;
		}
	}
	assert_true(files > 4);
	assert_true(fs->bytes <= fs->limit);
	/* a file cannot grow past the budget even through a hole */
	struct mnode *f0 = memfs_lookup(d, "f0");
	assert_int_equal(memfs_truncate(fs, f0, 1ull << 30), -ENOSPC);
	assert_int_equal(memfs_write(fs, f0, "x", 1, MEMFS_FILE_MAX), -EFBIG);
	/* everything given back */
	for (unsigned i = 0; i <= files; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%u", i);
		if (memfs_lookup(d, name))
			assert_int_equal(memfs_unlink(fs, d, name), 0);
	}
	assert_int_equal(memfs_unlink(fs, fs->root, "d"), 0);
	assert_int_equal(fs->bytes, base);
}

static void test_open_unlinked_file_lives_until_put(void **state)
{
	(void)state;
	struct memfs *fs = &gfs.mem;
	uint64_t base = fs->bytes;
	struct mnode *f = memfs_create(fs, fs->root, "f", MN_FILE, 0644, NULL);
	assert_int_equal(memfs_write(fs, f, "hello", 5, 0), 5);
	f->opens++;
	assert_int_equal(memfs_unlink(fs, fs->root, "f"), 0);
	assert_int_equal(f->nlink, 0);
	char buf[8] = {0};
	assert_int_equal(memfs_read(f, buf, sizeof(buf), 0), 5);
	assert_string_equal(buf, "hello");
	assert_true(fs->bytes > base);
	memfs_put(fs, f);
	assert_int_equal(fs->bytes, base);
}

static void test_rename_moves_directories(void **state)
{
	(void)state;
	struct memfs *fs = &gfs.mem;
	struct mnode *a = mk("/a", MN_DIR, NULL), *b = mk("/a/b", MN_DIR, NULL);
	struct mnode *f = mk("/a/b/file", MN_FILE, NULL);
	struct mnode *c = mk("/c", MN_DIR, NULL);
	unsigned root_links = fs->root->nlink;
	assert_int_equal(memfs_rename(fs, fs->root, "a", b, "x", 0), -EINVAL);   /* into itself */
	assert_int_equal(memfs_rename(fs, a, "b", fs->root, "a", 0), -ENOTEMPTY); /* a holds b */
	assert_int_equal(memfs_rename(fs, b, "file", fs->root, "c", 0), -EISDIR);
	assert_int_equal(memfs_rename(fs, a, "b", c, "b2", 0), 0);
	assert_ptr_equal(b->dir.parent, c);
	assert_int_equal(a->nlink, 2);
	assert_int_equal(c->nlink, 3);
	assert_int_equal(fs->root->nlink, root_links);
	assert_ptr_equal(memfs_lookup(b, "file"), f);
	/* replacing a file keeps one name and frees the old node's charge */
	mk("/g", MN_FILE, NULL);
	uint64_t before = fs->bytes;
	assert_int_equal(memfs_rename(fs, b, "file", fs->root, "g", 0), 0);
	assert_true(fs->bytes < before);
	assert_ptr_equal(memfs_lookup(fs->root, "g"), f);
	assert_null(memfs_lookup(b, "file"));
	assert_int_equal(memfs_rename(fs, fs->root, "g", fs->root, "c", RENAME_NOREPLACE), -EEXIST);
}

static int resolve(const char *path, unsigned flags, struct fs_where *w)
{
	return fs_resolve(&gfs, gfs.cwd, path, flags, w);
}

static void test_resolution_stays_in_the_tree(void **state)
{
	(void)state;
	static struct fs_where w;
	mk("/etc", MN_DIR, NULL);
	struct mnode *secret = mk("/etc/passwd", MN_FILE, NULL);
	mk("/tmp", MN_DIR, NULL);
	mk("/tmp/abs", MN_LINK, "/etc/passwd");
	mk("/tmp/up", MN_LINK, "../../../../../../etc/passwd");
	mk("/tmp/loop", MN_LINK, "/tmp/loop");
	mk("/tmp/file", MN_FILE, NULL);
	assert_int_equal(resolve("/../../../etc/passwd", PATH_FOLLOW, &w), 0);
	assert_ptr_equal(w.node, secret);
	assert_string_equal(w.canon, "/etc/passwd");
	assert_int_equal(resolve("/tmp/abs", PATH_FOLLOW, &w), 0);
	assert_ptr_equal(w.node, secret);
	assert_int_equal(resolve("/tmp/up", PATH_FOLLOW, &w), 0);
	assert_ptr_equal(w.node, secret);
	assert_string_equal(w.canon, "/etc/passwd");
	assert_int_equal(resolve("/tmp/abs", 0, &w), 0);   /* not followed: the link itself */
	assert_int_equal(w.node->kind, MN_LINK);
	assert_int_equal(resolve("/tmp/loop", PATH_FOLLOW, &w), -ELOOP);
	assert_int_equal(resolve("/tmp/file/x", PATH_FOLLOW, &w), -ENOTDIR);
	assert_int_equal(resolve("/tmp/none/x", PATH_FOLLOW, &w), -ENOENT);
	assert_int_equal(resolve("/tmp/file/", PATH_FOLLOW, &w), -ENOTDIR);
	assert_int_equal(resolve("", PATH_FOLLOW, &w), -ENOENT);
	assert_int_equal(resolve("/tmp/./x/../new", 0, &w), -ENOENT);   /* x does not exist */
	assert_int_equal(resolve("/tmp/./../tmp/new", 0, &w), 0);
	assert_null(w.node);
	assert_string_equal(w.name, "new");
	assert_string_equal(w.canon, "/tmp/new");
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(resolve(longname, 0, &w), -ENAMETOOLONG);
	static char longpath[FS_PATH_MAX + 8];
	memset(longpath, '/', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	assert_int_equal(resolve(longpath, 0, &w), -ENAMETOOLONG);
	strcpy(gfs.cwd, "/tmp");
	assert_int_equal(resolve("../../etc/passwd", PATH_FOLLOW, &w), 0);
	assert_ptr_equal(w.node, secret);
	strcpy(gfs.cwd, "/");
}

/* A volume: a host directory with a subdirectory, a file and links out of
 * it, into the tree, across ".." and in a loop. */
static char voldir[] = "/tmp/opsub-test-memfs.XXXXXX";

static void make_volume(void)
{
	char p[128];
	assert_non_null(mkdtemp(voldir));
	snprintf(p, sizeof(p), "%s/sub", voldir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/b", voldir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	static const char *const links[][2] = {
		{"sub/up", "../.."},         /* out of the volume, to the guest's / */
		{"abs", "/tmp"},             /* the guest's /tmp, not the host's */
		{"rel", "sub/../b"},
		{"loop", "/data/loop"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", voldir, links[i][0]);
		assert_int_equal(symlink(links[i][1], p), 0);
	}
	gfs.volume_fd[3] = open(voldir, O_PATH | O_DIRECTORY);
	assert_true(gfs.volume_fd[3] >= 0);
}

static void remove_volume(void)
{
	char cmd[128];
	close(gfs.volume_fd[3]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", voldir);
	assert_int_equal(system(cmd), 0);
}

static void test_volume_paths(void **state)
{
	(void)state;
	static struct fs_where w;
	char err[256];
	make_volume();
	assert_non_null(memfs_add(&gfs.mem, "/data", MN_VOLUME, 0555, NULL, 3, err, sizeof(err)));
	mk("/tmp", MN_DIR, NULL);
	mk("/tmp/here", MN_DIR, NULL);
	mk("/tmp/into", MN_LINK, "/data/sub/../rel");
	/* no link, no "..": the rest as written, for the kernel */
	assert_int_equal(resolve("/data/sub/x", PATH_FOLLOW, &w), 0);
	assert_int_equal(w.volume, 3);
	assert_string_equal(w.vpath, "sub/x");
	assert_string_equal(w.canon, "/data/sub/x");
	assert_int_equal(resolve("/data", PATH_FOLLOW, &w), 0);
	assert_string_equal(w.vpath, ".");
	/* ".." and links walked a component at a time */
	assert_int_equal(resolve("/data/sub/../b", PATH_FOLLOW, &w), 0);
	assert_int_equal(w.volume, 3);
	assert_string_equal(w.vpath, "b");
	assert_string_equal(w.canon, "/data/b");
	assert_int_equal(resolve("/tmp/into", PATH_FOLLOW, &w), 0);
	assert_string_equal(w.vpath, "b");
	assert_string_equal(w.canon, "/data/b");
	/* a link not followed in the last component stays the volume's */
	assert_int_equal(resolve("/data/rel", 0, &w), 0);
	assert_string_equal(w.vpath, "rel");
	/* out of the volume: its ".." is the directory above it, and its
	 * links name the guest's tree */
	assert_int_equal(resolve("/data/../tmp/here", PATH_FOLLOW, &w), 0);
	assert_int_equal(w.volume, -1);
	assert_string_equal(w.canon, "/tmp/here");
	assert_int_equal(resolve("/data/sub/up/tmp/here", PATH_FOLLOW, &w), 0);
	assert_int_equal(w.volume, -1);
	assert_string_equal(w.canon, "/tmp/here");
	assert_int_equal(resolve("/data/abs/here", PATH_FOLLOW, &w), 0);
	assert_int_equal(w.volume, -1);
	assert_string_equal(w.canon, "/tmp/here");
	assert_int_equal(resolve("/data/abs/new", PATH_FOLLOW, &w), 0);
	assert_null(w.node);   /* a free name in the tree */
	assert_string_equal(w.canon, "/tmp/new");
	/* errors: the walk's own, or the kernel's when it opens the rest */
	assert_int_equal(resolve("/data/loop", PATH_FOLLOW, &w), -ELOOP);
	assert_int_equal(resolve("/data/sub/../b/x", PATH_FOLLOW, &w), -ENOTDIR);
	assert_int_equal(resolve("/data/sub/../none/x", PATH_FOLLOW, &w), -ENOENT);
	assert_int_equal(resolve("/data/none/x", PATH_FOLLOW, &w), 0);
	assert_string_equal(w.vpath, "none/x");
	remove_volume();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_budget_is_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_unlinked_file_lives_until_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_moves_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolution_stays_in_the_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volume_paths, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
