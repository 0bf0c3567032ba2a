/* null_frame.c: generating and verifying null wire frames (null_frame.h). */
#include "nic/null_frame.h"

#include <string.h>

#define BYTES_8  0x0808080808080808ull
#define LOW7     0x7f7f7f7f7f7f7f7full
#define HIGH1    0x8080808080808080ull

uint64_t null_frame_sum64(const uint8_t *bytes, size_t len)
{
	/* memcpy keeps unaligned word loads legal; it compiles to a MOV. */
	uint64_t sum = 0, word;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&word, bytes + i, 8);
		sum += word;
	}
	if (i < len) {
		word = 0;
		memcpy(&word, bytes + i, len - i);
		sum += word;
	}
	return sum;
}

/* Eight pattern bytes s, s+1, .., s+7 (mod 256) as a little-endian word. */
static uint64_t pattern_word(uint8_t s)
{
	uint64_t w = 0;
	for (unsigned b = 0; b < 8; b++)
		w |= (uint64_t)(uint8_t)(s + b) << (8 * b);
	return w;
}

/* Adds k to every byte of w without carries between bytes (k < 128). */
static inline uint64_t bytes_add(uint64_t w, uint64_t k_bytes)
{
	return ((w & LOW7) + k_bytes) ^ (w & HIGH1);
}

void null_frame_write(uint8_t *dst, const uint8_t header[14], uint32_t len,
                      uint64_t seq)
{
	memcpy(dst, header, 14);
	memcpy(dst + NULL_FRAME_SEQ_OFF, &seq, 8);

	/* The pattern is written a word at a time and summed as it goes, so
	 * the checksum costs no second pass. Four interleaved words, each
	 * stepping by 32 per byte, keep the dependency chains short. */
	uint8_t *p = dst + NULL_FRAME_PATTERN_OFF;
	size_t n = len - NULL_FRAME_PATTERN_OFF, i = 0;
	uint64_t w[4], sum[4] = { seq, 0, 0, 0 };
	w[0] = pattern_word((uint8_t)seq);
	for (unsigned k = 1; k < 4; k++)
		w[k] = bytes_add(w[k - 1], BYTES_8);
	for (; i + 32 <= n; i += 32) {
		for (unsigned k = 0; k < 4; k++) {
			memcpy(p + i + 8 * k, &w[k], 8);
			sum[k] += w[k];
			w[k] = bytes_add(w[k], 4 * BYTES_8);
		}
	}
	uint64_t total = sum[0] + sum[1] + sum[2] + sum[3];
	for (unsigned k = 0; i < n; i += 8, k++) {
		size_t rest = n - i < 8 ? n - i : 8;
		memcpy(p + i, &w[k], rest);
		total += w[k] & (~0ull >> (64 - 8 * rest));
	}
	uint32_t csum = null_frame_fold(total);
	memcpy(dst + NULL_FRAME_CSUM_OFF, &csum, 4);
}

bool null_frame_verify(const uint8_t *frame, uint32_t len, uint64_t *seq)
{
	if (len < NULL_FRAME_MIN || frame[12] != (NULL_FRAME_ETHERTYPE >> 8) ||
	    frame[13] != (NULL_FRAME_ETHERTYPE & 0xff))
		return false;
	uint64_t s;
	uint32_t csum;
	memcpy(&s, frame + NULL_FRAME_SEQ_OFF, 8);
	memcpy(&csum, frame + NULL_FRAME_CSUM_OFF, 4);
	const uint8_t *p = frame + NULL_FRAME_PATTERN_OFF;
	size_t n = len - NULL_FRAME_PATTERN_OFF;
	if (null_frame_fold(s + null_frame_sum64(p, n)) != csum)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(s + i))
			return false;
	*seq = s;
	return true;
}
