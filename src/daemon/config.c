/* The daemon's JSON configuration: parsing and every check on it. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/cpu_limit.h"
#include "daemon/daemon.h"
#include "daemon/pool.h"
#include "daemon/migrate_stream.h"
#include "util/json_keys.h"
#include "daemon/metrics.h"
#include "fs/fs_options.h"
#include "sandbox/guest_mem.h"
#include "util/parse.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Guest names show in logs, replies and file names: no spaces, quotes or
 * control characters. */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define CONTROL_PATH_MAX 107           /* sizeof(sockaddr_un.sun_path) - 1 */
#define SECONDS_MAX 1e9                /* 31 years: "never" is 0 */

void config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	nic_config_defaults(&cfg->nic);
	cfg->ring_size = NIC_RING_DEFAULT;
	cfg->pool_queues = POOL_DEFAULT_QUEUES;
}

/* Only the keys in `known` (NULL-ended) may appear in obj. */
static int check_keys(json_t *obj, const char *const *known, const char *where, char *err, size_t errlen)
{
	const char *key = json_unknown_key(obj, known);
	if (key)
		FAIL("unknown key '%s' in %s", key, where);
	return 0;
}

/* A count or rate given as a number or as a string with a unit ("10G"). */
static int get_rate(json_t *v, uint64_t *out, const char *what, char *err, size_t errlen)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && parse_rate(json_string_value(v), out))
		return 0;
	FAIL("%s must be a number or a string like \"10G\"", what);
}

static int get_uint(json_t *v, unsigned lo, unsigned hi, unsigned *out, const char *what, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		FAIL("%s must be an integer from %u to %u", what, lo, hi);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int get_bool(json_t *v, bool *out, const char *what, char *err, size_t errlen)
{
	if (!json_is_boolean(v))
		FAIL("%s must be true or false", what);
	*out = json_is_true(v);
	return 0;
}

static int get_string(json_t *v, char **out, const char *what, char *err, size_t errlen)
{
	if (!json_is_string(v) || !json_string_length(v))
		FAIL("%s must be a non-empty string", what);
	*out = strdup(json_string_value(v));
	return 0;
}

static int io_mode(const char *s, enum opsub_net_mode *m)
{
	static const char *const names[] = {"opsub", "passthrough", "paravirt", "emulated"};
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*m = (enum opsub_net_mode)i;
			return 0;
		}
	return -1;
}

void config_guest_free(struct guest_config *g)
{
	for (unsigned i = 0; g->argv[i]; i++)
		free(g->argv[i]);
	free(g->output);
	free(g->root);
	for (unsigned i = 0; i < g->nvolumes; i++)
		free(g->volume[i]);
	memset(g, 0, sizeof(*g));
}

/* "root", "volumes", "host_libs" and "tmp_size" (fs/fs_options.h):
 * checked as `opsub run` checks its options; guest-proc reads them again
 * (host_libs as the volumes it stands for). */
