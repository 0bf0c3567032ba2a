/*
 * The control API's requests: one JSON object in, one JSON reply out
 * ({"ok": true, ...} or {"ok": false, "error": "..."}).  Requests
 * (docs/daemon.md): list, stats, add, remove, set, capture, stop; and
 * (docs/migration.md, migrate.h) migrate, snapshot, restore, whose jobs
 * take the connection over for their progress lines and reply.  Every check on a
 * request is here; a bad request gets an error reply and the daemon goes
 * on.  The socket that carries them is control_socket.c.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/capture.h"
#include "daemon/control.h"
#include "daemon/cpu_limit.h"
#include "daemon/daemon.h"
#include "daemon/pool.h"
#include "daemon/migrate.h"
#include "util/json_keys.h"
#include "util/parse.h"

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
	/* the NIC's queue pairs it holds, and the pool device's */
	json_t *queues = json_array(), *pooled = json_array();
	unsigned nic_queues = nic_num_queues(d->nic);
	for (unsigned i = 0; i < g->nqueues; i++)
		json_array_append_new(queue_pooled(d, g->queue[i]) ? pooled : queues,
		                      json_integer(g->queue[i] - (queue_pooled(d, g->queue[i]) ? nic_queues : 0)));
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:I, s:i}", "name", g->cfg.name, "state",
	                      state_name(g->state), "pid", (json_int_t)g->pid, "io", mode_name(g->cfg.io), "mac",
	                      mac, "queues", queues, "rate_bps", (json_int_t)g->cfg.rate_bps, "rate_pps",
	                      (json_int_t)g->cfg.rate_pps, "weight", (int)g->cfg.weight);
	json_object_set_new(o, "cpu_weight", json_integer(g->cfg.cpu_weight));
	json_object_set_new(o, "cpu_max", g->cfg.cpu_max > 0 ? json_real(g->cfg.cpu_max) : json_null());
	double cpu_seconds;   /* a running guest's: an exited one's group is gone */
	if (counters && g->state == GUEST_RUNNING && cpu_limit_usage(d->cpu, g->cfg.name, g->pid, &cpu_seconds) == 0)
		json_object_set_new(o, "cpu_seconds", json_real(cpu_seconds));
	struct queues_status qs;
	queues_status(d, g, &qs);
	json_object_set_new(o, "pool_queues", pooled);
	json_object_set_new(o, "placement", json_string(qs.placement));
	json_object_set_new(o, "moving", json_boolean(qs.moving));
	json_object_set_new(o, "moves", json_integer(g->moves));
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

/* Cuts s (n bytes, NUL-terminated) back to whole UTF-8 characters: a
 * message cut by its buffer must still be a valid JSON string. */
static void cut_to_whole_chars(char *s, size_t n)
{
	size_t i = n;
	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0) {
		unsigned char lead = (unsigned char)s[i - 1];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
		if (n - (i - 1) < need)
			s[i - 1] = 0;
	}
}

json_t *control_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		cut_to_whole_chars(msg, sizeof(msg) - 1);
	json_t *e = json_string(msg);
	if (!e)
		e = json_string("request refused (its error message is not UTF-8)");
	return json_pack("{s:b, s:o}", "ok", 0, "error", e);
}

static json_t *ok(void) { return json_pack("{s:b}", "ok", 1); }

