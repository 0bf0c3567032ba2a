// Exercises integer edge cases: signed/unsigned division and modulo (incl. by constants), unsigned wraparound, overflow builtins, shifts, conversions, __int128 multiply/divide/print, hardware cvttsd2si/idiv corner results.
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

static volatile int64_t vals[] = {0, 1, -1, 2, -2, 7, -7, 100, -100, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, 0x123456789abcdefLL, -999999999999LL};
#define NV (sizeof vals / sizeof vals[0])

static void print_u128(unsigned __int128 v)
{
	char buf[48];
	int i = 47;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	fputs(buf + i, stdout);
}
static void print_i128(__int128 v)
{
	if (v < 0) {
		putchar('-');
		print_u128(-(unsigned __int128)v);
	} else
		print_u128((unsigned __int128)v);
}

int main(void)
{
	uint64_t h = 0;
	/* division and modulo, all operand pairs except the undefined ones */
	for (size_t i = 0; i < NV; i++)
		for (size_t j = 0; j < NV; j++) {
			int64_t a = vals[i], b = vals[j];
			if (b == 0 || (a == INT64_MIN && b == -1))
				continue;
			int64_t q = a / b, r = a % b;
			uint64_t uq = (uint64_t)a / (uint64_t)b, ur = (uint64_t)a % (uint64_t)b;
			int32_t a32 = (int32_t)a, b32 = (int32_t)b;
			int32_t q32 = (b32 == 0 || (a32 == INT32_MIN && b32 == -1)) ? 0 : a32 / b32;
			h = (h * 31) ^ (uint64_t)q ^ ((uint64_t)r << 7) ^ uq ^ (ur << 3) ^ (uint32_t)q32;
			if (q * b + r != a)
				printf("identity broken for %lld %lld\n", (long long)a, (long long)b);
		}
	printf("division hash %016llx\n", (unsigned long long)h);
	/* division by constants (compilers use multiply-high sequences) */
	for (size_t i = 0; i < NV; i++) {
		int64_t a = vals[i];
		int32_t a32 = (int32_t)a;
		uint32_t u32 = (uint32_t)a;
		printf("%lld: /3=%lld %%3=%lld /7=%lld %%10=%lld /-5=%lld i32/9=%d i32%%-6=%d u32/10=%u u32%%641=%u u64/1000000007=%llu\n",
		       (long long)a, (long long)(a / 3), (long long)(a % 3), (long long)(a / 7), (long long)(a % 10), (long long)(a / -5),
		       a32 / 9, a32 % -6, u32 / 10, u32 % 641, (unsigned long long)((uint64_t)a / 1000000007u));
	}
	/* unsigned wraparound and conversions */
	unsigned u = UINT_MAX;
	u += 2;
	uint8_t b8 = 250;
	b8 += 10;
	uint16_t b16 = 0;
	b16--;
	printf("wrap: %u %u %u %llu\n", u, b8, b16, (unsigned long long)(0ULL - 1));
	printf("conv: (int8)200=%d (uint8)-1=%u (int16)40000=%d (int)3e9u=%d (unsigned)-1=%u (int64)(uint32)-1=%lld\n",
	       (int8_t)200, (uint8_t)-1, (int16_t)40000, (int)3000000000u, (unsigned)-1, (long long)(uint32_t)-1);
	printf("promotion: (uint8)200+(uint8)100=%d, -1 < 1u is %d, (short)-1 > (unsigned short)1 is %d\n",
	       (uint8_t)200 + (uint8_t)100, -1 < (int)1u, (short)-1 > (int)(unsigned short)1);
	/* overflow builtins */
	int r;
	long long rl;
	unsigned ur;
	int o1 = __builtin_add_overflow(INT_MAX, 1, &r);
	printf("add_overflow(INT_MAX,1)=%d -> %d; ", o1, r);
	o1 = __builtin_sub_overflow(INT_MIN, 1, &r);
	printf("sub_overflow(INT_MIN,1)=%d -> %d; ", o1, r);
	o1 = __builtin_mul_overflow(1 << 20, 1 << 12, &r);
	printf("mul_overflow(1<<20,1<<12)=%d -> %d\n", o1, r);
	o1 = __builtin_mul_overflow(3000000000LL, 4000000000LL, &rl);
	printf("mul_overflow(ll 3e9*4e9)=%d -> %lld; ", o1, rl);
	o1 = __builtin_add_overflow(UINT_MAX, 5u, &ur);
	printf("uadd(UINT_MAX,5)=%d -> %u; ", o1, ur);
	o1 = __builtin_sub_overflow(1u, 2u, &ur);
	printf("usub(1,2)=%d -> %u; ", o1, ur);
	o1 = __builtin_mul_overflow(-3, 5, &r);
	printf("mul(-3,5)=%d -> %d\n", o1, r);
	/* shifts */
	volatile int sh = 63;
	int64_t m1 = -1;
	printf("shifts: %lld %llu %lld %d %u\n", (long long)(m1 >> sh), (unsigned long long)((uint64_t)m1 >> sh),
	       (long long)(INT64_MIN >> 1), (int)(INT32_MIN >> 31), (unsigned)(0x80000000u >> 31));
	/* __int128 */
	unsigned __int128 big = (unsigned __int128)UINT64_MAX * UINT64_MAX;
	__int128 sbig = -(__int128)INT64_MAX * 3 + 7;
	printf("u128 max64^2 = "); print_u128(big); printf("\n");
	printf("i128 = "); print_i128(sbig); printf(", /7 = "); print_i128(sbig / 7); printf(", %%7 = "); print_i128(sbig % 7); printf("\n");
	unsigned __int128 f = 1;
	for (int i = 1; i <= 34; i++)
		f *= (unsigned)i;
	printf("34! = "); print_u128(f); printf(", /(10^20) = "); print_u128(f / ((unsigned __int128)10000000000ULL * 10000000000ULL));
	printf(", top bits %016llx\n", (unsigned long long)(f >> 64));
	volatile unsigned __int128 vd = (unsigned __int128)0x0123456789abcdefULL << 64 | 0xfedcba9876543210ULL;
	volatile uint64_t vsor = 0xffffffff00000001ULL;
	printf("u128 divmod: q="); print_u128(vd / vsor); printf(" r="); print_u128(vd % vsor); printf("\n");
	__int128 neg = -((__int128)1 << 100);
	printf("i128 shifts: "); print_i128(neg >> 37); printf(" "); print_u128((unsigned __int128)neg >> 100); printf("\n");
	/* hardware corner cases reached through inline asm (defined behaviour at the instruction level) */
	volatile double big_d = 1e20, nan_d = __builtin_nan("");
	int32_t c1;
	int64_t c2, c3;
	__asm__("cvttsd2si %1, %0" : "=r"(c1) : "x"(big_d));
	__asm__("cvttsd2si %1, %0" : "=r"(c2) : "x"(big_d));
	__asm__("cvttsd2si %1, %0" : "=r"(c3) : "x"(nan_d));
	printf("cvttsd2si(1e20) i32=%d i64=%lld nan=%lld\n", c1, (long long)c2, (long long)c3);
	uint64_t hi = 5, lo = 123, divisor = 1000000007, q, rem;
	__asm__("divq %4" : "=a"(q), "=d"(rem) : "a"(lo), "d"(hi), "r"(divisor));
	printf("divq (5:123)/1e9+7 = %llu rem %llu\n", (unsigned long long)q, (unsigned long long)rem);
	int64_t sq, srem;
	__asm__("cqo; idivq %3" : "=a"(sq), "=&d"(srem) : "a"((int64_t)-1000), "r"((int64_t)7));
	printf("idivq -1000/7 = %lld rem %lld\n", (long long)sq, (long long)srem);
	uint64_t mlo, mhi;
	__asm__("mulq %3" : "=a"(mlo), "=&d"(mhi) : "a"(UINT64_MAX), "r"(UINT64_MAX - 1));
	printf("mulq: hi=%016llx lo=%016llx\n", (unsigned long long)mhi, (unsigned long long)mlo);
	return 0;
}
