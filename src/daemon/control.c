/*
 * The control API: a Unix stream socket, one JSON request per line, one
 * JSON reply per line ({"ok": true, ...} or {"ok": false, "error": "..."}).
 * Requests (docs/daemon.md): list, stats, add, remove, set, stop.  Every
 * check on a request is here; a bad request gets an error reply and the
 * daemon goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "util/parse.h"

#define MAX_REQUEST 65536

int control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static const char *mode_name(enum opsub_net_mode m)
{
	static const char *const names[] = {"opsub", "passthrough", "paravirt", "emulated"};
	return (unsigned)m < 4 ? names[m] : "?";
}

static const char *state_name(enum guest_state s)
{
	return s == GUEST_RUNNING ? "running" : s == GUEST_EXITED ? "exited" : "free";
}

static json_t *guest_json(struct daemon *d, struct guest *g, bool counters)
{
	char mac[18];
	const uint8_t *m = g->cfg.mac;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	json_t *queues = json_array();
	for (unsigned i = 0; i < g->nqueues; i++)
		json_array_append_new(queues, json_integer(g->queue[i]));
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:I, s:i}", "name", g->cfg.name, "state",
	                      state_name(g->state), "pid", (json_int_t)g->pid, "io", mode_name(g->cfg.io), "mac",
	                      mac, "queues", queues, "rate_bps", (json_int_t)g->cfg.rate_bps, "rate_pps",
	                      (json_int_t)g->cfg.rate_pps, "weight", (int)g->cfg.weight);
	if (g->state == GUEST_EXITED)
		json_object_set_new(o, "status", json_integer(g->status));
	if (counters) {
		struct guest_counters c;
		guest_counters(d, g, &c);
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)c.tx_packets));
		json_object_set_new(o, "tx_bytes", json_integer((json_int_t)c.tx_bytes));
		json_object_set_new(o, "rx_packets", json_integer((json_int_t)c.rx_packets));
		json_object_set_new(o, "rx_bytes", json_integer((json_int_t)c.rx_bytes));
		json_object_set_new(o, "rx_dropped", json_integer((json_int_t)c.rx_dropped));
	}
	return o;
}

static json_t *error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *error(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *ok(void) { return json_pack("{s:b}", "ok", 1); }

static json_t *list(struct daemon *d, bool counters, const char *only)
{
	json_t *arr = json_array();
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
		struct guest *g = &d->guest[i];
		if (g->state != GUEST_FREE && (!only || !strcmp(only, g->cfg.name)))
			json_array_append_new(arr, guest_json(d, g, counters));
	}
	if (only && json_array_size(arr) == 0) {
		json_decref(arr);
		return error("no guest named '%s'", only);
	}
	json_t *r = json_pack("{s:b, s:o}", "ok", 1, "guests", arr);
	if (counters) {
		struct nic_global_stats_regs s;
		nic_global_stats(d->nic, &s);
		json_object_set_new(r, "nic", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_frames",
		                                        (json_int_t)s.rx_frames, "tx_frames", (json_int_t)s.tx_frames,
		                                        "rx_no_match", (json_int_t)s.rx_no_match, "rx_dropped",
		                                        (json_int_t)s.rx_dropped, "dma_errors",
		                                        (json_int_t)s.dma_errors, "dma_cpu_ns",
		                                        (json_int_t)nic_dma_cpu_ns(d->nic)));
	}
	return r;
}

/* A rate field of "set": a non-negative number, or a string with a unit.
 * 0 absent, 1 present (in *out), -1 malformed. */
static int rate_field(json_t *req, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(req, key);
	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*out = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) || !parse_rate(json_string_value(v), out))
		return -1;
	return 1;
}

/* An integer field of "set" within [lo, hi]: 0 absent, 1 present, -1 not
 * an integer in range (every value a client can send is checked: there is
 * no value that means "leave it"). */
