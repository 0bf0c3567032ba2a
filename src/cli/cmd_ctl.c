/* opsub ctl [--socket PATH] REQUEST ...: one request to a running daemon. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/daemon.h"

static const char help_text[] =
	"usage: opsub ctl [--socket PATH] REQUEST\n"
	"requests:\n"
	"  list                        guests and their settings\n"
	"  stats [GUEST]               packet and byte counters\n"
	"  add JSON                    start a guest (a guest object as in the config)\n"
	"  remove GUEST                stop a guest and reclaim its queues\n"
	"  set GUEST KEY=VALUE...      change rate=BITS/S, pps=N, weight=N, queues=N\n"
	"  stop                        stop the daemon\n"
	"  raw TEXT                    send TEXT as the request line, as it is\n"
	"The reply is printed as JSON; the exit status is 0 when it says ok.\n";

/* Builds the request object from the words after the command. */
static json_t *request(int argc, char **argv, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	json_t *r = json_pack("{s:s}", "cmd", cmd);
	if (!strcmp(cmd, "list") || !strcmp(cmd, "stop")) {
		if (argc == 1)
			return r;
	} else if (!strcmp(cmd, "stats") || !strcmp(cmd, "remove")) {
		if (argc == 2 || (argc == 1 && !strcmp(cmd, "stats"))) {
			if (argc == 2)
				json_object_set_new(r, "guest", json_string(argv[1]));
			return r;
		}
	} else if (!strcmp(cmd, "add")) {
		json_error_t je;
		json_t *g = argc == 2 ? json_loads(argv[1], 0, &je) : NULL;
		if (g) {
			json_object_set_new(r, "guest", g);
			return r;
		}
		snprintf(err, errlen, "add needs one JSON guest object%s%s", argc == 2 ? ": " : "",
		         argc == 2 ? je.text : "");
		json_decref(r);
		return NULL;
	} else if (!strcmp(cmd, "set") && argc >= 3) {
		json_object_set_new(r, "guest", json_string(argv[1]));
		for (int i = 2; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			if (!eq || eq == argv[i]) {
				snprintf(err, errlen, "set takes KEY=VALUE words, not '%s'", argv[i]);
				json_decref(r);
				return NULL;
			}
			char *key = strndup(argv[i], (size_t)(eq - argv[i]));
			char *end;
			long long n = strtoll(eq + 1, &end, 10);
			json_object_set_new(r, key, *end || end == eq + 1 ? json_string(eq + 1) : json_integer(n));
			free(key);
		}
		return r;
	} else {
		snprintf(err, errlen, "unknown request '%s'", cmd);
		json_decref(r);
		return NULL;
	}
	snprintf(err, errlen, "wrong number of arguments for %s", cmd);
	json_decref(r);
	return NULL;
}

int cmd_ctl(int argc, char **argv)
{
	const char *path = getenv("OPSUB_SOCKET") ? getenv("OPSUB_SOCKET") : DAEMON_DEFAULT_SOCKET;
	int i = 1;
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		fputs(help_text, stdout);
		return 0;
	}
	if (i + 1 < argc && !strcmp(argv[i], "--socket")) {
		path = argv[i + 1];
		i += 2;
	}
	if (i == argc)
		return usage_error("ctl", "no request given");
	char err[256], *line;
	if (!strcmp(argv[i], "raw") && i + 2 == argc) {
		line = malloc(strlen(argv[i + 1]) + 2);
		strcpy(line, argv[i + 1]);
	} else {
		json_t *req = request(argc - i, argv + i, err, sizeof(err));
		if (!req)
			return usage_error("ctl", "%s", err);
		line = json_dumps(req, JSON_COMPACT);
		json_decref(req);
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "opsub ctl: cannot reach the daemon at %s: %s (is it running? --socket PATH)\n",
		        path, strerror(errno));
		free(line);
		return 1;
	}
	size_t n = strlen(line);
	line[n] = '\n';
	int rc = write(fd, line, n + 1) == (ssize_t)(n + 1) ? 0 : 1;
	free(line);
	char buf[65536];
	size_t got = 0;
	ssize_t r;
	while (rc == 0 && got < sizeof(buf) - 1 && (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = 0;
	if (!got) {
		fprintf(stderr, "opsub ctl: no reply from the daemon\n");
		return 1;
	}
	fputs(buf, stdout);
	json_t *reply = json_loads(buf, 0, NULL);
	rc = json_is_true(json_object_get(reply, "ok")) ? 0 : 1;
	json_decref(reply);
	return rc;
}
