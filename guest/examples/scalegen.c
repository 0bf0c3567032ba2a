/*
 * scalegen: the generator of the scale benchmark (bench/scale, bench/soak).
 *
 *   scalegen --base MAC --count N [--hot K] [--window W] [--cold-pps R]
 *            [--probe I] [--probe-ms M] [--measure A:B]
 *            [--idle-probe I --idle-after S]
 *            [--cool-after S --cool-to K2] [--hot-after S --hot-guest X]
 *            [--hot-share F] [--lost-ms MS] [--seconds S] [--report S]
 *            [--bufs N]
 *
 * Sends scale frames (scale.h) to N guests whose MACs are BASE + i
 * (i = 0..N-1; guest i is a scaleecho): guests 0..K-1 are "hot" and get as
 * many frames as they answer, in turns, with at most W frames in flight
 * (default 512): a closed loop, so the reply rate is what the guests and
 * the NIC manage; every other guest gets R frames a second (default 1),
 * spread out in time.  Guest I (--probe, default K, else 0) also gets a
 * probe every M ms (default 10), whose round trip is a latency sample.
 *
 * Phases, in seconds since the start:
 *   --measure A:B     the replies/s reported as "mpps" are those of [A, B)
 *   --idle-probe I --idle-after S: guest I gets nothing (not even its cold
 *                     frames) until S, then a probe every M ms; the first
 *                     round trip is reported apart ("idle_first_us") from
 *                     the median of the later ones ("idle_steady_us")
 *   --cool-after S --cool-to K2: from S only guests 0..K2-1 stay hot (the
 *                     others turn cold: the daemon may take their queues)
 *   --hot-after S --hot-guest X [--hot-share F]: from S guest X is hot too,
 *                     with a share F of the hot frames (default 0.25, so
 *                     that its rate stands out from the others'); the moment is
 *                     printed with CLOCK_REALTIME ("hot-start ... realtime
 *                     SECONDS.NANOSECONDS") for comparison with the
 *                     daemon's log
 *
 * Every reply is checked: it must come from the MAC it was sent to (its
 * source and the replier field both BASE + index), else it counts as
 * "wrong".  A frame without a reply 1 to 2 s after it was sent (--lost-ms,
 * default 1000) counts as lost (a reply after that, or a second one, as
 * "late"), and leaves the window.
 * Prints one line a second (--report) and at the end one line
 *   scalegen: result {JSON}
 * with sent, replies, lost, wrong, mpps, probe percentiles (us), idle probe
 * figures, hot_start_realtime.  Exits 1 if any reply was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opsub.h"
#include "pkt.h"
#include "scale.h"

#define MAX_SAMPLES 65536u

struct samples {
	uint32_t us[MAX_SAMPLES];    /* round trips in ns / 1000, rounded up */
	unsigned n;
};

static struct samples probe_rtt, idle_rtt;

/* Frames in flight, by sequence number: a bit per frame sent and not yet
 * answered, in a ring of OUT_BITS (far more than are sent in a sweep). */
#define OUT_BITS (1u << 22)
static uint64_t outstanding[OUT_BITS / 64];

static void out_set(uint64_t seq) { outstanding[(seq % OUT_BITS) / 64] |= 1ull << (seq % 64); }

/* Clears the bit of seq; true if it was set (the reply was awaited). */
static int out_take(uint64_t seq)
{
	uint64_t *w = &outstanding[(seq % OUT_BITS) / 64], bit = 1ull << (seq % 64);
	int was = (*w & bit) != 0;
	*w &= ~bit;
	return was;
}

static void mac_add(const uint8_t base[6], uint64_t i, uint8_t out[6])
{
	uint64_t v = 0;
	for (int k = 0; k < 6; k++)
		v = v << 8 | base[k];
	v += i;
	for (int k = 5; k >= 0; k--, v >>= 8)
		out[k] = (uint8_t)v;
}

/* The index a MAC is at from base, or -1 when it is none of the N. */
static long mac_index(const uint8_t base[6], const uint8_t *mac, uint32_t count)
{
	uint64_t b = 0, m = 0;
	for (int k = 0; k < 6; k++) {
		b = b << 8 | base[k];
		m = m << 8 | mac[k];
	}
	return m >= b && m - b < count ? (long)(m - b) : -1;
}

/* The next cold guest in turn after *next, in [nhot, count): never the
 * idle probe's guest while it is kept silent, nor the hot guest X once it
 * is hot (when nothing else is left, the turn falls on them anyway). */
