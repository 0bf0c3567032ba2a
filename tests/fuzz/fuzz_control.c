/*
 * libFuzzer target for the daemon's inputs: the JSON config (parser and
 * validator, config.c and config_wire.c) and the control API's requests
 * (control.c).  The first byte of the input picks which; the rest is the
 * text:
 *
 *   odd  ('c', 0x63)  a config file: config_parse_buffer
 *   even ('r', 0x72)  a control request line: control_handle
 *
 * A config must be refused with one line (-1 and a non-empty,
 * NUL-terminated reason without a newline) or accepted only if it keeps
 * every promise the daemon's start relies on: NIC queues, ring size, every
 * guest's name, MAC, queue count, weight and memory in range, unique names
 * and MACs, the queue budget within the NIC, wire and TAP names valid.
 *
 * A request must get exactly one reply: one line of JSON, an object with
 * a boolean "ok", and with "ok": false a one-line string "error".  The
 * daemon behind the requests is a model (the guest_* functions below, in
 * place of guests.c and the NIC): it starts no process and keeps the guest
 * table the way guests.c does, and it checks that every change the control
 * layer passes on was validated first.  Guests persist across inputs (up
 * to the table's size), so list, stats, set and remove meet real entries.
 * The "capture", "migrate", "snapshot" and "restore" requests are left out
 * (they write files and start threads): stubs answer them.
 */
#include <jansson.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/capture.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/migrate.h"
#include "sandbox/guest_mem.h"

static void die(const char *text, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\nFUZZ FAILURE: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\ninput (%zu bytes): %.*s\n", len, (int)(len > 2000 ? 2000 : len), text);
	va_end(ap);
	abort();
}

/* ---- the daemon model ----------------------------------------------------- */

static struct daemon d;

static void check_guest_config(const struct guest_config *g, const char *text, size_t len)
{
	static const uint8_t zero[6];
	size_t n = strnlen(g->name, sizeof(g->name));
	if (n == 0 || n >= sizeof(g->name) || strspn(g->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                             "0123456789._-") != n)
		die(text, len, "accepted a guest named '%.40s'", g->name);
	if ((g->mac[0] & 1) || !memcmp(g->mac, zero, 6))
		die(text, len, "accepted guest '%s' with MAC %02x:..:%02x", g->name, g->mac[0], g->mac[5]);
	/* queues 0: placed on demand (daemon/queues.c) */
	if (g->queues > LINK_MAX_QUEUES || g->weight < 1 || g->weight > NIC_MAX_WEIGHT_API)
		die(text, len, "accepted guest '%s' with %u queues, weight %u", g->name, g->queues, g->weight);
	if (g->mem < GUEST_MEM_MIN || g->mem > GUEST_SPACE || g->mem % GUEST_PAGE)
		die(text, len, "accepted guest '%s' with %llu bytes of memory", g->name, (unsigned long long)g->mem);
	if (!g->argv[0] || (unsigned)g->io > 3)
		die(text, len, "accepted guest '%s' without a program or with io %d", g->name, (int)g->io);
}

int guest_start(struct daemon *dd, const struct guest_config *cfg, char *err, size_t errlen)
{
	check_guest_config(cfg, "(add)", 5);
	struct guest *free_slot = NULL;
	DAEMON_FOR_EACH_GUEST(dd, g) {
		if (g->state == GUEST_FREE) {
			if (!free_slot)
				free_slot = g;
		} else if (!strcmp(g->cfg.name, cfg->name)) {
			snprintf(err, errlen, "a guest named '%s' exists already", cfg->name);
			return -1;
		}
	}
	if (!free_slot && dd->nslots < 128) {   /* the model holds 128, as the daemon once did */
		if (dd->nslots == dd->slot_cap) {
			dd->slot_cap = dd->slot_cap ? 2 * dd->slot_cap : 8;
			dd->guest = realloc(dd->guest, dd->slot_cap * sizeof(*dd->guest));
		}
		free_slot = dd->guest[dd->nslots] = calloc(1, sizeof(*free_slot));
		free_slot->slot = dd->nslots++;
	}
	if (!free_slot) {
		snprintf(err, errlen, "the daemon already holds %u guests", dd->nslots);
		return -1;
	}
	unsigned slot = free_slot->slot;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->slot = slot;
	free_slot->state = GUEST_RUNNING;
	memcpy(free_slot->cfg.name, cfg->name, sizeof(cfg->name));
	memcpy(free_slot->cfg.mac, cfg->mac, 6);
	free_slot->cfg.queues = cfg->queues;
	free_slot->cfg.weight = cfg->weight;
	free_slot->cfg.rate_bps = cfg->rate_bps;
	free_slot->cfg.rate_pps = cfg->rate_pps;
	free_slot->cfg.io = cfg->io;
	free_slot->pid = 1000 + (pid_t)slot;
	free_slot->nqueues = cfg->queues ? cfg->queues : 1;
	free_slot->filter = free_slot->old_filter = -1;
	return 0;
}

