/* CPU weight and cap per guest through the cgroup cpu controller
 * (cpu_limit.h); finding where the groups may go is cpu_limit_probe.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/cpu_limit_group.h"
#include "daemon/log.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

#define V1_SHARES_MIN 2                /* the kernel's bounds of cpu.shares */
#define V1_SHARES_MAX 262144

bool cpu_max_valid(double cores)
{
	return cores >= CPU_MAX_MIN && cores <= CPU_MAX_MAX;   /* (NaN is neither) */
}

unsigned cpu_weight_to_shares(unsigned weight)
{
	return (unsigned)((uint64_t)weight * 1024 / CPU_WEIGHT_DEFAULT);
}

uint64_t cpu_max_to_quota_us(double cores)
{
	if (!(cores > 0))
		return 0;
	uint64_t q = (uint64_t)(cores * CPU_PERIOD_US + 0.5);
	return q < 1000 ? 1000 : q;   /* the kernel refuses less than 1 ms */
}

void cpu_max_v2_text(double cores, char *out, size_t len)
{
	uint64_t q = cpu_max_to_quota_us(cores);
	if (q)
		snprintf(out, len, "%" PRIu64 " %d", q, CPU_PERIOD_US);
	else
		snprintf(out, len, "max %d", CPU_PERIOD_US);
}

void cpu_max_v1_text(double cores, char *out, size_t len)
{
	uint64_t q = cpu_max_to_quota_us(cores);
	if (q)
		snprintf(out, len, "%" PRIu64, q);
	else
		snprintf(out, len, "-1");
}

void cpu_max_format(double cores, char *out, size_t len)
{
	if (cores > 0)
		snprintf(out, len, "%g", cores);
	else
		snprintf(out, len, "none");
}

enum cpu_limit_kind cpu_limit_kind(const struct cpu_limit *cl)
{
	return cl ? cl->kind : CPU_LIMIT_NONE;
}

const char *cpu_limit_path(const struct cpu_limit *cl)
{
	return cl && cl->kind != CPU_LIMIT_NONE ? cl->path : "";
}

const char *cpu_limit_why(const struct cpu_limit *cl)
{
	return !cl ? "the daemon did not set it up" : cl->kind == CPU_LIMIT_NONE ? cl->why : "";
}

static bool available(const struct cpu_limit *cl)
{
	return cl && cl->kind != CPU_LIMIT_NONE;
}

/* weight 100 (or 0, the same), no cap */
static bool defaults(unsigned weight, double max)
{
	return (weight == CPU_WEIGHT_DEFAULT || weight == 0) && !(max > 0);
}

int cpu_limit_check(const struct cpu_limit *cl, unsigned weight, double max, char *err, size_t errlen)
{
	if (!defaults(weight, max) && !available(cl))
		FAIL("CPU control is unavailable on this host: %s", cpu_limit_why(cl));
	return 0;
}

/* The name of a guest's group.  Guest names are letters, digits, '.', '_'
 * and '-' (config.c): with the prefix never "." or "..", never a control
 * file's name. */
static void group_of(const char *guest, char *out, size_t len)
{
	snprintf(out, len, "guest-%s", guest);
}

int cpu_group_write(const struct cpu_limit *cl, const char *group, const char *file, const char *text, char *err,
                    size_t errlen)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "%s%s%s", group ? group : "", group ? "/" : "", file);
	int fd = openat(cl->dir, rel, O_WRONLY | O_CLOEXEC);
	ssize_t n = -1;
	if (fd >= 0) {
		n = write(fd, text, strlen(text));
		int e = errno;
		close(fd);
		errno = n < 0 ? e : EIO;
	}
	if (n == (ssize_t)strlen(text))
		return 0;
	if (err)
		snprintf(err, errlen, "cannot write '%s' to %s/%s: %s", text, cl->path, rel, strerror(errno));
	return -1;
}

