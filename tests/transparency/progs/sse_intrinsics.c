// Exercises SSE..SSE4.2 intrinsics: float/int arithmetic, shuffles, pshufb, blends, packs, pcmpistri/pcmpestrm string ops, crc32, non-temporal and masked (maskmovdqu) stores.
// cflags: -msse4.2
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void p128(const char *name, __m128i v)
{
	uint32_t w[4];
	_mm_storeu_si128((__m128i *)w, v);
	printf("%-14s %08x %08x %08x %08x\n", name, w[3], w[2], w[1], w[0]);
}
static void pps(const char *name, __m128 v)
{
	float f[4];
	_mm_storeu_ps(f, v);
	printf("%-14s %a %a %a %a\n", name, (double)f[0], (double)f[1], (double)f[2], (double)f[3]);
}

static size_t sse_strlen(const char *s)
{
	/* aligned 16-byte loads never cross a page, so this is safe past the terminator */
	const char *p = (const char *)((uintptr_t)s & ~(uintptr_t)15);
	__m128i zero = _mm_setzero_si128();
	unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)p), zero));
	mask >>= (uintptr_t)s & 15;
	if (mask)
		return (size_t)__builtin_ctz(mask);
	for (;;) {
		p += 16;
		mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)p), zero));
		if (mask)
			return (size_t)(p + __builtin_ctz(mask) - s);
	}
}

static uint32_t crc32c_sw(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
	}
	return ~c;
}

