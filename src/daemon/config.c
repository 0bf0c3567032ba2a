/* The daemon's JSON configuration: parsing and every check on it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "sandbox/guest_mem.h"
#include "util/parse.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

void config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	nic_config_defaults(&cfg->nic);
	cfg->ring_size = NIC_RING_DEFAULT;
}

/* Only the keys in `known` (NULL-ended) may appear in obj. */
static int check_keys(json_t *obj, const char *const *known, const char *where, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(key, *k);
		if (!ok)
			FAIL("unknown key '%s' in %s", key, where);
	}
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
	memset(g, 0, sizeof(*g));
}

int config_guest(json_t *o, struct guest_config *g, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "program", "args", "mem", "mac", "queues", "rate", "pps",
	                                   "weight", "io", "promiscuous", "output", "stats", NULL};
	memset(g, 0, sizeof(*g));
	g->mem = 256ull << 20;
	g->queues = 1;
	g->weight = 1;
	if (!json_is_object(o))
		FAIL("a guest must be a JSON object");
	json_t *name = json_object_get(o, "name");
	if (!json_is_string(name) || !json_string_length(name) || json_string_length(name) >= GUEST_NAME_MAX)
		FAIL("a guest needs a \"name\" of 1 to %d characters", GUEST_NAME_MAX - 1);
	snprintf(g->name, sizeof(g->name), "%s", json_string_value(name));
	char where[64];
	snprintf(where, sizeof(where), "guest '%s'", g->name);
	if (check_keys(o, keys, where, err, errlen))
		return -1;
	json_t *v = json_object_get(o, "program");
	if (!json_is_string(v))
		FAIL("guest '%s' needs a \"program\" (path to a static x86-64 program)", g->name);
	if (access(json_string_value(v), R_OK) != 0)
		FAIL("guest '%s': program %s cannot be read", g->name, json_string_value(v));
	g->argv[0] = strdup(json_string_value(v));
	if ((v = json_object_get(o, "args"))) {
		if (!json_is_array(v) || json_array_size(v) > GUEST_MAX_ARGS)
			FAIL("guest '%s': \"args\" must be an array of at most %d strings", g->name, GUEST_MAX_ARGS);
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *a = json_array_get(v, i);
			if (!json_is_string(a))
				FAIL("guest '%s': \"args\" must hold strings only", g->name);
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
	char what[GUEST_NAME_MAX + 32];
#define KEY(k) (snprintf(what, sizeof(what), "guest '%s': \"%s\"", g->name, k), what)
	if ((v = json_object_get(o, "queues")) && get_uint(v, 1, LINK_MAX_QUEUES, &g->queues, KEY("queues"), err, errlen))
		return -1;
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
#undef KEY
	return 0;
}

int config_parse(const char *text, struct daemon_config *cfg, char *err, size_t errlen)
{
	static const char *const top_keys[] = {"nic", "control", "host_port", "seconds", "guests", NULL};
	static const char *const nic_keys[] = {"queues", "ring_size", "wire", "line_rate", "poll", "dma_cpu", NULL};
	json_error_t je;
	config_defaults(cfg);
	json_t *root = json_loads(text, 0, &je);
	if (!root)
		FAIL("config is not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	int rc = -1;
	json_t *nic, *v, *guests;
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
			char why[160];
			if (get_string(v, &cfg->wire, "nic \"wire\"", err, errlen))
				goto out;
			if (!wire_spec_known(cfg->wire, why, sizeof(why))) {
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
		if (cfg->host_ip && !parse_ipv4_prefix(cfg->host_ip, &a, &m)) {
			snprintf(err, errlen, "host_port \"ip\" must look like \"10.0.0.1/24\"");
			goto out;
		}
	}
	if ((v = json_object_get(root, "seconds"))) {
		if (!json_is_number(v) || json_number_value(v) < 0) {
			snprintf(err, errlen, "\"seconds\" must be a non-negative number");
			goto out;
		}
		cfg->seconds = json_number_value(v);
	}
	guests = json_object_get(root, "guests");
	if (guests && (!json_is_array(guests) || json_array_size(guests) > DAEMON_MAX_GUESTS)) {
		snprintf(err, errlen, "\"guests\" must be an array of at most %d guests", DAEMON_MAX_GUESTS);
		goto out;
	}
	for (size_t i = 0; guests && i < json_array_size(guests); i++) {
		struct guest_config *g = &cfg->guest[cfg->nguests];
		if (config_guest(json_array_get(guests, i), g, err, errlen)) {
			config_guest_free(g);
			goto out;
		}
		cfg->nguests++;
		for (unsigned j = 0; j + 1 < cfg->nguests; j++) {
			if (!strcmp(cfg->guest[j].name, g->name)) {
				snprintf(err, errlen, "two guests are named '%s'", g->name);
				goto out;
			}
			if (!memcmp(cfg->guest[j].mac, g->mac, 6)) {
				snprintf(err, errlen, "guests '%s' and '%s' have the same MAC", cfg->guest[j].name, g->name);
				goto out;
			}
		}
	}
	rc = 0;
out:
	json_decref(root);
	if (rc)
		config_free(cfg);
	return rc;
}

int config_load(const char *path, struct daemon_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		FAIL("cannot read config %s: %m", path);
	char *text = NULL;
	size_t cap = 0, len = 0, n;
	char buf[4096];
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *t = realloc(text, cap);
			if (!t) {
				free(text);
				fclose(f);
				FAIL("config %s is too large", path);
			}
			text = t;
		}
		memcpy(text + len, buf, n);
		len += n;
	}
	fclose(f);
	if (!text)
		FAIL("config %s is empty", path);
	text[len] = 0;
	int rc = config_parse(text, cfg, err, errlen);
	free(text);
	return rc;
}

void config_free(struct daemon_config *cfg)
{
	for (unsigned i = 0; i < cfg->nguests; i++)
		config_guest_free(&cfg->guest[i]);
	free(cfg->wire);
	free(cfg->control);
	free(cfg->host_tap);
	free(cfg->host_ip);
	memset(cfg, 0, sizeof(*cfg));
}