/* The parent weighs what its guests weigh together (cpu_limit.h). */
static void weigh_parent(struct cpu_limit *cl)
{
	uint64_t sum = cl->weight_sum ? cl->weight_sum : CPU_WEIGHT_DEFAULT;
	char text[24];
	if (cl->kind == CPU_LIMIT_V2)
		snprintf(text, sizeof(text), "%" PRIu64, sum < CPU_WEIGHT_MAX ? sum : CPU_WEIGHT_MAX);
	else {
		uint64_t shares = sum * 1024 / CPU_WEIGHT_DEFAULT;
		shares = shares < V1_SHARES_MIN ? V1_SHARES_MIN : shares > V1_SHARES_MAX ? V1_SHARES_MAX : shares;
		snprintf(text, sizeof(text), "%" PRIu64, shares);
	}
	char err[256];
	if (cpu_group_write(cl, NULL, cl->kind == CPU_LIMIT_V2 ? "cpu.weight" : "cpu.shares", text, err, sizeof(err)))
		log_warning("CPU control: %s (the guests together keep their old weight)", err);
}

/* Weight and cap into a guest's group (v1: the period before the quota
 * that is measured over it). */
static int write_settings(const struct cpu_limit *cl, const char *group, unsigned weight, double max, char *err,
                          size_t errlen)
{
	char w[24], m[48];
	if (cl->kind == CPU_LIMIT_V2) {
		snprintf(w, sizeof(w), "%u", weight);
		cpu_max_v2_text(max, m, sizeof(m));
		return cpu_group_write(cl, group, "cpu.max", m, err, errlen) ||
		       cpu_group_write(cl, group, "cpu.weight", w, err, errlen);
	}
	char period[16];
	snprintf(period, sizeof(period), "%d", CPU_PERIOD_US);
	snprintf(w, sizeof(w), "%u", cpu_weight_to_shares(weight));
	cpu_max_v1_text(max, m, sizeof(m));
	return cpu_group_write(cl, group, "cpu.cfs_period_us", period, err, errlen) ||
	       cpu_group_write(cl, group, "cpu.cfs_quota_us", m, err, errlen) ||
	       cpu_group_write(cl, group, "cpu.shares", w, err, errlen);
}

/* The group made (or one left by a guest of this name whose process
 * lingered, taken over), its settings written, then the process moved in:
 * it never runs in its group without them.  On failure it is removed. */
static int make_group(struct cpu_limit *cl, const char *group, pid_t pid, unsigned weight, double max, char *err,
                      size_t errlen)
{
	char text[24];
	if (mkdirat(cl->dir, group, 0755) && errno != EEXIST)
		FAIL("cannot create its CPU group %s/%s: %s", cl->path, group, strerror(errno));
	snprintf(text, sizeof(text), "%d", (int)pid);
	if (write_settings(cl, group, weight, max, err, errlen) ||
	    cpu_group_write(cl, group, "cgroup.procs", text, err, errlen)) {
		unlinkat(cl->dir, group, AT_REMOVEDIR);
		return -1;
	}
	cl->weight_sum += weight;
	weigh_parent(cl);
	return 0;
}

int cpu_limit_join(struct cpu_limit *cl, const char *guest, pid_t pid, unsigned weight, double max, char *err,
                   size_t errlen)
{
	if (!available(cl) || defaults(weight, max))
		return cpu_limit_check(cl, weight, max, err, errlen);
	char group[64];
	group_of(guest, group, sizeof(group));
	return make_group(cl, group, pid, weight, max, err, errlen);
}

