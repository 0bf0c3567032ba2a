// Exercises matrix multiplication: int64 and double matrices with naive, ikj, transposed and blocked loops (checked equal), plus Gaussian elimination; argv[1] = matrix size.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n;
#define AT(m, i, j) (m)[(size_t)(i) * (size_t)n + (size_t)(j)]

static uint64_t digest_i(const int64_t *m)
{
	uint64_t h = 0;
	for (int i = 0; i < n * n; i++)
		h = (h ^ (uint64_t)m[i]) * 0x100000001b3ull;
	return h;
}
static uint64_t digest_d(const double *m)
{
	uint64_t h = 0;
	for (int i = 0; i < n * n; i++) {
		uint64_t u;
		memcpy(&u, &m[i], 8);
		h = (h ^ u) * 0x100000001b3ull;
	}
	return h;
}

int main(int argc, char **argv)
{
	n = argc > 1 ? atoi(argv[1]) : 96;
	size_t sz = (size_t)n * (size_t)n;
	int64_t *a = malloc(sz * 8), *b = malloc(sz * 8), *c = calloc(sz, 8), *bt = malloc(sz * 8);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			AT(a, i, j) = (i * 7 + j * 3) % 19 - 9;
			AT(b, i, j) = (i * 5 - j * 11) % 23 + (i == j ? 1000 : 0);
		}
	/* naive ijk */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int64_t s = 0;
			for (int k = 0; k < n; k++)
				s += AT(a, i, k) * AT(b, k, j);
			AT(c, i, j) = s;
		}
	uint64_t d1 = digest_i(c);
	/* ikj */
	memset(c, 0, sz * 8);
	for (int i = 0; i < n; i++)
		for (int k = 0; k < n; k++) {
			int64_t aik = AT(a, i, k);
			for (int j = 0; j < n; j++)
				AT(c, i, j) += aik * AT(b, k, j);
		}
	uint64_t d2 = digest_i(c);
	/* transposed */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			AT(bt, j, i) = AT(b, i, j);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int64_t s = 0;
			for (int k = 0; k < n; k++)
				s += AT(a, i, k) * AT(bt, j, k);
			AT(c, i, j) = s;
		}
	uint64_t d3 = digest_i(c);
	/* blocked */
	memset(c, 0, sz * 8);
	const int B = 16;
	for (int ii = 0; ii < n; ii += B)
		for (int kk = 0; kk < n; kk += B)
			for (int jj = 0; jj < n; jj += B)
				for (int i = ii; i < ii + B && i < n; i++)
					for (int k = kk; k < kk + B && k < n; k++)
						for (int j = jj; j < jj + B && j < n; j++)
							AT(c, i, j) += AT(a, i, k) * AT(b, k, j);
	uint64_t d4 = digest_i(c);
	int64_t trace = 0;
	for (int i = 0; i < n; i++)
		trace += AT(c, i, i);
	printf("int64 %dx%d: digests %016llx %d%d%d trace %lld c[1][2]=%lld\n", n, n, (unsigned long long)d1, d1 == d2, d1 == d3,
	       d1 == d4, (long long)trace, (long long)AT(c, 1, 2));

	/* doubles: same summation order in every variant so results are bit-identical */
	double *x = calloc(sz, 8), *y = calloc(sz, 8), *z = calloc(sz, 8), *z2 = calloc(sz, 8);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			AT(x, i, j) = 1.0 / (i + j + 1);        /* Hilbert */
			AT(y, i, j) = (i == j) ? 2.0 : (double)((i * 13 + j * 7) % 10) / 16.0;
		}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double s = 0;
			for (int k = 0; k < n; k++)
				s += AT(x, i, k) * AT(y, k, j);
			AT(z, i, j) = s;
		}
	memset(z2, 0, sz * 8);
	for (int i = 0; i < n; i++)
		for (int k = 0; k < n; k++)
			for (int j = 0; j < n; j++)
				AT(z2, i, j) += AT(x, i, k) * AT(y, k, j);
	double tr = 0;
	for (int i = 0; i < n; i++)
		tr += AT(z, i, i);
	printf("double: digest %016llx same-as-ikj %d trace %.17g z[0][0] %a\n", (unsigned long long)digest_d(z),
	       digest_d(z) == digest_d(z2), tr, AT(z, 0, 0));
	/* Gaussian elimination with partial pivoting on y (well conditioned), solve y v = ones */
	double *m = malloc(sz * 8), *rhs = malloc((size_t)n * 8);
	memcpy(m, y, sz * 8);
	for (int i = 0; i < n; i++)
		rhs[i] = 1.0;
	for (int col = 0; col < n; col++) {
		int piv = col;
		for (int r = col + 1; r < n; r++)
			if ((AT(m, r, col) < 0 ? -AT(m, r, col) : AT(m, r, col)) > (AT(m, piv, col) < 0 ? -AT(m, piv, col) : AT(m, piv, col)))
				piv = r;
		if (piv != col) {
			for (int j = 0; j < n; j++) {
				double t = AT(m, col, j); AT(m, col, j) = AT(m, piv, j); AT(m, piv, j) = t;
			}
			double t = rhs[col]; rhs[col] = rhs[piv]; rhs[piv] = t;
		}
		for (int r = col + 1; r < n; r++) {
			double f = AT(m, r, col) / AT(m, col, col);
			for (int j = col; j < n; j++)
				AT(m, r, j) -= f * AT(m, col, j);
			rhs[r] -= f * rhs[col];
		}
	}
	for (int i = n - 1; i >= 0; i--) {
		double s = rhs[i];
		for (int j = i + 1; j < n; j++)
			s -= AT(m, i, j) * rhs[j];
		rhs[i] = s / AT(m, i, i);
	}
	double resid = 0;
	for (int i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < n; j++)
			s += AT(y, i, j) * rhs[j];
		resid += (s - 1) * (s - 1);
	}
	printf("solve: v[0]=%.17g v[n-1]=%.17g residual^2 %.3e\n", rhs[0], rhs[n - 1], resid);
	free(a); free(b); free(c); free(bt); free(x); free(y); free(z); free(z2); free(m); free(rhs);
	return 0;
}
