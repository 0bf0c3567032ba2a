/*
 * test_config.c: the daemon's config as an input: every bad config is
 * refused by validation (before anything starts) with one line that names
 * what is wrong; configs come only from regular files of bounded size.
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

/* A readable program for the guests of the configs below (the loader
 * is not run here: validation only checks that it can be read). */
#define PROG "/proc/self/exe"
#define GUEST(name, mac, extra) \
	"{\"name\":\"" name "\",\"program\":\"" PROG "\",\"mac\":\"" mac "\"" extra "}"

static struct daemon_config cfg;

/* Parses text; asserts it is refused with one line containing `says`. */
static void refused(const char *text, const char *says)
{
	char err[512];
	memset(err, 'x', sizeof(err));
	int rc = config_parse(text, &cfg, err, sizeof(err));
	if (rc != -1 || !memchr(err, 0, sizeof(err)) || !strstr(err, says) || strchr(err, '\n'))
		fail_msg("config %s\n  -> rc %d, \"%.200s\" (wanted one line with \"%s\")", text, rc,
		         memchr(err, 0, sizeof(err)) ? err : "(not terminated)", says);
}

static void accepted(const char *text)
{
	char err[512] = "";
	if (config_parse(text, &cfg, err, sizeof(err)))
		fail_msg("config %s\n  -> refused: %s", text, err);
	config_free(&cfg);
}

static void test_bad_configs_refused_with_their_reason(void **state)
{
	(void)state;
	static const struct { const char *text, *says; } bad[] = {
		/* duplicate keys: the last one used to win silently */
		{ "{\"seconds\": 1, \"seconds\": 2}", "duplicate object key" },
		{ "{\"guests\": [" GUEST("a", "02:00:00:00:00:01", ", \"mac\": \"02:00:00:00:00:02\"") "]}",
		  "duplicate object key" },
		/* MACs a port cannot have */
		{ "{\"guests\": [" GUEST("a", "00:00:00:00:00:00", "") "]}", "00:00:00:00:00:00 is no address" },
		{ "{\"guests\": [" GUEST("a", "ff:ff:ff:ff:ff:ff", "") "]}", "must be unicast" },
		{ "{\"guests\": [" GUEST("a", "01:00:5e:00:00:01", "") "]}", "must be unicast" },
		/* the NIC's queue budget, with and without the host port */
		{ "{\"nic\": {\"queues\": 4}, \"guests\": [" GUEST("a", "02:00:00:00:00:01", ", \"queues\": 3")
		  "," GUEST("b", "02:00:00:00:00:02", ", \"queues\": 2") "]}",
		  "the guests take 5 queue pairs in all but the NIC has 4" },
		{ "{\"nic\": {\"queues\": 4}, \"host_port\": {\"tap\": \"op0\"}, \"guests\": ["
		  GUEST("a", "02:00:00:00:00:01", ", \"queues\": 4") "]}",
		  "the guests and the host port take 5 queue pairs" },
		/* TAP interfaces */
		{ "{\"nic\": {\"wire\": \"tap:op0\"}, \"host_port\": {\"tap\": \"op0\"}}", "both use the TAP interface 'op0'" },
		{ "{\"host_port\": {\"tap\": \"a-name-of-16-chr\"}}", "host_port \"tap\" must be an interface name of 1 to 15" },
		{ "{\"host_port\": {\"tap\": \"a/b\"}}", "host_port \"tap\" must be an interface name" },
		{ "{\"nic\": {\"wire\": \"tap:a-name-of-16-chr\"}}", "tap: bad interface name" },
		/* wire specs, checked whole with the config */
		{ "{\"nic\": {\"wire\": \"pcap:/tmp/x.pcap,/tmp/x.pcap\"}}", "the input and the output are the same file" },
		{ "{\"nic\": {\"wire\": \"pcap:,\"}}", "both files are empty" },
		{ "{\"nic\": {\"wire\": \"pcap:in.pcap\"}}", "give an input and an output" },
		{ "{\"nic\": {\"wire\": \"warp\"}}", "unknown wire 'warp'" },
		{ "{\"nic\": {\"wire\": \"loop:1\"}}", "loop takes no arguments" },
		{ "{\"nic\": {\"wire\": \"null:10\"}}", "frame size must be from 60 to 2048" },
		{ "{\"nic\": {\"wire\": \"null:64,zz\"}}", "a MAC must look like" },
		{ "{\"nic\": {\"wire\": \"null:64,02:00:00:00:00:01,02:00:00:00:00:02,x\"}}", "too many fields" },
		/* values */
		{ "{\"guests\": [" GUEST("a", "02:00:00:00:00:01", ", \"promiscuous\": \"yes\"") "]}",
		  "\"promiscuous\" must be true or false" },
		{ "{\"seconds\": 1e300}", "\"seconds\" must be a number from 0 to 1000000000" },
		{ "{\"seconds\": -1}", "\"seconds\" must be a number from 0" },
		{ "{\"guests\": [" GUEST("two words", "02:00:00:00:00:01", "") "]}", "letters, digits" },
		{ "{\"guests\": [" GUEST("a\\nb", "02:00:00:00:00:01", "") "]}", "letters, digits" },
		{ "{\"guests\": [{\"name\": \"a\", \"program\": \"\", \"mac\": \"02:00:00:00:00:01\"}]}", "needs a \"program\"" },
		{ "{\"control\": \"/tmp/a-path-longer-than-a-unix-socket-can-have-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock\"}",
		  "\"control\" must be a path of at most 107 bytes" },
		{ "{\"guests\": [" GUEST("a", "02:00:00:00:00:01", ", \"rate\": \"nan\"") "]}", "guest 'a': \"rate\" must be a number" },
		{ "{\"guests\": [" GUEST("a", "02:00:00:00:00:01", ", \"rate\": \"inf\"") "]}", "guest 'a': \"rate\" must be a number" },
		{ "{\"nic\": {\"line_rate\": \"1e400\"}}", "nic \"line_rate\" must be" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].text, bad[i].says);
}

