// Exercises big-integer arithmetic: schoolbook and Karatsuba multiplication (checked against each other), 100!, 2^1000, Fibonacci(1000), decimal conversion, and __int128 Miller-Rabin / modular exponentiation; argv[1] = limbs.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint32_t *d; size_t n; } big; /* little-endian base 2^32 limbs */

static big big_new(size_t n)
{
	big b = {calloc(n ? n : 1, sizeof(uint32_t)), n};
	return b;
}
static void big_trim(big *a)
{
	while (a->n && a->d[a->n - 1] == 0)
		a->n--;
}
static void big_mul_small(big *a, uint32_t m, uint32_t add)
{
	uint64_t carry = add;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t t = (uint64_t)a->d[i] * m + carry;
		a->d[i] = (uint32_t)t;
		carry = t >> 32;
	}
	if (carry) {
		a->d = realloc(a->d, (a->n + 1) * sizeof(uint32_t));
		a->d[a->n++] = (uint32_t)carry;
	}
}
static uint32_t big_div_small(big *a, uint32_t m)
{
	uint64_t rem = 0;
	for (size_t i = a->n; i-- > 0;) {
		uint64_t cur = rem << 32 | a->d[i];
		a->d[i] = (uint32_t)(cur / m);
		rem = cur % m;
	}
	big_trim(a);
	return (uint32_t)rem;
}
static char *big_to_dec(const big *a)
{
	big t = big_new(a->n);
	memcpy(t.d, a->d, a->n * sizeof(uint32_t));
	size_t cap = a->n * 10 + 2, len = 0;
	char *s = malloc(cap);
	do {
		uint32_t r = big_div_small(&t, 1000000000);
		for (int k = 0; k < 9; k++) {
			s[len++] = (char)('0' + r % 10);
			r /= 10;
			if (t.n == 0 && r == 0)
				break;
		}
	} while (t.n);
	while (len > 1 && s[len - 1] == '0')
		len--;
	for (size_t i = 0; i < len / 2; i++) {
		char c = s[i]; s[i] = s[len - 1 - i]; s[len - 1 - i] = c;
	}
	s[len] = 0;
	free(t.d);
	return s;
}
/* r[0..an+bn) = a * b */
static void mul_school(uint32_t *r, const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
	memset(r, 0, (an + bn) * sizeof(uint32_t));
	for (size_t i = 0; i < an; i++) {
		uint64_t carry = 0;
		for (size_t j = 0; j < bn; j++) {
			uint64_t t = (uint64_t)a[i] * b[j] + r[i + j] + carry;
			r[i + j] = (uint32_t)t;
			carry = t >> 32;
		}
		r[i + bn] = (uint32_t)carry;
	}
}
static uint32_t add_into(uint32_t *r, size_t rn, const uint32_t *a, size_t an)
{
	uint64_t carry = 0;
	size_t i;
	for (i = 0; i < an; i++) {
		uint64_t t = (uint64_t)r[i] + a[i] + carry;
		r[i] = (uint32_t)t;
		carry = t >> 32;
	}
	for (; carry && i < rn; i++) {
		uint64_t t = (uint64_t)r[i] + carry;
		r[i] = (uint32_t)t;
		carry = t >> 32;
	}
	return (uint32_t)carry;
}
static void sub_into(uint32_t *r, size_t rn, const uint32_t *a, size_t an)
{
	int64_t borrow = 0;
	size_t i;
	for (i = 0; i < an; i++) {
		int64_t t = (int64_t)r[i] - a[i] - borrow;
		borrow = t < 0;
		r[i] = (uint32_t)t;
	}
	for (; borrow && i < rn; i++) {
		int64_t t = (int64_t)r[i] - borrow;
		borrow = t < 0;
		r[i] = (uint32_t)t;
	}
}
/* Karatsuba for equal lengths n; r has 2n limbs */
static void mul_kara(uint32_t *r, const uint32_t *a, const uint32_t *b, size_t n)
{
	if (n < 24) {
		mul_school(r, a, n, b, n);
		return;
	}
	size_t h = n / 2, hi = n - h;
	uint32_t *sa = calloc(hi + 1, 4), *sb = calloc(hi + 1, 4), *z1 = calloc(2 * hi + 2, 4);
	memcpy(sa, a + h, hi * 4);
	sa[hi] = add_into(sa, hi, a, h);
	memcpy(sb, b + h, hi * 4);
	sb[hi] = add_into(sb, hi, b, h);
	mul_kara(r, a, b, h);                /* z0 in r[0..2h) */
	mul_kara(r + 2 * h, a + h, b + h, hi); /* z2 in r[2h..2n) */
	mul_kara(z1, sa, sb, hi + 1);         /* (a0+a1)(b0+b1) */
	sub_into(z1, 2 * hi + 2, r, 2 * h);
	sub_into(z1, 2 * hi + 2, r + 2 * h, 2 * hi);
	size_t zn = 2 * hi + 2;
	while (zn && z1[zn - 1] == 0)
		zn--;
	add_into(r + h, 2 * n - h, z1, zn);
	free(sa); free(sb); free(z1);
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return (uint64_t)((unsigned __int128)a * b % m); }
static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
	uint64_t r = 1;
	b %= m;
	while (e) {
		if (e & 1)
			r = mulmod(r, b, m);
		b = mulmod(b, b, m);
		e >>= 1;
	}
	return r;
}
static int is_prime(uint64_t n)
{
	if (n < 2)
		return 0;
	static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
	for (int i = 0; i < 12; i++)
		if (n % bases[i] == 0)
			return n == bases[i];
	uint64_t d = n - 1;
	int s = 0;
	while (!(d & 1)) {
		d >>= 1;
		s++;
	}
	for (int i = 0; i < 12; i++) {
		uint64_t x = powmod(bases[i], d, n);
		if (x == 1 || x == n - 1)
			continue;
		int comp = 1;
		for (int r = 1; r < s && comp; r++) {
			x = mulmod(x, x, n);
			if (x == n - 1)
				comp = 0;
		}
		if (comp)
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	size_t limbs = argc > 1 ? (size_t)atol(argv[1]) : 600;
	if (limbs < 16)
		limbs = 16;
	big f = big_new(1);
	f.d[0] = 1;
	for (uint32_t i = 2; i <= 100; i++)
		big_mul_small(&f, i, 0);
	char *s = big_to_dec(&f);
	printf("100! = %s (%zu digits)\n", s, strlen(s));
	free(s);
	big p = big_new(1);
	p.d[0] = 1;
	for (int i = 0; i < 1000; i++)
		big_mul_small(&p, 2, 0);
	s = big_to_dec(&p);
	int dsum = 0;
	for (char *c = s; *c; c++)
		dsum += *c - '0';
	printf("2^1000 has %zu digits, digit sum %d, starts %.20s\n", strlen(s), dsum, s);
	free(s);
	/* Fibonacci(1000) with two bigs */
	big a = big_new(40), b = big_new(40);
	b.d[0] = 1;
	for (int i = 0; i < 1000; i++) {
		uint64_t carry = 0; /* a = a + b, swap */
		for (size_t k = 0; k < 40; k++) {
			uint64_t t = (uint64_t)a.d[k] + b.d[k] + carry;
			a.d[k] = (uint32_t)t;
			carry = t >> 32;
		}
		big t = a; a = b; b = t;
	}
	big_trim(&a);
	s = big_to_dec(&a);
	printf("fib(1000) = %s\n", s);
	free(s);

	/* random big products: schoolbook vs Karatsuba */
	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint32_t *ma = malloc(limbs * 4), *mb = malloc(limbs * 4), *r1 = malloc(limbs * 8), *r2 = malloc(limbs * 8);
	int mismatches = 0;
	uint64_t h = 0;
	for (size_t n = 1; n <= limbs; n = n * 3 / 2 + 1) {
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			ma[i] = (uint32_t)x;
			mb[i] = (uint32_t)(x >> 32) | (i == n - 1 ? 0x80000000u : 0);
		}
		mul_school(r1, ma, n, mb, n);
		mul_kara(r2, ma, mb, n);
		if (memcmp(r1, r2, n * 8))
			mismatches++;
		for (size_t i = 0; i < 2 * n; i++)
			h = (h ^ r1[i]) * 0x100000001b3ull;
	}
	printf("karatsuba vs schoolbook up to %zu limbs: mismatches=%d hash=%016llx\n", limbs, mismatches, (unsigned long long)h);
	big sq = {r1, 0};
	for (size_t i = 0; i < 8; i++) {
		ma[i] = 0xffffffffu;
	}
	mul_school(r1, ma, 8, ma, 8);
	sq.n = 16;
	big_trim(&sq);
	s = big_to_dec(&sq);
	printf("(2^256-1)^2 = %s\n", s);
	free(s);

	int primes = 0;
	uint64_t last = 0;
	for (uint64_t n = 1000000000000000000ull; n < 1000000000000000000ull + 2000; n++)
		if (is_prime(n)) {
			primes++;
			last = n;
		}
	printf("primes in [1e18, 1e18+2000): %d, last %llu\n", primes, (unsigned long long)last);
	printf("powmod(3, 2^64-2, 2^61-1) = %llu, is_prime(2^61-1)=%d is_prime(2^64-59)=%d is_prime(2^64-1)=%d\n",
	       (unsigned long long)powmod(3, UINT64_MAX - 1, (1ull << 61) - 1), is_prime((1ull << 61) - 1),
	       is_prime(UINT64_MAX - 58), is_prime(UINT64_MAX));
	free(ma); free(mb); free(r1); free(r2); free(f.d); free(p.d); free(a.d); free(b.d);
	return 0;
}
