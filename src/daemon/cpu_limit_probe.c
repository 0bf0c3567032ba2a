/* Where the CPU groups may go (cpu_limit.h): cgroup v2 if its cpu
 * controller can be enabled for a directory of ours, else cgroup v1's cpu
 * hierarchy; under the daemon's own group first, the root second. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/cpu_limit_group.h"
#include "daemon/log.h"

/* Whether `word` is one of the items of list, separated by any of seps. */
static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);
	for (const char *p = list; *p; p += strcspn(p, seps), p += strspn(p, seps))
		if (!strncmp(p, word, n) && (p[n] == 0 || strchr(seps, p[n])))
			return true;
	return false;
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	errno = e;
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = n < 0 ? e : EIO;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* "\040" in a mount point is a space (and so on): undone in place. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++)
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else
			*o++ = *p;
	*o = 0;
}

struct hierarchies {
	char v2[PATH_MAX], v1[PATH_MAX];            /* mount points, "" none */
	char v2_own[PATH_MAX], v1_own[PATH_MAX];    /* the daemon's group in each, "" unknown */
	bool v1_cpuacct;
};

static void find_mounts(const char *file, struct hierarchies *h)
{
	FILE *f = fopen(file, "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		char dev[256], dir[PATH_MAX], type[64], opts[1024];
		if (sscanf(line, "%255s %4095s %63s %1023s", dev, dir, type, opts) != 4)
			continue;
		unescape(dir);
		if (!strcmp(type, "cgroup2") && !h->v2[0])
			snprintf(h->v2, sizeof(h->v2), "%s", dir);
		else if (!strcmp(type, "cgroup") && has_word(opts, "cpu", ",") && !h->v1[0]) {
			snprintf(h->v1, sizeof(h->v1), "%s", dir);
			h->v1_cpuacct = has_word(opts, "cpuacct", ",");
		}
	}
	if (f)
		fclose(f);
}

/* The daemon's own group in each: "0::/PATH" (v2), "N:cpu,cpuacct:/PATH" (v1). */
static void find_own(const char *file, struct hierarchies *h)
{
	FILE *f = fopen(file, "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (!strcmp(line, "0:") && c1 + 1 == c2)
			snprintf(h->v2_own, sizeof(h->v2_own), "%s", c2 + 1);
		else if (has_word(c1 + 1, "cpu", ","))
			snprintf(h->v1_own, sizeof(h->v1_own), "%s", c2 + 1);
	}
	if (f)
		fclose(f);
}

/* Adds "; TEXT" to what was tried. */
static void note(struct cpu_limit *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct cpu_limit *cl, const char *fmt, ...)
{
	size_t n = strlen(cl->why);
	if (n && n + 2 < sizeof(cl->why))
		n += (size_t)snprintf(cl->why + n, sizeof(cl->why) - n, "; ");
	va_list ap;
	va_start(ap, fmt);
	if (n < sizeof(cl->why))
		vsnprintf(cl->why + n, sizeof(cl->why) - n, fmt, ap);
	va_end(ap);
}

/* Parents opsub-PID of daemons that no longer run (killed with SIGKILL):
 * their empty groups are removed; a group still in use cannot be. */
