/*
 * responder IP/PREFIX: answers ARP requests for IP and ICMP echo requests
 * to it, so that `ping IP` from the host reaches the guest over the NIC.
 *   responder 10.0.0.2/24 [--count N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"
#include "opsub.h"
#include "pkt.h"

/* Turns an ARP request for ip into the reply, in place; 0 if not one. */
static int arp_reply(uint8_t *f, uint32_t len, uint32_t ip, const uint8_t mac[6])
{
	uint8_t *a = f + ETH_HLEN;
	if (len < ETH_HLEN + 28 || eth_type(f) != 0x0806 || be16(a + 6) != 1 || be32(a + 24) != ip)
		return 0;
	uint8_t sha[6], spa[4];
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	put16(a + 6, 2);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, a + 24, 4);
	memcpy(a + 18, sha, 6);
	memcpy(a + 24, spa, 4);
	eth_set(f, sha, mac, 0x0806);
	return 1;
}

/* Turns an ICMP echo request to ip into the reply, in place; 0 if not one. */
static int echo_reply(uint8_t *f, uint32_t len, uint32_t ip, const uint8_t mac[6])
{
	uint8_t *h = f + ETH_HLEN;
	if (len < ETH_HLEN + 20 + 8 || eth_type(f) != 0x0800 || (h[0] >> 4) != 4 || h[9] != 1 || be32(h + 16) != ip)
		return 0;
	uint32_t ihl = (h[0] & 15u) * 4, tot = be16(h + 2);
	if (ihl < 20 || tot < ihl + 8 || ETH_HLEN + tot > len || h[ihl] != 8)
		return 0;
	uint8_t tmp[4], dst[6];
	memcpy(tmp, h + 12, 4);
	memcpy(h + 12, h + 16, 4);
	memcpy(h + 16, tmp, 4);
	h[8] = 64;
	put16(h + 10, 0);
	put16(h + 10, inet_csum(h, ihl));
	uint8_t *icmp = h + ihl;
	icmp[0] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, inet_csum(icmp, tot - ihl));
	memcpy(dst, f + 6, 6);
	eth_set(f, dst, mac, 0x0800);
	return 1;
}

int main(int argc, char **argv)
{
	uint32_t ip, mask;
	uint64_t count = 0;
	if (argc < 2 || ip_prefix_parse(argv[1], &ip, &mask) ||
	    (argc == 4 && strcmp(argv[2], "--count")) || (argc != 2 && argc != 4)) {
		fprintf(stderr, "usage: responder IP/PREFIX [--count N]\n");
		return 2;
	}
	if (argc == 4)
		count = strtoull(argv[3], NULL, 10);
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p) {
		fprintf(stderr, "responder: cannot open port 0: %s (run it under opsub with a network port)\n",
		        strerror(errno));
		return 1;
	}
	const uint8_t *mac = opsub_port_mac(p);
	printf("responder: %s at %02x:%02x:%02x:%02x:%02x:%02x\n", argv[1], mac[0], mac[1], mac[2], mac[3], mac[4],
	       mac[5]);
	fflush(stdout);
	uint64_t answered = 0;
	struct opsub_buf b[32], out[32];
	while (!count || answered < count) {
		unsigned n = opsub_rx_burst(p, b, 32), k = 0;
		for (unsigned i = 0; i < n; i++) {
			if (arp_reply(b[i].data, b[i].len, ip, mac) || echo_reply(b[i].data, b[i].len, ip, mac))
				out[k++] = b[i];
			else
				opsub_buf_free(p, &b[i], 1);
		}
		unsigned s = opsub_tx_burst(p, out, k);
		opsub_buf_free(p, out + s, k - s);
		answered += s;
		if (!n)
			opsub_port_wait(p, 100000000);
	}
	printf("responder: answered %llu\n", (unsigned long long)answered);
	return 0;
}
