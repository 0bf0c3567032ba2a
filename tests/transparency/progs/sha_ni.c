// SHA-256 with the SHA extensions (sha256rnds2, sha256msg1, sha256msg2) where CPUID shows them, checked against plain C; prints the digests and which way ran; argv[1] = KiB hashed.
// cflags: -msha -msse4.1
// args: 512
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return x >> n | x << (32 - n); }

static void blocks_c(uint32_t st[8], const uint8_t *p, size_t n)
{
	for (; n--; p += 64) {
		uint32_t w[64], v[8];
		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++)
			w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) + w[i - 7] +
			       (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
		memcpy(v, st, sizeof(v));
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) + ((v[4] & v[5]) ^ (~v[4] & v[6])) +
			              K[i] + w[i];
			uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) + ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
			memmove(v + 1, v, 7 * sizeof(uint32_t));
			v[4] += t1;
			v[0] = t1 + t2;
		}
		for (int i = 0; i < 8; i++)
			st[i] += v[i];
	}
}

/* The state as the SHA instructions keep it: ABEF and CDGH, four rounds
 * of message schedule in flight. */
static void blocks_ni(uint32_t st[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xb1);   /* CDAB */
	__m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1b);  /* EFGH */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);                                           /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);                                                /* CDGH */
	for (; n--; p += 64) {
		__m128i abef = s0, cdgh = s1, w[4];
		for (int i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
		for (int r = 0; r < 16; r++) {
			__m128i m = _mm_add_epi32(w[r & 3], _mm_loadu_si128((const __m128i *)&K[4 * r]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, m);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0e));
			if (r < 12) {   /* words 4r+16 .. 4r+19 replace 4r .. 4r+3 */
				__m128i x = _mm_sha256msg1_epu32(w[r & 3], w[(r + 1) & 3]);
				x = _mm_add_epi32(x, _mm_alignr_epi8(w[(r + 3) & 3], w[(r + 2) & 3], 4));
				w[r & 3] = _mm_sha256msg2_epu32(x, w[(r + 3) & 3]);
			}
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);                                                  /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);                                                 /* DCHG */
	_mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(t, s1, 0xf0));                /* DCBA */
	_mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(s1, t, 8));                   /* HGFE */
}

static void sha256(const uint8_t *msg, size_t len, int ni, uint8_t out[32])
{
	uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	void (*blocks)(uint32_t *, const uint8_t *, size_t) = ni ? blocks_ni : blocks_c;
	blocks(st, msg, len / 64);
	uint8_t tail[128] = {0};
	size_t rest = len % 64, tl = rest < 56 ? 64 : 128;
	memcpy(tail, msg + len - rest, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (uint8_t)((uint64_t)len * 8 >> (8 * i));
	blocks(st, tail, tl / 64);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(st[i] >> (24 - 8 * j));
}

static void print(const char *what, const uint8_t d[32])
{
	printf("%s ", what);
	for (int i = 0; i < 32; i++)
		printf("%02x", d[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	unsigned a, b, c, d;
	int ni = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
	size_t kib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	uint8_t *buf = malloc(kib * 1024 + 1);
	if (!buf)
		return 2;
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < kib * 1024 + 1; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	static const char *const vectors[] = {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
	int bad = 0;
	for (int i = 0; i < 3; i++) {
		uint8_t dc[32], dn[32];
		sha256((const uint8_t *)vectors[i], strlen(vectors[i]), 0, dc);
		print(vectors[i][0] ? vectors[i] : "(empty)", dc);
		if (ni) {
			sha256((const uint8_t *)vectors[i], strlen(vectors[i]), 1, dn);
			bad |= memcmp(dc, dn, 32) != 0;
		}
	}
	/* lengths around the padding's edges, then the whole buffer */
	for (size_t len = 0; len <= kib * 1024 + 1; len = len < 130 ? len + 1 : len * 2 + 1) {
		uint8_t dc[32], dn[32];
		sha256(buf, len, 0, dc);
		if (ni) {
			sha256(buf, len, 1, dn);
			bad |= memcmp(dc, dn, 32) != 0;
		}
		if (len > 130)
			print("buffer prefix", dc);
	}
	printf("sha extensions: %s, agreeing with C: %s\n", ni ? "used" : "not shown", bad ? "NO" : "yes");
	free(buf);
	return bad;
}
