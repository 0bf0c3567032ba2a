/*
 * Frame helpers shared by the example guests.  Test frames (pktgen ->
 * sink, and the NIC's null source) use the format of include/null_frame.h: a
 * sequence number, a checksum and a pattern over every payload byte, which
 * the sender writes in full and the receiver reads in full.
 */
#ifndef OPSUB_EXAMPLES_PKT_H
#define OPSUB_EXAMPLES_PKT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "null_frame.h"

#define ETH_HLEN 14

static inline void eth_set(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

static inline uint16_t eth_type(const uint8_t *f) { return (uint16_t)(f[12] << 8 | f[13]); }

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