/* The limits themselves are accepted: a budget used to the last queue,
 * a 15-character TAP name, a pcap that reads one file and writes another. */
static void test_limits_accepted(void **state)
{
	(void)state;
	accepted("{\"nic\": {\"queues\": 4}, \"host_port\": {\"tap\": \"op0\"}, \"guests\": ["
	         GUEST("a", "02:00:00:00:00:01", ", \"queues\": 2") "," GUEST("b", "02:00:00:00:00:02", "") "]}");
	accepted("{\"host_port\": {\"tap\": \"a-name-of-15-ch\"}, \"nic\": {\"wire\": \"tap:other-name-15\"}}");
	accepted("{\"nic\": {\"wire\": \"pcap:/tmp/in.pcap,/tmp/out.pcap\"}}");
	accepted("{\"nic\": {\"wire\": \"pcap:,/tmp/out.pcap\"}}");
	accepted("{\"nic\": {\"wire\": \"null:64,ff:ff:ff:ff:ff:ff,02:00:00:00:00:01\"}}");
	accepted("{\"seconds\": 1000000000}");
}

/* The same file under two names is still the same file. */
static void test_pcap_same_file_through_another_name(void **state)
{
	(void)state;
	char dir[] = "/tmp/opsub-test-config-XXXXXX", text[512];
	assert_non_null(mkdtemp(dir));
	char path[128], link[128];
	snprintf(path, sizeof(path), "%s/x.pcap", dir);
	snprintf(link, sizeof(link), "%s/y.pcap", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(path, link), 0);
	snprintf(text, sizeof(text), "{\"nic\": {\"wire\": \"pcap:%s,%s/./x.pcap\"}}", path, dir);
	refused(text, "the same file");
	snprintf(text, sizeof(text), "{\"nic\": {\"wire\": \"pcap:%s,%s\"}}", link, path);
	refused(text, "the same file");
	unlink(link);
	unlink(path);
	rmdir(dir);
}

static void load_refused(const char *path, const char *says)
{
	char err[512] = "";
	int rc = config_load(path, &cfg, err, sizeof(err));
	if (rc != -1 || !strstr(err, says) || strchr(err, '\n'))
		fail_msg("config_load %s -> rc %d, \"%s\" (wanted \"%s\")", path, rc, err, says);
}

/* Only a regular file of at most CONFIG_MAX_BYTES: /dev/zero used to be
 * read until memory ran out, a FIFO hung the daemon. */
static void test_config_only_from_bounded_regular_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/opsub-test-config-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	load_refused("/dev/zero", "is a character device: give a regular file");
	load_refused(dir, "is a directory");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	load_refused(path, "is a FIFO");   /* and returns: no writer needed */
	unlink(path);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"seconds\": 1", f);
	for (unsigned i = 0; i < CONFIG_MAX_BYTES; i += 8)
		fputs("        ", f);
	fputs("}", f);
	fclose(f);
	load_refused(path, "is larger than 1048576 bytes");
	f = fopen(path, "w");
	fclose(f);
	load_refused(path, "is empty");
	f = fopen(path, "w");
	fwrite("{\"seconds\": 1}\0", 1, 15, f);   /* a NUL byte is no JSON */
	fclose(f);
	load_refused(path, "config is not valid JSON");
	f = fopen(path, "w");
	fputs("{\"seconds\": 1}", f);
	fclose(f);
	char err[512] = "";
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	load_refused(path, "cannot read config");
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs_refused_with_their_reason),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_pcap_same_file_through_another_name),
		cmocka_unit_test(test_config_only_from_bounded_regular_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
