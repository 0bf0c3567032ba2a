/*
 * l2fwd: receives frames and sends each one back out, zero-copy: with the
 * MACs swapped, or (--dst MAC) to MAC with its own MAC as the source.
 *   l2fwd [--dst MAC] [--count N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opsub.h"
#include "pkt.h"

int main(int argc, char **argv)
{
	uint8_t dst[6];
	int to = 0;
	uint64_t count = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dst") && i + 1 < argc && !mac_parse(argv[i + 1], dst)) {
			to = 1;
			i++;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoull(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: l2fwd [--dst MAC] [--count N]\n");
			return 2;
		}
	}
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p) {
		fprintf(stderr, "l2fwd: cannot open port 0: %s (run it under opsub with a network port)\n", strerror(errno));
		return 1;
	}
	const uint8_t *own = opsub_port_mac(p);
	uint64_t fwd = 0;
	struct opsub_buf b[64];
	while (!count || fwd < count) {
		unsigned n = opsub_rx_burst(p, b, 64);
		if (!n) {
			opsub_port_wait(p, 10000000);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			uint8_t *f = b[i].data, tmp[6];
			if (i + 4 < n)   /* the NIC wrote it from the other core */
				opsub_prefetch_write(b[i + 4].data);
			if (to) {
				memcpy(f, dst, 6);
				memcpy(f + 6, own, 6);
			} else {
				memcpy(tmp, f, 6);
				memcpy(f, f + 6, 6);
				memcpy(f + 6, tmp, 6);
			}
		}
		unsigned s = 0;
		while (s < n)   /* forward everything: wait for ring room */
			s += opsub_tx_burst(p, b + s, n - s);
		fwd += n;
	}
	printf("l2fwd: forwarded %llu frames\n", (unsigned long long)fwd);
	return 0;
}
