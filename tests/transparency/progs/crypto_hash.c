// Exercises crypto-like integer code: SHA-256 (with test vectors), HMAC-SHA256, CRC-32 (table and bitwise), Adler-32, FNV-1a, SipHash-2-4, xorshift streams; argv[1] = KiB hashed.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sha256 { uint32_t h[8]; uint64_t len; unsigned char buf[64]; size_t n; };
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static void sha_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3]; e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}
static void sha_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof iv);
	s->len = 0;
	s->n = 0;
}
static void sha_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	s->len += len;
	while (len) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, take);
		s->n += take; p += take; len -= take;
		if (s->n == 64) {
			sha_block(s, s->buf);
			s->n = 0;
		}
	}
}
static void sha_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, z = 0;
	sha_update(s, &pad, 1);
	while (s->n != 56)
		sha_update(s, &z, 1);
	unsigned char lb[8];
	for (int i = 0; i < 8; i++)
		lb[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha_update(s, lb, 8);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(s->h[i] >> (24 - 8 * j));
}
static void hex(const char *label, const unsigned char *d, size_t n)
{
	printf("%s ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", d[i]);
	printf("\n");
}
static void sha256(const void *d, size_t n, unsigned char out[32])
{
	struct sha256 s;
	sha_init(&s);
	sha_update(&s, d, n);
	sha_final(&s, out);
}
static void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	unsigned char k[64] = {0}, ipad[64], opad[64], inner[32];
	if (klen > 64)
		sha256(key, klen, k);
	else
		memcpy(k, key, klen);
	for (int i = 0; i < 64; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	struct sha256 s;
	sha_init(&s); sha_update(&s, ipad, 64); sha_update(&s, msg, mlen); sha_final(&s, inner);
	sha_init(&s); sha_update(&s, opad, 64); sha_update(&s, inner, 32); sha_final(&s, out);
}

static uint32_t crc_table[256];
static uint32_t crc32_tab(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}
static uint32_t crc32_bit(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}
static uint32_t adler32(const unsigned char *p, size_t n)
{
	uint32_t a = 1, b = 0;
	while (n--) {
		a = (a + *p++) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); } while (0)
static uint64_t siphash24(const unsigned char *in, size_t inlen, const unsigned char k[16])
{
	uint64_t k0, k1, v0, v1, v2, v3, b = (uint64_t)inlen << 56, m;
	memcpy(&k0, k, 8);
	memcpy(&k1, k + 8, 8);
	v0 = 0x736f6d6570736575ull ^ k0; v1 = 0x646f72616e646f6dull ^ k1;
	v2 = 0x6c7967656e657261ull ^ k0; v3 = 0x7465646279746573ull ^ k1;
	size_t i;
	for (i = 0; i + 8 <= inlen; i += 8) {
		memcpy(&m, in + i, 8);
		v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
	}
	for (size_t j = 0; i + j < inlen; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b; SIPROUND; SIPROUND; v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int main(int argc, char **argv)
{
	size_t kib = argc > 1 ? (size_t)atol(argv[1]) : 256;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	unsigned char out[32];
	sha256("", 0, out); hex("sha256('')", out, 32);
	sha256("abc", 3, out); hex("sha256('abc')", out, 32);
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256(two, strlen(two), out); hex("sha256(448 bits)", out, 32);
	struct sha256 s;
	sha_init(&s);
	unsigned char as[1000];
	memset(as, 'a', sizeof as);
	for (int i = 0; i < 1000; i++)
		sha_update(&s, as, 1000);
	sha_final(&s, out); hex("sha256(1M 'a')", out, 32);
	hmac_sha256("key", 3, "The quick brown fox jumps over the lazy dog", 43, out); hex("hmac-sha256", out, 32);
	printf("crc32('123456789') = %08x / %08x, adler32('Wikipedia') = %08x\n", crc32_tab((const unsigned char *)"123456789", 9),
	       crc32_bit((const unsigned char *)"123456789", 9), adler32((const unsigned char *)"Wikipedia", 9));
	unsigned char key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	printf("siphash24:");
	for (int len = 0; len < 64; len += 9)
		printf(" %016llx", (unsigned long long)siphash24(msg, (size_t)len, key));
	printf("\n");

	size_t n = kib * 1024;
	unsigned char *buf = malloc(n);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = (unsigned char)(x >> 32);
	}
	sha256(buf, n, out); hex("sha256(buf)", out, 32);
	/* digests of every prefix length up to 200, at every alignment up to 8 */
	struct sha256 acc;
	sha_init(&acc);
	for (size_t len = 0; len < 200; len++)
		for (size_t al = 0; al < 8; al++) {
			sha256(buf + al, len, out);
			sha_update(&acc, out, 32);
		}
	sha_final(&acc, out); hex("sha256(prefix digests)", out, 32);
	printf("crc32(buf)=%08x bitwise=%08x adler32=%08x fnv1a=%016llx siphash=%016llx\n", crc32_tab(buf, n),
	       crc32_bit(buf, n < 65536 ? n : 65536), adler32(buf, n), (unsigned long long)fnv1a(buf, n),
	       (unsigned long long)siphash24(buf, n, key));
	free(buf);
	return 0;
}
