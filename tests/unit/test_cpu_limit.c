/*
 * test_cpu_limit.c: a guest's CPU weight and cap (daemon/cpu_limit.h): the
 * mappings to the cgroup files, the config's checks, a host where nothing
 * is writable (said once, with what was tried; the defaults still work),
 * and, where this host has a writable cpu controller, thousands of guest
 * groups made and removed with nothing left behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/cpu_limit.h"
#include "daemon/daemon.h"

static void test_weight_and_cap_mapping(void **state)
{
	(void)state;
	/* v2 weight -> v1 shares: 100 is one ordinary process (1024) */
	assert_int_equal(cpu_weight_to_shares(1), 10);
	assert_int_equal(cpu_weight_to_shares(100), 1024);
	assert_int_equal(cpu_weight_to_shares(500), 5120);
	assert_int_equal(cpu_weight_to_shares(10000), 102400);
	/* cores -> quota per 100 ms period */
	assert_int_equal(cpu_max_to_quota_us(0), 0);
	assert_int_equal(cpu_max_to_quota_us(0.2), 20000);
	assert_int_equal(cpu_max_to_quota_us(0.01), 1000);
	assert_int_equal(cpu_max_to_quota_us(2), 200000);
	assert_int_equal(cpu_max_to_quota_us(1024), 102400000);
	char t[48];
	cpu_max_v2_text(0.2, t, sizeof(t));
	assert_string_equal(t, "20000 100000");
	cpu_max_v2_text(0, t, sizeof(t));
	assert_string_equal(t, "max 100000");
	cpu_max_v1_text(1.5, t, sizeof(t));
	assert_string_equal(t, "150000");
	cpu_max_v1_text(0, t, sizeof(t));
	assert_string_equal(t, "-1");
	cpu_max_format(0.2, t, sizeof(t));
	assert_string_equal(t, "0.2");
	cpu_max_format(0, t, sizeof(t));
	assert_string_equal(t, "none");
	/* the range a cap may have: below 1 ms per period the kernel refuses */
	assert_false(cpu_max_valid(0.009));
	assert_true(cpu_max_valid(0.01));
	assert_true(cpu_max_valid(1024));
	assert_false(cpu_max_valid(1024.5));
	assert_false(cpu_max_valid(-1));
	assert_false(cpu_max_valid(NAN));
}

#define PROG "/proc/self/exe"
#define GUEST(extra) \
	"{\"guests\":[{\"name\":\"a\",\"program\":\"" PROG "\",\"mac\":\"02:00:00:00:00:01\"" extra "}]}"

