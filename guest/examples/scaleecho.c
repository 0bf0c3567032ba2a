/*
 * scaleecho: the responder of the scale benchmark (bench/scale, bench/soak).
 *   scaleecho [--index I] [--seconds S] [--report S] [--bufs N]
 *
 * Answers every scale frame (scale.h) that reaches it: swaps the MACs,
 * writes its own MAC into the frame's "replier" field and sends it back.
 * Before answering it checks that the frame was meant for it: the MAC the
 * generator wrote into the payload must be this port's, and with --index
 * the index too; a frame that is not is counted as misdelivered (and the
 * first few are printed, one line each, "scaleecho: MISDELIVERED ...").
 * Frames of any other kind are counted as "other" and dropped.
 *
 * Idle, it sleeps in opsub_port_wait until a frame comes or its next
 * report is due: no polling.  Every --report seconds (default 5; 0 = only
 * at the end) and at the end (--seconds, default: never) it prints one
 * line:
 *   scaleecho: t=12.0 received 1234 answered 1234 misdelivered 0 other 0 unsent 0
 * "unsent" are answers the port did not accept (its ring was full).
 * Exits 1 if any frame was misdelivered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opsub.h"
#include "pkt.h"
#include "scale.h"

struct counts {
	uint64_t received, answered, misdelivered, other, unsent;
};

static void report(const struct counts *c, double t)
{
	printf("scaleecho: t=%.1f received %llu answered %llu misdelivered %llu other %llu unsent %llu\n", t,
	       (unsigned long long)c->received, (unsigned long long)c->answered,
	       (unsigned long long)c->misdelivered, (unsigned long long)c->other, (unsigned long long)c->unsent);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double seconds = 0, every = 5;
	long index = -1;
	unsigned nbufs = 512;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--index") && i + 1 < argc)
			index = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--report") && i + 1 < argc)
			every = atof(argv[++i]);
		else if (!strcmp(argv[i], "--bufs") && i + 1 < argc)
			nbufs = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: scaleecho [--index I] [--seconds S] [--report S] [--bufs 64..65536]\n");
			return 2;
		}
	}
	if (nbufs < 64 || nbufs > 65536 || every < 0 || seconds < 0) {
		fprintf(stderr, "scaleecho: --bufs must be 64..65536, --report and --seconds >= 0\n");
		return 2;
	}
	struct opsub_port *p = opsub_port_open(0, nbufs);
	if (!p) {
		fprintf(stderr, "scaleecho: cannot open port 0: %s (run it under opsub with a network port)\n",
		        strerror(errno));
		return 1;
	}
	uint8_t me[6];
	memcpy(me, opsub_port_mac(p), 6);
	uint64_t start = opsub_clock_ns(), end = seconds > 0 ? start + (uint64_t)(seconds * 1e9) : 0;
	uint64_t period = (uint64_t)(every * 1e9), next_report = period ? start + period : 0;
	struct counts c = {0};
	struct opsub_buf b[64], out[64], drop[64];
	for (;;) {
		unsigned n = opsub_rx_burst(p, b, 64), nout = 0, ndrop = 0;
		for (unsigned i = 0; i < n; i++) {
			uint8_t *f = b[i].data;
			if (b[i].len < SCALE_FRAME_LEN || !scale_frame_is(f)) {
				c.other++;
				drop[ndrop++] = b[i];
				continue;
			}
			c.received++;
			if (memcmp(f + SCALE_DST_MAC_OFF, me, 6) ||
			    (index >= 0 && scale_get32(f + SCALE_DST_INDEX_OFF) != (uint32_t)index)) {
				if (++c.misdelivered <= 5) {
					const uint8_t *m = f + SCALE_DST_MAC_OFF;
					printf("scaleecho: MISDELIVERED frame for index %u mac %02x:%02x:%02x:%02x:%02x:%02x "
					       "(this is %02x:%02x:%02x:%02x:%02x:%02x index %ld)\n",
					       scale_get32(f + SCALE_DST_INDEX_OFF), m[0], m[1], m[2], m[3], m[4], m[5], me[0],
					       me[1], me[2], me[3], me[4], me[5], index);
					fflush(stdout);
				}
			}
			/* answered either way: the generator checks the replier too */
			uint8_t src[6];
			memcpy(src, f + 6, 6);
			memcpy(f, src, 6);
			memcpy(f + 6, me, 6);
			memcpy(f + SCALE_REPLIER_OFF, me, 6);
			out[nout++] = b[i];
		}
		if (ndrop)
			opsub_buf_free(p, drop, ndrop);
		if (nout) {
			unsigned s = opsub_tx_burst(p, out, nout);
			c.answered += s;
			if (s < nout) {
				c.unsent += nout - s;
				opsub_buf_free(p, out + s, nout - s);
			}
		}
		uint64_t now = opsub_clock_ns();
		if (next_report && now >= next_report) {
			report(&c, (double)(now - start) / 1e9);
			while (next_report <= now)
				next_report += period;
		}
		if (end && now >= end)
			break;
		if (n)
			continue;
		/* nothing came: sleep until a frame does, the next report or the
		 * end (an idle responder costs next to no CPU) */
		uint64_t until = 3600000000000ull;
		if (next_report && next_report - now < until)
			until = next_report - now;
		if (end && end - now < until)
			until = end - now;
		opsub_port_wait(p, until);
	}
	report(&c, (double)(opsub_clock_ns() - start) / 1e9);
	return c.misdelivered ? 1 : 0;
}