int guest_remove(struct daemon *dd, const char *name, char *err, size_t errlen)
{
	struct guest *g = guest_find(dd, name);
	if (!g) {
		snprintf(err, errlen, "no guest named '%s'", name);
		return -1;
	}
	unsigned slot = g->slot;
	memset(g, 0, sizeof(*g));
	g->slot = slot;
	return 0;
}

int guest_change(struct daemon *dd, const char *name, const struct guest_change *c, char *err, size_t errlen)
{
	if ((c->has_weight && (c->weight < 1 || c->weight > NIC_MAX_WEIGHT_API)) ||
	    (c->has_queues && (c->queues < 1 || c->queues > LINK_MAX_QUEUES)))
		die(name, strlen(name), "set passed on weight %lld, queues %lld unchecked", (long long)c->weight,
		    (long long)c->queues);
	struct guest *g = guest_find(dd, name);
	if (!g || g->state != GUEST_RUNNING) {
		snprintf(err, errlen, "no running guest named '%s'", name);
		return -1;
	}
	if (c->has_rate_bps)
		g->cfg.rate_bps = c->rate_bps;
	if (c->has_rate_pps)
		g->cfg.rate_pps = c->rate_pps;
	if (c->has_weight)
		g->cfg.weight = (unsigned)c->weight;
	if (c->has_queues)
		g->nqueues = (unsigned)c->queues;
	return 0;
}

struct guest *guest_find(struct daemon *dd, const char *name)
{
	DAEMON_FOR_EACH_GUEST(dd, g)
		if (g->state != GUEST_FREE && !strcmp(g->cfg.name, name))
			return g;
	return NULL;
}

void guest_counters(const struct daemon *dd, const struct guest *g, struct guest_counters *c)
{
	(void)dd;
	memset(c, 0, sizeof(*c));
	c->tx_packets = g->nqueues;
}

/* Capture (daemon/capture.c) writes files the request names: not under a
 * fuzzer. Its request checks are in capture_request; here a model. */
json_t *capture_request(struct daemon *dd, json_t *req)
{
	(void)dd;
	(void)req;
	return json_pack("{s:b, s:s}", "ok", 0, "error", "capture is not fuzzed");
}

/* Migrations, snapshots and restores (daemon/migrate.c) run threads,
 * connections and files: not under this fuzzer (fuzz_migrate.c has their
 * input).  Without "migration" in the daemon's config they are refused. */
static json_t *no_migration(void)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", "migration is not fuzzed");
}

json_t *migrate_request(struct daemon *dd, json_t *req, int client_fd)
{
	(void)dd, (void)req, (void)client_fd;
	return no_migration();
}

json_t *snapshot_request(struct daemon *dd, json_t *req, int client_fd)
{
	(void)dd, (void)req, (void)client_fd;
	return no_migration();
}

json_t *restore_request(struct daemon *dd, json_t *req, int client_fd)
{
	(void)dd, (void)req, (void)client_fd;
	return no_migration();
}

/* The clocks of the stats replies (daemon.c): fixed, replies stay comparable. */
double daemon_uptime(const struct daemon *dd)
{
	(void)dd;
	return 1.5;
}

double daemon_wall_time(void)
{
	return 1.7e9;
}

