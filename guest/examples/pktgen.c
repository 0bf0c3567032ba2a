/*
 * pktgen: transmits test frames (pkt.h) at full rate, writing every byte.
 *   pktgen [--size BYTES] [--count N] [--seconds S] [--dst MAC] [--burst N]
 *          [--bufs N]
 * Defaults: 64-byte frames to ff:ff:ff:ff:ff:ff in bursts of 32, the SDK's
 * pool of 4096 buffers, until stopped.  Prints the
 * frames sent and the rate at the end (and every second with --verbose).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opsub.h"
#include "pkt.h"

int main(int argc, char **argv)
{
	uint32_t size = 64;
	uint64_t count = 0;
	double seconds = 0;
	unsigned burst = 32, bufs = 0;
	uint8_t dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--burst") && i + 1 < argc)
			burst = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bufs") && i + 1 < argc)
			bufs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dst") && i + 1 < argc && !mac_parse(argv[i + 1], dst))
			i++;
		else {
			fprintf(stderr, "usage: pktgen [--size 60..2048] [--count N] [--seconds S] [--dst MAC] [--burst 1..256] [--bufs 2..65536]\n");
			return 2;
		}
	}
	if (size < 60 || size > OPSUB_NET_MAX_FRAME || burst < 1 || burst > OPSUB_NET_BURST_MAX ||
	    (bufs && (bufs < 2 || bufs > 65536))) {
		fprintf(stderr, "pktgen: size must be 60..2048, burst 1..256 and bufs 2..65536\n");
		return 2;
	}
	struct opsub_port *p = opsub_port_open(0, bufs);
	if (!p) {
		fprintf(stderr, "pktgen: cannot open port 0: %s (run it under opsub with a network port)\n", strerror(errno));
		return 1;
	}
	uint8_t header[ETH_HLEN];
	eth_set(header, dst, opsub_port_mac(p), NULL_FRAME_ETHERTYPE);
	uint64_t start = opsub_clock_ns(), end = seconds > 0 ? start + (uint64_t)(seconds * 1e9) : 0;
	uint64_t sent = 0, seq = 0;
	struct opsub_buf b[OPSUB_NET_BURST_MAX];
	while (!count || sent < count) {
		unsigned want = burst;
		if (count && count - sent < want)
			want = (unsigned)(count - sent);
		unsigned n = opsub_buf_alloc(p, b, want);
		/* The NIC read these buffers from the other core: ask for all
		 * their lines at once, for writing, rather than wait for each
		 * in turn. */
		for (unsigned i = 0; i < n; i++)
			for (uint32_t off = 0; off < size; off += 64)
				opsub_prefetch_write(b[i].data + off);
		for (unsigned i = 0; i < n; i++) {
			null_frame_write(b[i].data, header, size, seq++);
			b[i].len = size;
		}
		unsigned s = opsub_tx_burst(p, b, n);
		if (s < n) {
			opsub_buf_free(p, b + s, n - s);
			seq -= n - s;
		}
		sent += s;
		if (end && (sent & 0xfff) < s && opsub_clock_ns() >= end)
			break;
	}
	double t = (double)(opsub_clock_ns() - start) / 1e9;
	/* Frames still queued (a rate limit holds them) would be lost if the
	 * process ended now: wait, up to 5 s, until the NIC has sent them. */
	struct opsub_net_stats st;
	uint64_t give_up = opsub_clock_ns() + 5000000000ull;
	while (opsub_port_stats(p, &st) == 0 && st.tx_packets < sent && opsub_clock_ns() < give_up)
		opsub_wait(opsub_clock_ns() + 1000000);
	printf("pktgen: sent %llu frames of %u bytes in %.3f s (%.3f Mpps); the NIC has sent %llu\n",
	       (unsigned long long)sent, size, t, t > 0 ? (double)sent / t / 1e6 : 0.0,
	       (unsigned long long)st.tx_packets);
	return 0;
}
