/*
 * test_migrate_config.c: the config's "migration" object (docs/migration.md):
 * the key file must be a regular file of exactly 32 bytes that group and
 * others cannot read or write, "listen" a numeric HOST:PORT; every other
 * value is refused with one line that says what is wrong and what to do.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/opsub-test-migcfg-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A key file of len bytes with mode; its path (static). */
static const char *key_file(const char *name, size_t len, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	uint8_t bytes[64];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	fchmod(fd, mode);
	close(fd);
	return path;
}

static int parse(const char *migration, struct daemon_config *cfg, char *err, size_t errlen)
{
	char text[1024];
	snprintf(text, sizeof(text), "{\"migration\": %s}", migration);
	memset(err, 'x', errlen);
	return config_parse(text, cfg, err, errlen);
}

static void refused(const char *migration, const char *says)
{
	struct daemon_config cfg;
	char err[512];
	int rc = parse(migration, &cfg, err, sizeof(err));
	if (rc != -1 || !memchr(err, 0, sizeof(err)) || !strstr(err, says) || strchr(err, '\n'))
		fail_msg("migration %s\n  -> rc %d, \"%.300s\" (wanted one line with \"%s\")", migration, rc,
		         memchr(err, 0, sizeof(err)) ? err : "(not terminated)", says);
	if (rc == 0)
		config_free(&cfg);
}

static void test_good_key_and_listen(void **state)
{
	(void)state;
	const char *k = key_file("good", 32, 0600);
	static const char *const listens[] = {"0.0.0.0:7300", "127.0.0.1:1", "[::]:7300", "[::1]:65535"};
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
		char m[512], err[512];
		snprintf(m, sizeof(m), "{\"key_file\": \"%s\", \"listen\": \"%s\"}", k, listens[i]);
		struct daemon_config cfg;
		if (parse(m, &cfg, err, sizeof(err)))
			fail_msg("%s refused: %s", m, err);
		assert_true(cfg.migration);
		assert_string_equal(cfg.mig_listen, listens[i]);
		assert_int_equal(cfg.mig_key[0], 1);
		assert_int_equal(cfg.mig_key[31], (uint8_t)(31 * 13 + 1));
		config_free(&cfg);
	}
	/* without "listen": migrations out, snapshots and restores only */
	char m[256], err[512];
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", k);
	struct daemon_config cfg;
	assert_int_equal(parse(m, &cfg, err, sizeof(err)), 0);
	assert_null(cfg.mig_listen);
	config_free(&cfg);
}

static void test_bad_key_files_refused(void **state)
{
	(void)state;
	char m[512], target[128];
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", key_file("short", 31, 0600));
	refused(m, "exactly 32 bytes");
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", key_file("long", 33, 0600));
	refused(m, "exactly 32 bytes");
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", key_file("empty", 0, 0600));
	refused(m, "exactly 32 bytes");
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", key_file("world", 32, 0644));
	refused(m, "chmod 600");
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", key_file("group", 32, 0620));
	refused(m, "chmod 600");
	snprintf(target, sizeof(target), "%s", key_file("target", 32, 0600));
	char link[160];
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(target, link), 0);
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", link);
	refused(m, "symbolic link");
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\"}", dir);
	refused(m, "not a regular file");
	refused("{\"key_file\": \"/nonexistent/key\"}", "cannot be read");
	refused("{\"key_file\": \"\"}", "needs a \"key_file\"");
	refused("{\"key_file\": 7}", "needs a \"key_file\"");
	refused("{}", "needs a \"key_file\"");
	refused("[]", "\"migration\" must be an object");
	refused("\"key\"", "\"migration\" must be an object");
}

static void test_bad_listen_refused(void **state)
{
	(void)state;
	const char *k = key_file("good2", 32, 0600);
	static const char *const bad[] = {"7300", ":7300", "0.0.0.0:", "0.0.0.0:0", "0.0.0.0:65536", "0.0.0.0:73x",
	                                  "localhost:7300", "::1:7300", "[::1]7300", "[::1:7300", "1.2.3.4.5:1", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char m[512];
		snprintf(m, sizeof(m), "{\"key_file\": \"%s\", \"listen\": \"%s\"}", k, bad[i]);
		refused(m, "\"listen\"");
	}
	char m[512];
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\", \"listen\": 7300}", k);
	refused(m, "\"listen\" must be a string");
	snprintf(m, sizeof(m), "{\"key_file\": \"%s\", \"port\": 7300}", k);
	refused(m, "port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_key_and_listen),
		cmocka_unit_test(test_bad_key_files_refused),
		cmocka_unit_test(test_bad_listen_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
