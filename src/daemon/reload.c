/* SIGHUP: the log reopened, the config file re-read and applied to the
 * running daemon (daemon.h: daemon_reload). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* What of a guest's config its running process cannot take: the first such
 * field that differs, or NULL. */
static const char *needs_restart(const struct guest_config *now, const struct guest_config *want)
{
	for (unsigned i = 0; now->argv[i] || want->argv[i]; i++)
		if (!same_string(now->argv[i], want->argv[i]))
			return i ? "\"args\"" : "\"program\"";
	if (now->mem != want->mem)
		return "\"mem\"";
	if (memcmp(now->mac, want->mac, 6))
		return "\"mac\"";
	if (now->io != want->io)
		return "\"io\"";
	if (now->promiscuous != want->promiscuous)
		return "\"promiscuous\"";
	if (!same_string(now->output, want->output))
		return "\"output\"";
	if (now->stats != want->stats)
		return "\"stats\"";
	if (!same_string(now->root, want->root))
		return "\"root\"";
	for (unsigned i = 0; i < now->nvolumes || i < want->nvolumes; i++)
		if (i >= now->nvolumes || i >= want->nvolumes || strcmp(now->volume[i], want->volume[i]))
			return "\"volumes\"";
	if (now->tmp_size != want->tmp_size)
		return "\"tmp_size\"";
	return NULL;
}

/* The keys read at start only that the new config changes, as a list. */
static void start_only_changes(const struct daemon_config *now, const struct daemon_config *want, char *out,
                               size_t len)
{
	const struct { bool differs; const char *key; } keys[] = {
		{!same_string(now->wire, want->wire), "nic \"wire\""},
		{now->nic.num_queues != want->nic.num_queues, "nic \"queues\""},
		{now->ring_size != want->ring_size, "nic \"ring_size\""},
		{now->nic.line_rate_bps != want->nic.line_rate_bps, "nic \"line_rate\""},
		{now->nic.poll_mode != want->nic.poll_mode, "nic \"poll\""},
		{now->nic.dma_cpu != want->nic.dma_cpu, "nic \"dma_cpu\""},
		{!same_string(now->control, want->control), "\"control\""},
		{!same_string(now->host_tap, want->host_tap) || !same_string(now->host_ip, want->host_ip), "\"host_port\""},
		{now->seconds != want->seconds, "\"seconds\""},
		{!same_string(now->metrics, want->metrics), "\"metrics\""},
		{!same_string(now->metrics, want->metrics), "\"metrics\""},
	};
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && n < len; i++)
		if (keys[i].differs)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", keys[i].key);
}

struct tally { unsigned started, restarted, changed, removed, refused; };

static void start_from_config(struct daemon *d, const struct guest_config *c, struct tally *t, bool restart)
{
	char err[512] = "";
	if (guest_start(d, c, err, sizeof(err))) {
		log_warning("reload: guest '%s' not started: %s", c->name, err);
		t->refused++;
		return;
	}
	guest_find(d, c->name)->from_config = true;
	restart ? t->restarted++ : t->started++;
}

/* Brings one running guest to its new settings of rate, pps, weight and
 * queues (the config wins over what `set` changed since). */
static void change_in_place(struct daemon *d, struct guest *g, const struct guest_config *c, struct tally *t)
{
	struct guest_change ch = {
		.has_rate_bps = g->cfg.rate_bps != c->rate_bps, .rate_bps = c->rate_bps,
		.has_rate_pps = g->cfg.rate_pps != c->rate_pps, .rate_pps = c->rate_pps,
		.has_weight = g->cfg.weight != c->weight, .weight = c->weight,
		/* pinned queues follow the config; an on-demand guest's are the
		 * daemon's to place (and a pinned guest stays pinned) */
		.has_queues = c->queues && g->nqueues != c->queues, .queues = c->queues,
		.has_cpu_weight = g->cfg.cpu_weight != c->cpu_weight, .cpu_weight = c->cpu_weight,
		.has_cpu_max = g->cfg.cpu_max != c->cpu_max, .cpu_max = c->cpu_max,
	};
	if (!ch.has_rate_bps && !ch.has_rate_pps && !ch.has_weight && !ch.has_queues && !ch.has_cpu_weight &&
	    !ch.has_cpu_max)
		return;
	char err[512] = "";
	if (guest_change(d, c->name, &ch, err, sizeof(err))) {
		log_warning("reload: guest '%s' not fully changed: %s", c->name, err);
		t->refused++;
	} else
		t->changed++;
}

