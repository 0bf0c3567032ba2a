/*
 * pcaptool: test-side helper for the network tests.
 *   pcaptool gen FILE N [DSTMAC]   writes N frames of varied sizes (60..1514)
 *                                  with distinct payloads to a pcap file
 *   pcaptool genb FILE N DSTMAC    the same, but the first frame is broadcast
 *   pcaptool seals FILE            prints "shrink" and "grow" for the seals a
 *                                  memory file carries (e.g. /proc/PID/fd/N)
 *   pcaptool swapped IN OUT        checks that OUT holds exactly the frames
 *                                  of IN, in order, with source and
 *                                  destination MAC swapped; prints a verdict
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gen(const char *file, int n, const char *dstmac, int broadcast_first)
{
	uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01}, f[1514];
	if (dstmac)
		sscanf(dstmac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1], &dst[2], &dst[3], &dst[4], &dst[5]);
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, file);
	if (!d) {
		fprintf(stderr, "pcaptool: %s\n", pcap_geterr(p));
		return 2;
	}
	uint32_t seed = 12345;
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t len = 60 + seed % (1514 - 60 + 1);
		memcpy(f, dst, 6);
		if (i == 0 && broadcast_first)
			memset(f, 0xff, 6);
		uint8_t src[6] = {0x02, 0xaa, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
		memcpy(f + 6, src, 6);
		f[12] = 0x88;
		f[13] = 0xb6;
		for (uint32_t k = 14; k < len; k++)
			f[k] = (uint8_t)(k * 7 + (uint32_t)i * 13);
		struct pcap_pkthdr h = {.caplen = len, .len = len};
		h.ts.tv_sec = i / 1000;
		h.ts.tv_usec = (i % 1000) * 1000;
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static int swapped(const char *in, const char *out)
{
	char e[PCAP_ERRBUF_SIZE];
	pcap_t *a = pcap_open_offline(in, e), *b = a ? pcap_open_offline(out, e) : NULL;
	if (!a || !b) {
		printf("cannot open: %s\n", e);
		return 1;
	}
	struct pcap_pkthdr *ha, *hb;
	const u_char *fa, *fb;
	int n = 0;
	for (;; n++) {
		int ra = pcap_next_ex(a, &ha, &fa), rb = pcap_next_ex(b, &hb, &fb);
		if (ra != 1 && rb != 1)
			break;
		if (ra != 1 || rb != 1) {
			printf("frame %d: %s has more frames\n", n, ra == 1 ? in : out);
			return 1;
		}
		if (ha->caplen != hb->caplen || memcmp(fa, fb + 6, 6) || memcmp(fa + 6, fb, 6) ||
		    memcmp(fa + 12, fb + 12, ha->caplen - 12)) {
			printf("frame %d differs (lengths %u and %u)\n", n, ha->caplen, hb->caplen);
			return 1;
		}
	}
	printf("%d frames, all forwarded with MACs swapped\n", n);
	return 0;
}

static int seals(const char *path)
{
	int fd = open(path, O_RDONLY);
	int s = fd < 0 ? -1 : fcntl(fd, F_GET_SEALS);
	if (s < 0) {
		printf("cannot read the seals of %s\n", path);
		return 1;
	}
	printf("%s%s\n", s & F_SEAL_SHRINK ? "shrink " : "", s & F_SEAL_GROW ? "grow" : "");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "seals"))
		return seals(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "gen"))
		return gen(argv[2], atoi(argv[3]), argc > 4 ? argv[4] : NULL, 0);
	if (argc == 5 && !strcmp(argv[1], "genb"))
		return gen(argv[2], atoi(argv[3]), argv[4], 1);
	if (argc == 4 && !strcmp(argv[1], "swapped"))
		return swapped(argv[2], argv[3]);
	fprintf(stderr, "usage: pcaptool gen FILE N [DSTMAC] | pcaptool genb FILE N DSTMAC | pcaptool swapped IN OUT | pcaptool seals FILE\n");
	return 2;
}