static int guest_fs(json_t *o, struct guest_config *g, char *err, size_t errlen)
{
	char why[256];
	json_t *v;
	if ((v = json_object_get(o, "root"))) {
		if (!json_is_string(v) || !json_string_length(v) || strlen(json_string_value(v)) != json_string_length(v))
			FAIL("guest '%s': \"root\" must be a directory or an archive file", g->name);
		if (fs_check_root(json_string_value(v), why, sizeof(why)))
			FAIL("guest '%s': \"root\": %s", g->name, why);
		g->root = strdup(json_string_value(v));
	}
	json_t *libs = json_object_get(o, "host_libs");
	if (libs && !json_is_boolean(libs))
		FAIL("guest '%s': \"host_libs\" must be true or false", g->name);
	if ((v = json_object_get(o, "volumes")) || json_is_true(libs)) {
		if (v && (!json_is_array(v) || json_array_size(v) > FS_MAX_VOLUMES))
			FAIL("guest '%s': \"volumes\" must be an array of at most %d strings \"HOSTDIR:GUESTDIR[:ro]\"",
			     g->name, FS_MAX_VOLUMES);
		/* parsed for the checks only (a guest-proc parses them again) */
		struct fs_options seen = {0};
		char (*buf)[FS_VOLUME_BUF] = malloc(FS_MAX_VOLUMES * sizeof(*buf));
		if (!buf)
			FAIL("guest '%s': out of memory for its \"volumes\"", g->name);
		size_t given = v ? json_array_size(v) : 0;
		for (size_t i = 0; i < given; i++) {
			json_t *s = json_array_get(v, i);
			if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
				snprintf(err, errlen, "guest '%s': \"volumes\" must hold strings \"HOSTDIR:GUESTDIR[:ro]\"",
				         g->name);
				break;
			}
			if (fs_add_volume(&seen, json_string_value(s), buf[i], why, sizeof(why))) {
				snprintf(err, errlen, "guest '%s': volume \"%.200s\": %s", g->name, json_string_value(s), why);
				break;
			}
			g->volume[g->nvolumes++] = strdup(json_string_value(s));
		}
		const char *texts[FS_MAX_VOLUMES];
		bool libs_ok = g->nvolumes == given &&
		               (!json_is_true(libs) || !fs_add_host_libs(&seen, buf, texts, why, sizeof(why)));
		if (g->nvolumes == given && !libs_ok)
			snprintf(err, errlen, "guest '%s': \"host_libs\": %s", g->name, why);
		for (unsigned i = g->nvolumes; libs_ok && i < seen.nvolumes; i++)
			g->volume[g->nvolumes++] = strdup(texts[i]);
		free(buf);
		if (!libs_ok)
			return -1;
	}
	if ((v = json_object_get(o, "tmp_size")) &&
	    (!json_is_string(v) || fs_parse_tmp_size(json_string_value(v), &g->tmp_size, why, sizeof(why))))
		FAIL("guest '%s': \"tmp_size\" must be a size from \"1M\" to \"%lluG\", e.g. \"256M\"", g->name,
		     FS_TMP_SIZE_MAX >> 30);
	return 0;
}

/* A program path carried by a migration stream: only named, never opened
 * on this host (the guest runs from its state). */
#define STREAM_PROGRAM_MAX 4096

