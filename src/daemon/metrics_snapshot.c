/* The metrics' snapshot of the daemon and its Prometheus text. */
#include "daemon/metrics_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/capture.h"

static const char *mode_name(enum opsub_net_mode m)
{
	static const char *const names[] = {"opsub", "passthrough", "paravirt", "emulated"};
	return (unsigned)m < 4 ? names[m] : "unknown";
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Room for n guests in s: 0, or -1 (s keeps what it had). */
static int reserve(struct metrics_snapshot *s, unsigned n)
{
	if (n <= s->guest_cap)
		return 0;
	struct metrics_guest *more = realloc(s->guest, n * sizeof(*more));
	if (!more)
		return -1;
	s->guest = more;
	s->guest_cap = n;
	return 0;
}

int metrics_snapshot_copy(struct metrics_snapshot *dst, const struct metrics_snapshot *src)
{
	struct metrics_guest *guest = dst->guest;
	unsigned cap = dst->guest_cap;
	*dst = *src;
	dst->guest = guest;
	dst->guest_cap = cap;
	if (reserve(dst, src->nguests)) {
		dst->nguests = 0;
		return -1;
	}
	if (src->nguests)
		memcpy(dst->guest, src->guest, src->nguests * sizeof(*dst->guest));
	return 0;
}

void metrics_snapshot_free(struct metrics_snapshot *s)
{
	free(s->guest);
	s->guest = NULL;
	s->guest_cap = s->nguests = 0;
}

void metrics_snapshot_take(struct daemon *d, struct metrics_snapshot *s)
{
	struct metrics_guest *guest = s->guest;
	unsigned cap = s->guest_cap;
	memset(s, 0, sizeof(*s));
	s->guest = guest;
	s->guest_cap = cap;
	unsigned known = 0;
	DAEMON_FOR_EACH_GUEST(d, g)
		known += g->state != GUEST_FREE;
	if (reserve(s, known))
		known = 0;   /* the NIC's figures without the guests' */
	s->uptime_s = (double)(now_ns() - d->start_ns) / 1e9;
	s->nic_queues = nic_num_queues(d->nic);
	for (unsigned q = 0; q < s->nic_queues; q++)
		s->queues_in_use += d->queue_used[q];
	nic_global_stats(d->nic, &s->nic);
	s->dma_cpu_ns = nic_dma_cpu_ns(d->nic);
	s->engine_sleeps = nic_engine_sleeps(d->nic);
	DAEMON_FOR_EACH_GUEST(d, g) {
		if (g->state == GUEST_FREE || s->nguests == known)
			continue;
		struct metrics_guest *m = &s->guest[s->nguests++];
		memset(m, 0, sizeof(*m));
		const uint8_t *mac = g->cfg.mac;
		snprintf(m->name, sizeof(m->name), "%s", g->cfg.name);
		snprintf(m->mac, sizeof(m->mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		         mac[4], mac[5]);
		m->io = mode_name(g->cfg.io);
		m->running = g->state == GUEST_RUNNING;
		m->status = g->status;
		m->rate_bps = g->cfg.rate_bps;
		m->rate_pps = g->cfg.rate_pps;
		m->weight = g->cfg.weight;
		guest_counters(d, g, &m->total);
		m->nqueues = g->nqueues;
		for (unsigned j = 0; j < g->nqueues; j++) {
			struct qref r = queue_ref(d, g->queue[j]);
			m->queue[j] = g->queue[j];
			nic_queue_stats(r.nic, r.q, &m->q[j]);
		}
		struct capture_figures fig;
		if ((m->capturing = capture_figures(d, g->slot, &fig))) {
			m->capture_written = fig.written;
			m->capture_dropped = fig.dropped;
		}
	}
}

/* A label value: backslash, double quote and newline escaped (the
 * exposition format's rules). */
static void label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *out, const char *name, const char *guest, int queue, double value)
{
	fputs(name, out);
	if (guest) {
		fputs("{guest=\"", out);
		label(out, guest);
		fputc('"', out);
		if (queue >= 0)
			fprintf(out, ",queue=\"%d\"", queue);
		fputc('}', out);
	}
	fprintf(out, " %.17g\n", value);
}

/* A per-guest family: HELP and TYPE, then a sample for each guest g for
 * which HAS holds, of value EXPR. */
#define GUEST_FAMILY(FAM, TYPE, HELP, HAS, EXPR)                                     \
	do {                                                                         \
		family(out, FAM, TYPE, HELP);                                        \
		for (unsigned i_ = 0; i_ < s->nguests; i_++) {                       \
			const struct metrics_guest *g = &s->guest[i_];               \
			if (HAS)                                                     \
				sample(out, FAM, g->name, -1, (double)(EXPR));       \
		}                                                                    \
	} while (0)

/* A per-queue counter: a sample for each queue of each guest. */
#define QUEUE_FAMILY(FAM, HELP, FIELD)                                               \
	do {                                                                         \
		family(out, FAM, "counter", HELP);                                   \
		for (unsigned i_ = 0; i_ < s->nguests; i_++) {                       \
			const struct metrics_guest *g = &s->guest[i_];               \
			for (unsigned j_ = 0; j_ < g->nqueues; j_++)                 \
				sample(out, FAM, g->name, g->queue[j_],              \
				       (double)g->q[j_].FIELD);                      \
		}                                                                    \
	} while (0)

#define NIC_COUNTER(FAM, HELP, VALUE)                                                \
	do {                                                                         \
		family(out, FAM, "counter", HELP);                                   \
		sample(out, FAM, NULL, -1, (double)(VALUE));                         \
	} while (0)

void metrics_snapshot_render(const struct metrics_snapshot *s, FILE *out)
{
	family(out, "opsub_uptime_seconds", "gauge", "Seconds since the daemon started.");
	sample(out, "opsub_uptime_seconds", NULL, -1, s->uptime_s);

	family(out, "opsub_guest_info", "gauge", "A guest the daemon knows (running or exited), with its mode and MAC.");
	for (unsigned i = 0; i < s->nguests; i++) {
		const struct metrics_guest *g = &s->guest[i];
		fputs("opsub_guest_info{guest=\"", out);
		label(out, g->name);
		fprintf(out, "\",io=\"%s\",mac=\"%s\"} 1\n", g->io, g->mac);
	}
	GUEST_FAMILY("opsub_guest_running", "gauge", "1 while the guest's process runs, 0 once it has exited.", true,
	             g->running);
	GUEST_FAMILY("opsub_guest_exit_status", "gauge", "Exit status of an exited guest (128 + signal if killed).",
	             !g->running, g->status);
	GUEST_FAMILY("opsub_guest_queues", "gauge", "NIC queue pairs the guest has now.", true, g->nqueues);
	GUEST_FAMILY("opsub_guest_rate_limit_bits_per_second", "gauge",
	             "Transmit limit of the guest in frame bits per second (0: none).", true, g->rate_bps);
	GUEST_FAMILY("opsub_guest_rate_limit_packets_per_second", "gauge",
	             "Transmit limit of the guest in packets per second (0: none).", true, g->rate_pps);
	GUEST_FAMILY("opsub_guest_weight", "gauge", "Weighted round robin weight of each of the guest's queues.", true,
	             g->weight);
	GUEST_FAMILY("opsub_guest_tx_packets_total", "counter", "Frames the guest sent.", true, g->total.tx_packets);
	GUEST_FAMILY("opsub_guest_tx_bytes_total", "counter", "Bytes of the frames the guest sent.", true,
	             g->total.tx_bytes);
	GUEST_FAMILY("opsub_guest_rx_packets_total", "counter", "Frames the guest received.", true, g->total.rx_packets);
	GUEST_FAMILY("opsub_guest_rx_bytes_total", "counter", "Bytes of the frames the guest received.", true,
	             g->total.rx_bytes);
	GUEST_FAMILY("opsub_guest_rx_dropped_total", "counter",
	             "Frames steered to the guest that found no receive buffer (or a stopped queue).", true,
	             g->total.rx_dropped);

	QUEUE_FAMILY("opsub_queue_tx_packets_total", "Frames sent on this queue pair since the guest got it.",
	             tx_packets);
	QUEUE_FAMILY("opsub_queue_tx_bytes_total", "Bytes sent on this queue pair since the guest got it.", tx_bytes);
	QUEUE_FAMILY("opsub_queue_rx_packets_total", "Frames received on this queue pair since the guest got it.",
	             rx_packets);
	QUEUE_FAMILY("opsub_queue_rx_bytes_total", "Bytes received on this queue pair since the guest got it.",
	             rx_bytes);
	QUEUE_FAMILY("opsub_queue_rx_dropped_total", "Frames for this queue pair that found no descriptor.",
	             rx_dropped);
	QUEUE_FAMILY("opsub_queue_dma_errors_total", "Descriptors or rings of this queue pair outside the DMA windows.",
	             dma_errors);
	QUEUE_FAMILY("opsub_queue_desc_errors_total",
	             "Malformed transmit descriptors, or received frames larger than their buffer.", desc_errors);
	QUEUE_FAMILY("opsub_queue_throttled_total", "Rounds in which the rate limiter held back a ready frame.",
	             throttled);

	GUEST_FAMILY("opsub_capture_frames_total", "counter", "Frames of the guest written to its capture file.",
	             g->capturing, g->capture_written);
	GUEST_FAMILY("opsub_capture_dropped_total", "counter",
	             "Frames of the guest the capture could not keep (its ring was full).", g->capturing,
	             g->capture_dropped);

	family(out, "opsub_nic_queues", "gauge", "Queue pairs of the NIC.");
	sample(out, "opsub_nic_queues", NULL, -1, s->nic_queues);
	family(out, "opsub_nic_queues_in_use", "gauge", "Queue pairs given to guests or the host port.");
	sample(out, "opsub_nic_queues_in_use", NULL, -1, s->queues_in_use);
	NIC_COUNTER("opsub_nic_rx_frames_total", "Frames that arrived from the wire.", s->nic.rx_frames);
	NIC_COUNTER("opsub_nic_rx_bytes_total", "Bytes that arrived from the wire.", s->nic.rx_bytes);
	NIC_COUNTER("opsub_nic_tx_frames_total", "Frames handed to the wire.", s->nic.tx_frames);
	NIC_COUNTER("opsub_nic_tx_bytes_total", "Bytes handed to the wire.", s->nic.tx_bytes);
	NIC_COUNTER("opsub_nic_rx_no_match_total", "Frames from the wire that matched no filter.", s->nic.rx_no_match);
	NIC_COUNTER("opsub_nic_rx_dropped_total", "Frames dropped for want of a descriptor, all queues.",
	            s->nic.rx_dropped);
	NIC_COUNTER("opsub_nic_dma_errors_total", "DMA outside the mapped windows, all queues.", s->nic.dma_errors);
	NIC_COUNTER("opsub_nic_wire_errors_total", "Frames the wire could not carry.", s->nic.wire_errors);
	NIC_COUNTER("opsub_nic_dma_cpu_seconds_total", "CPU time of the NIC's DMA engine thread.",
	            (double)s->dma_cpu_ns / 1e9);
	NIC_COUNTER("opsub_nic_engine_sleeps_total", "Times the DMA engine went to sleep for want of work.",
	            s->engine_sleeps);
}
