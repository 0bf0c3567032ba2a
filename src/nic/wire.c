/* wire.c: spec parsing and the calls common to every wire backend. */
#include "nic/wire.h"

#include <stdio.h>
#include <string.h>

#define WIRE_SPECS "null, null:SIZE[,DSTMAC[,SRCMAC]], loop, pcap:IN,OUT or tap:IFNAME"

static const struct {
	const char *kind;
	struct wire *(*open)(const char *args, char *err, size_t errlen);
} backends[] = {
	{ "null", wire_null_open },
	{ "loop", wire_loop_open },
	{ "pcap", wire_pcap_open },
	{ "tap", wire_tap_open },
};

/* The backend spec names, or -1 with a message. */
static int backend_of(const char *spec, char *err, size_t errlen)
{
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty wire spec: use " WIRE_SPECS);
		return -1;
	}
	const char *colon = strchr(spec, ':');
	size_t kind_len = colon ? (size_t)(colon - spec) : strlen(spec);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strlen(backends[i].kind) == kind_len &&
		    memcmp(backends[i].kind, spec, kind_len) == 0)
			return (int)i;
	}
	snprintf(err, errlen, "unknown wire '%.*s': use " WIRE_SPECS,
	         (int)kind_len, spec);
	return -1;
}

bool wire_spec_known(const char *spec, char *err, size_t errlen)
{
	return backend_of(spec, err, errlen) >= 0;
}

struct wire *wire_open(const char *spec, char *err, size_t errlen)
{
	int i = backend_of(spec, err, errlen);
	if (i < 0)
		return NULL;
	const char *colon = strchr(spec, ':');
	return backends[i].open(colon ? colon + 1 : NULL, err, errlen);
}

void wire_close(struct wire *w)
{
	if (w)
		w->ops->close(w);
}

void wire_read_stats(const struct wire *w, struct wire_stats *out)
{
	const struct wire_stats *s = &w->stats;
	out->tx_frames = __atomic_load_n(&s->tx_frames, __ATOMIC_RELAXED);
	out->tx_bytes = __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
	out->rx_frames = __atomic_load_n(&s->rx_frames, __ATOMIC_RELAXED);
	out->rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
	out->tx_checksum = __atomic_load_n(&s->tx_checksum, __ATOMIC_RELAXED);
}