static int guest_object(json_t *o, struct guest_config *g, bool from_stream, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "program", "args", "mem", "mac", "queues", "rate", "pps",
	                                   "weight", "io", "promiscuous", "output", "stats", "cpu_weight", "cpu_max",
	                                   "root", "volumes", "host_libs", "tmp_size", NULL};
	/* a stream may not name files for the daemon to write, nor host paths
	 * for the guest to read */
	static const char *const stream_keys[] = {"name", "program", "args", "mem", "mac", "queues", "rate", "pps",
	                                          "weight", "io", "promiscuous", "stats", "cpu_weight", "cpu_max",
	                                          "tmp_size", NULL};
	memset(g, 0, sizeof(*g));
	g->mem = 256ull << 20;
	g->queues = 0;   /* on demand (queues.c) */
	g->weight = 1;
	g->cpu_weight = CPU_WEIGHT_DEFAULT;
	if (!json_is_object(o))
		FAIL("a guest must be a JSON object");
	json_t *name = json_object_get(o, "name");
	if (!json_is_string(name) || !json_string_length(name) || json_string_length(name) >= GUEST_NAME_MAX ||
	    strspn(json_string_value(name), NAME_CHARS) != json_string_length(name))
		FAIL("a guest needs a \"name\" of 1 to %d letters, digits, '.', '_' or '-'", GUEST_NAME_MAX - 1);
	snprintf(g->name, sizeof(g->name), "%s", json_string_value(name));
	char where[64];
	snprintf(where, sizeof(where), "guest '%s'", g->name);
	if (from_stream && (json_object_get(o, "root") || json_object_get(o, "volumes") || json_object_get(o, "host_libs")))
		FAIL("guest '%s': a guest that arrives by migration or from a snapshot may not bring \"root\", "
		     "\"volumes\" or \"host_libs\" (host paths of the sending side)", g->name);
	if (check_keys(o, from_stream ? stream_keys : keys, where, err, errlen))
		return -1;
	json_t *v = json_object_get(o, "program");
	if (!json_is_string(v) || !json_string_length(v))
		FAIL("guest '%s' needs a \"program\" (path to a static x86-64 program)", g->name);
	if (from_stream && (json_string_length(v) > STREAM_PROGRAM_MAX || strlen(json_string_value(v)) != json_string_length(v)))
		FAIL("guest '%s': \"program\" must be a path of at most %d bytes", g->name, STREAM_PROGRAM_MAX);
	if (!from_stream && access(json_string_value(v), R_OK) != 0)
		FAIL("guest '%s': program %s cannot be read", g->name, json_string_value(v));
	g->argv[0] = strdup(json_string_value(v));
	if ((v = json_object_get(o, "args"))) {
		if (!json_is_array(v) || json_array_size(v) > GUEST_MAX_ARGS)
			FAIL("guest '%s': \"args\" must be an array of at most %d strings", g->name, GUEST_MAX_ARGS);
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *a = json_array_get(v, i);
			if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a))
				FAIL("guest '%s': \"args\" must hold strings only (without NUL)", g->name);
			g->argv[i + 1] = strdup(json_string_value(a));
		}
	}
	if ((v = json_object_get(o, "mem"))) {
		if (!json_is_string(v) || !parse_size(json_string_value(v), &g->mem) || g->mem < GUEST_MEM_MIN ||
		    g->mem > GUEST_SPACE || g->mem % GUEST_PAGE)
			FAIL("guest '%s': \"mem\" must be a size from \"64M\" to \"4G\"", g->name);
	}
	if ((v = json_object_get(o, "mac")) && (!json_is_string(v) || !parse_mac(json_string_value(v), g->mac)))
		FAIL("guest '%s': \"mac\" must look like \"02:00:00:00:00:01\"", g->name);
	if (!v)
		FAIL("guest '%s' needs a \"mac\"", g->name);
	if (g->mac[0] & 1)
		FAIL("guest '%s': the MAC must be unicast (first byte even)", g->name);
	if (!config_mac_ok(g->mac))
		FAIL("guest '%s': the MAC 00:00:00:00:00:00 is no address, and fe:ff:ff:ff:ff:fe is the pool's: give "
		     "one like 02:00:00:00:00:01", g->name);
	char what[GUEST_NAME_MAX + 32];
#define KEY(k) (snprintf(what, sizeof(what), "guest '%s': \"%s\"", g->name, k), what)
	if ((v = json_object_get(o, "queues")) && !(json_is_string(v) && !strcmp(json_string_value(v), "auto")) &&
	    get_uint(v, 1, LINK_MAX_QUEUES, &g->queues, KEY("queues"), err, errlen)) {
		snprintf(err, errlen, "guest '%s': \"queues\" must be an integer from 1 to %u (dedicated queue pairs), "
		         "or \"auto\" (placed by its traffic, the default)", g->name, LINK_MAX_QUEUES);
		return -1;
	}
	if ((v = json_object_get(o, "rate")) && get_rate(v, &g->rate_bps, KEY("rate"), err, errlen))
		return -1;
	if ((v = json_object_get(o, "pps")) && get_rate(v, &g->rate_pps, KEY("pps"), err, errlen))
		return -1;
	if ((v = json_object_get(o, "weight")) && get_uint(v, 1, 1000, &g->weight, KEY("weight"), err, errlen))
		return -1;
	if ((v = json_object_get(o, "io")) && (!json_is_string(v) || io_mode(json_string_value(v), &g->io)))
		FAIL("guest '%s': \"io\" must be opsub, passthrough, paravirt or emulated", g->name);
	if ((v = json_object_get(o, "promiscuous")) && get_bool(v, &g->promiscuous, KEY("promiscuous"), err, errlen))
		return -1;
	if ((v = json_object_get(o, "stats")) && get_bool(v, &g->stats, KEY("stats"), err, errlen))
		return -1;
	if ((v = json_object_get(o, "output")) && get_string(v, &g->output, KEY("output"), err, errlen))
		return -1;
	if ((v = json_object_get(o, "cpu_weight")) &&
	    get_uint(v, CPU_WEIGHT_MIN, CPU_WEIGHT_MAX, &g->cpu_weight, KEY("cpu_weight"), err, errlen))
		return -1;
	/* null: no cap, as when absent; 0 is refused here (in `set` it lifts a cap) */
	if ((v = json_object_get(o, "cpu_max")) && !json_is_null(v)) {
		if (!json_is_number(v) || !cpu_max_valid(json_number_value(v)))
			FAIL("guest '%s': \"cpu_max\" must be a number of cores from %g to %g (0.5: half a core), or null "
			     "for no cap", g->name, CPU_MAX_MIN, CPU_MAX_MAX);
		g->cpu_max = json_number_value(v);
	}
