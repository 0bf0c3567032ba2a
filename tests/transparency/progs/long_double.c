// Exercises x87 long double: arithmetic, libm long double functions (x87 fyl2x/f2xm1/fpatan in musl), raw x87 instructions via inline asm, control word, printing with %Lf/%La/%Lg.
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile long double vin[] = {0.5L, 1.0L, 2.0L, 3.0L, 0.1L, 10.0L, 1e-5L, 123.456L, 1e100L, -2.5L, 7.0L / 3.0L};
#define NIN (sizeof vin / sizeof vin[0])

static void show(const char *name, long double x, long double r)
{
	printf("%-6s(%.21Lg) = %.21Lg  %La\n", name, x, r, r);
}

static long double x87_unary(int which, long double x)
{
	long double r = x;
	switch (which) {
	case 0: __asm__("fsin" : "+t"(r)); break;
	case 1: __asm__("fcos" : "+t"(r)); break;
	case 2: __asm__("fsqrt" : "+t"(r)); break;
	case 3: __asm__("frndint" : "+t"(r)); break;
	case 4: __asm__("fabs" : "+t"(r)); break;
	case 5: __asm__("fchs" : "+t"(r)); break;
	case 6: __asm__("f2xm1" : "+t"(r)); break; /* valid for |x| <= 1 */
	}
	return r;
}

/* Each helper switches the x87 control word, operates and restores it in one asm statement,
   so the compiler cannot move the arithmetic outside the window. */
static long double cw_div(uint16_t cw, long double a, long double b)
{
	long double r;
	uint16_t saved;
	__asm__ volatile("fnstcw %[saved]\n\tfldcw %[cw]\n\tfdiv %%st(1), %%st\n\tfldcw %[saved]"
	                 : "=t"(r), [saved] "=m"(saved) : "0"(a), "u"(b), [cw] "m"(cw));
	return r;
}
static long double cw_frndint(uint16_t cw, long double a)
{
	long double r;
	uint16_t saved;
	__asm__ volatile("fnstcw %[saved]\n\tfldcw %[cw]\n\tfrndint\n\tfldcw %[saved]"
	                 : "=t"(r), [saved] "=m"(saved) : "0"(a), [cw] "m"(cw));
	return r;
}
static long long cw_fistp(uint16_t cw, long double a)
{
	long long r;
	uint16_t saved;
	__asm__ volatile("fnstcw %[saved]\n\tfldcw %[cw]\n\tfistpll %[r]\n\tfldcw %[saved]"
	                 : [r] "=m"(r), [saved] "=m"(saved) : "t"(a), [cw] "m"(cw) : "st");
	return r;
}

