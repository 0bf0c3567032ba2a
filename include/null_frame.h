/*
 * null_frame.h: the frames the null wire generates, and the byte sum its
 * sink keeps.
 *
 * A generated frame of len bytes (60 <= len <= 2048), integers little-endian:
 *
 *   0   destination MAC (6)     6  source MAC (6)
 *   12  EtherType 0x88b5 (IEEE local experimental), big-endian as on a wire
 *   14  sequence number, u64: 0, 1, 2, ... per wire
 *   22  checksum, u32: null_frame_fold(sequence +
 *                                      null_frame_sum64(frame + 26, len - 26))
 *   26  pattern: byte i is (sequence + i) mod 256
 *
 * A receiver verifies a frame with null_frame_verify; the pattern makes a
 * lost, duplicated, reordered or shifted byte visible, the checksum a cheap
 * whole-frame test.
 */
#ifndef OPSUB_NIC_NULL_FRAME_H
#define OPSUB_NIC_NULL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NULL_FRAME_ETHERTYPE   0x88b5u
#define NULL_FRAME_MIN         60u
#define NULL_FRAME_SEQ_OFF     14u
#define NULL_FRAME_CSUM_OFF    22u
#define NULL_FRAME_PATTERN_OFF 26u

/* The sum, mod 2^64, of the bytes as little-endian 64-bit words, the last
 * partial word padded with zeros. The null sink adds this for every frame. */
uint64_t null_frame_sum64(const uint8_t *bytes, size_t len);

static inline uint32_t null_frame_fold(uint64_t sum)
{
	return (uint32_t)sum + (uint32_t)(sum >> 32);
}

/* Writes a whole frame of len bytes to dst: header[0..13] (MACs, type),
 * then sequence, checksum and pattern. */
void null_frame_write(uint8_t *dst, const uint8_t header[14], uint32_t len,
                      uint64_t seq);

/* True if frame is a well-formed generated frame; *seq gets its number. */
bool null_frame_verify(const uint8_t *frame, uint32_t len, uint64_t *seq);

#endif