#undef KEY
	return guest_fs(o, g, err, errlen);
}

int config_guest(json_t *o, struct guest_config *g, char *err, size_t errlen)
{
	return guest_object(o, g, false, err, errlen);
}

int config_guest_from_stream(json_t *o, struct guest_config *g, char *err, size_t errlen)
{
	return guest_object(o, g, true, err, errlen);
}

int config_check_listen(const char *text, char *err, size_t errlen)
{
	char host[64], port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *res;
	if (mig_split_hostport(text, host, sizeof(host), port, sizeof(port)) || getaddrinfo(host, port, &hints, &res))
		FAIL("migration \"listen\" must look like \"0.0.0.0:7300\" or \"[::]:7300\" (a numeric address, a port "
		     "1..65535)");
	freeaddrinfo(res);
	return 0;
}

/* "migration": {"key_file": PATH, "listen": "HOST:PORT"} (docs/daemon.md) */
static int migration_object(json_t *m, struct daemon_config *cfg, char *err, size_t errlen)
{
	static const char *const keys[] = {"key_file", "listen", NULL};
	if (!json_is_object(m))
		FAIL("\"migration\" must be an object with \"key_file\" and optionally \"listen\"");
	if (check_keys(m, keys, "\"migration\"", err, errlen))
		return -1;
	json_t *k = json_object_get(m, "key_file"), *l = json_object_get(m, "listen");
	if (!json_is_string(k) || !json_string_length(k))
		FAIL("\"migration\" needs a \"key_file\": a file of 32 random bytes (head -c 32 /dev/urandom > FILE; chmod 600 FILE)");
	if (mig_load_key(json_string_value(k), cfg->mig_key, err, errlen))
		return -1;
	cfg->mig_key_file = strdup(json_string_value(k));
	cfg->migration = true;
	if (l) {
		if (!json_is_string(l) || !json_string_length(l))
			FAIL("migration \"listen\" must be a string \"HOST:PORT\"");
		if (config_check_listen(json_string_value(l), err, errlen))
			return -1;
		cfg->mig_listen = strdup(json_string_value(l));
	}
	return 0;
}

bool config_mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6], uplink[6] = POOL_UPLINK_MAC;
	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0 && memcmp(mac, uplink, 6) != 0;
}

/* What a config can only get wrong as a whole: the guests' pinned queues
 * must fit the NIC next to the host port's (guests on demand share the
 * pool when the NIC runs out); a TAP interface cannot be both the wire and
 * the host port. */
static int check_whole(const struct daemon_config *cfg, char *err, size_t errlen)
{
	unsigned want = cfg->host_tap ? 1 : 0;
	for (unsigned i = 0; i < cfg->nguests; i++)
		want += cfg->guest[i].queues;
	if (want > cfg->nic.num_queues)
		FAIL("the guests%s take %u queue pairs in all but the NIC has %u: give the NIC more \"queues\" "
		     "(up to %u) or the guests fewer", cfg->host_tap ? " and the host port" : "", want,
		     cfg->nic.num_queues, NIC_MAX_QUEUES);
	if (cfg->host_tap && !strncmp(cfg->wire, "tap:", 4) && !strcmp(cfg->wire + 4, cfg->host_tap))
		FAIL("nic \"wire\" and \"host_port\" both use the TAP interface '%s': the host port needs one "
		     "of its own", cfg->host_tap);
	return 0;
}

