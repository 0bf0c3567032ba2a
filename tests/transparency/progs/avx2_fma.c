// Exercises AVX2 and FMA intrinsics: 256-bit float/double math, fused multiply-add variants, lane permutes, variable shifts, masked loads/stores next to a PROT_NONE page.
// cflags: -mavx2 -mfma -ffp-contract=off
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void p256(const char *name, __m256i v)
{
	uint32_t w[8];
	_mm256_storeu_si256((__m256i *)w, v);
	printf("%-16s", name);
	for (int i = 7; i >= 0; i--)
		printf(" %08x", w[i]);
	printf("\n");
}
static void ppd(const char *name, __m256d v)
{
	double d[4];
	_mm256_storeu_pd(d, v);
	printf("%-16s %a %a %a %a\n", name, d[0], d[1], d[2], d[3]);
}
static void pps(const char *name, __m256 v)
{
	float f[8];
	_mm256_storeu_ps(f, v);
	printf("%-16s", name);
	for (int i = 0; i < 8; i++)
		printf(" %a", (double)f[i]);
	printf("\n");
}

int main(void)
{
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
		printf("cpu lacks avx2/fma: skipped\n");
		return 0;
	}
	volatile double din[8] = {1.0 / 3, -2.5, 1e-3, 12345.678, 0.1, 3.0, -7.25, 1e10};
	__m256d a = _mm256_setr_pd(din[0], din[1], din[2], din[3]), b = _mm256_setr_pd(din[4], din[5], din[6], din[7]);
	__m256d c = _mm256_set1_pd(din[0]);
	ppd("add_pd", _mm256_add_pd(a, b));
	ppd("mul_pd", _mm256_mul_pd(a, b));
	ppd("div_pd", _mm256_div_pd(a, b));
	ppd("sqrt_pd", _mm256_sqrt_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), a)));
	ppd("fmadd_pd", _mm256_fmadd_pd(a, b, c));
	ppd("mul+add_pd", _mm256_add_pd(_mm256_mul_pd(a, b), c));
	ppd("fmsub_pd", _mm256_fmsub_pd(a, b, c));
	ppd("fnmadd_pd", _mm256_fnmadd_pd(a, b, c));
	ppd("fmaddsub_pd", _mm256_fmaddsub_pd(a, b, c));
	ppd("hadd_pd", _mm256_hadd_pd(a, b));
	ppd("permute4x64_pd", _mm256_permute4x64_pd(a, 0x1b));
	ppd("blend_pd", _mm256_blend_pd(a, b, 0x6));
	ppd("round_pd", _mm256_round_pd(_mm256_mul_pd(a, b), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	ppd("cvtepi32_pd", _mm256_cvtepi32_pd(_mm_setr_epi32(-1, 2, 1 << 30, -7)));
	double sf = fma(din[0], din[4], din[5]), sm = din[0] * din[4] + din[5];
	printf("scalar fma %a vs mul+add %a (differ=%d)\n", sf, sm, sf != sm);

	volatile float fin[8] = {1.5f, -2.25f, 3.0f, 0.1f, 100.0f, -0.5f, 7.75f, 1.0f / 3};
	__m256 fa = _mm256_setr_ps(fin[0], fin[1], fin[2], fin[3], fin[4], fin[5], fin[6], fin[7]);
	__m256 fb = _mm256_permute_ps(fa, 0x39);
	pps("fmadd_ps", _mm256_fmadd_ps(fa, fb, fa));
	pps("dp_ps", _mm256_dp_ps(fa, fb, 0xff));
	pps("permutevar8x32", _mm256_permutevar8x32_ps(fa, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0)));
	pps("cvtps_epi32 rt", _mm256_cvtepi32_ps(_mm256_cvtps_epi32(_mm256_mul_ps(fa, _mm256_set1_ps(10.0f)))));

	uint8_t bytes[64];
	for (int i = 0; i < 64; i++)
		bytes[i] = (uint8_t)(i * 29 + 3);
	__m256i x = _mm256_loadu_si256((const __m256i *)bytes), y = _mm256_loadu_si256((const __m256i *)(bytes + 32));
	__m256i z = _mm256_loadu_si256((const __m256i *)(bytes + 5));
	p256("loadu+5", z);
	p256("add_epi32", _mm256_add_epi32(x, y));
	p256("mullo_epi32", _mm256_mullo_epi32(x, y));
	p256("mul_epu32", _mm256_mul_epu32(x, y));
	p256("madd_epi16", _mm256_madd_epi16(x, y));
	p256("maddubs", _mm256_maddubs_epi16(x, y));
	p256("sad_epu8", _mm256_sad_epu8(x, y));
	p256("packus_epi16", _mm256_packus_epi16(x, y));
	p256("packs_epi32", _mm256_packs_epi32(x, y));
	p256("shuffle_epi8", _mm256_shuffle_epi8(x, y));
	p256("permutevar8x32", _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(3, 1, 4, 1, 5, 9 & 7, 2, 6)));
	p256("permute4x64", _mm256_permute4x64_epi64(x, 0x4e));
	p256("permute2x128", _mm256_permute2x128_si256(x, y, 0x21));
	p256("unpacklo_epi16", _mm256_unpacklo_epi16(x, y));
	p256("blendv_epi8", _mm256_blendv_epi8(x, y, z));
	p256("blend_epi32", _mm256_blend_epi32(x, y, 0x5a));
	p256("sllv_epi32", _mm256_sllv_epi32(x, _mm256_setr_epi32(0, 1, 5, 31, 32, 7, 16, 3)));
	p256("srlv_epi64", _mm256_srlv_epi64(x, _mm256_setr_epi64x(1, 63, 64, 17)));
	p256("srav_epi32", _mm256_srav_epi32(x, _mm256_setr_epi32(0, 1, 5, 31, 32, 7, 16, 3)));
	p256("cmpgt_epi8", _mm256_cmpgt_epi8(x, y));
	p256("abs_epi8", _mm256_abs_epi8(_mm256_sub_epi8(x, y)));
	p256("hadd_epi32", _mm256_hadd_epi32(x, y));
	p256("min_epu8", _mm256_min_epu8(x, y));
	p256("avg_epu16", _mm256_avg_epu16(x, y));
	p256("broadcastd", _mm256_broadcastd_epi32(_mm256_castsi256_si128(y)));
	p256("inserti128", _mm256_inserti128_si256(x, _mm256_extracti128_si256(y, 1), 0));
	p256("alignr_epi8", _mm256_alignr_epi8(x, y, 7));
	p256("cvtepu8_epi32", _mm256_cvtepu8_epi32(_mm256_castsi256_si128(x)));
	p256("bslli", _mm256_bslli_epi128(x, 3));
	printf("movemask_epi8 %08x testz %d testc %d movemask_pd %x\n", (unsigned)_mm256_movemask_epi8(x),
	       _mm256_testz_si256(x, y), _mm256_testc_si256(x, x), _mm256_movemask_pd(a));

	/* masked loads/stores: masked-off lanes may point into a PROT_NONE page and must not fault */
	long pg = 4096;
	char *map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		printf("mmap failed\n");
		return 1;
	}
	mprotect(map + pg, (size_t)pg, PROT_NONE);
	int32_t *tail = (int32_t *)(map + pg - 12); /* 3 ints before the guard page */
	tail[0] = 111; tail[1] = 222; tail[2] = 333;
	__m256i m3 = _mm256_setr_epi32(-1, -1, -1, 0, 0, 0, 0, 0);
	p256("maskload_epi32", _mm256_maskload_epi32(tail, m3));
	_mm256_maskstore_epi32(tail, _mm256_setr_epi32(0, -1, -1, 0, 0, 0, 0, 0), _mm256_set1_epi32(-5));
	printf("maskstore -> %d %d %d\n", tail[0], tail[1], tail[2]);
	double *dtail = (double *)(map + pg - 16);
	dtail[0] = 1.25; dtail[1] = -8.5;
	__m256d ml = _mm256_maskload_pd(dtail, _mm256_setr_epi64x(0, -1, 0, 0));
	ppd("maskload_pd", ml);
	_mm_maskstore_ps((float *)(map + pg - 8), _mm_setr_epi32(-1, -1, 0, 0), _mm_set1_ps(2.5f));
	printf("maskstore_ps -> %a\n", (double)((float *)(map + pg - 8))[1]);
	munmap(map, 2 * (size_t)pg);

	/* a longer FMA dot product */
	static double va[1024], vb[1024];
	for (int i = 0; i < 1024; i++) {
		va[i] = sin(i * 0.01) * din[0];
		vb[i] = cos(i * 0.02) + din[2];
	}
	__m256d acc = _mm256_setzero_pd();
	for (int i = 0; i < 1024; i += 4)
		acc = _mm256_fmadd_pd(_mm256_loadu_pd(va + i), _mm256_loadu_pd(vb + i), acc);
	double part[4];
	_mm256_storeu_pd(part, acc);
	double sc = 0;
	for (int i = 0; i < 1024; i++)
		sc = fma(va[i], vb[i], sc);
	printf("dot: simd %.17g scalar-fma %.17g\n", (part[0] + part[1]) + (part[2] + part[3]), sc);
	_mm256_zeroupper();
	return 0;
}
