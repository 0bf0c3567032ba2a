/* null_frame.c: generating and verifying null wire frames (null_frame.h). */
#include "null_frame.h"

#include <string.h>

/* The bytes [i, len) of p (1 to 7 of them) as the low bytes of a word.
 * With len >= 8 it is one overlapping load: a variable-length memcpy is a
 * library call that stores bytes and reloads them as a word (a
 * store-forwarding stall), which cost more than the rest of a 64-byte
 * frame's check. */
static inline uint64_t tail_word(const uint8_t *p, size_t i, size_t len)
{
	uint64_t word = 0;
	if (len >= 8) {
		memcpy(&word, p + len - 8, 8);
		return word >> (8 * (8 - (len - i)));
	}
	memcpy(&word, p + i, len - i);
	return word;
}

/* The pattern 16 bytes at a time: byte arithmetic in a vector register
 * wraps per byte, which is exactly the pattern's rule, so one add steps 16
 * bytes (GNU vector extensions; SSE2 is in every x86-64).  Two vectors in
 * flight per 32 bytes keep the loop bound by loads and stores. */
typedef uint8_t bytes16 __attribute__((vector_size(16)));
typedef uint64_t words2 __attribute__((vector_size(16)));

static inline bytes16 pattern_start(uint64_t seq)
{
	const bytes16 ramp = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	return ramp + (uint8_t)seq;
}

uint64_t null_frame_sum64(const uint8_t *bytes, size_t len)
{
	/* Two 16-byte lanes of two words each, added as 64-bit words; memcpy
	 * keeps unaligned loads legal and compiles to one load. */
	words2 s0 = { 0, 0 }, s1 = { 0, 0 }, x, y;
	size_t i = 0;
	for (; i + 32 <= len; i += 32) {
		memcpy(&x, bytes + i, 16);
		memcpy(&y, bytes + i + 16, 16);
		s0 += x;
		s1 += y;
	}
	s0 += s1;
	uint64_t sum = s0[0] + s0[1], word;
	for (; i + 8 <= len; i += 8) {
		memcpy(&word, bytes + i, 8);
		sum += word;
	}
	if (i < len)
		sum += tail_word(bytes, i, len);
	return sum;
}

void null_frame_write(uint8_t *dst, const uint8_t header[14], uint32_t len,
                      uint64_t seq)
{
	memcpy(dst, header, 14);
	memcpy(dst + NULL_FRAME_SEQ_OFF, &seq, 8);

	/* Summed as it is written, so the checksum costs no second pass. */
	uint8_t *p = dst + NULL_FRAME_PATTERN_OFF;
	size_t n = len - NULL_FRAME_PATTERN_OFF, i = 0;
	bytes16 e0 = pattern_start(seq), e1 = e0 + 16;
	words2 sum = { seq, 0 };
	for (; i + 32 <= n; i += 32, e0 += 32, e1 += 32) {
		memcpy(p + i, &e0, 16);
		memcpy(p + i + 16, &e1, 16);
		sum += (words2)e0 + (words2)e1;
	}
	if (i + 16 <= n) {
		memcpy(p + i, &e0, 16);
		sum += (words2)e0;
		e0 = e1;
		i += 16;
	}
	uint64_t total = sum[0] + sum[1], w = ((words2)e0)[0];
	if (i + 8 <= n) {
		memcpy(p + i, &w, 8);
		total += w;
		w = ((words2)e0)[1];
		i += 8;
	}
	size_t rest = n - i;   /* 0..7 bytes: a 4, a 2 and a 1-byte store at most */
	if (rest) {
		total += w & (~0ull >> (64 - 8 * rest));
		if (rest & 4) {
			memcpy(p + i, &w, 4);
			i += 4;
			w >>= 32;
		}
		if (rest & 2) {
			memcpy(p + i, &w, 2);
			i += 2;
			w >>= 16;
		}
		if (rest & 1)
			p[i] = (uint8_t)w;
	}
	uint32_t csum = null_frame_fold(total);
	memcpy(dst + NULL_FRAME_CSUM_OFF, &csum, 4);
}

bool null_frame_verify(const uint8_t *frame, uint32_t len, uint64_t *seq)
{
	if (len < NULL_FRAME_MIN || frame[12] != (NULL_FRAME_ETHERTYPE >> 8) ||
	    frame[13] != (NULL_FRAME_ETHERTYPE & 0xff))
		return false;
	uint64_t s, word;
	uint32_t csum;
	memcpy(&s, frame + NULL_FRAME_SEQ_OFF, 8);
	memcpy(&csum, frame + NULL_FRAME_CSUM_OFF, 4);
	/* One pass: every pattern byte against the expected one (differences
	 * collected, one branch at the end), summed for the checksum. */
	const uint8_t *p = frame + NULL_FRAME_PATTERN_OFF;
	size_t n = len - NULL_FRAME_PATTERN_OFF, i = 0;
	bytes16 e0 = pattern_start(s), e1 = e0 + 16, x, y, vdiff = { 0 };
	words2 sum = { s, 0 };
	for (; i + 32 <= n; i += 32, e0 += 32, e1 += 32) {
		memcpy(&x, p + i, 16);
		memcpy(&y, p + i + 16, 16);
		vdiff |= (x ^ e0) | (y ^ e1);
		sum += (words2)x + (words2)y;
	}
	if (i + 16 <= n) {
		memcpy(&x, p + i, 16);
		vdiff |= x ^ e0;
		sum += (words2)x;
		e0 = e1;
		i += 16;
	}
	uint64_t total = sum[0] + sum[1], want = ((words2)e0)[0];
	uint64_t diff = ((words2)vdiff)[0] | ((words2)vdiff)[1];
	if (i + 8 <= n) {
		memcpy(&word, p + i, 8);
		diff |= word ^ want;
		total += word;
		want = ((words2)e0)[1];
		i += 8;
	}
	if (i < n) {
		word = tail_word(p, i, n);
		diff |= word ^ (want & (~0ull >> (64 - 8 * (n - i))));
		total += word;
	}
	if (diff || null_frame_fold(total) != csum)
		return false;
	*seq = s;
	return true;
}