int config_parse(const char *text, struct daemon_config *cfg, char *err, size_t errlen)
{
	return config_parse_buffer(text, strlen(text), cfg, err, errlen);
}

static int parse(const char *text, size_t len, struct daemon_config *cfg, char *err, size_t errlen);

int config_parse_buffer(const char *text, size_t len, struct daemon_config *cfg, char *err, size_t errlen)
{
	int rc = parse(text, len, cfg, err, errlen);
	if (rc)
		make_one_line(err, errlen);
	return rc;
}
struct guest_config *config_guest_append(struct daemon_config *cfg)
{
	if (cfg->nguests >= DAEMON_MAX_GUESTS)
		return NULL;
	if (cfg->nguests == cfg->guest_cap) {
		unsigned cap = cfg->guest_cap ? cfg->guest_cap * 2 : 8;
		struct guest_config *more = realloc(cfg->guest, cap * sizeof(*more));
		if (!more)
			return NULL;
		cfg->guest = more;
		cfg->guest_cap = cap;
	}
	struct guest_config *g = &cfg->guest[cfg->nguests++];
	memset(g, 0, sizeof(*g));
	return g;
}

/* The guests' names and MACs seen so far, to find a duplicate in O(1) per
 * guest: a config may list thousands.  Open addressing on indices into
 * the guest array (+1; 0: empty), one table for names, one for MACs. */
struct seen {
	unsigned *slot[2];
	size_t mask;
};

static int seen_init(struct seen *s, size_t n)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	s->mask = size - 1;
	s->slot[0] = calloc(size, sizeof(unsigned));
	s->slot[1] = calloc(size, sizeof(unsigned));
	return s->slot[0] && s->slot[1] ? 0 : -1;
}

static void seen_free(struct seen *s)
{
	free(s->slot[0]);
	free(s->slot[1]);
}

/* Index of an earlier guest with the same MAC (mac) or name as guest i,
 * or -1 (and i is remembered). */
static long seen_add(struct seen *s, const struct guest_config *guest, unsigned i, bool mac)
{
	const uint8_t *key = mac ? guest[i].mac : (const uint8_t *)guest[i].name;
	size_t len = mac ? 6 : strlen(guest[i].name);
	uint64_t h = 14695981039346656037ull;   /* FNV-1a */
	for (size_t k = 0; k < len; k++)
		h = (h ^ key[k]) * 1099511628211ull;
	unsigned *t = s->slot[mac];
	for (size_t at = h & s->mask;; at = (at + 1) & s->mask) {
		if (!t[at]) {
			t[at] = i + 1;
			return -1;
		}
		const struct guest_config *o = &guest[t[at] - 1];
		if (mac ? !memcmp(o->mac, key, 6) : !strcmp(o->name, guest[i].name))
			return (long)(t[at] - 1);
	}
}