/* Who holds the NIC's queue pairs and the pool's, in numbers. */
static json_t *queues_json(struct daemon *d)
{
	unsigned used = 0, n = nic_num_queues(d->nic);
	for (unsigned q = 0; q < n; q++)
		used += d->queue_used[q];
	json_t *o = json_pack("{s:i, s:i}", "nic", (int)n, "nic_in_use", (int)used);
	if (d->pool) {
		struct nic_global_stats_regs s;
		nic_global_stats(pool_nic(d->pool), &s);
		unsigned size = nic_num_queues(pool_nic(d->pool));
		struct nic_queue_stats_regs up;
		nic_queue_stats(d->nic, d->pool_uplink, &up);
		/* where pooled frames can be lost: the uplink's ring full on
		 * either side, or a pool queue without buffers (pool_rx_dropped) */
		json_object_update_new(o, json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "pool", (int)size,
		                                    "pool_in_use", (int)(size - pool_free_queues(d->pool)), "pool_uplink",
		                                    (int)d->pool_uplink, "pool_rx_frames", (json_int_t)s.rx_frames,
		                                    "pool_tx_frames", (json_int_t)s.tx_frames, "pool_rx_dropped",
		                                    (json_int_t)s.rx_dropped, "pool_rx_no_match", (json_int_t)s.rx_no_match,
		                                    "uplink_rx_dropped",
		                                    (json_int_t)up.rx_dropped, "uplink_tx_lost", (json_int_t)s.wire_errors,
		                                    "pool_dma_cpu_ns", (json_int_t)nic_dma_cpu_ns(pool_nic(d->pool))));
	}
	return o;
}