static int int_field(json_t *req, const char *key, json_int_t lo, json_int_t hi, int64_t *out)
{
	json_t *v = json_object_get(req, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 1;
}

static json_t *set(struct daemon *d, json_t *req)
{
	static const char *const keys[] = {"cmd", "guest", "rate", "pps", "weight", "queues", NULL};
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		bool known = false;
		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(key, *k);
		if (!known)
			return error("set: unknown field '%s' (use rate, pps, weight, queues)", key);
	}
	const char *name = json_string_value(json_object_get(req, "guest"));
	struct guest_change c = {0};
	if (!name)
		return error("set needs \"guest\"");
	int bps = rate_field(req, "rate", &c.rate_bps), pps = rate_field(req, "pps", &c.rate_pps);
	if (bps < 0 || pps < 0)
		return error("set: rate and pps must be non-negative numbers or strings like \"100M\"");
	int weight = int_field(req, "weight", 1, NIC_MAX_WEIGHT_API, &c.weight);
	if (weight < 0)
		return error("set: weight must be an integer from 1 to %d", NIC_MAX_WEIGHT_API);
	int queues = int_field(req, "queues", 1, LINK_MAX_QUEUES, &c.queues);
	if (queues < 0)
		return error("set: queues must be an integer from 1 to %d", LINK_MAX_QUEUES);
	c.has_rate_bps = bps > 0;
	c.has_rate_pps = pps > 0;
	c.has_weight = weight > 0;
	c.has_queues = queues > 0;
	char err[256] = "";
	if (guest_change(d, name, &c, err, sizeof(err)))
		return error("%s", err);
	return ok();
}

char *control_handle(struct daemon *d, const char *line)
{
	json_error_t je;
	json_t *req = json_loads(line, 0, &je), *reply;
	const char *cmd = req ? json_string_value(json_object_get(req, "cmd")) : NULL;
	char err[256] = "";
	if (!req || !json_is_object(req))
		reply = error("request is not a JSON object: %s", req ? "wrong type" : je.text);
	else if (!cmd)
		reply = error("request needs \"cmd\": list, stats, add, remove, set or stop");
	else if (!strcmp(cmd, "list"))
		reply = list(d, false, NULL);
	else if (!strcmp(cmd, "stats"))
		reply = list(d, true, json_string_value(json_object_get(req, "guest")));
	else if (!strcmp(cmd, "add")) {
		struct guest_config g;
		if (config_guest(json_object_get(req, "guest"), &g, err, sizeof(err)) ||
		    guest_start(d, &g, err, sizeof(err)))
			reply = error("%s", err);
		else
			reply = ok();
		config_guest_free(&g);
	} else if (!strcmp(cmd, "remove")) {
		const char *name = json_string_value(json_object_get(req, "guest"));
		reply = !name ? error("remove needs \"guest\"")
		        : guest_remove(d, name, err, sizeof(err)) ? error("%s", err) : ok();
	} else if (!strcmp(cmd, "set"))
		reply = set(d, req);
	else if (!strcmp(cmd, "stop")) {
		d->stopping = true;
		reply = ok();
	} else
		reply = error("unknown cmd '%s': use list, stats, add, remove, set or stop", cmd);
	char *s = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	json_decref(req);
	return s;
}

/* Reads one line within READ_LIMIT_MS in all; a slow client cannot hold
 * the daemon longer. */
#define READ_LIMIT_MS 200
static char *read_line(int fd)
{
	char *buf = malloc(MAX_REQUEST + 1);
	size_t len = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (buf && len < MAX_REQUEST) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (spent >= READ_LIMIT_MS || poll(&p, 1, (int)(READ_LIMIT_MS - spent)) <= 0)
			break;
		ssize_t r = read(fd, buf + len, MAX_REQUEST - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(buf, '\n', len))
			break;
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

void control_accept(struct daemon *d)
{
	int c;
	while ((c = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		char *line = read_line(c);
		char *nl = line ? strchr(line, '\n') : NULL;
		if (nl)
			*nl = 0;
		char *reply = line ? control_handle(d, line) : NULL;
		if (reply) {
			size_t n = strlen(reply);
			reply[n] = '\n';
			if (write(c, reply, n + 1) < 0) {
				/* the client went away: nothing to tell it */
			}
		}
		free(reply);
		free(line);
		close(c);
	}
}