static int parse(const char *text, size_t len, struct daemon_config *cfg, char *err, size_t errlen)
{
	static const char *const top_keys[] = {"nic", "control", "host_port", "seconds", "log", "metrics", "migration",
	                                       "guests", NULL};
	static const char *const nic_keys[] = {"queues", "ring_size", "wire", "line_rate", "poll", "dma_cpu", "pool",
	                                       NULL};
	json_error_t je;
	config_defaults(cfg);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		FAIL("config is not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	int rc = -1;
	json_t *nic, *v, *guests;
	struct seen seen = {0};
	if (!json_is_object(root)) {
		snprintf(err, errlen, "config must be a JSON object");
		goto out;
	}
	if (check_keys(root, top_keys, "the config", err, errlen))
		goto out;
	cfg->wire = strdup("null");
	if ((nic = json_object_get(root, "nic"))) {
		if (!json_is_object(nic) || check_keys(nic, nic_keys, "\"nic\"", err, errlen)) {
			if (!json_is_object(nic))
				snprintf(err, errlen, "\"nic\" must be an object");
			goto out;
		}
		if ((v = json_object_get(nic, "queues")) &&
		    get_uint(v, 2, NIC_MAX_QUEUES, &cfg->nic.num_queues, "nic \"queues\"", err, errlen))
			goto out;
		if ((v = json_object_get(nic, "pool")) &&
		    get_uint(v, 0, NIC_MAX_QUEUES - cfg->nic.num_queues, &cfg->pool_queues, "nic \"pool\"", err, errlen))
			goto out;
		if ((v = json_object_get(nic, "ring_size")) &&
		    (get_uint(v, NIC_RING_MIN, NIC_RING_MAX, &cfg->ring_size, "nic \"ring_size\"", err, errlen) ||
		     (cfg->ring_size & (cfg->ring_size - 1)))) {
			snprintf(err, errlen, "nic \"ring_size\" must be a power of two from %u to %u", NIC_RING_MIN,
			         NIC_RING_MAX);
			goto out;
		}
		if ((v = json_object_get(nic, "wire"))) {
			free(cfg->wire);
			cfg->wire = NULL;
			char why[256];
			if (get_string(v, &cfg->wire, "nic \"wire\"", err, errlen))
				goto out;
			if (config_check_wire(cfg->wire, why, sizeof(why))) {
				snprintf(err, errlen, "nic \"wire\": %s", why);
				goto out;
			}
		}
		if ((v = json_object_get(nic, "line_rate")) &&
		    get_rate(v, &cfg->nic.line_rate_bps, "nic \"line_rate\"", err, errlen))
			goto out;
		if ((v = json_object_get(nic, "poll"))) {
			const char *p = json_string_value(v);
			if (!p || (strcmp(p, "busy") && strcmp(p, "adaptive"))) {
				snprintf(err, errlen, "nic \"poll\" must be \"busy\" or \"adaptive\"");
				goto out;
			}
			cfg->nic.poll_mode = !strcmp(p, "busy") ? NIC_POLL_BUSY : NIC_POLL_ADAPTIVE;
		}
		if ((v = json_object_get(nic, "dma_cpu"))) {
			if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > 1023) {
				snprintf(err, errlen, "nic \"dma_cpu\" must be a CPU number or -1");
				goto out;
			}
			cfg->nic.dma_cpu = (int)json_integer_value(v);
		}
	}
	cfg->nic.wire = cfg->wire;
	if ((v = json_object_get(root, "control")) && get_string(v, &cfg->control, "\"control\"", err, errlen))
		goto out;
	if (cfg->control && strlen(cfg->control) > CONTROL_PATH_MAX) {
		snprintf(err, errlen, "\"control\" must be a path of at most %d bytes (a Unix socket's limit)",
		         CONTROL_PATH_MAX);
		goto out;
	}
	if ((v = json_object_get(root, "host_port"))) {
		static const char *const host_keys[] = {"tap", "ip", NULL};
		json_t *ip = json_object_get(v, "ip");
		uint32_t a, m;
		if (!json_is_object(v)) {
			snprintf(err, errlen, "\"host_port\" must be an object with \"tap\" and optionally \"ip\"");
			goto out;
		}
		if (check_keys(v, host_keys, "\"host_port\"", err, errlen) ||
		    get_string(json_object_get(v, "tap"), &cfg->host_tap, "host_port \"tap\"", err, errlen) ||
		    (ip && get_string(ip, &cfg->host_ip, "host_port \"ip\"", err, errlen)))
			goto out;
		if (!config_ifname_ok(cfg->host_tap)) {
			snprintf(err, errlen, "host_port \"tap\" must be an interface name of 1 to %d characters, "
			         "no '/', ':' or spaces", IFNAMSIZ - 1);
			goto out;
		}
		if (cfg->host_ip && !parse_ipv4_prefix(cfg->host_ip, &a, &m)) {
			snprintf(err, errlen, "host_port \"ip\" must look like \"10.0.0.1/24\"");
			goto out;
		}
	}
	if ((v = json_object_get(root, "seconds"))) {
		if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= SECONDS_MAX)) {
			snprintf(err, errlen, "\"seconds\" must be a number from 0 to %.0f", SECONDS_MAX);
			goto out;
		}
		cfg->seconds = json_number_value(v);
	}
	/* where the log goes (daemon/log.h); only log_open can tell whether a file can be opened */
	if ((v = json_object_get(root, "log")) &&
	    get_string(v, &cfg->log, "\"log\" (a file, \"syslog\" or \"stderr\")", err, errlen))
		goto out;
	/* the metrics endpoint (daemon/metrics.h); whether the port is free shows at start */
	if ((v = json_object_get(root, "metrics")) &&
	    (get_string(v, &cfg->metrics, "\"metrics\"", err, errlen) ||
	     !metrics_parse_listen(cfg->metrics, NULL, NULL, err, errlen)))
		goto out;
	if ((v = json_object_get(root, "migration")) && migration_object(v, cfg, err, errlen))
		goto out;
	guests = json_object_get(root, "guests");
	if (guests && (!json_is_array(guests) || json_array_size(guests) > DAEMON_MAX_GUESTS)) {
		snprintf(err, errlen, "\"guests\" must be an array of at most %u guests", (unsigned)DAEMON_MAX_GUESTS);
		goto out;
	}
	if (guests && seen_init(&seen, json_array_size(guests))) {
		snprintf(err, errlen, "out of memory for %zu guests", json_array_size(guests));
		goto out;
	}
	for (size_t i = 0; guests && i < json_array_size(guests); i++) {
		struct guest_config *g = config_guest_append(cfg);
		if (!g) {
			snprintf(err, errlen, "out of memory for %zu guests", json_array_size(guests));
			goto out;
		}
		if (config_guest(json_array_get(guests, i), g, err, errlen)) {
			config_guest_free(g);
			cfg->nguests--;
			goto out;
		}
		/* the first earlier guest with its name or its MAC (the name when
		 * one guest has both) */
		long same_name = seen_add(&seen, cfg->guest, cfg->nguests - 1, false);
		long same_mac = seen_add(&seen, cfg->guest, cfg->nguests - 1, true);
		if (same_name >= 0 && (same_mac < 0 || same_name <= same_mac)) {
			snprintf(err, errlen, "two guests are named '%s'", g->name);
			goto out;
		}
		if (same_mac >= 0) {
			snprintf(err, errlen, "guests '%s' and '%s' have the same MAC", cfg->guest[same_mac].name, g->name);
			goto out;
		}
	}
	rc = check_whole(cfg, err, errlen);