static json_t *list(struct daemon *d, bool counters, const char *only)
{
	json_t *arr = json_array();
	DAEMON_FOR_EACH_GUEST(d, g) {
		if (g->state != GUEST_FREE && (!only || !strcmp(only, g->cfg.name)))
			json_array_append_new(arr, guest_json(d, g, counters));
	}
	if (only && json_array_size(arr) == 0) {
		json_decref(arr);
		return control_error("no guest named '%s'", only);
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
		json_object_set_new(r, "queues", queues_json(d));
		/* when the figures were taken (Unix time, and seconds since the
		 * daemon started, monotonic): a rate needs two replies and these */
		json_object_set_new(r, "time", json_real(daemon_wall_time()));
		json_object_set_new(r, "uptime", json_real(daemon_uptime(d)));
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

/* "cpu_max" of "set": cores as a number or a string holding one (what
 * `opsub ctl set G cpu_max=0.5` sends), or no cap: 0, null, "null" or
 * "none".  0 absent, 1 present (in *out, 0: no cap), -1 malformed. */
static int cpu_max_field(json_t *req, double *out)
{
	json_t *v = json_object_get(req, "cpu_max");
	const char *s = json_string_value(v);
	char *end = NULL;
	if (!v)
		return 0;
	if (json_is_null(v) || (s && (!strcmp(s, "null") || !strcmp(s, "none"))))
		*out = 0;
	else if (json_is_number(v))
		*out = json_number_value(v);
	else if (!s || !*s || (*out = strtod(s, &end), *end))
		return -1;
	return *out == 0 || cpu_max_valid(*out) ? 1 : -1;
}

static json_t *set(struct daemon *d, json_t *req)
{
	static const char *const keys[] = {"cmd", "guest", "rate", "pps", "weight", "queues", "cpu_weight", "cpu_max",
	                                   NULL};
	const char *unknown = json_unknown_key(req, keys);
	if (unknown)
		return control_error("set: unknown field '%s' (use rate, pps, weight, queues, cpu_weight, cpu_max)",
		                     unknown);
	const char *name = json_string_value(json_object_get(req, "guest"));
	struct guest_change c = {0};
	if (!name)
		return control_error("set needs \"guest\"");
	int bps = rate_field(req, "rate", &c.rate_bps), pps = rate_field(req, "pps", &c.rate_pps);
	if (bps < 0 || pps < 0)
		return control_error("set: rate and pps must be non-negative numbers or strings like \"100M\"");
	int weight = int_field(req, "weight", 1, NIC_MAX_WEIGHT_API, &c.weight);
	if (weight < 0)
		return control_error("set: weight must be an integer from 1 to %d", NIC_MAX_WEIGHT_API);
	int queues = int_field(req, "queues", 1, LINK_MAX_QUEUES, &c.queues);
	if (queues < 0)
		return control_error("set: queues must be an integer from 1 to %d", LINK_MAX_QUEUES);
	c.has_rate_bps = bps > 0;
	c.has_rate_pps = pps > 0;
	c.has_weight = weight > 0;
	c.has_queues = queues > 0;
	int cpu_weight = int_field(req, "cpu_weight", CPU_WEIGHT_MIN, CPU_WEIGHT_MAX, &c.cpu_weight);
	if (cpu_weight < 0)
		return control_error("set: cpu_weight must be an integer from %d to %d", CPU_WEIGHT_MIN, CPU_WEIGHT_MAX);
	int cpu_max = cpu_max_field(req, &c.cpu_max);
	if (cpu_max < 0)
		return control_error("set: cpu_max must be a number of cores from %g to %g (0.5: half a core), or 0, "
		                     "null or none for no cap", CPU_MAX_MIN, CPU_MAX_MAX);
	c.has_cpu_weight = cpu_weight > 0;
	c.has_cpu_max = cpu_max > 0;
	char err[1280] = "";   /* (CPU control's reason names paths) */
	if (guest_change(d, name, &c, err, sizeof(err)))
		return control_error("%s", err);
	return ok();
}

char *control_handle(struct daemon *d, const char *request, size_t len)
{
	return control_handle_client(d, request, len, -1);
}

char *control_handle_client(struct daemon *d, const char *request, size_t len, int client_fd)
{
	json_error_t je;
	json_t *req = json_loadb(request, len, JSON_REJECT_DUPLICATES, &je), *reply;
	const char *cmd = req ? json_string_value(json_object_get(req, "cmd")) : NULL;
	json_t *guest = req ? json_object_get(req, "guest") : NULL;
	char err[256] = "";
	if (!req || !json_is_object(req))
		reply = control_error("request is not a JSON object: %s", req ? "wrong type" : je.text);
	else if (!cmd)
		reply = control_error("request needs \"cmd\": list, stats, add, remove, set, capture, migrate, snapshot, "
		              "restore or stop");
	else if (!strcmp(cmd, "list"))
		reply = list(d, false, NULL);
	else if (!strcmp(cmd, "stats"))
		reply = guest && !json_is_string(guest) ? control_error("stats: \"guest\" must be a guest's name")
		        : list(d, true, json_string_value(guest));
	else if (!strcmp(cmd, "add")) {
		struct guest_config g;
		if (!guest)
			reply = control_error("add needs \"guest\": a guest object as in the config");
		else if (config_guest(guest, &g, err, sizeof(err)) ||
		         cpu_limit_check(d->cpu, g.cpu_weight, g.cpu_max, err, sizeof(err)) ||
		         guest_start(d, &g, err, sizeof(err)))
			reply = control_error("%s", err);
		else
			reply = ok();
		if (guest)
			config_guest_free(&g);
	} else if (!strcmp(cmd, "remove")) {
		const char *name = json_string_value(guest);
		reply = !name ? control_error("remove needs \"guest\": a guest's name")
		        : guest_remove(d, name, err, sizeof(err)) ? control_error("%s", err) : ok();
	} else if (!strcmp(cmd, "set"))
		reply = set(d, req);
	else if (!strcmp(cmd, "capture"))
		reply = capture_request(d, req);
	else if (!strcmp(cmd, "migrate") || !strcmp(cmd, "snapshot") || !strcmp(cmd, "restore")) {
		reply = !strcmp(cmd, "migrate") ? migrate_request(d, req, client_fd)
		        : !strcmp(cmd, "snapshot") ? snapshot_request(d, req, client_fd) : restore_request(d, req, client_fd);
		if (!reply) {   /* a job has the connection: it replies */
			json_decref(req);
			return NULL;
		}
	} else if (!strcmp(cmd, "stop")) {
		d->stopping = true;
		reply = ok();
	} else
		reply = control_error("unknown cmd '%s': use list, stats, add, remove, set, capture, migrate, snapshot, restore "
		              "or stop", cmd);
	char *s = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	json_decref(req);
	return s ? s : strdup("{\"ok\":false,\"error\":\"out of memory\"}");
}
