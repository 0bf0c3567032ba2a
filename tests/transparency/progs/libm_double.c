// Exercises double-precision libm (sin, cos, tan, exp, log, pow, sqrt, fmod, ...) on runtime inputs, printed exactly with %.17g and %a; argv[1] = extra sample points.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inputs live in volatile memory so the compiler cannot fold the calls at -O2. */
static volatile double inputs[] = {0.0, -0.0, 0.5, 1.0, -1.0, 2.0, 3.0, 0.1, -0.7, 1e-8, 10.0, 100.5,
                                   -123.456, 1e10, 3.141592653589793, 1.5707963267948966, 0.7853981633974483,
                                   2.718281828459045, 1e-300, 709.0, -745.0, 1e300, 0.999999, 42.0};
#define NIN (sizeof inputs / sizeof inputs[0])

static uint64_t bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static uint64_t hash;
static void show(const char *name, double x, double r)
{
	hash = (hash ^ bits(r)) * 0x100000001b3ull;
	printf("%-9s(%.17g) = %.17g [%a]\n", name, x, r, r);
}
static void show2(const char *name, double x, double y, double r)
{
	hash = (hash ^ bits(r)) * 0x100000001b3ull;
	printf("%-9s(%.17g, %.17g) = %.17g\n", name, x, y, r);
}

int main(int argc, char **argv)
{
	int extra = argc > 1 ? atoi(argv[1]) : 2000;
	hash = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < NIN; i++) {
		double x = inputs[i], ax = fabs(x);
		show("sin", x, sin(x));
		show("cos", x, cos(x));
		show("tan", x, tan(x));
		show("atan", x, atan(x));
		show("exp", x, exp(x));
		show("expm1", x, expm1(x));
		show("exp2", x, exp2(x));
		show("log", ax, log(ax));
		show("log2", ax, log2(ax));
		show("log10", ax, log10(ax));
		show("log1p", ax, log1p(ax));
		show("sqrt", ax, sqrt(ax));
		show("cbrt", x, cbrt(x));
		show("sinh", x, sinh(x));
		show("cosh", x, cosh(x));
		show("tanh", x, tanh(x));
		show("asinh", x, asinh(x));
		show("erf", x, erf(x));
		show("floor", x, floor(x));
		show("ceil", x, ceil(x));
		show("round", x, round(x));
		show("trunc", x, trunc(x));
		show("rint", x, rint(x));
		if (ax <= 1) {
			show("asin", x, asin(x));
			show("acos", x, acos(x));
			show("atanh", x, ax < 1 ? atanh(x) : 0);
		}
		if (ax < 170)
			show("tgamma", x, x == floor(x) && x <= 0 ? 0 : tgamma(x));
		if (ax < 1e6 && x != 0)
			show("lgamma", x, lgamma(x));
		double y = inputs[(i * 7 + 3) % NIN];
		show2("pow", ax, y, pow(ax, y));
		show2("atan2", x, y, atan2(x, y));
		show2("hypot", x, y, hypot(x, y));
		if (y != 0) {
			show2("fmod", x, y, fmod(x, y));
			show2("remainder", x, y, remainder(x, y));
		}
		show2("fma", x, y, fma(x, y, 0.125));
		show2("copysign", x, y, copysign(x, y));
		show2("nextafter", x, y, nextafter(x, y));
		show2("fmax", x, y, fmax(x, y));
		int e;
		double m = frexp(x, &e);
		double ip, fp = modf(x, &ip);
		printf("frexp(%.17g) = %.17g * 2^%d; modf = %.17g + %.17g; ldexp = %.17g; ilogb = %d\n",
		       x, m, e, ip, fp, ldexp(m, e + 3), x != 0 ? ilogb(x) : 0);
	}
	/* a sweep of many points, reduced to a hash so the output stays short */
	volatile double start = -50.0, step = 100.0 / (extra + 1);
	uint64_t sweep = 0;
	for (int i = 0; i < extra; i++) {
		double x = start + step * i;
		double r = sin(x) * cos(x / 3) + exp(x / 40) - log(fabs(x) + 1) + pow(fabs(x) + 0.5, 0.3) + atan(x) + sqrt(fabs(x)) + fmod(x, 1.7);
		sweep = (sweep ^ bits(r)) * 0x100000001b3ull;
	}
	/* classic series */
	double pi = 0, e = 1, term = 1;
	for (int k = 0; k < 100000; k++)
		pi += (k % 2 ? -4.0 : 4.0) / (2 * k + 1);
	for (int k = 1; k < 20; k++) {
		term /= k;
		e += term;
	}
	volatile double two = 2;
	double s = two;
	for (int k = 0; k < 6; k++)
		s = 0.5 * (s + two / s);
	printf("leibniz pi=%.17g e=%.17g newton sqrt2=%.17g sqrt(2)=%.17g\n", pi, e, s, sqrt(two));
	printf("sweep(%d) hash=%016llx, result hash=%016llx\n", extra, (unsigned long long)sweep, (unsigned long long)hash);
	return 0;
}
