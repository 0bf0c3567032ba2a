// Exercises double-precision loops with a division in the inner loop: the spectral norm of an infinite matrix (power method, 10 rounds), printed with %.9f; argv[1] = n.
// args: 300
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double a(int i, int j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void times(int n, const double *v, double *out, int transposed)
{
	for (int i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < n; j++)
			s += (transposed ? a(j, i) : a(i, j)) * v[j];
		out[i] = s;
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300;
	if (n < 1)
		n = 300;
	double *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v), *t = malloc(n * sizeof *t);
	if (!u || !v || !t)
		return printf("out of memory\n"), 1;
	for (int i = 0; i < n; i++)
		u[i] = 1;
	for (int round = 0; round < 10; round++) {
		times(n, u, t, 0);
		times(n, t, v, 1);
		times(n, v, t, 0);
		times(n, t, u, 1);
	}
	double vbv = 0, vv = 0;
	for (int i = 0; i < n; i++) {
		vbv += u[i] * v[i];
		vv += v[i] * v[i];
	}
	printf("%.9f\n", sqrt(vbv / vv));
	return 0;
}
