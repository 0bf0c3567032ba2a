/* IPv4 helpers for the example guests: addresses, prefixes, checksums. */
#ifndef OPSUB_EXAMPLES_IP_H
#define OPSUB_EXAMPLES_IP_H

#include <stdint.h>
#include <stdio.h>

/* "10.0.0.2/24" (or without /N: /32) -> address and mask, host order. */
static inline int ip_prefix_parse(const char *s, uint32_t *addr, uint32_t *mask)
{
	unsigned a, b, c, d, n = 32;
	char tail;
	int k = sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &n, &tail);
	if ((k != 4 && k != 5) || a > 255 || b > 255 || c > 255 || d > 255 || n > 32)
		return -1;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*mask = n ? ~0u << (32 - n) : 0;
	return 0;
}

static inline uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* The Internet checksum of len bytes. */
static inline uint16_t inet_csum(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