int main(void)
{
	if (!__builtin_cpu_supports("sse4.2")) {
		printf("cpu lacks sse4.2: skipped\n");
		return 0;
	}
	volatile float fin[8] = {1.5f, -2.25f, 3.0f, 0.1f, 100.0f, -0.5f, 7.75f, 2.0f};
	__m128 a = _mm_setr_ps(fin[0], fin[1], fin[2], fin[3]), b = _mm_setr_ps(fin[4], fin[5], fin[6], fin[7]);
	pps("add_ps", _mm_add_ps(a, b));
	pps("mul_ps", _mm_mul_ps(a, b));
	pps("div_ps", _mm_div_ps(a, b));
	pps("sqrt_ps", _mm_sqrt_ps(_mm_andnot_ps(_mm_set1_ps(-0.0f), a)));
	pps("min/max", _mm_add_ps(_mm_min_ps(a, b), _mm_max_ps(a, b)));
	pps("shuffle_ps", _mm_shuffle_ps(a, b, _MM_SHUFFLE(1, 3, 0, 2)));
	pps("unpacklo", _mm_unpacklo_ps(a, b));
	pps("movehl", _mm_movehl_ps(a, b));
	pps("hadd_ps", _mm_hadd_ps(a, b));
	pps("addsub_ps", _mm_addsub_ps(a, b));
	pps("dp_ps", _mm_dp_ps(a, b, 0xf1));
	pps("round_floor", _mm_round_ps(_mm_mul_ps(a, b), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
	pps("round_near", _mm_round_ps(_mm_mul_ps(a, b), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	pps("blend_ps", _mm_blend_ps(a, b, 0x5));
	pps("blendv_ps", _mm_blendv_ps(a, b, _mm_cmplt_ps(a, b)));
	printf("cmplt movemask %x, comieq %d, ucomilt %d\n", _mm_movemask_ps(_mm_cmplt_ps(a, b)), _mm_comieq_ss(a, a), _mm_ucomilt_ss(a, b));
	p128("cvtps_epi32", _mm_cvtps_epi32(_mm_mul_ps(a, b)));
	p128("cvttps_epi32", _mm_cvttps_epi32(_mm_mul_ps(a, b)));
	__m128 rc = _mm_rcp_ps(b), rs = _mm_rsqrt_ps(_mm_set1_ps(fin[4]));
	float rcf[4], rsf[4];
	_mm_storeu_ps(rcf, rc);
	_mm_storeu_ps(rsf, rs);
	printf("rcp/rsqrt close: %d %d\n", rcf[0] * fin[4] > 0.999f && rcf[0] * fin[4] < 1.001f, rsf[0] > 0.0999f && rsf[0] < 0.1001f);
	__m128d da = _mm_setr_pd(fin[0], fin[3]), db = _mm_setr_pd(fin[4], fin[6]);
	double dd[2];
	_mm_storeu_pd(dd, _mm_div_pd(da, db));
	printf("div_pd %a %a\n", dd[0], dd[1]);
	_mm_storeu_pd(dd, _mm_sqrt_pd(_mm_hadd_pd(da, db)));
	printf("sqrt(hadd_pd) %a %a\n", dd[0], dd[1]);

	/* integer */
	volatile uint8_t src[48];
	for (int i = 0; i < 48; i++)
		src[i] = (uint8_t)(i * 37 + 11);
	uint8_t tmp[48];
	for (int i = 0; i < 48; i++)
		tmp[i] = src[i];
	__m128i x = _mm_loadu_si128((const __m128i *)tmp), y = _mm_loadu_si128((const __m128i *)(tmp + 16)), z = _mm_loadu_si128((const __m128i *)(tmp + 3));
	p128("loadu+3", z);
	p128("add_epi8", _mm_add_epi8(x, y));
	p128("adds_epu8", _mm_adds_epu8(x, y));
	p128("subs_epi8", _mm_subs_epi8(x, y));
	p128("avg_epu8", _mm_avg_epu8(x, y));
	p128("mullo_epi16", _mm_mullo_epi16(x, y));
	p128("mulhi_epi16", _mm_mulhi_epi16(x, y));
	p128("mulhi_epu16", _mm_mulhi_epu16(x, y));
	p128("mullo_epi32", _mm_mullo_epi32(x, y));
	p128("mul_epu32", _mm_mul_epu32(x, y));
	p128("mul_epi32", _mm_mul_epi32(x, y));
	p128("madd_epi16", _mm_madd_epi16(x, y));
	p128("maddubs", _mm_maddubs_epi16(x, y));
	p128("sad_epu8", _mm_sad_epu8(x, y));
	p128("packs_epi32", _mm_packs_epi32(x, y));
	p128("packus_epi32", _mm_packus_epi32(x, y));
	p128("packus_epi16", _mm_packus_epi16(x, y));
	p128("shuffle_epi8", _mm_shuffle_epi8(x, y));
	p128("shuffle_epi32", _mm_shuffle_epi32(x, 0x1b));
	p128("shufflelo", _mm_shufflelo_epi16(x, 0x4e));
	p128("alignr", _mm_alignr_epi8(x, y, 5));
	p128("abs_epi32", _mm_abs_epi32(_mm_sub_epi32(x, y)));
	p128("sign_epi16", _mm_sign_epi16(x, y));
	p128("hadd_epi32", _mm_hadd_epi32(x, y));
	p128("blendv_epi8", _mm_blendv_epi8(x, y, z));
	p128("blend_epi16", _mm_blend_epi16(x, y, 0xa5));
	p128("min_epi32", _mm_min_epi32(x, y));
	p128("max_epu16", _mm_max_epu16(x, y));
	p128("cmpgt_epi64", _mm_cmpgt_epi64(x, y));
	p128("cmpeq_epi64", _mm_cmpeq_epi64(x, x));
	p128("minpos_epu16", _mm_minpos_epu16(x));
	p128("mpsadbw", _mm_mpsadbw_epu8(x, y, 5));
	p128("cvtepi8_epi32", _mm_cvtepi8_epi32(x));
	p128("cvtepu16_epi64", _mm_cvtepu16_epi64(y));
	p128("slli_epi64", _mm_slli_epi64(x, 13));
	p128("srai_epi32", _mm_srai_epi32(x, 7));
	p128("srl_epi16", _mm_srl_epi16(x, _mm_cvtsi32_si128(3)));
	p128("bslli", _mm_bslli_si128(x, 3));
	p128("bsrli", _mm_bsrli_si128(x, 5));
	p128("unpackhi_epi8", _mm_unpackhi_epi8(x, y));
	p128("insert_epi32", _mm_insert_epi32(x, 0x12345678, 2));
	printf("extract_epi64 %llx extract_epi8 %x movemask %04x testz %d testc %d\n",
	       (unsigned long long)_mm_extract_epi64(x, 1), _mm_extract_epi8(y, 9), _mm_movemask_epi8(x),
	       _mm_testz_si128(x, _mm_setzero_si128()), _mm_testc_si128(x, x));

	/* SSE4.2 string instructions */
	static const char hay[] __attribute__((aligned(16))) = "The quick brown fox jumps over the lazy dog; 0123456789!";
	__m128i set = _mm_setr_epi8('a', 'e', 'i', 'o', 'u', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	for (int off = 0; off < 48; off += 16) {
		__m128i chunk = _mm_loadu_si128((const __m128i *)(hay + off));
		int first_vowel = _mm_cmpistri(set, chunk, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY);
		int ranges = _mm_cmpistri(_mm_setr_epi8('0', '9', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), chunk, _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES);
		__m128i m = _mm_cmpistrm(set, chunk, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY | _SIDD_BIT_MASK);
		int sub = _mm_cmpestri(_mm_setr_epi8('o', 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 2, chunk, 16, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED);
		printf("pcmpistr off=%d vowel@%d digit@%d mask=%04x sub(ox)@%d\n", off, first_vowel, ranges, _mm_cvtsi128_si32(m), sub);
	}
	__m128i em = _mm_cmpestrm(_mm_setr_epi8('a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 3,
	                          _mm_setr_epi8('x', 'a', 'b', 'c', 'a', 'b', 'c', 'q', 'a', 'b', 0, 0, 0, 0, 0, 0), 10,
	                          _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED | _SIDD_UNIT_MASK);
	p128("cmpestrm", em);
	char strbuf[200] __attribute__((aligned(16)));
	unsigned long lsum = 0;
	for (int off = 0; off < 16; off++)
		for (int len = 0; len < 100; len += 7) {
			memset(strbuf, 'x', sizeof strbuf);
			strbuf[off + len] = 0;
			lsum = lsum * 31 + sse_strlen(strbuf + off);
		}
	printf("sse_strlen checksum %lu\n", lsum);

	/* CRC32C */
	unsigned char data[1000];
	for (int i = 0; i < 1000; i++)
		data[i] = (unsigned char)(i * i + 7);
	uint32_t c8 = 0xffffffff;
	for (int i = 0; i < 1000; i++)
		c8 = _mm_crc32_u8(c8, data[i]);
	uint64_t c64 = 0xffffffff;
	for (int i = 0; i < 1000; i += 8) {
		uint64_t w;
		memcpy(&w, data + i, 8);
		c64 = _mm_crc32_u64(c64, w);
	}
	uint32_t c32 = 0xffffffff;
	for (int i = 0; i < 1000; i += 4) {
		uint32_t w;
		memcpy(&w, data + i, 4);
		c32 = _mm_crc32_u32(c32, w);
	}
	uint32_t c16 = 0xffffffff;
	for (int i = 0; i < 1000; i += 2) {
		uint16_t w;
		memcpy(&w, data + i, 2);
		c16 = _mm_crc32_u16(c16, w);
	}
	printf("crc32c: u8 %08x u16 %08x u32 %08x u64 %08x sw %08x\n", ~c8, ~c16, ~c32, (uint32_t)~c64, crc32c_sw(data, 1000));

	/* non-temporal, streaming-load and byte-masked stores */
	static __m128i nt[4];
	for (int i = 0; i < 4; i++)
		_mm_stream_si128(&nt[i], _mm_set1_epi32(i * 0x01010101));
	_mm_sfence();
	p128("stream_load", _mm_stream_load_si128(&nt[3]));
	p128("stream", _mm_xor_si128(nt[1], nt[2]));
	char mbuf[32];
	memset(mbuf, '.', sizeof mbuf);
	_mm_maskmoveu_si128(_mm_set1_epi8('M'), _mm_setr_epi8(-1, 0, -1, 0, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0, -1), mbuf + 5);
	_mm_mfence();
	printf("maskmovdqu: %.32s\n", mbuf);
	_mm_clflush(mbuf);
	_mm_lfence();
	_mm_prefetch(mbuf, _MM_HINT_T0);
	printf("mxcsr %08x\n", _mm_getcsr() & 0xffc0);
	return 0;
}
