// Exercises the calling convention and data layout: structs passed/returned by value (registers and memory), mixed int/float args beyond registers, bitfields, unions, packed/unaligned fields, flexible arrays, VLAs, _Complex arithmetic.
#include <complex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct small { int a, b; };                 /* one register */
struct pair { long a; double d; };          /* int + sse register */
struct fl2 { float x, y, z; };              /* sse registers */
struct big { long v[6]; char tag[9]; };     /* memory */
struct bits { unsigned a : 3, b : 5, c : 12; int s : 6; unsigned long long w : 40; };
struct __attribute__((packed)) pk { char c; int i; short s; long long l; };
union pun { double d; uint64_t u; float f[2]; unsigned char b[8]; };
struct flex { int n; int data[]; };

__attribute__((noinline)) static struct small mk_small(int a, int b) { struct small s = {a * 2, b + 1}; return s; }
__attribute__((noinline)) static struct pair mk_pair(struct pair p, double k) { p.a *= 3; p.d *= k; return p; }
__attribute__((noinline)) static struct fl2 scale(struct fl2 v, float k) { v.x *= k; v.y *= k; v.z *= k; return v; }
__attribute__((noinline)) static struct big twiddle(struct big b, int k)
{
	for (int i = 0; i < 6; i++)
		b.v[i] = b.v[i] * k + i;
	b.tag[0] = 'T';
	return b;
}
__attribute__((noinline)) static double many_args(int a, double b, long c, float d, char e, double f, short g, double h, long i,
                                                  double j, int k, double l, long m, double n, struct small o, double p, struct big q)
{
	return a + b + (double)c + d + e + f + g + h + (double)i + j + k + l + (double)m + n + o.a + o.b + p + (double)q.v[5];
}
__attribute__((noinline)) static long vla_sum(int n, int m, int a[n][m])
{
	long s = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
			s += a[i][j] * (i + 1);
	return s;
}

int main(void)
{
	struct small s = mk_small(20, 30);
	printf("small {%d,%d}\n", s.a, s.b);
	struct pair p = mk_pair((struct pair){7, 1.5}, 3.0);
	printf("pair {%ld,%g}\n", p.a, p.d);
	struct fl2 f = scale((struct fl2){1.0f, -2.5f, 0.125f}, 4.0f);
	printf("fl2 {%g,%g,%g}\n", (double)f.x, (double)f.y, (double)f.z);
	struct big b = {{1, 2, 3, 4, 5, 6}, "original"};
	struct big b2 = twiddle(b, 10);
	printf("big %ld %ld %ld %ld %ld %ld %s (orig %ld %s)\n", b2.v[0], b2.v[1], b2.v[2], b2.v[3], b2.v[4], b2.v[5], b2.tag, b.v[5], b.tag);
	printf("many_args = %.17g\n", many_args(1, 2.5, 3, 4.25f, 5, 6.5, 7, 8.5, 9, 10.5, 11, 12.5, 13, 14.5, s, 15.5, b2));

	struct bits bt = {0};
	bt.a = 5; bt.b = 31; bt.c = 4095; bt.s = -20; bt.w = 0xabcdef1234ull;
	bt.a += 5; /* wraps to 2 */
	unsigned char raw[sizeof bt];
	memcpy(raw, &bt, sizeof bt);
	printf("bits a=%u b=%u c=%u s=%d w=%llx size=%zu raw:", bt.a, bt.b, bt.c, bt.s, (unsigned long long)bt.w, sizeof bt);
	for (size_t i = 0; i < sizeof bt; i++)
		printf(" %02x", raw[i]);
	printf("\n");

	struct pk pks[3];
	memset(pks, 0, sizeof pks);
	for (int i = 0; i < 3; i++) {
		pks[i].c = (char)('a' + i);
		pks[i].i = 100000 * (i + 1);
		pks[i].s = (short)(-i);
		pks[i].l = 0x0102030405060708ll * (i + 1);
	}
	long long pksum = 0;
	for (int i = 0; i < 3; i++)
		pksum += pks[i].i + pks[i].s + pks[i].l + pks[i].c;
	printf("packed size=%zu offsets i=%zu s=%zu l=%zu sum=%lld\n", sizeof(struct pk), offsetof(struct pk, i), offsetof(struct pk, s),
	       offsetof(struct pk, l), pksum);

	union pun u;
	u.d = -1.5;
	printf("union: u=%016llx bytes %02x..%02x f[1]=%a\n", (unsigned long long)u.u, u.b[0], u.b[7], (double)u.f[1]);
	u.u = 0x7ff8000000000001ull;
	printf("union nan payload bits kept: %016llx\n", (unsigned long long)u.u);

	struct flex *fx = malloc(sizeof *fx + 10 * sizeof(int));
	fx->n = 10;
	for (int i = 0; i < 10; i++)
		fx->data[i] = i * i;
	int fs = 0;
	for (int i = 0; i < fx->n; i++)
		fs += fx->data[i];
	printf("flex sum %d\n", fs);
	free(fx);

	int n = 7, m = 5;
	int grid[n][m];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
			grid[i][j] = i * m + j;
	printf("vla sum %ld sizeof %zu\n", vla_sum(n, m, grid), sizeof grid);

	volatile double re = 1.5, im = -2.0;
	double complex z1 = re + im * I, z2 = 0.5 + 3.0 * I;
	double complex prod = z1 * z2, quot = z1 / z2, sq = z1 * z1;
	printf("complex: prod %a%+ai quot %a%+ai sq %g%+gi |z1|=%g\n", creal(prod), cimag(prod), creal(quot), cimag(quot), creal(sq),
	       cimag(sq), cabs(z1));
	float complex fz = (float)re + (float)im * I;
	fz = fz * fz;
	printf("float complex sq %g%+gi\n", (double)crealf(fz), (double)cimagf(fz));
	return 0;
}