static uint32_t cold_pick(uint32_t *next, uint32_t nhot, uint32_t count, long silent, int keep_silent, long hot_x)
{
	for (uint32_t tries = 0; tries <= count; tries++) {
		uint32_t i = *next < nhot || *next >= count ? nhot : *next;
		*next = i + 1;
		if ((keep_silent && (long)i == silent) || (long)i == hot_x)
			continue;
		return i;
	}
	return nhot < count ? nhot : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(struct samples *s, double q)
{
	if (!s->n)
		return -1;
	unsigned i = (unsigned)(q * (s->n - 1) + 0.5);
	return s->us[i];
}

static void add_sample(struct samples *s, uint64_t ns)
{
	if (s->n < MAX_SAMPLES)
		s->us[s->n++] = (uint32_t)((ns + 999) / 1000);
}

static int parse_range(const char *s, double *a, double *b)
{
	char *end;
	*a = strtod(s, &end);
	if (*end != ':')
		return -1;
	*b = strtod(end + 1, &end);
	return *end || *b <= *a ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: scalegen --base MAC --count N [--hot K] [--window W] [--cold-pps R] [--probe I] "
	                "[--probe-ms M] [--measure A:B] [--idle-probe I --idle-after S] [--cool-after S --cool-to K2] "
	                "[--hot-after S --hot-guest X [--hot-share F]] [--lost-ms MS] [--seconds S] [--report S] [--bufs N]\n");
}

