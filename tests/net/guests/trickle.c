/*
 * trickle: sends one 60-byte frame to DSTMAC every GAP_MS milliseconds,
 * COUNT times, then prints how many went out.  Between two frames the NIC
 * has been idle long enough to fall asleep, so every frame's doorbell has
 * to wake it, and from the second frame on the burst hypercall is linked:
 * in opsub mode it takes the fast gate (which cannot make a system call and
 * hands the wake-up to the full gate).  For the idle-NIC tests.
 *   trickle COUNT GAP_MS DSTMAC
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opsub.h"

static int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t dst[6];
	if (argc != 4 || atoi(argv[1]) < 1 || atoi(argv[2]) < 0 || mac_parse(argv[3], dst)) {
		fprintf(stderr, "usage: trickle COUNT GAP_MS DSTMAC\n");
		return 2;
	}
	unsigned count = (unsigned)atoi(argv[1]), sent = 0;
	uint64_t gap = (uint64_t)atoi(argv[2]) * 1000000u;
	struct opsub_port *p = opsub_port_open(0, 64);
	if (!p) {
		fprintf(stderr, "trickle: no port\n");
		return 1;
	}
	while (sent < count) {
		struct opsub_buf b;
		if (opsub_buf_alloc(p, &b, 1) == 1) {
			memset(b.data, 0, 60);
			memcpy(b.data, dst, 6);
			memcpy(b.data + 6, opsub_port_mac(p), 6);
			b.data[12] = 0x88;
			b.data[13] = 0xb5;
			b.len = 60;
			if (opsub_tx_burst(p, &b, 1) == 1)
				sent++;
			else
				opsub_buf_free(p, &b, 1);
		} else {
			opsub_tx_burst(p, &b, 0);   /* takes finished buffers back */
		}
		opsub_wait(opsub_clock_ns() + gap);
	}
	printf("trickle: sent %u\n", sent);
	return 0;
}
