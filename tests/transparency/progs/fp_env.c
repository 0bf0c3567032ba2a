// Exercises the floating-point environment: rounding modes (fesetround) on SSE and x87 arithmetic, exception flags, MXCSR flush-to-zero/denormals-are-zero, fegetenv/fesetenv, lrint/nearbyint.
// cflags: -frounding-math -msse3
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <pmmintrin.h>
#include <stdio.h>
#include <xmmintrin.h>

static volatile double one = 1.0, three = 3.0, two = 2.0, tiny = 1e-310, big = 1e308, zero = 0.0, mhalf = -2.5, pt5 = 0.5;
static volatile float fone = 1.0f, fthree = 3.0f;
static volatile long double lone = 1.0L, lthree = 3.0L;

static const char *flags_str(int f)
{
	static char buf[64];
	snprintf(buf, sizeof buf, "%s%s%s%s%s", f & FE_INVALID ? "invalid " : "", f & FE_DIVBYZERO ? "divbyzero " : "",
	         f & FE_OVERFLOW ? "overflow " : "", f & FE_UNDERFLOW ? "underflow " : "", f & FE_INEXACT ? "inexact" : "");
	return buf;
}

int main(void)
{
	static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
	static const char *const names[] = {"nearest", "downward", "upward", "towardzero"};
	for (int m = 0; m < 4; m++) {
		if (fesetround(modes[m]) != 0)
			printf("fesetround failed\n");
		volatile double q = one / three, nq = -one / three, s = sqrt(two), sum = big + big * 0.5;
		volatile float fq = fone / fthree;
		volatile long double lq = lone / lthree;
		long li = lrint(mhalf), lr = lrint(pt5 + two);
		double ni = nearbyint(mhalf), ri = rint(2.5);
		printf("%-10s get=%d 1/3=%a -1/3=%a sqrt2=%a big*1.5=%g f1/3=%a ld1/3=%La lrint(-2.5)=%ld lrint(2.5)=%ld nearbyint(-2.5)=%g rint(2.5)=%g\n",
		       names[m], fegetround() == modes[m], q, nq, s, sum, (double)fq, lq, li, lr, ni, ri);
		char buf[64];
		snprintf(buf, sizeof buf, "%.3f %.0f %.2e", 2.0005, 0.5, 1.125e10);
		printf("           printf under this mode: %s\n", buf);
	}
	fesetround(FE_TONEAREST);

	feclearexcept(FE_ALL_EXCEPT);
	printf("after clear: [%s]\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
	volatile double r = one / zero;
	printf("1/0=%g flags [%s]\n", r, flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feclearexcept(FE_ALL_EXCEPT);
	r = zero / zero;
	printf("0/0 isnan=%d flags [%s]\n", isnan(r), flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feclearexcept(FE_ALL_EXCEPT);
	r = big * big;
	printf("big*big=%g flags [%s]\n", r, flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feclearexcept(FE_ALL_EXCEPT);
	r = tiny * tiny;
	printf("tiny*tiny=%g flags [%s]\n", r, flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feclearexcept(FE_ALL_EXCEPT);
	r = one / three;
	printf("1/3 flags [%s]\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feclearexcept(FE_ALL_EXCEPT);
	r = two * three;
	printf("2*3 flags [%s]\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feraiseexcept(FE_OVERFLOW | FE_INEXACT);
	printf("raised overflow|inexact: [%s]\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
	fexcept_t saved;
	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	feclearexcept(FE_ALL_EXCEPT);
	fesetexceptflag(&saved, FE_OVERFLOW);
	printf("restored overflow only: [%s]\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
	/* x87 exceptions are reported too */
	feclearexcept(FE_ALL_EXCEPT);
	volatile long double lr = lone / (lthree - lthree);
	printf("x87 1/0=%Lg flags [%s]\n", lr, flags_str(fetestexcept(FE_ALL_EXCEPT)));

	/* fegetenv / fesetenv round trip */
	fenv_t env;
	fesetround(FE_UPWARD);
	feraiseexcept(FE_DIVBYZERO);
	fegetenv(&env);
	fesetenv(FE_DFL_ENV);
	printf("default env: round nearest=%d flags [%s]\n", fegetround() == FE_TONEAREST, flags_str(fetestexcept(FE_ALL_EXCEPT)));
	fesetenv(&env);
	printf("restored env: round upward=%d flags [%s]\n", fegetround() == FE_UPWARD, flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feholdexcept(&env);
	r = one / zero;
	printf("inside hold: [%s]\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
	feupdateenv(&env);
	printf("after update: round upward=%d flags [%s]\n", fegetround() == FE_UPWARD, flags_str(fetestexcept(FE_ALL_EXCEPT)));
	fesetround(FE_TONEAREST);
	feclearexcept(FE_ALL_EXCEPT);

	/* MXCSR: flush-to-zero and denormals-are-zero */
	unsigned csr = _mm_getcsr();
	volatile double sub = DBL_MIN / 4, res;
	res = sub * 1.5;
	printf("mxcsr=%04x: subnormal*1.5 = %a, subnormal+0 = %a\n", csr & 0xffc0, res, sub + zero);
	_MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
	res = sub * 1.5;
	printf("FTZ on: subnormal*1.5 = %a, DBL_MIN/3 = %a, input still %a\n", res, DBL_MIN / three, sub);
	_MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
	res = sub * 1.5;
	printf("FTZ+DAZ: subnormal*1.5 = %a, subnormal+1 == 1: %d, subnormal == 0: %d\n", res, sub + one == one, sub == zero);
	printf("mxcsr now %04x\n", _mm_getcsr() & 0xffc0);
	_mm_setcsr(csr);
	res = sub * 1.5;
	printf("restored: subnormal*1.5 = %a, mxcsr %04x\n", res, _mm_getcsr() & 0xffc0);
	/* MXCSR rounding field directly */
	_mm_setcsr((csr & ~0x6000u) | 0x6000u);
	volatile float fr = fone / fthree;
	_mm_setcsr(csr);
	printf("mxcsr RC=truncate: 1/3f = %a\n", (double)fr);
	return 0;
}
