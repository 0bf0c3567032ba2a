/*
 * The frames of the scale benchmark: scalegen sends them to many
 * scaleecho guests, each answers its own (bench/scale, bench/soak).
 *
 * A scale frame is SCALE_FRAME_LEN bytes, integers little-endian:
 *
 *   0   destination MAC (6)       6  source MAC (6)
 *   12  EtherType 0x88b6 (IEEE local experimental 2), big-endian
 *   14  magic "SCAL" (4)
 *   18  destination index, u32: the generator's number for the guest
 *   22  destination MAC (6): the same as bytes 0..5, in the payload, so
 *       that a frame steered to the wrong guest is seen there
 *   28  sequence number, u64 (the generator's)
 *   36  send time, u64: the generator's opsub_clock_ns()
 *   44  replier MAC (6): written by the responder that answers
 *   50  kind, u8: 0 traffic, 1 probe (latency sample)
 *   51..63  zero
 */
#ifndef OPSUB_EXAMPLES_SCALE_H
#define OPSUB_EXAMPLES_SCALE_H

#include <stdint.h>
#include <string.h>

#define SCALE_ETHERTYPE      0x88b6u
#define SCALE_FRAME_LEN      64u
#define SCALE_MAGIC_OFF      14u
#define SCALE_DST_INDEX_OFF  18u
#define SCALE_DST_MAC_OFF    22u
#define SCALE_SEQ_OFF        28u
#define SCALE_TIME_OFF       36u
#define SCALE_REPLIER_OFF    44u
#define SCALE_KIND_OFF       50u

#define SCALE_KIND_TRAFFIC   0u
#define SCALE_KIND_PROBE     1u

static inline uint32_t scale_get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t scale_get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline int scale_frame_is(const uint8_t *f)
{
	return f[12] == (SCALE_ETHERTYPE >> 8) && f[13] == (SCALE_ETHERTYPE & 0xff) && !memcmp(f + SCALE_MAGIC_OFF, "SCAL", 4);
}

#endif
