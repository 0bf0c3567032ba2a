// Exercises sorting algorithms (quicksort, mergesort, heapsort, shellsort, insertion, LSD radix, counting sort, string sort) on PRNG data with verification; argv[1] = element count.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0xDEADBEEFCAFEF00Dull;
static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	uint32_t x = (uint32_t)(((rng_state >> 18) ^ rng_state) >> 27), rot = (uint32_t)(rng_state >> 59);
	return (x >> rot) | (x << ((-rot) & 31));
}

static void insertion(int32_t *a, long n)
{
	for (long i = 1; i < n; i++) {
		int32_t v = a[i];
		long j = i - 1;
		while (j >= 0 && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}
static void quick(int32_t *a, long lo, long hi)
{
	while (hi - lo > 16) {
		int32_t p = a[lo + (hi - lo) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p) i++;
			while (a[j] > p) j--;
			if (i <= j) {
				int32_t t = a[i]; a[i] = a[j]; a[j] = t;
				i++; j--;
			}
		}
		if (j - lo < hi - i) {
			quick(a, lo, j);
			lo = i;
		} else {
			quick(a, i, hi);
			hi = j;
		}
	}
	insertion(a + lo, hi - lo + 1);
}
static void merge_sort(int32_t *a, int32_t *tmp, long n)
{
	if (n < 2)
		return;
	long m = n / 2;
	merge_sort(a, tmp, m);
	merge_sort(a + m, tmp, n - m);
	long i = 0, j = m, k = 0;
	while (i < m && j < n)
		tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
	while (i < m) tmp[k++] = a[i++];
	while (j < n) tmp[k++] = a[j++];
	memcpy(a, tmp, (size_t)n * sizeof *a);
}
static void sift(int32_t *a, long i, long n)
{
	for (;;) {
		long c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[i] >= a[c])
			return;
		int32_t t = a[i]; a[i] = a[c]; a[c] = t;
		i = c;
	}
}
static void heap_sort(int32_t *a, long n)
{
	for (long i = n / 2 - 1; i >= 0; i--)
		sift(a, i, n);
	for (long e = n - 1; e > 0; e--) {
		int32_t t = a[0]; a[0] = a[e]; a[e] = t;
		sift(a, 0, e);
	}
}
static void shell_sort(int32_t *a, long n)
{
	/* Ciura's gaps, extended by x2.25 so large inputs stay fast */
	long gaps[64] = {1, 4, 10, 23, 57, 132, 301, 701};
	int ng = 8;
	while (ng < 64 && gaps[ng - 1] < n / 2) {
		gaps[ng] = gaps[ng - 1] * 9 / 4;
		ng++;
	}
	for (int g = ng - 1; g >= 0; g--)
		for (long i = gaps[g]; i < n; i++) {
			int32_t v = a[i];
			long j = i;
			while (j >= gaps[g] && a[j - gaps[g]] > v) {
				a[j] = a[j - gaps[g]];
				j -= gaps[g];
			}
			a[j] = v;
		}
}
static void radix_sort(int32_t *a, int32_t *tmp, long n)
{
	for (int shift = 0; shift < 32; shift += 8) {
		long count[257] = {0};
		for (long i = 0; i < n; i++)
			count[(((uint32_t)a[i] ^ 0x80000000u) >> shift & 0xff) + 1]++;
		for (int i = 0; i < 256; i++)
			count[i + 1] += count[i];
		for (long i = 0; i < n; i++)
			tmp[count[((uint32_t)a[i] ^ 0x80000000u) >> shift & 0xff]++] = a[i];
		memcpy(a, tmp, (size_t)n * sizeof *a);
	}
}
static void counting_sort(int32_t *a, long n, int32_t lo, int32_t hi)
{
	long *c = calloc((size_t)(hi - lo + 1), sizeof *c);
	for (long i = 0; i < n; i++)
		c[a[i] - lo]++;
	long k = 0;
	for (int32_t v = lo; v <= hi; v++)
		for (long j = 0; j < c[v - lo]; j++)
			a[k++] = v;
	free(c);
}
static int sorted(const int32_t *a, long n)
{
	for (long i = 1; i < n; i++)
		if (a[i - 1] > a[i])
			return 0;
	return 1;
}
static uint64_t digest(const int32_t *a, long n)
{
	uint64_t h = 1469598103934665603ull;
	for (long i = 0; i < n; i++)
		h = (h ^ (uint32_t)a[i]) * 1099511628211ull;
	return h;
}
static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	int32_t *orig = malloc((size_t)n * 4), *a = malloc((size_t)n * 4), *tmp = malloc((size_t)n * 4);
	static const char *const kinds[] = {"random", "sorted", "reversed", "few-unique", "sawtooth"};
	for (int kind = 0; kind < 5; kind++) {
		for (long i = 0; i < n; i++) {
			switch (kind) {
			case 0: orig[i] = (int32_t)rng(); break;
			case 1: orig[i] = (int32_t)(i * 3 - n); break;
			case 2: orig[i] = (int32_t)(n - i); break;
			case 3: orig[i] = (int32_t)(rng() % 7) - 3; break;
			default: orig[i] = (int32_t)(i % 100) * ((i / 100) % 2 ? -1 : 1); break;
			}
		}
		uint64_t ref = 0;
		const char *names[] = {"quick", "merge", "heap", "shell", "radix", "insertion"};
		for (int alg = 0; alg < 6; alg++) {
			if (alg == 5 && n > 3000 && kind != 1)
				continue;
			memcpy(a, orig, (size_t)n * 4);
			switch (alg) {
			case 0: quick(a, 0, n - 1); break;
			case 1: merge_sort(a, tmp, n); break;
			case 2: heap_sort(a, n); break;
			case 3: shell_sort(a, n); break;
			case 4: radix_sort(a, tmp, n); break;
			case 5: insertion(a, n); break;
			}
			uint64_t d = digest(a, n);
			if (alg == 0)
				ref = d;
			printf("%-10s %-9s sorted=%d same=%d min=%d max=%d\n", kinds[kind], names[alg], sorted(a, n), d == ref, a[0], a[n - 1]);
		}
		printf("%-10s digest %016llx\n", kinds[kind], (unsigned long long)ref);
	}
	for (long i = 0; i < n; i++)
		a[i] = (int32_t)(rng() % 1000) - 500;
	counting_sort(a, n, -500, 499);
	printf("counting sort sorted=%d digest %016llx\n", sorted(a, n), (unsigned long long)digest(a, n));
	/* strings */
	enum { NS = 2000 };
	static char store[NS][12];
	static char *ptrs[NS];
	for (int i = 0; i < NS; i++) {
		int len = 1 + (int)(rng() % 10);
		for (int k = 0; k < len; k++)
			store[i][k] = (char)('a' + rng() % 26);
		store[i][len] = 0;
		ptrs[i] = store[i];
	}
	qsort(ptrs, NS, sizeof ptrs[0], cmp_str);
	int ok = 1;
	uint64_t h = 0;
	for (int i = 1; i < NS; i++)
		if (strcmp(ptrs[i - 1], ptrs[i]) > 0)
			ok = 0;
	for (int i = 0; i < NS; i++)
		for (char *c = ptrs[i]; *c; c++)
			h = h * 131 + (unsigned char)*c;
	printf("strings sorted=%d first=%s last=%s hash=%016llx\n", ok, ptrs[0], ptrs[NS - 1], (unsigned long long)h);
	free(orig); free(a); free(tmp);
	return 0;
}
