#include "fs/fs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/image.h"
#include "fs/volume.h"

/* /proc/self/fd, whose names fs/path.h hands to the personality as the
 * guest's descriptors, and Linux's links into it. */
static struct mnode *add_descriptor_dir(struct memfs *mem, char *err, size_t errlen)
{
	static const char *const links[][2] = {
		{"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"},
		{"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (!memfs_add(mem, links[i][0], MN_LINK, 0777, links[i][1], 0, err, errlen))
			return NULL;
	return memfs_add(mem, "/proc/self/fd", MN_DIR, 0500, NULL, 0, err, errlen);
}

/* What every guest finds, whatever its image holds. */
static int add_standard(struct memfs *mem, const char *exe, char *err, size_t errlen)
{
	static const struct { const char *path; enum mdev dev; } devs[] = {
		{"/dev/null", MDEV_NULL}, {"/dev/zero", MDEV_ZERO},
		{"/dev/random", MDEV_RANDOM}, {"/dev/urandom", MDEV_URANDOM},
	};
	struct mnode *tmp = memfs_lookup(mem->root, "tmp");
	if (!tmp && !memfs_add(mem, "/tmp", MN_DIR, 01777, NULL, 0, err, errlen))
		return -1;
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (!memfs_add(mem, devs[i].path, MN_DEV, 0666, NULL, devs[i].dev, err, errlen))
			return -1;
	/* the guest's mappings, which C libraries read to find the main thread's stack */
	if (!memfs_add(mem, "/proc/self/maps", MN_DEV, 0444, NULL, MDEV_MAPS, err, errlen))
		return -1;
	/* the program's own path, for readlink("/proc/self/exe") */
	return memfs_add(mem, "/proc/self/exe", MN_LINK, 0777, exe, 0, err, errlen) ? 0 : -1;
}

int fs_setup(struct guest_fs *fs, const struct fs_options *o, const char *exe, char *err, size_t errlen)
{
	char why[256];
	memset(fs, 0, sizeof(*fs));
	strcpy(fs->cwd, "/");
	/* Linux names the program by its absolute path (glibc's static start
	 * asserts so, for $ORIGIN): a relative one is resolved as the kernel
	 * would, against opsub's working directory. */
	char abs[PATH_MAX];
	if (exe && exe[0] != '/' && realpath(exe, abs))
		exe = abs;
	snprintf(fs->exe, sizeof(fs->exe), "%s", exe && exe[0] == '/' ? exe : "/");
	if (memfs_init(&fs->mem, 0)) {
		snprintf(err, errlen, "no memory for the guest's file system");
		return -1;
	}
	if (o->root && image_load(&fs->mem, o->root, IMAGE_MAX_BYTES_DEFAULT, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);   /* image_load names the root */
		return -1;
	}
	if (add_standard(&fs->mem, fs->exe, why, sizeof(why)) ||
	    !(fs->fd_dir = add_descriptor_dir(&fs->mem, why, sizeof(why)))) {
		snprintf(err, errlen, "%s: %s", o->root ? o->root : "file system", why);
		return -1;
	}
	fs->fd_dir->opens++;   /* held, so that a guest removing it leaves no dangling pointer */
	for (unsigned i = 0; i < o->nvolumes; i++) {
		const struct fs_volume_spec *v = &o->volume[i];
		fs->volume_fd[i] = volume_attach(v->host, i, why, sizeof(why));
		if (fs->volume_fd[i] < 0) {
			snprintf(err, errlen, "--volume: %s", why);
			return -1;
		}
		if (!memfs_add(&fs->mem, v->guest, MN_VOLUME, 0555, NULL, i, why, sizeof(why))) {
			snprintf(err, errlen, "--volume %s:%s: %s (a volume needs an empty or new directory)", v->host,
			         v->guest, why);
			return -1;
		}
		fs->nvolumes++;
	}
	/* from here on the image is the guest's to change, within tmp_size */
	fs->mem.limit = fs->mem.bytes + (o->tmp_size ? o->tmp_size : FS_TMP_SIZE_DEFAULT);
	return 0;
}
