/* What the daemon tells about its figures: SIGUSR1's log lines and the
 * time stamps of a `stats` reply (daemon.h). */
#include <stdio.h>
#include <time.h>

#include "daemon/daemon.h"

double daemon_uptime(const struct daemon *d)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return (double)(now - d->start_ns) / 1e9;
}

double daemon_wall_time(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void daemon_log_stats(struct daemon *d)
{
	unsigned n = 0;
	DAEMON_FOR_EACH_GUEST(d, g) {
		if (g->state == GUEST_FREE)
			continue;
		struct guest_counters c;
		guest_counters(d, g, &c);
		n++;
		log_event("stats: guest '%s' %s (pid %d): tx %llu packets %llu bytes, rx %llu packets %llu bytes, "
		          "rx dropped %llu", g->cfg.name, g->state == GUEST_RUNNING ? "running" : "ended", (int)g->pid,
		          (unsigned long long)c.tx_packets, (unsigned long long)c.tx_bytes,
		          (unsigned long long)c.rx_packets, (unsigned long long)c.rx_bytes,
		          (unsigned long long)c.rx_dropped);
	}
	struct nic_global_stats_regs s;
	nic_global_stats(d->nic, &s);
	log_event("stats: nic after %.3f s: %u guests, %llu frames from the wire, %llu to the wire, %llu for no one, "
	          "%llu dropped, %llu DMA errors, DMA engine %.3f s CPU", daemon_uptime(d), n,
	          (unsigned long long)s.rx_frames, (unsigned long long)s.tx_frames, (unsigned long long)s.rx_no_match,
	          (unsigned long long)s.rx_dropped, (unsigned long long)s.dma_errors,
	          (double)nic_dma_cpu_ns(d->nic) / 1e9);
}
