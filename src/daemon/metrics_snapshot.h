/*
 * metrics_snapshot.h: what one scrape reports, copied out of the daemon by
 * its main loop (metrics_snapshot_take) so that the HTTP thread formats it
 * (metrics_snapshot_render) without touching the daemon's state.
 */
#ifndef OPSUB_DAEMON_METRICS_SNAPSHOT_H
#define OPSUB_DAEMON_METRICS_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/daemon.h"

struct metrics_guest {
	char name[GUEST_NAME_MAX];
	char mac[18];
	const char *io;                    /* static string */
	bool running;
	int status;                        /* exit status once not running */
	uint64_t rate_bps, rate_pps;
	unsigned weight;
	struct guest_counters total;       /* over its current and former queues */
	unsigned nqueues;
	uint16_t queue[LINK_MAX_QUEUES];
	struct nic_queue_stats_regs q[LINK_MAX_QUEUES];
	bool capturing;
	uint64_t capture_written, capture_dropped;
};

struct metrics_snapshot {
	double uptime_s;
	unsigned nic_queues, queues_in_use;
	struct nic_global_stats_regs nic;
	uint64_t dma_cpu_ns, engine_sleeps;
	unsigned nguests;
	struct metrics_guest *guest;       /* [nguests], room for guest_cap (owned) */
	unsigned guest_cap;
};

/* Main loop only.  s is zeroed, or a snapshot taken before (its guest
 * array is reused); on want of memory the guests are left out. */
void metrics_snapshot_take(struct daemon *d, struct metrics_snapshot *s);
/* Copies src into dst (zeroed or a snapshot), its guests included; -1 when
 * out of memory (dst then has no guests). */
int metrics_snapshot_copy(struct metrics_snapshot *dst, const struct metrics_snapshot *src);
void metrics_snapshot_free(struct metrics_snapshot *s);

/* Any thread; writes the exposition text. */
void metrics_snapshot_render(const struct metrics_snapshot *s, FILE *out);

#endif