int cpu_limit_apply(struct cpu_limit *cl, const char *guest, pid_t pid, unsigned old_weight, double old_max,
                    unsigned weight, double max, char *err, size_t errlen)
{
	if (!available(cl))
		FAIL("CPU control is unavailable on this host: %s", cpu_limit_why(cl));
	char group[64];
	struct stat st;
	group_of(guest, group, sizeof(group));
	if (fstatat(cl->dir, group, &st, 0))   /* it had the defaults: no group yet */
		return make_group(cl, group, pid, weight, max, err, errlen);
	if (write_settings(cl, group, weight, max, err, errlen)) {
		write_settings(cl, group, old_weight, old_max, NULL, 0);
		return -1;
	}
	cl->weight_sum = cl->weight_sum - (old_weight < cl->weight_sum ? old_weight : cl->weight_sum) + weight;
	weigh_parent(cl);
	return 0;
}

void cpu_limit_leave(struct cpu_limit *cl, const char *guest, unsigned weight)
{
	if (!available(cl))
		return;
	char group[64];
	group_of(guest, group, sizeof(group));
	if (unlinkat(cl->dir, group, AT_REMOVEDIR)) {
		if (errno == ENOENT)   /* it never joined */
			return;
		log_warning("CPU control: cannot remove the group %s/%s: %s (tried again when the daemon stops)", cl->path,
		            group, strerror(errno));
	}
	cl->weight_sum -= weight < cl->weight_sum ? weight : cl->weight_sum;
	weigh_parent(cl);
}

/* A small text file (its first len - 1 bytes) as a string; -1 if it
 * cannot be read or is empty. */
static int read_text(int dir, const char *rel, char *buf, size_t len)
{
	int fd = openat(dir, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* The first number after `key` in a file of "key value" lines. */
static int read_counter(int dir, const char *rel, const char *key, uint64_t *out)
{
	char buf[1024];
	if (read_text(dir, rel, buf, sizeof(buf)))
		return -1;
	const char *p = buf;
	if (key) {
		size_t k = strlen(key);
		for (p = buf; p && strncmp(p, key, k); p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			continue;
		if (!p)
			return -1;
		p += k;
	}
	char *end;
	*out = strtoull(p, &end, 10);
	return end == p ? -1 : 0;
}

/* User + system time of a process and its threads (fields 14 and 15 of
 * /proc/PID/stat, after the command name, which may hold anything). */
static int process_seconds(pid_t pid, double *seconds)
{
	char path[32], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || read_text(AT_FDCWD, path, buf, sizeof(buf)))
		return -1;
	const char *p = strrchr(buf, ')');
	unsigned long user, sys;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &sys) != 2)
		return -1;
	*seconds = (double)(user + sys) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

int cpu_limit_usage(const struct cpu_limit *cl, const char *guest, pid_t pid, double *seconds)
{
	if (available(cl)) {
		char group[64], rel[96];
		uint64_t v;
		group_of(guest, group, sizeof(group));
		snprintf(rel, sizeof(rel), "%s/%s", group, cl->kind == CPU_LIMIT_V2 ? "cpu.stat" : "cpuacct.usage");
		if (cl->kind == CPU_LIMIT_V2 && read_counter(cl->dir, rel, "usage_usec ", &v) == 0) {
			*seconds = (double)v / 1e6;
			return 0;
		}
		if (cl->kind == CPU_LIMIT_V1 && cl->cpuacct && read_counter(cl->dir, rel, NULL, &v) == 0) {
			*seconds = (double)v / 1e9;
			return 0;
		}
	}
	return process_seconds(pid, seconds);
}

void cpu_group_remove_children(int dir)
{
	int fd = dup(dir);
	DIR *dh = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dh) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dh)))
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dir, e->d_name, AT_REMOVEDIR);
	closedir(dh);
}

void cpu_limit_close(struct cpu_limit *cl)
{
	if (!cl)
		return;
	if (cl->dir >= 0) {
		/* the groups of guests whose processes lingered at their end */
		cpu_group_remove_children(cl->dir);
		close(cl->dir);
		if (rmdir(cl->path))
			log_warning("CPU control: cannot remove the group %s: %s", cl->path, strerror(errno));
	}
	free(cl);
}
