// Exercises AVX2 gathers (_mm256_i32gather_epi32, _mm256_i64gather_pd, masked, scales 1/2/4/8, negative indices, masked-off lanes pointing at a PROT_NONE page or far away); argv[1] = random rounds.
// cflags: -mavx2
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}
static void p256(const char *name, __m256i v)
{
	int32_t w[8];
	_mm256_storeu_si256((__m256i *)w, v);
	printf("%-22s", name);
	for (int i = 0; i < 8; i++)
		printf(" %d", w[i]);
	printf("\n");
}
static void p128(const char *name, __m128i v)
{
	int32_t w[4];
	_mm_storeu_si128((__m128i *)w, v);
	printf("%-22s %d %d %d %d\n", name, w[0], w[1], w[2], w[3]);
}
static void ppd(const char *name, __m256d v)
{
	double d[4];
	_mm256_storeu_pd(d, v);
	printf("%-22s %g %g %g %g\n", name, d[0], d[1], d[2], d[3]);
}

static int32_t table[4096];
static double dtable[1024];

int main(int argc, char **argv)
{
	if (!__builtin_cpu_supports("avx2")) {
		printf("cpu lacks avx2: skipped\n");
		return 0;
	}
	for (int i = 0; i < 4096; i++)
		table[i] = i * 3 - 5000;
	for (int i = 0; i < 1024; i++)
		dtable[i] = i * 0.5 - 17;
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;

	__m256i idx = _mm256_setr_epi32(0, 5, 100, 4095, 7, 7, 2048, 1);
	p256("i32gather_epi32 s4", _mm256_i32gather_epi32(table, idx, 4));
	p256("i32gather neg idx", _mm256_i32gather_epi32(table + 2048, _mm256_setr_epi32(-2048, -1, 0, 1, -100, 2047, -7, 3), 4));
	p256("i32gather s2 bytes", _mm256_i32gather_epi32(table, _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 1000, 3), 2));
	p256("i32gather s1 bytes", _mm256_i32gather_epi32(table, _mm256_setr_epi32(0, 1, 2, 3, 5, 9, 13, 4001), 1));
	p256("i32gather s8", _mm256_i32gather_epi32(table, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 2047), 8));
	__m256i src = _mm256_set1_epi32(-1);
	__m256i mask = _mm256_setr_epi32(-1, 0, -1, 0, 0, -1, 0, -1);
	p256("mask_i32gather", _mm256_mask_i32gather_epi32(src, table, idx, mask, 4));
	ppd("i64gather_pd s8", _mm256_i64gather_pd(dtable, _mm256_setr_epi64x(0, 1, 1023, 512), 8));
	ppd("i32gather_pd", _mm256_i32gather_pd(dtable, _mm_setr_epi32(3, 2, 1, 0), 8));
	ppd("mask_i64gather_pd", _mm256_mask_i64gather_pd(_mm256_set1_pd(99.0), dtable, _mm256_setr_epi64x(10, 20, 30, 40),
	                                                  _mm256_castsi256_pd(_mm256_setr_epi64x(0, -1, 0, -1)), 8));
	__m256 gps = _mm256_i32gather_ps((const float *)table, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), 4);
	p256("i32gather_ps bits", _mm256_castps_si256(gps));
	p128("i64gather_epi32", _mm256_i64gather_epi32(table, _mm256_setr_epi64x(4095, 0, 17, 1000), 4));
	p128("i32gather_epi32 xmm", _mm_i32gather_epi32(table, _mm_setr_epi32(9, 8, 7, 6), 4));
	__m256i g64 = _mm256_i32gather_epi64((const long long *)table, _mm_setr_epi32(0, 1, 100, 2000), 8);
	p256("i32gather_epi64", g64);
	p128("i64gather_epi64 xmm", _mm_i64gather_epi64((const long long *)table, _mm_set_epi64x(1, 3), 8));

	/* masked-off lanes must not touch memory: some point into a PROT_NONE page, one far away */
	long pg = 4096;
	char *map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	mprotect(map + pg, (size_t)pg, PROT_NONE);
	int32_t *edge = (int32_t *)(map + pg) - 4;
	edge[0] = 10; edge[1] = 20; edge[2] = 30; edge[3] = 40;
	__m256i eidx = _mm256_setr_epi32(0, 1, 2, 3, 4, 100, 0x3fffffff, -0x3fffffff);
	__m256i emask = _mm256_setr_epi32(-1, -1, -1, -1, 0, 0, 0, 0);
	p256("gather at page edge", _mm256_mask_i32gather_epi32(_mm256_set1_epi32(7), edge, eidx, emask, 4));
	double *dedge = (double *)(map + pg) - 2;
	dedge[0] = 1.5; dedge[1] = 2.5;
	ppd("pd gather at edge", _mm256_mask_i64gather_pd(_mm256_set1_pd(-1.0), dedge, _mm256_setr_epi64x(1, 2, 0, 1LL << 40),
	                                                  _mm256_castsi256_pd(_mm256_setr_epi64x(-1, 0, -1, 0)), 8));
	munmap(map, 2 * (size_t)pg);

	/* many random gathers checked against scalar loads */
	long mismatches = 0;
	uint64_t sum = 0;
	for (int r = 0; r < rounds; r++) {
		int32_t ix[8], m[8], out[8];
		for (int i = 0; i < 8; i++) {
			ix[i] = (int32_t)(rng() % 4096);
			m[i] = (rng() & 1) ? -1 : 0;
		}
		__m256i vi = _mm256_loadu_si256((const __m256i *)ix), vm = _mm256_loadu_si256((const __m256i *)m);
		__m256i g = _mm256_mask_i32gather_epi32(_mm256_set1_epi32(r), table, vi, vm, 4);
		_mm256_storeu_si256((__m256i *)out, g);
		for (int i = 0; i < 8; i++) {
			int32_t expect = m[i] ? table[ix[i]] : r;
			if (out[i] != expect)
				mismatches++;
			sum = sum * 31 + (uint32_t)out[i];
		}
		__m256d gd = _mm256_i64gather_pd(dtable, _mm256_setr_epi64x(ix[0] % 1024, ix[1] % 1024, ix[2] % 1024, ix[3] % 1024), 8);
		double od[4];
		_mm256_storeu_pd(od, gd);
		for (int i = 0; i < 4; i++)
			if (od[i] != dtable[ix[i] % 1024])
				mismatches++;
	}
	printf("random gathers: rounds=%d mismatches=%ld hash=%016llx\n", rounds, mismatches, (unsigned long long)sum);
	return 0;
}
