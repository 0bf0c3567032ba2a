/* null_frame.c: generating and verifying null wire frames (null_frame.h). */
#include "nic/null_frame.h"

#include <string.h>

#define BYTES_1  0x0101010101010101ull
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

	/* The pattern goes out a word at a time and is summed as it goes, so
	 * the checksum costs no second pass. Two words in flight, each
	 * stepping by 16 per byte, keep the dependency chains short; word
	 * stores only (no stack array), so nothing waits on store forwarding. */
	uint8_t *p = dst + NULL_FRAME_PATTERN_OFF;
	size_t n = len - NULL_FRAME_PATTERN_OFF, i = 0;
	uint64_t w0 = bytes_add((uint8_t)seq * BYTES_1, 0x0706050403020100ull);
	uint64_t w1 = bytes_add(w0, BYTES_8), sum0 = seq, sum1 = 0;
	for (; i + 16 <= n; i += 16) {
		memcpy(p + i, &w0, 8);
		memcpy(p + i + 8, &w1, 8);
		sum0 += w0;
		sum1 += w1;
		w0 = bytes_add(w0, 2 * BYTES_8);
		w1 = bytes_add(w1, 2 * BYTES_8);
	}
	if (i + 8 <= n) {
		memcpy(p + i, &w0, 8);
		sum0 += w0;
		w0 = w1;
		i += 8;
	}
	size_t rest = n - i;   /* 0..7 bytes: a 4, a 2 and a 1-byte store at most */
	if (rest) {
		sum1 += w0 & (~0ull >> (64 - 8 * rest));
		uint64_t w = w0;
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
	uint32_t csum = null_frame_fold(sum0 + sum1);
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
	/* One pass: every pattern word against the expected one, summed for
	 * the checksum as it goes. */
	const uint8_t *p = frame + NULL_FRAME_PATTERN_OFF;
	size_t n = len - NULL_FRAME_PATTERN_OFF, i = 0;
	uint64_t want = bytes_add((uint8_t)s * BYTES_1, 0x0706050403020100ull), sum = s;
	for (; i + 8 <= n; i += 8) {
		memcpy(&word, p + i, 8);
		if (word != want)
			return false;
		sum += word;
		want = bytes_add(want, BYTES_8);
	}
	if (i < n) {
		word = 0;
		memcpy(&word, p + i, n - i);
		if (word != (want & (~0ull >> (64 - 8 * (n - i)))))
			return false;
		sum += word;
	}
	if (null_frame_fold(sum) != csum)
		return false;
	*seq = s;
	return true;
}