int main(void)
{
	/* plain arithmetic */
	long double h = 0, f = 1;
	for (int i = 1; i <= 1000; i++)
		h += 1.0L / i;
	printf("harmonic(1000) = %.21Lg\n", h);
	for (int i = 1; i <= 30; i++) {
		f *= i;
		if (i % 5 == 0)
			printf("%d! = %.0Lf (%La)\n", i, f, f);
	}
	volatile long double third = 1.0L / 3.0L;
	printf("1/3: %%Lf=%Lf %%.25Lf=%.25Lf %%La=%La %%Le=%Le %%Lg=%Lg\n", third, third, third, third, third);
	printf("LDBL_EPSILON=%La LDBL_MIN=%La LDBL_MAX=%Lg DIG=%d MANT=%d\n", LDBL_EPSILON, LDBL_MIN, LDBL_MAX, LDBL_DIG, LDBL_MANT_DIG);
	volatile long double tiny = LDBL_MIN;
	printf("subnormal: %La %Lg\n", tiny / 1024, tiny / 1024);
	volatile double d = 0.1;
	long double ld = d;
	printf("double->ld: %La, diff from 0.1L = %La\n", ld, ld - 0.1L);
	printf("ld->double: %a, ld->float: %a\n", (double)third, (double)(float)third);
	volatile long double big = 18446744073709551615.0L;
	unsigned long long u = (unsigned long long)big;
	long long s = (long long)-9.2233720368547758e18L;
	printf("ld->u64 %llu, ld->i64 %lld, u64->ld %.0Lf\n", u, s, (long double)(unsigned long long)-1);
	printf("compare: %d %d %d\n", third < 0.34L, third > 1.0L / 3.0, (long double)(1.0 / 3.0) == third);

	/* libm long double functions: several are x87 assembly in musl */
	for (size_t i = 0; i < NIN; i++) {
		long double x = vin[i], ax = fabsl(x);
		show("sqrtl", ax, sqrtl(ax));
		show("expl", x / 64, expl(x / 64));
		show("exp2l", x / 64, exp2l(x / 64));
		show("logl", ax, logl(ax));
		show("log2l", ax, log2l(ax));
		show("log10l", ax, log10l(ax));
		show("atanl", x, atanl(x));
		show("sinl", x, sinl(x));
		show("cosl", x, cosl(x));
		show("powl", ax, powl(ax, 0.75L));
		show("fmodl", x, fmodl(x, 0.3L));
		show("floorl", x, floorl(x));
		show("ceill", x, ceill(x));
		show("truncl", x, truncl(x));
		show("rintl", x, rintl(x));
		show("atan2l", x, atan2l(x, 1.5L));
		show("cbrtl", x, cbrtl(x));
	}

	/* raw x87 instructions */
	static const char *const names[] = {"fsin", "fcos", "fsqrt", "frndint", "fabs", "fchs", "f2xm1"};
	for (int w = 0; w < 7; w++)
		for (size_t i = 0; i < 4; i++) {
			long double x = vin[i] * (w == 6 ? 0.5L : 1.0L);
			show(names[w], x, x87_unary(w, x));
		}
	long double pi, l2e, ln2, lg2, l2t, one, zero;
	__asm__("fldpi" : "=t"(pi));
	__asm__("fldl2e" : "=t"(l2e));
	__asm__("fldln2" : "=t"(ln2));
	__asm__("fldlg2" : "=t"(lg2));
	__asm__("fldl2t" : "=t"(l2t));
	__asm__("fld1" : "=t"(one));
	__asm__("fldz" : "=t"(zero));
	printf("constants: pi=%La l2e=%La ln2=%La lg2=%La l2t=%La one=%La zero=%La\n", pi, l2e, ln2, lg2, l2t, one, zero);
	long double y = 3.0L, x = 10.0L, r;
	__asm__("fyl2x" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
	printf("fyl2x(10, 3) = %La\n", r);
	x = 1.0L; y = 1.0L;
	__asm__("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
	printf("fpatan(1, 1) = %La\n", r);
	long double sc;
	x = 1.5L; y = 10.0L;
	__asm__("fscale" : "=t"(sc) : "0"(x), "u"(y));
	printf("fscale(1.5, 10) = %La\n", sc);
	long double rem;
	x = 100.5L; y = 3.0L;
	__asm__("1: fprem; fnstsw %%ax; testb $4, %%ah; jnz 1b" : "=t"(rem) : "0"(x), "u"(y) : "ax");
	printf("fprem(100.5, 3) = %La\n", rem);
	long double tanv, onev;
	x = 0.5L;
	__asm__("fptan" : "=t"(onev), "=u"(tanv) : "0"(x));
	printf("fptan(0.5) = %La (pushed %La)\n", tanv, onev);
	long double sv, cv;
	x = 0.75L;
	__asm__("fsincos" : "=t"(cv), "=u"(sv) : "0"(x));
	printf("fsincos(0.75) = %La, %La\n", sv, cv);
	long double sig, ex;
	x = 1234.5L;
	__asm__("fxtract" : "=t"(sig), "=u"(ex) : "0"(x));
	printf("fxtract(1234.5) = %La * 2^%La\n", sig, ex);

	/* control word: rounding and precision control */
	uint16_t cw, cw2;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	printf("default control word %04x\n", cw);
	static const char *const rnames[] = {"nearest", "down", "up", "zero"};
	for (int rc = 0; rc < 4; rc++) {
		cw2 = (uint16_t)((cw & ~0x0c00) | (rc << 10));
		long double b = cw_frndint(cw2, vin[9]), q = cw_div(cw2, vin[1], vin[3]);
		long long ival = cw_fistp(cw2, vin[7]);
		printf("rc=%s frndint(-2.5)=%Lg fistp(123.456)=%lld 1/3=%La\n", rnames[rc], b, ival, q);
	}
	for (int pc = 0; pc < 4; pc++) {
		if (pc == 1)
			continue;
		cw2 = (uint16_t)((cw & ~0x0300) | (pc << 8));
		printf("pc=%d 1/3=%La\n", pc, cw_div(cw2, vin[1], vin[3]));
	}
	__asm__ volatile("fnstcw %0" : "=m"(cw2));
	printf("control word restored: %d\n", cw2 == cw);
	uint16_t sw;
	__asm__ volatile("fnclex; fnstsw %0" : "=a"(sw));
	printf("status word after fnclex: %04x\n", sw & 0x7fff);
	return 0;
}
