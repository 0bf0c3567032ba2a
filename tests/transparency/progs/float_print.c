// Exercises float/double printing and parsing: %a %A %.17g %e %f %g on special values, subnormals and random bit patterns; strtod/strtof round trips and tricky inputs.
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}
static double from_bits(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
static uint64_t to_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

int main(int argc, char **argv)
{
	int nrand = argc > 1 ? atoi(argv[1]) : 3000;
	volatile double zero = 0.0, one = 1.0;
	double specials[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3, 2.0 / 3, 1e23, 5e-324, -5e-324, DBL_MIN, DBL_MAX,
	                     DBL_EPSILON, DBL_MIN / 2, 123456789.125, 9007199254740993.0, 0.5, 1.5, 2.5, -2.5,
	                     one / zero, -one / zero, 1e-7, 1e16, 4.35, 0.3, 100, 1e21, 1e22};
	for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
		double d = specials[i];
		printf("%%a=%a %%A=%A %%.17g=%.17g %%e=%e %%.3f=%.3f %%g=%g %%.0f=%.0f %%.0e=%.0e %%#g=%#g %%+.2e=%+.2e\n",
		       d, d, d, d, d, d, d, d, d, d);
	}
	/* NaN produced at run time (default NaN of SSE is negative) and a quiet positive one */
	double nan_rt = zero / zero, nan_pos = fabs(nan_rt);
	printf("nan_rt: %f %e %g %a signbit=%d isnan=%d\n", nan_rt, nan_rt, nan_rt, nan_rt, signbit(nan_rt) != 0, isnan(nan_rt));
	printf("nan_pos: %f %F %E %G %A\n", nan_pos, nan_pos, nan_pos, nan_pos, nan_pos);
	printf("inf: %f %F %e %5.1f|%-8f|%+f\n", one / zero, one / zero, -one / zero, one / zero, one / zero, one / zero);
	printf("%%.60f of 0.1 = %.60f\n", 0.1);
	printf("%%.40e of DBL_MAX = %.40e\n", DBL_MAX);
	printf("%%.330f of 5e-324 has length %d\n", snprintf(NULL, 0, "%.330f", 5e-324));
	printf("%%f of DBL_MAX has length %d\n", snprintf(NULL, 0, "%f", DBL_MAX));
	char big[400];
	snprintf(big, sizeof big, "%.320f", DBL_MAX / 1e290);
	printf("DBL_MAX/1e290 = %s\n", big);

	/* floats are promoted to double; print their exact values */
	float fs[] = {0.1f, 1.0f / 3, FLT_MAX, FLT_MIN, FLT_EPSILON, 1e-45f, 16777217.0f, -0.0f};
	for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
		printf("float %a %.9g %.17g %e\n", fs[i], fs[i], fs[i], fs[i]);

	/* round trip random bit patterns through %.17g and %a */
	int bad17 = 0, bada = 0, badf = 0;
	uint64_t h = 0;
	char buf[64];
	for (int i = 0; i < nrand; i++) {
		uint64_t u = rng();
		double d = from_bits(u);
		if (isnan(d))
			continue;
		snprintf(buf, sizeof buf, "%.17g", d);
		for (char *p = buf; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		if (to_bits(strtod(buf, NULL)) != u)
			bad17++;
		snprintf(buf, sizeof buf, "%a", d);
		if (to_bits(strtod(buf, NULL)) != u)
			bada++;
		float f = (float)d;
		snprintf(buf, sizeof buf, "%.9g", f);
		if (strtof(buf, NULL) != f)
			badf++;
	}
	printf("random round trips: n=%d bad17=%d bada=%d badf=%d hash=%016llx\n", nrand, bad17, bada, badf, (unsigned long long)h);

	static const char *const inputs[] = {"2.2250738585072011e-308", "2.2250738585072012e-308", "1e23", "8.98846567431158e307",
	                                     "9007199254740993", "0x1.8p3", "0X1P-1074", "inf", "-Infinity", "nan", "1e-400",
	                                     "1e400", "  -0.0", "123abc", "0.1e+", ".5e1", "4.9406564584124654e-324",
	                                     "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791", "0.000000000000000000000000000000000000000000001e-280"};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char *end;
		errno = 0;
		double d = strtod(inputs[i], &end);
		int e = errno;
		errno = 0;
		float f = strtof(inputs[i], NULL);
		int ef = errno;
		errno = 0;
		long double ld = strtold(inputs[i], NULL);
		printf("strtod(\"%.30s\") = %a (%.17g) consumed=%d erange=%d | strtof=%a erange=%d | strtold=%La\n",
		       inputs[i], d, d, (int)(end - inputs[i]), e == ERANGE, (double)f, ef == ERANGE, ld);
	}
	printf("atof(\"3.5\")=%g sscanf:", atof("3.5"));
	double a1, a2;
	float f1;
	int n = sscanf("1.25e2 -0x1p-3 7.5", "%lf %la %f", &a1, &a2, &f1);
	printf(" n=%d %g %g %g\n", n, a1, a2, (double)f1);
	return 0;
}
