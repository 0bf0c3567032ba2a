// Attack: /proc's magic links.  /proc/self/root, /proc/thread-self/root,
// /proc/PID/root, /proc/1/root and /proc/self/cwd followed by the secret's
// path; /proc/self/fd/N/../../..SECRET and /dev/fd/N/... for every N below
// 1024 (opsub's own descriptors, e.g. a volume's directory at 900, would
// lead to the host); chdir("/proc/self/root"); the rest of /proc (maps,
// environ, cmdline, mountinfo, mem, status, cpuinfo, /proc/1/environ);
// /proc/self/exe: readlink must work, open() of it and of the path it names
// must not give the host's binary.
// argv: SECRET.  Natively (with a directory open at fd 900 as opsub's volume
// descriptor would be) each read works; under opsub each must fail.
#include "fsjail.h"

#define UP 24

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *secret = argv[1];
	char p[8192], t[8192];

	snprintf(p, sizeof p, "/proc/self/root%s", secret);
	try_read("self_root", p);
	snprintf(p, sizeof p, "/proc/thread-self/root%s", secret);
	try_read("thread_self_root", p);
	snprintf(p, sizeof p, "/proc/%d/root%s", (int)getpid(), secret);
	try_read("pid_root", p);
	snprintf(p, sizeof p, "/proc/1/root%s", secret);
	try_read("pid1_root", p);
	snprintf(p, sizeof p, "/proc/self/cwd/%s", dotdots(t, sizeof t, UP, secret));
	try_read("self_cwd", p);

	/* every descriptor number a process might hold below 1024 */
	int fd_ok = 0, devfd_ok = 0;
	for (int n = 0; n < 1024; n++) {
		int fd;
		snprintf(p, sizeof p, "/proc/self/fd/%d/%s", n, dotdots(t, sizeof t, UP, secret));
		fd = open(p, O_RDONLY);
		if (fd >= 0) {
			char name[32];
			snprintf(name, sizeof name, "self_fd_%d", n);
			report_fd(name, fd);
			fd_ok++;
		}
		snprintf(p, sizeof p, "/dev/fd/%d/%s", n, dotdots(t, sizeof t, UP, secret));
		fd = open(p, O_RDONLY);
		if (fd >= 0) {
			char name[32];
			snprintf(name, sizeof name, "dev_fd_%d", n);
			report_fd(name, fd);
			devfd_ok++;
		}
	}
	out("COUNT self_fd_opened %d", fd_ok);
	out("COUNT dev_fd_opened %d", devfd_ok);

	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	if (chdir("/proc/self/root") < 0) {
		out("OP chdir_self_root ERR %s", ename(errno));
	} else {
		out("OP chdir_self_root OK");
		try_read("after_chdir_self_root", secret + 1);
	}
	if (cwd >= 0 && fchdir(cwd) < 0)
		out("NOTE fchdir back failed");

	static const char *const others[] = {
		"/proc/self/maps", "/proc/self/environ", "/proc/self/cmdline", "/proc/self/mountinfo",
		"/proc/self/status", "/proc/cpuinfo", "/proc/self/fd/0", "/proc/self/stat",
		"/proc/self/auxv", "/proc/self/root/etc/hostname", "/proc/1/cmdline",
	};
	for (unsigned i = 0; i < sizeof others / sizeof *others; i++) {
		snprintf(t, sizeof t, "proc_%s", others[i] + 6);
		for (char *c = t; *c; c++)
			if (*c == '/')
				*c = '_';
		try_read(t, others[i]);
	}
	op("mem_rdwr", open("/proc/self/mem", O_RDWR));
	op("mem_rdonly", open("/proc/self/mem", O_RDONLY));

	/* /proc/self/exe: readlink yes, open no */
	ssize_t n = readlink("/proc/self/exe", t, sizeof t - 1);
	if (n < 0) {
		out("L exe ERR %s", ename(errno));
	} else {
		t[n] = 0;
		out("L exe OK (%zd bytes)", n);
		try_read("exe_target", t);
	}
	try_read("exe_open", "/proc/self/exe");
	try_read("exe_dotdot", "/proc/self/exe/..");
	out("DONE");
	return 0;
}
