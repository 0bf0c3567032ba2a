// Reads each path given ("NAME=PATH" arguments, after a START directory to
// chdir to) and prints one R line per path.  The symbolic-link attacks
// (abs_symlink, rel_symlink, proc_magic's links, archive) lay out the host
// side (links in the image and in a volume) and name the paths: natively
// they lead to the secret, under opsub they must not.
// Also "NAME=@PATH": readlink instead of read ("L NAME OK target" / "L NAME
// ERR E"), "NAME=+PATH": lstat (S NAME OK mode size / ERR E), "NAME=^PATH":
// stat, following links (S lines too), "NAME=?PATH": access(R_OK) (OP
// lines), "NAME=%PATH": list the directory (D NAME OK n: names / ERR E).
#include "fsjail.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (chdir(argv[1]) < 0)
		out("NOTE chdir start failed: %s", ename(errno));
	for (int i = 2; i < argc; i++) {
		char name[128];
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq - argv[i] >= (long)sizeof name)
			return 2;
		memcpy(name, argv[i], eq - argv[i]);
		name[eq - argv[i]] = 0;
		const char *path = eq + 1;
		if (*path == '@') {
			char t[4097];
			ssize_t n = readlink(path + 1, t, 4096);
			if (n < 0)
				out("L %s ERR %s", name, ename(errno));
			else {
				t[n] = 0;
				out("L %s OK %s", name, t);
			}
		} else if (*path == '?') {
			op(name, access(path + 1, R_OK));
		} else if (*path == '%') {
			DIR *d = opendir(path + 1);
			if (!d) {
				out("D %s ERR %s", name, ename(errno));
				continue;
			}
			char names[1024] = "";
			int n = 0;
			struct dirent *e;
			while ((e = readdir(d))) {
				n++;
				if (strlen(names) + strlen(e->d_name) + 2 < sizeof names) {
					strcat(names, " ");
					strcat(names, e->d_name);
				}
			}
			closedir(d);
			out("D %s OK %d:%s", name, n, names);
		} else if (*path == '+' || *path == '^') {
			struct stat st;
			if ((*path == '+' ? lstat(path + 1, &st) : stat(path + 1, &st)) < 0)
				out("S %s ERR %s", name, ename(errno));
			else
				out("S %s OK %o %lld", name, st.st_mode, (long long)st.st_size);
		} else {
			try_read(name, path);
		}
	}
	out("DONE");
	return 0;
}