int main(int argc, char **argv)
{
	uint8_t base[6] = {0};
	int have_base = 0;
	uint32_t count = 0, hot = 0, window = 512, cool_to = 0;
	long probe = -1, idle_probe = -1, hot_guest = -1;
	double cold_pps = 1, probe_ms = 10, m_from = -1, m_to = -1, idle_after = 0, cool_after = -1, hot_after = -1;
	double seconds = 10, every = 1, lost_ms = 1000, x_share = 0.25;
	unsigned nbufs = 4096;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			usage();
			return 2;
		}
		i++;
		if (!strcmp(a, "--base") && !mac_parse(v, base))
			have_base = 1;
		else if (!strcmp(a, "--count"))
			count = (uint32_t)atol(v);
		else if (!strcmp(a, "--hot"))
			hot = (uint32_t)atol(v);
		else if (!strcmp(a, "--window"))
			window = (uint32_t)atol(v);
		else if (!strcmp(a, "--cold-pps"))
			cold_pps = atof(v);
		else if (!strcmp(a, "--probe"))
			probe = atol(v);
		else if (!strcmp(a, "--probe-ms"))
			probe_ms = atof(v);
		else if (!strcmp(a, "--measure") && !parse_range(v, &m_from, &m_to))
			continue;
		else if (!strcmp(a, "--idle-probe"))
			idle_probe = atol(v);
		else if (!strcmp(a, "--idle-after"))
			idle_after = atof(v);
		else if (!strcmp(a, "--cool-after"))
			cool_after = atof(v);
		else if (!strcmp(a, "--cool-to"))
			cool_to = (uint32_t)atol(v);
		else if (!strcmp(a, "--hot-after"))
			hot_after = atof(v);
		else if (!strcmp(a, "--hot-guest"))
			hot_guest = atol(v);
		else if (!strcmp(a, "--seconds"))
			seconds = atof(v);
		else if (!strcmp(a, "--report"))
			every = atof(v);
		else if (!strcmp(a, "--lost-ms"))
			lost_ms = atof(v);
		else if (!strcmp(a, "--hot-share"))
			x_share = atof(v);
		else if (!strcmp(a, "--bufs"))
			nbufs = (unsigned)atoi(v);
		else {
			usage();
			return 2;
		}
	}
	if (!have_base || !count || hot > count || window < 1 || window > nbufs / 2 || probe_ms <= 0 ||
	    probe >= (long)count || idle_probe >= (long)count || hot_guest >= (long)count || cool_to > hot ||
	    seconds <= 0 || nbufs < 64 || nbufs > 65536 || cold_pps < 0 || lost_ms < 1 || x_share <= 0 || x_share > 1) {
		fprintf(stderr, "scalegen: give --base and --count N >= 1; --hot <= N; --window 1..bufs/2; indexes below "
		                "N; --cool-to <= --hot; --bufs 64..65536\n");
		return 2;
	}
	if (probe < 0)
		probe = hot < count ? (long)hot : 0;
	if (m_from < 0) {
		m_from = seconds * 0.3;
		m_to = seconds * 0.9;
	}
	struct opsub_port *p = opsub_port_open(0, nbufs);
	if (!p) {
		fprintf(stderr, "scalegen: cannot open port 0: %s (run it under opsub with a network port)\n",
		        strerror(errno));
		return 1;
	}
	const uint8_t *me = opsub_port_mac(p);
	uint64_t start = opsub_clock_ns(), end = start + (uint64_t)(seconds * 1e9);
	uint64_t probe_every = (uint64_t)(probe_ms * 1e6), next_probe = start + probe_every;
	uint64_t idle_at = idle_probe >= 0 ? start + (uint64_t)(idle_after * 1e9) : 0, next_idle = idle_at;
	uint64_t cool_at = cool_after >= 0 ? start + (uint64_t)(cool_after * 1e9) : 0;
	uint64_t hot_at = hot_after >= 0 && hot_guest >= 0 ? start + (uint64_t)(hot_after * 1e9) : 0;
	uint64_t m_a = start + (uint64_t)(m_from * 1e9), m_b = start + (uint64_t)(m_to * 1e9);
	/* the cold guests take turns: one frame every cold_gap ns to the next */
	uint32_t ncold = count - hot;
	uint64_t cold_gap = cold_pps > 0 && ncold ? (uint64_t)(1e9 / (cold_pps * ncold)) : 0;
	uint64_t next_cold = start + cold_gap;
	uint32_t cold_next = hot, hot_next = 0, nhot = hot;
	int x_hot = 0, idle_first_done = 0;
	double x_credit = 0;
	uint64_t idle_first_ns = 0;
	struct timespec hot_rt = {0, 0};
	uint64_t seq = 0, sent = 0, replies = 0, lost = 0, late = 0, wrong = 0, cold_sent = 0, probes_sent = 0;
	/* every 100 ms the frames sent before the previous sweep and still
	 * unanswered are lost */
	uint64_t sweep_from = 0, sweep_mark = 0, sweep_ns = (uint64_t)(lost_ms * 1e6), next_sweep = start + sweep_ns;
	uint64_t replies_at_a = 0, replies_at_b = 0, t_a = 0, t_b = 0;
	uint64_t next_report = start + (uint64_t)(every * 1e9);
	uint64_t last_replies = 0, last_t = start;
	uint8_t hdr[ETH_HLEN];
	struct opsub_buf rx[64], tx[64];
	for (;;) {
		uint64_t now = opsub_clock_ns();
		/* ---- replies */
		unsigned n = opsub_rx_burst(p, rx, 64);
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *f = rx[i].data;
			if (rx[i].len < SCALE_FRAME_LEN || !scale_frame_is(f))
				continue;
			if (!out_take(scale_get64(f + SCALE_SEQ_OFF))) {
				late++;
				continue;
			}
			replies++;
			uint32_t idx = scale_get32(f + SCALE_DST_INDEX_OFF);
			uint8_t want[6];
			mac_add(base, idx, want);
			if (idx >= count || memcmp(f + 6, want, 6) || memcmp(f + SCALE_REPLIER_OFF, want, 6) ||
			    memcmp(f + SCALE_DST_MAC_OFF, want, 6)) {
				if (++wrong <= 5) {
					long from = mac_index(base, f + 6, count);
					printf("scalegen: WRONG reply: sent to index %u, answered by index %ld\n", idx, from);
				}
			}
			if (f[SCALE_KIND_OFF] == SCALE_KIND_PROBE) {
				uint64_t rtt = now - scale_get64(f + SCALE_TIME_OFF);
				if ((long)idx == idle_probe && idle_at) {
					if (!idle_first_done) {
						idle_first_done = 1;
						idle_first_ns = rtt;
					} else {
						add_sample(&idle_rtt, rtt);
					}
				} else if (now >= m_a && now < m_b) {
					add_sample(&probe_rtt, rtt);
				}
			}
		}
		if (n)
			opsub_buf_free(p, rx, n);
		/* ---- phases */
		if (!t_a && now >= m_a) {
			t_a = now;
			replies_at_a = replies;
		}
		if (!t_b && now >= m_b) {
			t_b = now;
			replies_at_b = replies;
		}
		if (cool_at && now >= cool_at) {
			cool_at = 0;
			nhot = cool_to;
			printf("scalegen: cooling: guests %u..%u turn cold at t=%.3f\n", cool_to, hot - 1,
			       (double)(now - start) / 1e9);
		}
		if (hot_at && now >= hot_at) {
			hot_at = 0;
			x_hot = 1;
			clock_gettime(CLOCK_REALTIME, &hot_rt);
			printf("scalegen: hot-start index %ld realtime %lld.%09ld t=%.3f\n", hot_guest,
			       (long long)hot_rt.tv_sec, hot_rt.tv_nsec, (double)(now - start) / 1e9);
		}
		if (now >= next_sweep) {
			for (; sweep_from < sweep_mark; sweep_from++)
				lost += (uint64_t)out_take(sweep_from);
			sweep_mark = seq;
			next_sweep = now + sweep_ns;
		}
		uint64_t inflight = sent - lost - replies;
		if (now >= end)
			break;
		/* ---- what to send now */
		unsigned want = 0;
		int want_probe = now >= next_probe, want_idle = next_idle && now >= next_idle;
		unsigned want_cold = 0;
		if (cold_gap && now >= next_cold) {
			uint64_t due = (now - next_cold) / cold_gap + 1;
			want_cold = due > 16 ? 16 : (unsigned)due;
		}
		unsigned want_hot = 0;
		uint32_t hot_set = nhot + (unsigned)x_hot;
		if (hot_set && inflight < window)
			want_hot = (unsigned)(window - inflight);
		want = (unsigned)want_probe + (unsigned)want_idle + want_cold + want_hot;
		if (want > 64)
			want = 64;
		unsigned got = want ? opsub_buf_alloc(p, tx, want) : 0;
		unsigned k = 0, cold_used = 0;
		uint64_t seq0 = seq;
		for (; k < got; k++) {
			uint32_t idx;
			uint8_t kind = SCALE_KIND_TRAFFIC;
			if (want_probe) {
				want_probe = 0;
				idx = (uint32_t)probe;
				kind = SCALE_KIND_PROBE;
				next_probe += probe_every;
				if (next_probe < now)
					next_probe = now + probe_every;
			} else if (want_idle) {
				want_idle = 0;
				idx = (uint32_t)idle_probe;
				kind = SCALE_KIND_PROBE;
				next_idle += probe_every;
				if (next_idle < now)
					next_idle = now + probe_every;
			} else if (cold_used < want_cold) {
				cold_used++;
				idx = cold_pick(&cold_next, nhot, count, idle_probe, now < idle_at || !idle_at,
				                x_hot ? hot_guest : -1);
				next_cold += cold_gap;
				cold_sent++;
			} else {
				/* X, once hot, gets its share of the hot frames, the
				 * others take turns with the rest */
				x_credit += x_hot ? x_share : 0;
				if (x_credit >= 1 || !nhot) {
					x_credit -= x_credit >= 1 ? 1 : 0;
					idx = (uint32_t)hot_guest;
				} else {
					if (hot_next >= nhot)
						hot_next = 0;
					idx = hot_next++;
				}
			}
			uint8_t dst[6];
			mac_add(base, idx, dst);
			eth_set(hdr, dst, me, SCALE_ETHERTYPE);
			uint8_t *f = tx[k].data;
			memset(f, 0, SCALE_FRAME_LEN);
			memcpy(f, hdr, ETH_HLEN);
			memcpy(f + SCALE_MAGIC_OFF, "SCAL", 4);
			memcpy(f + SCALE_DST_INDEX_OFF, &idx, 4);
			memcpy(f + SCALE_DST_MAC_OFF, dst, 6);
			memcpy(f + SCALE_SEQ_OFF, &seq, 8);
			seq++;
			uint64_t t = opsub_clock_ns();
			memcpy(f + SCALE_TIME_OFF, &t, 8);
			f[SCALE_KIND_OFF] = kind;
			tx[k].len = SCALE_FRAME_LEN;
			probes_sent += kind == SCALE_KIND_PROBE;
		}
		unsigned s = got ? opsub_tx_burst(p, tx, got) : 0;
		if (s < got)
			opsub_buf_free(p, tx + s, got - s);
		for (unsigned j = 0; j < s; j++)
			out_set(seq0 + j);
		seq = seq0 + s;   /* the numbers of frames not taken are used again */
		sent += s;
		if (s == 0 && n == 0) {
			/* nothing came and nothing could go (the window is full, or
			 * nothing is due): sleep until a reply comes or the next
			 * frame is due (probe, cold, phase), at most 1 ms while
			 * frames are in flight (those given up as lost free the
			 * window); spinning would take the CPU the guests need */
			uint64_t until = next_probe;
			if (cold_gap && next_cold < until)
				until = next_cold;
			if (next_idle && next_idle < until)
				until = next_idle;
			if (hot_at && hot_at < until)
				until = hot_at;
			if (cool_at && cool_at < until)
				until = cool_at;
			if (end < until)
				until = end;
			now = opsub_clock_ns();
			if (sent - lost - replies && until > now + 1000000)
				until = now + 1000000;
			if (until > now && !(hot_set && inflight < window))
				opsub_port_wait(p, until - now);
		}
		if (every > 0 && now >= next_report) {
			double dt = (double)(now - last_t) / 1e9;
			printf("scalegen: t=%.1f replies/s %.0f sent %llu replies %llu lost %llu wrong %llu\n",
			       (double)(now - start) / 1e9, dt > 0 ? (double)(replies - last_replies) / dt : 0.0,
			       (unsigned long long)sent, (unsigned long long)replies, (unsigned long long)lost,
			       (unsigned long long)wrong);
			fflush(stdout);
			last_replies = replies;
			last_t = now;
			next_report += (uint64_t)(every * 1e9);
		}
	}
	/* the last replies: up to --lost-ms; what has none then is lost */
	uint64_t drain_end = opsub_clock_ns() + sweep_ns;
	while (sent - lost > replies && opsub_clock_ns() < drain_end) {
		unsigned n = opsub_rx_burst(p, rx, 64);
		for (unsigned i = 0; i < n; i++) {
			if (rx[i].len < SCALE_FRAME_LEN || !scale_frame_is(rx[i].data))
				continue;
			if (out_take(scale_get64(rx[i].data + SCALE_SEQ_OFF)))
				replies++;
			else
				late++;
		}
		opsub_buf_free(p, rx, n);
		if (!n)
			opsub_port_wait(p, 10000000);
	}
	lost = sent - replies;
	if (!t_b) {
		t_b = opsub_clock_ns();
		replies_at_b = replies;
	}
	double mpps = t_a && t_b > t_a ? (double)(replies_at_b - replies_at_a) / ((double)(t_b - t_a) / 1e9) / 1e6 : 0;
	qsort(probe_rtt.us, probe_rtt.n, sizeof(uint32_t), cmp_u32);
	qsort(idle_rtt.us, idle_rtt.n, sizeof(uint32_t), cmp_u32);
	printf("scalegen: result {\"seconds\":%.3f,\"count\":%u,\"hot\":%u,\"window\":%u,\"sent\":%llu,\"replies\":%llu,"
	       "\"lost\":%llu,\"late\":%llu,\"wrong\":%llu,\"cold_sent\":%llu,\"probes_sent\":%llu,\"mpps\":%.4f,"
	       "\"measure_s\":[%.1f,%.1f],\"probe\":%ld,\"probe_samples\":%u,\"probe_p50_us\":%.0f,\"probe_p90_us\":%.0f,"
	       "\"probe_p99_us\":%.0f,\"probe_max_us\":%.0f,\"idle_probe\":%ld,\"idle_after_s\":%.1f,"
	       "\"idle_first_us\":%.1f,\"idle_steady_us\":%.0f,\"idle_samples\":%u,\"hot_guest\":%ld,"
	       "\"hot_start_realtime\":%lld.%09ld}\n",
	       (double)(opsub_clock_ns() - start) / 1e9, count, hot, window, (unsigned long long)sent,
	       (unsigned long long)replies, (unsigned long long)lost, (unsigned long long)late,
	       (unsigned long long)wrong, (unsigned long long)cold_sent, (unsigned long long)probes_sent, mpps, m_from, m_to, probe, probe_rtt.n,
	       pct(&probe_rtt, 0.5), pct(&probe_rtt, 0.9), pct(&probe_rtt, 0.99), pct(&probe_rtt, 1.0), idle_probe,
	       idle_after, idle_first_done ? (double)idle_first_ns / 1e3 : -1.0, pct(&idle_rtt, 0.5), idle_rtt.n,
	       hot_guest, (long long)hot_rt.tv_sec, hot_rt.tv_nsec);
	fflush(stdout);
	return wrong ? 1 : 0;
}