static void remove_stale(const char *base, long self)
{
	DIR *dh = opendir(base);
	struct dirent *e;
	while (dh && (e = readdir(dh))) {
		char *end;
		if (strncmp(e->d_name, "opsub-", 6))
			continue;
		long pid = strtol(e->d_name + 6, &end, 10);
		if (*end || pid <= 0 || pid == self || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		int fd = openat(dirfd(dh), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		cpu_group_remove_children(fd);
		close(fd);
		if (unlinkat(dirfd(dh), e->d_name, AT_REMOVEDIR) == 0)
			log_event("CPU control: removed %s/%s, left by a daemon that no longer runs", base, e->d_name);
	}
	if (dh)
		closedir(dh);
}

/* opsub-ID under base, open, writable: 0, or -1 with a note. */
static int make_parent(struct cpu_limit *cl, enum cpu_limit_kind kind, const char *base, long id)
{
	remove_stale(base, id);
	snprintf(cl->path, sizeof(cl->path), "%s/opsub-%ld", base, id);
	if (mkdir(cl->path, 0755) && errno != EEXIST) {
		note(cl, "cannot create %s: %s", cl->path, strerror(errno));
		return -1;
	}
	cl->dir = open(cl->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cl->kind = kind;
	char err[PATH_MAX + 128], text[16];
	snprintf(text, sizeof(text), "%u", kind == CPU_LIMIT_V2 ? CPU_WEIGHT_DEFAULT : 1024);
	/* v2: its children get the controller; both: its files take writes
	 * (a directory that is not a cgroup has no such files) */
	if (cl->dir < 0 || (kind == CPU_LIMIT_V2 && cpu_group_write(cl, NULL, "cgroup.subtree_control", "+cpu", err,
	                                                          sizeof(err))) ||
	    cpu_group_write(cl, NULL, kind == CPU_LIMIT_V2 ? "cpu.weight" : "cpu.shares", text, err, sizeof(err))) {
		note(cl, "%s", cl->dir < 0 ? strerror(errno) : err);
		if (cl->dir >= 0)
			close(cl->dir);
		cl->dir = -1;
		cl->kind = CPU_LIMIT_NONE;
		rmdir(cl->path);
		return -1;
	}
	return 0;
}

/* v2 under base: its cpu controller enabled for its children, then ours. */
static int try_v2(struct cpu_limit *cl, const char *base, long id)
{
	char path[PATH_MAX + 32], text[512];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
	if (read_text(path, text, sizeof(text))) {
		note(cl, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (!has_word(text, "cpu", " ")) {
		note(cl, "cgroup v2 %s has no cpu controller (it is held by a v1 hierarchy, or not enabled above)", base);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
	if (read_text(path, text, sizeof(text)) == 0 && !has_word(text, "cpu", " ") && write_text(path, "+cpu")) {
		note(cl, "cannot enable cpu in %s: %s%s", path, strerror(errno),
		     errno == EBUSY ? " (the group holds processes)" : "");
		return -1;
	}
	return make_parent(cl, CPU_LIMIT_V2, base, id);
}

/* Each candidate base: the daemon's own group, then the root. */
static int try_bases(struct cpu_limit *cl, enum cpu_limit_kind kind, const char *mount, const char *own, long id)
{
	char base[PATH_MAX];
	bool own_ok = own[0] && strcmp(own, "/") && strlen(mount) + strlen(own) < sizeof(base);
	for (int i = own_ok ? 0 : 1; i < 2; i++) {
		snprintf(base, sizeof(base), "%s%s", mount, i ? "" : own);
		struct stat st;
		int bad = stat(base, &st) ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
		if (bad) {
			note(cl, "%s: %s", base, strerror(bad));
			continue;
		}
		if ((kind == CPU_LIMIT_V2 ? try_v2(cl, base, id) : make_parent(cl, kind, base, id)) == 0)
			return 0;
	}
	return -1;
}

struct cpu_limit *cpu_limit_open_from(const char *mounts_file, const char *cgroup_file, long id, bool warn)
{
	struct cpu_limit *cl = calloc(1, sizeof(*cl));
	struct hierarchies *h = calloc(1, sizeof(*h));
	if (!cl || !h) {
		free(cl);
		free(h);
		return NULL;
	}
	cl->dir = -1;
	find_mounts(mounts_file, h);
	find_own(cgroup_file, h);
	if (!h->v2[0])
		note(cl, "no cgroup v2 hierarchy mounted");
	if (!h->v1[0])
		note(cl, "no cgroup v1 hierarchy with the cpu controller mounted");
	if ((h->v2[0] && try_bases(cl, CPU_LIMIT_V2, h->v2, h->v2_own, id) == 0) ||
	    (h->v1[0] && try_bases(cl, CPU_LIMIT_V1, h->v1, h->v1_own, id) == 0)) {
		cl->cpuacct = cl->kind == CPU_LIMIT_V1 && h->v1_cpuacct;
		log_event("CPU control: cgroup %s, a group per guest in %s", cl->kind == CPU_LIMIT_V2 ? "v2" : "v1 cpu",
		          cl->path);
	} else
		(warn ? log_warning : log_event)("CPU control is unavailable on this host: %s; guests run without CPU "
		                                 "weights or caps", cl->why);
	free(h);
	return cl;
}

struct cpu_limit *cpu_limit_open(bool warn)
{
	return cpu_limit_open_from("/proc/self/mounts", "/proc/self/cgroup", (long)getpid(), warn);
}