static void apply(struct daemon *d, const struct daemon_config *want, struct tally *t)
{
	char err[512];
	/* first what goes, so that its MACs and queues are free for the rest */
	DAEMON_FOR_EACH_GUEST(d, g) {
		bool listed = false;
		for (unsigned j = 0; j < want->nguests && !listed; j++)
			listed = !strcmp(want->guest[j].name, g->cfg.name);
		if (g->state == GUEST_FREE || !g->from_config || listed)
			continue;
		log_event("reload: guest '%s' is no longer in the config", g->cfg.name);
		guest_remove(d, g->cfg.name, err, sizeof(err));
		t->removed++;
	}
	for (unsigned j = 0; j < want->nguests; j++) {
		const struct guest_config *c = &want->guest[j];
		struct guest *g = guest_find(d, c->name);
		const char *why;
		if (!g)
			start_from_config(d, c, t, false);
		else if (!g->from_config) {
			log_warning("reload: guest '%s' of the config not started: a guest added with `opsub ctl add` has "
			            "that name (remove it, then reload)", c->name);
			t->refused++;
		} else if ((why = needs_restart(&g->cfg, c))) {
			log_event("reload: guest '%s' restarts: its %s changed", c->name, why);
			guest_remove(d, c->name, err, sizeof(err));
			start_from_config(d, c, t, true);
		} else if (g->state == GUEST_RUNNING)
			change_in_place(d, g, c, t);
		/* an ended guest whose config did not change stays ended: a
		 * reload (a log rotation, say) does not revive what stopped */
	}
}

void daemon_reload(struct daemon *d)
{
	char err[512];
	if (log_reopen(err, sizeof(err)))
		log_error("SIGHUP: %s; logging on to the file already open", err);
	if (!d->config_path) {
		log_event("SIGHUP: log reopened (no config file to re-read: this set-up is built in)");
		return;
	}
	struct daemon_config *want = calloc(1, sizeof(*want));
	if (!want || config_load(d->config_path, want, err, sizeof(err))) {
		log_error("SIGHUP: config %s not reloaded, nothing changed: %s", d->config_path,
		          want ? err : "out of memory");
		free(want);
		return;
	}
	log_event("SIGHUP: reloading config %s", d->config_path);
	if (!d->log_override && !same_string(d->cfg.log, want->log)) {
		if (log_open(want->log, d->cfg.log_level, err, sizeof(err)))
			log_error("reload: %s; the log stays where it was", err);
		else {
			char *old = d->cfg.log;
			d->cfg.log = want->log;
			want->log = old;
			log_event("reload: the log goes to %s from now on", d->cfg.log ? d->cfg.log : "stderr");
		}
	}
	char keys[256];
	start_only_changes(&d->cfg, want, keys, sizeof(keys));
	if (keys[0])
		log_warning("reload: %s changed but %s read at start only: restart the daemon to apply %s", keys,
		            strchr(keys, ',') ? "are" : "is", strchr(keys, ',') ? "them" : "it");
	struct tally t = {0};
	apply(d, want, &t);
	/* the new guest list is the config from now on (its strings move) */
	struct guest_config *old = d->cfg.guest;
	unsigned old_n = d->cfg.nguests, old_cap = d->cfg.guest_cap;
	d->cfg.guest = want->guest;
	d->cfg.nguests = want->nguests;
	d->cfg.guest_cap = want->guest_cap;
	want->guest = old;   /* the old list goes with want */
	want->nguests = old_n;
	want->guest_cap = old_cap;
	config_free(want);
	free(want);
	log_event("reload done: guests started %u, restarted %u, changed %u, removed %u, not applied %u", t.started,
	          t.restarted, t.changed, t.removed, t.refused);
}
