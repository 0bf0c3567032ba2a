// Exercises BMI1/BMI2/LZCNT/POPCNT/MOVBE/ADX instructions (andn, bextr, blsi, blsr, blsmsk, tzcnt, lzcnt, bzhi, pdep, pext, mulx, shlx/sarx/rorx, adcx/adox) on many inputs.
// cflags: -mbmi -mbmi2 -mlzcnt -mpopcnt -mmovbe -madx
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 0xA5A5A5A55A5A5A5Aull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 7;
	rng_state ^= rng_state >> 9;
	return rng_state;
}

int main(void)
{
	if (!__builtin_cpu_supports("bmi") || !__builtin_cpu_supports("bmi2") || !__builtin_cpu_supports("popcnt") ||
	    !__builtin_cpu_supports("lzcnt") || !__builtin_cpu_supports("movbe")) {
		printf("cpu lacks bmi/bmi2/popcnt/lzcnt/movbe: skipped\n");
		return 0;
	}
	static volatile uint64_t in[] = {0, 1, 0x80, 0xf0f0, 0x8000000000000000ull, ~0ull, 0x0123456789abcdefull, 0xdeadbeefcafebabeull};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		uint64_t x = in[i], m = in[(i + 3) % 8] | 0x10;
		uint32_t x32 = (uint32_t)x;
		printf("%016llx: andn=%016llx bextr=%llx blsi=%llx blsr=%llx blsmsk=%llx tzcnt=%llu lzcnt=%llu tzcnt32=%u lzcnt32=%u popcnt=%lld\n",
		       (unsigned long long)x, (unsigned long long)_andn_u64(x, m), (unsigned long long)_bextr_u64(x, 4, 12),
		       (unsigned long long)_blsi_u64(x), (unsigned long long)_blsr_u64(x), (unsigned long long)_blsmsk_u64(x),
		       (unsigned long long)_tzcnt_u64(x), (unsigned long long)_lzcnt_u64(x), _tzcnt_u32(x32), _lzcnt_u32(x32), _mm_popcnt_u64(x));
		unsigned long long hi;
		unsigned long long lo = _mulx_u64(x, m, &hi);
		printf("    bzhi=%llx pdep=%016llx pext=%llx mulx=%016llx:%016llx pdep32=%08x pext32=%x\n", (unsigned long long)_bzhi_u64(x, 20),
		       (unsigned long long)_pdep_u64(x, m), (unsigned long long)_pext_u64(x, m), hi, lo, _pdep_u32(x32, 0x0f0f0f0f),
		       _pext_u32(x32, 0xff00ff00));
	}
	/* shifts with register counts (shlx/sarx/shrx/rorx when compiled with -mbmi2) */
	uint64_t h = 0;
	for (int i = 0; i < 2000; i++) {
		uint64_t x = rng();
		unsigned s = (unsigned)(rng() & 63);
		int64_t sx = (int64_t)x;
		uint64_t rot = (x >> 17) | (x << 47);
		uint64_t m1 = rng(), m2 = rng();
		h = h * 31 + (x << s) + (uint64_t)(sx >> s) + (x >> s) + rot + _pext_u64(x, m1) + _pdep_u64(x, m2);
	}
	printf("shift/pdep/pext hash %016llx\n", (unsigned long long)h);
	/* movbe: big-endian loads and stores */
	unsigned char buf[16];
	uint32_t v32 = 0x11223344;
	uint64_t v64 = 0x0102030405060708ull;
	uint32_t be32 = __builtin_bswap32(v32);
	uint64_t be64 = __builtin_bswap64(v64);
	memcpy(buf, &be32, 4);
	memcpy(buf + 4, &be64, 8);
	uint32_t r32;
	uint64_t r64;
	__asm__("movbe %1, %0" : "=r"(r32) : "m"(*(uint32_t *)buf));
	__asm__("movbe %1, %0" : "=r"(r64) : "m"(*(uint64_t *)(buf + 4)));
	__asm__("movbe %1, %0" : "=m"(*(uint32_t *)(buf + 12)) : "r"(0xaabbccddu));
	printf("movbe: %08x %016llx stored %02x%02x%02x%02x\n", r32, (unsigned long long)r64, buf[12], buf[13], buf[14], buf[15]);
	/* adcx/adox: two independent carry chains */
	if (__builtin_cpu_supports("adx")) {
		unsigned long long a[4] = {~0ull, ~0ull, 5, 0}, b[4] = {1, 0, ~0ull, 7}, r[4];
		unsigned char c = 0;
		for (int i = 0; i < 4; i++)
			c = _addcarryx_u64(c, a[i], b[i], &r[i]);
		printf("addcarryx: %llx %llx %llx %llx carry %u\n", r[3], r[2], r[1], r[0], c);
		unsigned long long x1 = ~0ull, x2 = 3, y1 = 1, y2 = ~0ull;
		__asm__("xor %%eax, %%eax\n\tadcx %2, %0\n\tadox %3, %1\n\tadcx %%rax, %0\n\tadox %%rax, %1"
		        : "+r"(x1), "+r"(x2) : "r"(y1), "r"(y2) : "rax", "cc");
		printf("adcx/adox chains: %llx %llx\n", x1, x2);
	} else {
		printf("addcarryx: 0 0 0 0 carry 0 (no adx)\n");
	}
	return 0;
}
