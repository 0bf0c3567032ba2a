/*
 * firewall: forwards or drops frames by simple rules, first match wins.
 *   firewall [--to MAC] [--default allow|drop] [--count N] RULE...
 *   RULE:  allow|drop [any|ip|tcp|udp|icmp] [src A.B.C.D/N] [dst A.B.C.D/N]
 *          [sport N] [dport N]          (one rule per argument)
 * Forwarded frames go to MAC (with the firewall's MAC as source), or back to
 * their sender without --to.  Prints per-rule hit counts at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"
#include "opsub.h"
#include "pkt.h"

#define MAX_RULES 64

enum proto { ANY = -1, IP = 0, ICMP = 1, TCP = 6, UDP = 17 };

struct rule {
	int allow;
	int proto;
	uint32_t src, src_mask, dst, dst_mask;
	int sport, dport;       /* -1: any */
	uint64_t hits;
	const char *text;
};

static int parse_rule(const char *text, struct rule *r)
{
	char buf[256], *save, *w;
	snprintf(buf, sizeof(buf), "%s", text);
	*r = (struct rule){.proto = ANY, .sport = -1, .dport = -1, .text = text};
	w = strtok_r(buf, " ", &save);
	if (!w || (strcmp(w, "allow") && strcmp(w, "drop")))
		return -1;
	r->allow = !strcmp(w, "allow");
	while ((w = strtok_r(NULL, " ", &save))) {
		char *arg = NULL;
		if (!strcmp(w, "any")) r->proto = ANY;
		else if (!strcmp(w, "ip")) r->proto = IP;
		else if (!strcmp(w, "icmp")) r->proto = ICMP;
		else if (!strcmp(w, "tcp")) r->proto = TCP;
		else if (!strcmp(w, "udp")) r->proto = UDP;
		else if ((arg = strtok_r(NULL, " ", &save)) == NULL) return -1;
		else if (!strcmp(w, "src")) { if (ip_prefix_parse(arg, &r->src, &r->src_mask)) return -1; }
		else if (!strcmp(w, "dst")) { if (ip_prefix_parse(arg, &r->dst, &r->dst_mask)) return -1; }
		else if (!strcmp(w, "sport")) r->sport = atoi(arg);
		else if (!strcmp(w, "dport")) r->dport = atoi(arg);
		else return -1;
	}
	return 0;
}

static int matches(const struct rule *r, const uint8_t *f, uint32_t len)
{
	int is_ip = len >= ETH_HLEN + 20 && eth_type(f) == 0x0800 && (f[ETH_HLEN] >> 4) == 4;
	if (r->proto == ANY && !r->src_mask && !r->dst_mask && r->sport < 0 && r->dport < 0)
		return 1;
	if (!is_ip)
		return 0;
	const uint8_t *h = f + ETH_HLEN;
	uint32_t ihl = (h[0] & 15u) * 4;
	if (r->proto > IP && h[9] != r->proto)
		return 0;
	if ((be32(h + 12) & r->src_mask) != (r->src & r->src_mask) || (be32(h + 16) & r->dst_mask) != (r->dst & r->dst_mask))
		return 0;
	if (r->sport >= 0 || r->dport >= 0) {
		if ((h[9] != TCP && h[9] != UDP) || len < ETH_HLEN + ihl + 4)
			return 0;
		if ((r->sport >= 0 && be16(h + ihl) != r->sport) || (r->dport >= 0 && be16(h + ihl + 2) != r->dport))
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	static struct rule rules[MAX_RULES];
	unsigned nrules = 0;
	int to = 0, dflt = 0;
	uint8_t dst[6];
	uint64_t count = 0, seen = 0, fwd = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--to") && i + 1 < argc && !mac_parse(argv[i + 1], dst)) {
			to = 1;
			i++;
		} else if (!strcmp(argv[i], "--default") && i + 1 < argc) {
			dflt = !strcmp(argv[++i], "allow");
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoull(argv[++i], NULL, 10);
		} else if (nrules < MAX_RULES && !parse_rule(argv[i], &rules[nrules])) {
			nrules++;
		} else {
			fprintf(stderr, "firewall: bad rule '%s' (allow|drop [any|ip|tcp|udp|icmp] [src A/N] [dst A/N] "
			                "[sport N] [dport N])\n", argv[i]);
			return 2;
		}
	}
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p) {
		fprintf(stderr, "firewall: cannot open port 0: %s (run it under opsub with a network port)\n",
		        strerror(errno));
		return 1;
	}
	const uint8_t *own = opsub_port_mac(p);
	struct opsub_buf b[64], out[64];
	while (!count || seen < count) {
		unsigned n = opsub_rx_burst(p, b, 64), k = 0;
		for (unsigned i = 0; i < n; i++) {
			int allow = dflt;
			for (unsigned r = 0; r < nrules; r++)
				if (matches(&rules[r], b[i].data, b[i].len)) {
					rules[r].hits++;
					allow = rules[r].allow;
					break;
				}
			if (!allow) {
				opsub_buf_free(p, &b[i], 1);
				continue;
			}
			uint8_t *f = b[i].data, tmp[6];
			memcpy(tmp, f + 6, 6);
			memcpy(f, to ? dst : tmp, 6);
			memcpy(f + 6, own, 6);
			out[k++] = b[i];
		}
		unsigned s = 0;
		while (s < k)
			s += opsub_tx_burst(p, out + s, k - s);
		fwd += k;
		seen += n;
		if (!n)
			opsub_port_wait(p, 10000000);
	}
	printf("firewall: %llu frames, %llu forwarded\n", (unsigned long long)seen, (unsigned long long)fwd);
	for (unsigned r = 0; r < nrules; r++)
		printf("  %-50s %llu\n", rules[r].text, (unsigned long long)rules[r].hits);
	return 0;
}
