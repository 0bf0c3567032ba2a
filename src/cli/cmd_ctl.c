/* opsub ctl [--socket PATH] REQUEST ...: one request to a running daemon. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/ctl_capture.h"
#include "cli/ctl_migrate.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "util/parse.h"

#define REPLY_WAIT_S 60                /* a daemon that answers nothing in this long is stuck */
/* migrate, snapshot, restore: the daemon bounds each step (connect, a
 * record, the guest's answers) and says something at least every round */
#define JOB_WAIT_S 600
#define REPLY_MAX (64u << 20)          /* bytes of a reply kept */

static const char help_text[] =
	"usage: opsub ctl [--socket PATH] REQUEST\n"
	"requests:\n"
	"  list                        guests and their settings\n"
	"  stats [GUEST]               packet and byte counters\n"
	"  add JSON                    start a guest (a guest object as in the config)\n"
	"  remove GUEST                stop a guest and reclaim its queues\n"
	"  set GUEST KEY=VALUE...      change rate=BITS/S, pps=N, weight=N, queues=N\n"
	"  capture GUEST FILE [--seconds N]\n"
	"                              write GUEST's frames, both ways, to a new pcap FILE\n"
	"  capture GUEST --stop        end that capture (the file is then complete)\n"
	"  migrate NAME HOST:PORT      move a running guest to the daemon listening there\n"
	"                              (its config's \"migration\" \"listen\"); progress on stderr\n"
	"  snapshot NAME FILE [--stop] write the guest's state to a new FILE; --stop: then remove it\n"
	"  restore FILE [NAME]         start a guest from a snapshot FILE (as NAME)\n"
	"  stop                        stop the daemon\n"
	"  raw TEXT                    send TEXT as the request line, as it is\n"
	"options:\n"
	"  --socket PATH               the daemon's control socket (default: $OPSUB_SOCKET, else\n"
	"                              /run/opsub/opsub.sock for root, $XDG_RUNTIME_DIR/opsub.sock,\n"
	"                              or /tmp/opsub-UID.sock)\n"
	"The reply is printed as JSON; the exit status is 0 when it says ok.\n"
	"migrate, snapshot and restore need \"migration\": {\"key_file\": ...} in the daemons'\n"
	"configs (docs/migration.md); their reply has downtime_ms, total_ms, bytes, rounds,\n"
	"frames_lost and pages, or error.\n"
	"\"opsub ctl REQUEST --help\" describes one request.\n";

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
		json_t *g = argc == 2 ? json_loads(argv[1], JSON_REJECT_DUPLICATES, &je) : NULL;
		if (g) {
			json_object_set_new(r, "guest", g);
			return r;
		}
		snprintf(err, errlen, "add needs one JSON guest object%s%s", argc == 2 ? ": " : "",
		         argc == 2 ? je.text : "");
		make_one_line(err, errlen);
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
			if (json_object_get(r, key)) {
				snprintf(err, errlen, "set: '%s' is given twice", key);
				free(key);
				json_decref(r);
				return NULL;
			}
			char *end;
			errno = 0;
			long long n = strtoll(eq + 1, &end, 10);
			/* out of range: sent as written, for the daemon to refuse */
			bool integer = !*end && end != eq + 1 && errno != ERANGE;
			json_t *value = integer ? json_integer(n) : json_string(eq + 1);
			if (!value) {
				snprintf(err, errlen, "set: the value of '%s' is not UTF-8", key);
				free(key);
				json_decref(r);
				return NULL;
			}
			json_object_set_new(r, key, value);
			free(key);
		}
		return r;
	} else if (ctl_is_migration(cmd)) {
		if (ctl_migrate_request(r, argc, argv, err, errlen) == 0)
			return r;
		json_decref(r);
		return NULL;
	} else if (!strcmp(cmd, "capture")) {
		if (ctl_capture_request(r, argc, argv, err, errlen) == 0)
			return r;
		json_decref(r);
		return NULL;
	} else {
		snprintf(err, errlen, "unknown request '%s'", cmd);
		json_decref(r);
		return NULL;
	}
	snprintf(err, errlen, "wrong number of arguments for %s", cmd);
	json_decref(r);
	return NULL;
}

