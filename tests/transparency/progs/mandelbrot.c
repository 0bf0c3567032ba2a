// Exercises floating-point loops: an ASCII Mandelbrot and Julia set with iteration counts and escape-radius sums; argv[1] = width (height is width/2).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int iterate(double cr, double ci, double zr, double zi, int max, double *last)
{
	int it = 0;
	while (it < max) {
		double zr2 = zr * zr, zi2 = zi * zi;
		if (zr2 + zi2 > 4.0)
			break;
		zi = 2.0 * zr * zi + ci;
		zr = zr2 - zi2 + cr;
		it++;
	}
	*last = zr * zr + zi * zi;
	return it;
}

int main(int argc, char **argv)
{
	int w = argc > 1 ? atoi(argv[1]) : 72;
	int h = w / 2;
	const char *shades = " .:-=+*#%@";
	long total = 0;
	uint64_t hash = 0;
	for (int pass = 0; pass < 2; pass++) {
		printf(pass ? "julia c=-0.8+0.156i\n" : "mandelbrot\n");
		for (int y = 0; y < h; y++) {
			char line[4096];
			int k = 0;
			for (int x = 0; x < w && k < (int)sizeof line - 1; x++) {
				double re = -2.2 + 3.2 * x / w, im = -1.2 + 2.4 * y / h, last;
				int it = pass ? iterate(-0.8, 0.156, re * 0.7, im, 200, &last) : iterate(re, im, 0, 0, 200, &last);
				total += it;
				uint64_t u;
				memcpy(&u, &last, 8);
				hash = (hash ^ u) * 0x100000001b3ull;
				line[k++] = it >= 200 ? '@' : shades[it % 9];
			}
			line[k] = 0;
			printf("%s\n", line);
		}
	}
	printf("total iterations %ld, hash %016llx\n", total, (unsigned long long)hash);
	return 0;
}