out:
	seen_free(&seen);
	json_decref(root);
	if (rc)
		config_free(cfg);
	return rc;
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	       : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int config_load(const char *path, struct daemon_config *cfg, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		FAIL("config %s is %s: give a regular file", path, kind_of(st.st_mode));
	}
	/* the size is read again as it comes: the file may grow meanwhile */
	char *text = malloc(CONFIG_MAX_BYTES + 1);
	size_t len = 0;
	ssize_t n = 1;
	while (text && len <= CONFIG_MAX_BYTES &&
	       (n = read(fd, text + len, CONFIG_MAX_BYTES + 1 - len)) > 0)
		len += (size_t)n;
	int e = errno;
	close(fd);
	if (!text)
		FAIL("cannot read config %s: out of memory", path);
	if (n < 0) {
		free(text);
		FAIL("cannot read config %s: %s", path, strerror(e));
	}
	if (len > CONFIG_MAX_BYTES) {
		free(text);
		FAIL("config %s is larger than %u bytes", path, CONFIG_MAX_BYTES);
	}
	if (!len) {
		free(text);
		FAIL("config %s is empty", path);
	}
	int rc = config_parse_buffer(text, len, cfg, err, errlen);
	free(text);
	return rc;
}

void config_free(struct daemon_config *cfg)
{
	for (unsigned i = 0; i < cfg->nguests; i++)
		config_guest_free(&cfg->guest[i]);
	free(cfg->guest);
	free(cfg->wire);
	free(cfg->control);
	free(cfg->host_tap);
	free(cfg->host_ip);
	free(cfg->log);
	free(cfg->metrics);
	free(cfg->mig_key_file);
	free(cfg->mig_listen);
	sodium_memzero(cfg->mig_key, sizeof(cfg->mig_key));
	memset(cfg, 0, sizeof(*cfg));
}
