// Extended attributes on files that carry none: getxattr/lgetxattr/fgetxattr of "user.none" give ENODATA, the list calls 0, removexattr ENODATA, on a file the program makes under /tmp; the path calls find the file as stat and lstat do (ENOENT, ENOTDIR, EFAULT; lgetxattr of a dangling link), the f* calls check the descriptor (EBADF, also O_PATH); names are checked as Linux checks them (empty or over 255 bytes ERANGE, no namespace EOPNOTSUPP, "user." alone EINVAL) and setxattr's flags and size (EINVAL, E2BIG). Natively this needs a host /tmp without security labels (SELinux would list one).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case ENOTDIR: return "ENOTDIR";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ERANGE: return "ERANGE";
	case E2BIG: return "E2BIG";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOSYS: return "ENOSYS";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static void R(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, en(errno));
	else
		printf("%s: %ld\n", what, r);
}

static char dir[] = "/tmp/opsub-xattr-XXXXXX";

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("mkdtemp: %s\n", en(errno));
		return 1;
	}
	char file[64], link[64], missing[64], through[80], value[64];
	snprintf(file, sizeof file, "%s/f", dir);
	snprintf(link, sizeof link, "%s/dangling", dir);
	snprintf(missing, sizeof missing, "%s/missing", dir);
	snprintf(through, sizeof through, "%s/x", file);
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "data\n", 5);
	symlink("missing", link);

	/* a file with none */
	R("getxattr user.none", getxattr(file, "user.none", value, sizeof value));
	R("lgetxattr user.none", lgetxattr(file, "user.none", value, sizeof value));
	R("fgetxattr user.none", fgetxattr(fd, "user.none", value, sizeof value));
	R("getxattr user.none, size 0", getxattr(file, "user.none", NULL, 0));
	R("getxattr of the directory", getxattr(dir, "user.none", value, sizeof value));
	R("getxattr trusted.none", getxattr(file, "trusted.none", value, sizeof value));
	R("listxattr", listxattr(file, value, sizeof value));
	R("listxattr, size 0", listxattr(file, NULL, 0));
	R("llistxattr", llistxattr(file, value, sizeof value));
	R("flistxattr", flistxattr(fd, value, sizeof value));
	R("removexattr user.none", removexattr(file, "user.none"));
	R("lremovexattr user.none", lremovexattr(file, "user.none"));
	R("fremovexattr user.none", fremovexattr(fd, "user.none"));

	/* the file as stat and lstat find it */
	R("getxattr missing", getxattr(missing, "user.none", value, sizeof value));
	R("listxattr missing", listxattr(missing, value, sizeof value));
	R("removexattr missing", removexattr(missing, "user.none"));
	R("setxattr missing", setxattr(missing, "user.none", "v", 1, 0));
	R("getxattr file/x", getxattr(through, "user.none", value, sizeof value));
	R("getxattr dangling link", getxattr(link, "user.none", value, sizeof value));
	R("lgetxattr dangling link", lgetxattr(link, "user.none", value, sizeof value));
	R("llistxattr dangling link", llistxattr(link, value, sizeof value));
	R("getxattr bad path pointer", syscall(SYS_getxattr, 1L, "user.none", value, sizeof value));

	/* the descriptor */
	R("fgetxattr closed", fgetxattr(99, "user.none", value, sizeof value));
	R("flistxattr closed", flistxattr(99, value, sizeof value));
	R("fremovexattr closed", fremovexattr(99, "user.none"));
	R("fsetxattr closed", fsetxattr(99, "user.none", "v", 1, 0));
	R("fgetxattr -1", fgetxattr(-1, "user.none", value, sizeof value));
	int opath = open(dir, O_PATH);
	R("fgetxattr O_PATH", fgetxattr(opath, "user.none", value, sizeof value));
	close(opath);

	/* names, flags, sizes */
	char longest[257];
	memset(longest, 'n', sizeof longest - 1);
	memcpy(longest, "user.", 5);
	longest[255] = 0;
	R("getxattr 255-byte name", getxattr(file, longest, value, sizeof value));
	longest[255] = 'n';
	longest[256] = 0;
	R("getxattr 256-byte name", getxattr(file, longest, value, sizeof value));
	R("getxattr empty name", getxattr(file, "", value, sizeof value));
	R("getxattr bad name pointer", syscall(SYS_getxattr, file, 1L, value, sizeof value));
	R("getxattr no namespace", getxattr(file, "none", value, sizeof value));
	R("getxattr user. alone", getxattr(file, "user.", value, sizeof value));
	R("removexattr no namespace", removexattr(file, "none"));
	R("setxattr empty name", setxattr(file, "", "v", 1, 0));
	R("setxattr bad flags", setxattr(file, "user.none", "v", 1, 4));
	R("setxattr 65537 bytes", syscall(SYS_setxattr, file, "user.none", value, 65537L, 0L));
	R("setxattr bad value pointer", syscall(SYS_setxattr, file, "user.none", 1L, 8L, 0L));

	close(fd);
	unlink(link);
	unlink(file);
	R("rmdir", rmdir(dir));
	return 0;
}