/* A progress line of a job ({"progress": TEXT}): TEXT goes to stderr. */
static bool progress_line(const char *line, size_t len)
{
	json_t *o = json_loadb(line, len, 0, NULL);
	const char *text = json_object_size(o) == 1 ? json_string_value(json_object_get(o, "progress")) : NULL;
	if (text)
		fprintf(stderr, "opsub ctl: %s\n", text);
	json_decref(o);
	return text != NULL;
}

/* Reads the whole reply (until the daemon closes); NULL when none came.
 * Progress lines are printed as they come and are not part of it. */
static char *read_reply(int fd, size_t *len)
{
	size_t cap = 65536, got = 0, line = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while (buf && (r = read(fd, buf + got, cap - 1 - got)) > 0) {
		got += (size_t)r;
		char *nl;
		while ((nl = memchr(buf + line, '\n', got - line))) {
			size_t n = (size_t)(nl - buf) - line;
			if (progress_line(buf + line, n)) {
				memmove(buf + line, nl + 1, got - line - n - 1);
				got -= n + 1;
			} else
				line += n + 1;
		}
		if (got == cap - 1) {
			char *more = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	if (buf)
		buf[got] = 0;
	*len = got;
	return buf;
}

/* Sends the request line (line is malloc'ed with room for the newline;
 * freed here), prints the reply; the exit status. */
static int exchange(const char *path, char *line, int wait_s)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "opsub ctl: the socket path %s is too long (at most %zu bytes)\n", path,
		        sizeof(a.sun_path) - 1);
		free(line);
		return 1;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "opsub ctl: cannot reach the daemon at %s: %s (is it running? --socket PATH)\n",
		        path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(line);
		return 1;
	}
	struct timeval limit = {.tv_sec = wait_s};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	size_t n = strlen(line), sent = 0;
	line[n++] = '\n';
	ssize_t w;
	while (sent < n && (w = send(fd, line + sent, n - sent, MSG_NOSIGNAL)) > 0)
		sent += (size_t)w;
	free(line);
	/* Also when the daemon stopped reading (a request too long): its
	 * reply says why. */
	shutdown(fd, SHUT_WR);
	size_t got;
	errno = 0;
	char *reply = read_reply(fd, &got);
	int e = errno;
	close(fd);
	if (!got) {
		if (e == EAGAIN || e == EWOULDBLOCK)
			fprintf(stderr, "opsub ctl: no reply from the daemon at %s within %d s\n", path, wait_s);
		else
			fprintf(stderr, "opsub ctl: no reply from the daemon at %s\n", path);
		free(reply);
		return 1;
	}
	fputs(reply, stdout);
	if (reply[got - 1] != '\n')
		putchar('\n');
	json_t *r = json_loadb(reply, got, 0, NULL);
	int rc = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
	json_decref(r);
	free(reply);
	return rc;
}

int cmd_ctl(int argc, char **argv)
{
	char *path = NULL;
	int i = 1;
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		fputs(help_text, stdout);
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "--socket")) {
		if (i + 1 == argc || !argv[i + 1][0])
			return usage_error("ctl", "--socket needs the PATH of the daemon's control socket");
		path = argv[i + 1];
		i += 2;
	}
	if (i == argc)
		return usage_error("ctl", "no request given");
	if (i + 1 < argc && (!strcmp(argv[i + 1], "--help") || !strcmp(argv[i + 1], "-h"))) {
		if (help_entry(help_text, "requests:", argv[i], "opsub ctl [--socket PATH]"))
			return usage_error("ctl", "unknown request '%s'", argv[i]);
		return 0;
	}
	char err[256], *line;
	if (!path && !(path = control_default_path())) {
		fprintf(stderr, "opsub ctl: out of memory\n");
		return 1;
	}
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
	return exchange(path, line, ctl_is_migration(argv[i]) ? JOB_WAIT_S : REPLY_WAIT_S);
}