/* The NIC is real (created, never started): stats read its registers. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct nic_config nc;
	char err[256];
	nic_config_defaults(&nc);
	nc.num_queues = 4;
	d.nic = nic_create(&nc, err, sizeof(err));
	if (!d.nic) {
		fprintf(stderr, "fuzz_control: cannot create the NIC: %s\n", err);
		abort();
	}
	return 0;
}

/* ---- the two inputs ------------------------------------------------------- */

static void fuzz_config(const char *text, size_t len)
{
	static struct daemon_config cfg;
	char err[512];
	memset(err, 0x5a, sizeof(err));
	int rc = config_parse_buffer(text, len, &cfg, err, sizeof(err));
	if (rc == -1) {
		if (!memchr(err, 0, sizeof(err)) || !err[0] || strchr(err, '\n'))
			die(text, len, "refused without a one-line reason");
		return;
	}
	if (rc != 0)
		die(text, len, "config_parse returned %d", rc);
	if (cfg.nic.num_queues < 2 || cfg.nic.num_queues > NIC_MAX_QUEUES || cfg.ring_size < 8 ||
	    cfg.ring_size > 4096 || (cfg.ring_size & (cfg.ring_size - 1)))
		die(text, len, "accepted a NIC of %u queues, ring size %u", cfg.nic.num_queues, cfg.ring_size);
	char why[256];
	if (!cfg.wire || cfg.nic.wire != cfg.wire || config_check_wire(cfg.wire, why, sizeof(why)))
		die(text, len, "accepted a bad wire");
	if (!(cfg.seconds >= 0 && cfg.seconds <= 1e9))
		die(text, len, "accepted %g seconds", cfg.seconds);
	if (cfg.host_tap && (!config_ifname_ok(cfg.host_tap) || strlen(cfg.host_tap) >= IFNAMSIZ))
		die(text, len, "accepted host port TAP '%s'", cfg.host_tap);
	if (cfg.host_tap && !strncmp(cfg.wire, "tap:", 4) && !strcmp(cfg.wire + 4, cfg.host_tap))
		die(text, len, "accepted the same TAP as wire and host port");
	if (cfg.control && (!cfg.control[0] || strlen(cfg.control) > 107))
		die(text, len, "accepted control path '%s'", cfg.control);
	unsigned queues = cfg.host_tap ? 1 : 0;
	for (unsigned i = 0; i < cfg.nguests; i++) {
		check_guest_config(&cfg.guest[i], text, len);
		queues += cfg.guest[i].queues;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(cfg.guest[i].name, cfg.guest[j].name) || !memcmp(cfg.guest[i].mac, cfg.guest[j].mac, 6))
				die(text, len, "accepted guests %u and %u with the same name or MAC", j, i);
	}
	if (queues > cfg.nic.num_queues)
		die(text, len, "accepted %u queues on a NIC of %u", queues, cfg.nic.num_queues);
	config_free(&cfg);
}

static void fuzz_request(const char *text, size_t len)
{
	d.stopping = false;
	char *reply = control_handle(&d, text, len);
	if (!reply)
		die(text, len, "no reply");
	size_t n = strlen(reply);
	if (memchr(reply, '\n', n))
		die(text, len, "a reply of more than one line: %s", reply);
	json_error_t je;
	json_t *r = json_loads(reply, JSON_REJECT_DUPLICATES, &je);
	json_t *ok = json_object_get(r, "ok"), *error = json_object_get(r, "error");
	if (!json_is_object(r) || !json_is_boolean(ok))
		die(text, len, "a reply that is not an object with \"ok\": %s (%s)", reply, r ? "" : je.text);
	if (json_is_false(ok) && (!json_is_string(error) || !json_string_length(error)))
		die(text, len, "an error reply without an \"error\" message: %s", reply);
	json_decref(r);
	free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* an exact-size copy: ASan sees any read past the end */
	size_t len = size - 1;
	char *text = malloc(len ? len : 1);
	if (!text)
		abort();
	memcpy(text, data + 1, len);
	if (data[0] & 1)
		fuzz_config(text, len);
	else
		fuzz_request(text, len);
	free(text);
	return 0;
}
