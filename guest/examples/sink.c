/*
 * sink: receives frames and checks every byte of each test frame (pkt.h).
 * Sequence gaps are counted per source MAC change-free stream: a jump in
 * the sequence of consecutive test frames.
 *   sink [--count N] [--seconds S] [--quiet]
 * Prints frames received, intact, corrupt, other, and sequence gaps; exits
 * 1 if any test frame was corrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opsub.h"
#include "pkt.h"

int main(int argc, char **argv)
{
	uint64_t count = 0;
	double seconds = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: sink [--count N] [--seconds S]\n");
			return 2;
		}
	}
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p) {
		fprintf(stderr, "sink: cannot open port 0: %s (run it under opsub with a network port)\n", strerror(errno));
		return 1;
	}
	uint64_t start = opsub_clock_ns(), end = seconds > 0 ? start + (uint64_t)(seconds * 1e9) : 0;
	uint64_t got = 0, good = 0, bad = 0, other = 0, gaps = 0, bytes = 0;
	uint64_t next = 0;
	struct opsub_buf b[64];
	while (!count || got < count) {
		unsigned n = opsub_rx_burst(p, b, 64);
		for (unsigned i = 0; i < n; i++) {
			uint64_t seq;
			/* the NIC wrote these lines from another core: ask for
			 * the next frames' while checking this one */
			if (i + 4 < n)
				__builtin_prefetch(b[i + 4].data);
			bytes += b[i].len;
			if (b[i].len < ETH_HLEN || eth_type(b[i].data) != NULL_FRAME_ETHERTYPE) {
				other++;
			} else if (!null_frame_verify(b[i].data, b[i].len, &seq)) {
				bad++;
			} else {
				good++;
				gaps += got && seq != next;
				next = seq + 1;
			}
		}
		got += n;
		opsub_buf_free(p, b, n);
		if (!n) {
			/* sleep until a frame comes: up to 100 ms (an idle sink
			 * costs next to nothing), or until its time is up */
			uint64_t now = opsub_clock_ns(), wait = 100000000;
			if (end && now >= end)
				break;
			if (end && end - now < wait)
				wait = end - now;
			opsub_port_wait(p, wait);
		}
	}
	double t = (double)(opsub_clock_ns() - start) / 1e9;
	printf("sink: received %llu frames (%llu bytes): %llu intact, %llu corrupt, %llu other, %llu gaps in %.3f s\n",
	       (unsigned long long)got, (unsigned long long)bytes, (unsigned long long)good, (unsigned long long)bad,
	       (unsigned long long)other, (unsigned long long)gaps, t);
	return bad ? 1 : 0;
}