static void test_config_fields(void **state)
{
	(void)state;
	static struct daemon_config cfg;
	char err[512];
	assert_int_equal(config_parse(GUEST(""), &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.guest[0].cpu_weight, CPU_WEIGHT_DEFAULT);
	assert_true(cfg.guest[0].cpu_max == 0);
	config_free(&cfg);
	static const struct { const char *extra; unsigned weight; double max; } good[] = {
		{",\"cpu_weight\":1,\"cpu_max\":0.5", 1, 0.5},
		{",\"cpu_weight\":10000,\"cpu_max\":2", 10000, 2},
		{",\"cpu_max\":null", CPU_WEIGHT_DEFAULT, 0},
		{",\"cpu_max\":0.01", CPU_WEIGHT_DEFAULT, 0.01},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "{\"guests\":[{\"name\":\"a\",\"program\":\"" PROG
		         "\",\"mac\":\"02:00:00:00:00:01\"%s}]}", good[i].extra);
		if (config_parse(text, &cfg, err, sizeof(err)))
			fail_msg("%s refused: %s", text, err);
		assert_int_equal(cfg.guest[0].cpu_weight, good[i].weight);
		assert_true(cfg.guest[0].cpu_max == good[i].max);
		config_free(&cfg);
	}
	static const struct { const char *extra, *says; } bad[] = {
		{",\"cpu_weight\":0", "\"cpu_weight\" must be an integer from 1 to 10000"},
		{",\"cpu_weight\":10001", "\"cpu_weight\" must be an integer from 1 to 10000"},
		{",\"cpu_weight\":\"100\"", "\"cpu_weight\" must be an integer"},
		{",\"cpu_weight\":1.5", "\"cpu_weight\" must be an integer"},
		{",\"cpu_max\":0", "\"cpu_max\" must be a number of cores from 0.01 to 1024"},
		{",\"cpu_max\":-1", "\"cpu_max\" must be a number"},
		{",\"cpu_max\":0.001", "\"cpu_max\" must be a number"},
		{",\"cpu_max\":2000", "\"cpu_max\" must be a number"},
		{",\"cpu_max\":\"0.5\"", "\"cpu_max\" must be a number"},
		{",\"cpu_max\":true", "\"cpu_max\" must be a number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "{\"guests\":[{\"name\":\"a\",\"program\":\"" PROG
		         "\",\"mac\":\"02:00:00:00:00:01\"%s}]}", bad[i].extra);
		int rc = config_parse(text, &cfg, err, sizeof(err));
		if (rc != -1 || !strstr(err, bad[i].says) || !strstr(err, "guest 'a'"))
			fail_msg("%s -> rc %d, \"%s\" (wanted \"%s\")", text, rc, rc ? err : "", bad[i].says);
		config_free(&cfg);
	}
}

static unsigned dirs_in(const char *path)
{
	DIR *d = opendir(path);
	unsigned n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* A host where no hierarchy takes our groups: mount and cgroup tables that
 * point at plain directories (a v2 without cpu, a "v1" whose directories
 * have no cpu files). */
static void test_unavailable_says_why(void **state)
{
	(void)state;
	char dir[] = "/tmp/opsub-cpu-test-XXXXXX", path[256], mounts[300], cgroup[300];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v2", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/v2/cgroup.controllers", dir);
	FILE *f = fopen(path, "w");
	fputs("memory io\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/v1 cpu", dir);   /* (a space: "\040" in the table) */
	mkdir(path, 0755);
	snprintf(mounts, sizeof(mounts), "%s/mounts", dir);
	f = fopen(mounts, "w");
	fprintf(f, "cgroup2 %s/v2 cgroup2 rw 0 0\ncgroup %s/v1\\040cpu cgroup rw,cpu,cpuacct 0 0\n", dir, dir);
	fclose(f);
	snprintf(cgroup, sizeof(cgroup), "%s/cgroup", dir);
	f = fopen(cgroup, "w");
	fputs("2:cpu,cpuacct:/\n0::/\n", f);
	fclose(f);

	struct cpu_limit *cl = cpu_limit_open_from(mounts, cgroup, 4242, false);
	assert_non_null(cl);
	assert_int_equal(cpu_limit_kind(cl), CPU_LIMIT_NONE);
	const char *why = cpu_limit_why(cl);
	if (!strstr(why, "/v2 has no cpu controller") || !strstr(why, "v1 cpu/opsub-4242/cpu.shares"))
		fail_msg("why: %s", why);
	char err[1280];
	/* the defaults need nothing; anything else is refused with the reason */
	assert_int_equal(cpu_limit_check(cl, CPU_WEIGHT_DEFAULT, 0, err, sizeof(err)), 0);
	assert_int_equal(cpu_limit_join(cl, "a", getpid(), CPU_WEIGHT_DEFAULT, 0, err, sizeof(err)), 0);
	assert_int_equal(cpu_limit_join(cl, "b", getpid(), 200, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CPU control is unavailable on this host: "));
	assert_int_equal(cpu_limit_check(cl, CPU_WEIGHT_DEFAULT, 0.5, err, sizeof(err)), -1);
	assert_int_equal(cpu_limit_apply(cl, "a", getpid(), 100, 0, 100, 0.5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CPU control is unavailable on this host: "));
	cpu_limit_leave(cl, "a", CPU_WEIGHT_DEFAULT);
	/* usage still comes from the process itself */
	double s = -1;
	assert_int_equal(cpu_limit_usage(cl, "a", getpid(), &s), 0);
	assert_true(s >= 0);
	cpu_limit_close(cl);
	/* the probe left nothing in the directory it tried */
	snprintf(path, sizeof(path), "%s/v1 cpu", dir);
	assert_int_equal(dirs_in(path), 0);
	/* (and NULL, a daemon never started, is "unavailable" too) */
	assert_int_equal(cpu_limit_check(NULL, 300, 0, err, sizeof(err)), -1);
	assert_int_equal(cpu_limit_join(NULL, "a", getpid(), CPU_WEIGHT_DEFAULT, 0, err, sizeof(err)), 0);
	cpu_limit_close(NULL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void file_is(const char *dir, const char *name, const char *want)
{
	char path[512], got[128] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(got, 1, sizeof(got) - 1, f) : 0;
	got[n] = 0;
	if (f)
		fclose(f);
	if (strcmp(got, want))
		fail_msg("%s: \"%s\", wanted \"%s\"", path, got, want);
}

/* The cgroup v2 files, which this test host may not have writable: a
 * hierarchy of plain directories whose files the kernel would have made
 * are made beforehand (mkdir of an existing group is fine: one left by a
 * guest of the same name is taken over), and what is written is read back. */
static void test_v2_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/opsub-cpu-v2-XXXXXX", path[512], mounts[300], cgroup[300];
	assert_non_null(mkdtemp(dir));
	char v2[300], parent[320], group[340];
	snprintf(v2, sizeof(v2), "%s/v2", dir);
	snprintf(parent, sizeof(parent), "%s/opsub-4243", v2);
	snprintf(group, sizeof(group), "%s/guest-a", parent);
	mkdir(v2, 0755);
	mkdir(parent, 0755);
	mkdir(group, 0755);
	put_file(v2, "cgroup.controllers", "cpuset cpu io memory pids\n");
	put_file(v2, "cgroup.subtree_control", "");
	put_file(parent, "cgroup.subtree_control", "");
	put_file(parent, "cpu.weight", "");
	put_file(group, "cpu.weight", "");
	put_file(group, "cpu.max", "");
	put_file(group, "cgroup.procs", "");
	put_file(group, "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\n");
	snprintf(mounts, sizeof(mounts), "%s/mounts", dir);
	snprintf(path, sizeof(path), "cgroup2 %s cgroup2 rw,nsdelegate 0 0\n", v2);
	put_file(dir, "mounts", path);
	snprintf(cgroup, sizeof(cgroup), "%s/cgroup", dir);
	put_file(dir, "cgroup", "0::/\n");

	struct cpu_limit *cl = cpu_limit_open_from(mounts, cgroup, 4243, false);
	assert_int_equal(cpu_limit_kind(cl), CPU_LIMIT_V2);
	assert_string_equal(cpu_limit_path(cl), parent);
	file_is(v2, "cgroup.subtree_control", "+cpu");      /* enabled for its children */
	file_is(parent, "cgroup.subtree_control", "+cpu");  /* and for the guests' */
	file_is(parent, "cpu.weight", "100");
	char err[1280];
	if (cpu_limit_join(cl, "a", 1234, 300, 0.2, err, sizeof(err)))
		fail_msg("join: %s", err);
	file_is(group, "cpu.max", "20000 100000");
	file_is(group, "cpu.weight", "300");
	file_is(group, "cgroup.procs", "1234");
	file_is(parent, "cpu.weight", "300");
	double s = 0;
	assert_int_equal(cpu_limit_usage(cl, "a", 1234, &s), 0);
	assert_true(s == 1.5);
	/* a guest whose group cannot be made is refused with the reason */
	put_file(parent, "guest-b", "a file where its group would go");
	assert_int_equal(cpu_limit_join(cl, "b", 1234, 200, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/opsub-4243/guest-b"));
	cpu_limit_close(cl);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int read_number(const char *dir, const char *file, long long *out)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	int rc = f && fscanf(f, "%lld", out) == 1 ? 0 : -1;
	if (f)
		fclose(f);
	return rc;
}

/* On this host's own controller, if it has one we may write: 1500 guests
 * (one process moved along), each group made with its settings, the
 * parent's weight their sum; then all removed, the parent last.  The
 * times are printed, not checked: a busy machine makes cgroup writes slow. */
#define MANY 1500
static void test_thousands_of_groups_leave_nothing(void **state)
{
	(void)state;
	struct cpu_limit *cl = cpu_limit_open(false);
	assert_non_null(cl);
	if (cpu_limit_kind(cl) == CPU_LIMIT_NONE) {
		printf("# no writable cpu controller here: %s\n", cpu_limit_why(cl));
		cpu_limit_close(cl);
		skip();
	}
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", cpu_limit_path(cl));
	bool v2 = cpu_limit_kind(cl) == CPU_LIMIT_V2;
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	char err[1280], name[32];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		if (cpu_limit_join(cl, name, child, 1 + i % 3, i % 2 ? 0.5 : 0, err, sizeof(err)))
			fail_msg("join %d: %s", i, err);
	}
	double made = seconds_since(&t0);
	assert_int_equal(dirs_in(parent), MANY);
	/* the last group holds the process, with its settings */
	char group[4200];
	snprintf(group, sizeof(group), "%s/guest-g%d", parent, MANY - 1);
	long long v, procs;
	assert_int_equal(read_number(group, "cgroup.procs", &procs), 0);
	assert_int_equal(procs, child);
	assert_int_equal(read_number(group, v2 ? "cpu.weight" : "cpu.shares", &v), 0);
	assert_int_equal(v, v2 ? 1 + (MANY - 1) % 3 : cpu_weight_to_shares(1 + (MANY - 1) % 3));
	/* 1, 2, 3, 1, ... over MANY guests: 3000 (v1: 30720 shares) */
	assert_int_equal(read_number(parent, v2 ? "cpu.weight" : "cpu.shares", &v), 0);
	assert_int_equal(v, v2 ? 3000 : 30720);
	/* a change: weight 3 -> 100, cap lifted */
	assert_int_equal(cpu_limit_apply(cl, name, child, 3, 0.5, 100, 0, err, sizeof(err)), 0);
	assert_int_equal(read_number(parent, v2 ? "cpu.weight" : "cpu.shares", &v), 0);
	assert_int_equal(v, v2 ? 3097 : 31713);
	double used;
	assert_int_equal(cpu_limit_usage(cl, name, child, &used), 0);
	/* a guest with the defaults has no group until it is given others */
	assert_int_equal(cpu_limit_join(cl, "lazy", child, CPU_WEIGHT_DEFAULT, 0, err, sizeof(err)), 0);
	assert_int_equal(dirs_in(parent), MANY);
	if (cpu_limit_apply(cl, "lazy", child, CPU_WEIGHT_DEFAULT, 0, 200, 0, err, sizeof(err)))
		fail_msg("apply to a guest without a group: %s", err);
	assert_int_equal(dirs_in(parent), MANY + 1);
	snprintf(group, sizeof(group), "%s/guest-lazy", parent);
	assert_int_equal(read_number(group, "cgroup.procs", &procs), 0);
	assert_int_equal(procs, child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		cpu_limit_leave(cl, name, i == MANY - 1 ? 100 : 1 + i % 3);
	}
	cpu_limit_leave(cl, "lazy", 200);
	double removed = seconds_since(&t0);
	assert_int_equal(dirs_in(parent), 0);
	cpu_limit_leave(cl, "never-joined", 100);   /* fine */
	cpu_limit_close(cl);
	struct stat st;
	assert_int_equal(stat(parent, &st), -1);
	printf("# %d groups (%s) made in %.3f s, removed in %.3f s\n", MANY, v2 ? "v2" : "v1", made, removed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weight_and_cap_mapping),
		cmocka_unit_test(test_config_fields),
		cmocka_unit_test(test_unavailable_says_why),
		cmocka_unit_test(test_v2_files),
		cmocka_unit_test(test_thousands_of_groups_leave_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
