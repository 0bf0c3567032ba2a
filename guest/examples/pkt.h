/*
 * Frame formats shared by the example guests.
 *
 * Test frames (pktgen -> sink): Ethernet header, EtherType 0x88b5 (local
 * experimental), then a header {magic "OPSB", sequence, length, sum} and a
 * payload whose byte i is (sequence + i) & 0xff; sum is the 32-bit sum of the
 * payload bytes.  The sender writes every byte, the receiver reads every
 * byte to check it.
 */
#ifndef OPSUB_EXAMPLES_PKT_H
#define OPSUB_EXAMPLES_PKT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ETH_HLEN 14
#define ETHERTYPE_TEST 0x88b5
#define TEST_MAGIC 0x4253504fu   /* "OPSB" */

struct test_hdr {
	uint32_t magic, seq, len, sum;
};

static inline void eth_set(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

static inline uint16_t eth_type(const uint8_t *f) { return (uint16_t)(f[12] << 8 | f[13]); }

/* Writes a whole test frame of len bytes (len >= ETH_HLEN + 16). */
static inline void test_frame(uint8_t *f, uint32_t len, uint32_t seq, const uint8_t dst[6], const uint8_t src[6])
{
	eth_set(f, dst, src, ETHERTYPE_TEST);
	uint8_t *pay = f + ETH_HLEN + sizeof(struct test_hdr);
	uint32_t n = len - ETH_HLEN - (uint32_t)sizeof(struct test_hdr), sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		pay[i] = (uint8_t)(seq + i);
		sum += pay[i];
	}
	struct test_hdr h = {TEST_MAGIC, seq, len, sum};
	memcpy(f + ETH_HLEN, &h, sizeof(h));
}

/* Reads every byte of a test frame; 1 if it is intact, 0 if corrupt, -1 if
 * it is not a test frame. */
static inline int test_check(const uint8_t *f, uint32_t len, uint32_t *seq)
{
	struct test_hdr h;
	if (len < ETH_HLEN + sizeof(h) || eth_type(f) != ETHERTYPE_TEST)
		return -1;
	memcpy(&h, f + ETH_HLEN, sizeof(h));
	if (h.magic != TEST_MAGIC)
		return -1;
	const uint8_t *pay = f + ETH_HLEN + sizeof(h);
	uint32_t n = len - ETH_HLEN - (uint32_t)sizeof(h), sum = 0;
	int ok = h.len == len;
	for (uint32_t i = 0; i < n; i++) {
		sum += pay[i];
		ok &= pay[i] == (uint8_t)(h.seq + i);
	}
	*seq = h.seq;
	return ok && sum == h.sum;
}

static inline int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

#endif
