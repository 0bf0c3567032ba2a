// Exercises bit manipulation with generic code: popcount/clz/ctz/ffs/parity/clrsb/bswap builtins, rotates, bit reversal, Gray code, next permutation of bits, bitset sieve; argv[1] = sieve limit.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rev32(uint32_t x)
{
	x = (x >> 1 & 0x55555555) | (x & 0x55555555) << 1;
	x = (x >> 2 & 0x33333333) | (x & 0x33333333) << 2;
	x = (x >> 4 & 0x0f0f0f0f) | (x & 0x0f0f0f0f) << 4;
	return __builtin_bswap32(x);
}
static uint64_t rotl64(uint64_t x, unsigned r) { return (x << (r & 63)) | (x >> (-r & 63)); }
static uint32_t rotr32(uint32_t x, unsigned r) { return (x >> (r & 31)) | (x << (-r & 31)); }
static int popcount_slow(uint64_t x)
{
	int n = 0;
	while (x) {
		x &= x - 1;
		n++;
	}
	return n;
}
static uint64_t next_same_popcount(uint64_t v)
{
	uint64_t t = v | (v - 1);
	return (t + 1) | (((~t & -~t) - 1) >> (__builtin_ctzll(v) + 1));
}

int main(int argc, char **argv)
{
	long limit = argc > 1 ? atol(argv[1]) : 2000000;
	static volatile uint64_t in[] = {0, 1, 2, 3, 0x80, 0xff, 0x100, 0x8000000000000000ull, 0xffffffffffffffffull, 0x0123456789abcdefull,
	                                 0xdeadbeef, 0x7fffffff, 0xaaaaaaaaaaaaaaaaull, 0x00f0000000000000ull, 12345678901234567ull};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		uint64_t x = in[i];
		uint32_t x32 = (uint32_t)x;
		printf("%016llx: pop=%d/%d pop32=%d clz=%d ctz=%d clz32=%d ctz32=%d ffs=%d parity=%d clrsb=%d bswap=%016llx bswap32=%08x "
		       "bswap16=%04x rev32=%08x rotl13=%016llx rotr7=%08x\n",
		       (unsigned long long)x, __builtin_popcountll(x), popcount_slow(x), __builtin_popcount(x32), x ? __builtin_clzll(x) : 64,
		       x ? __builtin_ctzll(x) : 64, x32 ? __builtin_clz(x32) : 32, x32 ? __builtin_ctz(x32) : 32, __builtin_ffsll((long long)x),
		       __builtin_parityll(x), __builtin_clrsbll((long long)x), (unsigned long long)__builtin_bswap64(x), __builtin_bswap32(x32),
		       __builtin_bswap16((uint16_t)x), rev32(x32), (unsigned long long)rotl64(x, 13), rotr32(x32, 7));
	}
	/* classic tricks */
	uint64_t h = 0;
	for (uint32_t v = 0; v < 70000; v += 7) {
		uint32_t gray = v ^ (v >> 1), back = gray;
		for (uint32_t s = 1; s < 32; s <<= 1)
			back ^= back >> s;
		uint32_t pow2 = v ? 1u << (32 - __builtin_clz(v)) : 1;
		uint32_t lowest = v & -v, no_lowest = v & (v - 1);
		int is_pow2 = v && !(v & (v - 1));
		uint32_t abs_trick = (uint32_t)(((int32_t)(v - 35000) ^ ((int32_t)(v - 35000) >> 31)) - ((int32_t)(v - 35000) >> 31));
		h = h * 1000003 + gray + (back != v) * 1000 + pow2 + lowest + no_lowest + (uint32_t)is_pow2 + abs_trick;
	}
	printf("tricks hash %016llx\n", (unsigned long long)h);
	/* enumerate all 5-bit subsets of 12 bits */
	int count = 0;
	uint64_t sum = 0;
	for (uint64_t v = 0x1f; v < (1u << 12); v = next_same_popcount(v)) {
		count++;
		sum += v;
	}
	printf("5-of-12 subsets: %d sum %llu\n", count, (unsigned long long)sum);
	/* bitset sieve */
	size_t words = (size_t)limit / 64 + 1;
	uint64_t *bits = malloc(words * 8);
	memset(bits, 0xff, words * 8);
	bits[0] &= ~3ull;
	for (long i = 2; i * i <= limit; i++)
		if (bits[i >> 6] >> (i & 63) & 1)
			for (long j = i * i; j <= limit; j += i)
				bits[j >> 6] &= ~(1ull << (j & 63));
	long primes = 0;
	for (size_t w = 0; w < words; w++) {
		uint64_t m = bits[w];
		if (w == words - 1)
			m &= (limit % 64 == 63) ? ~0ull : ((1ull << (limit % 64 + 1)) - 1);
		primes += __builtin_popcountll(m);
	}
	long last = 0;
	for (long i = limit; i > 1; i--)
		if (bits[i >> 6] >> (i & 63) & 1) {
			last = i;
			break;
		}
	printf("primes <= %ld: %ld, largest %ld\n", limit, primes, last);
	free(bits);
	return 0;
}
