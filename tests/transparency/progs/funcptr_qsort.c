// Exercises function pointers and callbacks: qsort/bsearch with many comparators, dispatch tables, vtables, functions returning function pointers.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static int cmp_asc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}
static int cmp_desc(const void *a, const void *b) { return cmp_asc(b, a); }
static int cmp_abs(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	unsigned ax = x < 0 ? -(unsigned)x : (unsigned)x, ay = y < 0 ? -(unsigned)y : (unsigned)y;
	if (ax != ay)
		return (ax > ay) - (ax < ay);
	return (x > y) - (x < y);
}
static int cmp_lastdigit(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	int dx = abs(x % 10), dy = abs(y % 10);
	if (dx != dy)
		return dx - dy;
	return (x > y) - (x < y);
}

struct person { char name[16]; int age; double score; };
static int cmp_name(const void *a, const void *b)
{
	const struct person *p = a, *q = b;
	int c = strcmp(p->name, q->name);
	return c ? c : p->age - q->age;
}
static int cmp_age_score(const void *a, const void *b)
{
	const struct person *p = a, *q = b;
	if (p->age != q->age)
		return p->age - q->age;
	if (p->score != q->score)
		return p->score < q->score ? -1 : 1;
	return strcmp(p->name, q->name);
}
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned long hash_ints(const int *a, int n)
{
	unsigned long h = 1469598103934665603ul;
	for (int i = 0; i < n; i++)
		h = (h ^ (unsigned)a[i]) * 1099511628211ul;
	return h;
}

typedef int (*binop)(int, int);
static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int op_xor(int a, int b) { return a ^ b; }
static int op_max(int a, int b) { return a > b ? a : b; }
static const binop optable[] = {op_add, op_sub, op_mul, op_xor, op_max};
static binop pick(unsigned i) { return optable[i % 5]; }
typedef binop (*picker)(unsigned);

static void for_each(const int *a, int n, void (*cb)(int, void *), void *ctx)
{
	for (int i = 0; i < n; i++)
		cb(a[i], ctx);
}
struct stats { long sum; int min, max, count; };
static void acc_stats(int v, void *ctx)
{
	struct stats *s = ctx;
	s->sum += v;
	if (s->count == 0 || v < s->min) s->min = v;
	if (s->count == 0 || v > s->max) s->max = v;
	s->count++;
}
static void acc_hist(int v, void *ctx) { ((int *)ctx)[(unsigned)v % 8]++; }

/* "OOP" through vtables */
struct shape;
struct shape_vt {
	long (*area2)(const struct shape *);
	const char *(*name)(void);
};
struct shape { const struct shape_vt *vt; int a, b; };
static long rect_area2(const struct shape *s) { return 2L * s->a * s->b; }
static long tri_area2(const struct shape *s) { return (long)s->a * s->b; }
static const char *rect_name(void) { return "rect"; }
static const char *tri_name(void) { return "tri"; }
static const struct shape_vt rect_vt = {rect_area2, rect_name}, tri_vt = {tri_area2, tri_name};

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3000;
	if (n < 16)
		n = 16;
	int *a = malloc(sizeof(int) * (size_t)n), *b = malloc(sizeof(int) * (size_t)n);
	for (int i = 0; i < n; i++)
		a[i] = (int)(rng() % 20001) - 10000;
	static int (*const cmps[])(const void *, const void *) = {cmp_asc, cmp_desc, cmp_abs, cmp_lastdigit};
	static const char *const cmpnames[] = {"asc", "desc", "abs", "lastdigit"};
	for (int c = 0; c < 4; c++) {
		memcpy(b, a, sizeof(int) * (size_t)n);
		qsort(b, (size_t)n, sizeof(int), cmps[c]);
		int ok = 1;
		for (int i = 1; i < n; i++)
			if (cmps[c](&b[i - 1], &b[i]) > 0)
				ok = 0;
		printf("qsort %-9s ok=%d first=%d last=%d hash=%016lx\n", cmpnames[c], ok, b[0], b[n - 1], hash_ints(b, n));
	}
	memcpy(b, a, sizeof(int) * (size_t)n);
	qsort(b, (size_t)n, sizeof(int), cmp_asc);
	int found = 0, probes = 0;
	long foundsum = 0;
	for (int key = -10000; key <= 10000; key += 7) {
		int *p = bsearch(&key, b, (size_t)n, sizeof(int), cmp_asc);
		probes++;
		if (p) {
			found++;
			foundsum += *p;
		}
	}
	printf("bsearch: probes=%d found=%d sum=%ld\n", probes, found, foundsum);

	struct person ppl[40];
	static const char *const names[] = {"ada", "bob", "cy", "dee", "eve", "fay", "gus", "hal"};
	for (int i = 0; i < 40; i++) {
		const char *nm = names[rng() % 8];
		int suffix = (int)(rng() % 5);
		snprintf(ppl[i].name, sizeof ppl[i].name, "%s%d", nm, suffix);
		ppl[i].age = 20 + (int)(rng() % 30);
		ppl[i].score = (double)(rng() % 1000) / 8.0;
	}
	qsort(ppl, 40, sizeof ppl[0], cmp_name);
	for (int i = 0; i < 40; i += 8)
		printf("byname[%d] = %s %d %.3f\n", i, ppl[i].name, ppl[i].age, ppl[i].score);
	qsort(ppl, 40, sizeof ppl[0], cmp_age_score);
	for (int i = 0; i < 40; i += 8)
		printf("byage[%d] = %s %d %.3f\n", i, ppl[i].name, ppl[i].age, ppl[i].score);

	char *words[] = {"pear", "apple", "fig", "banana", "kiwi", "cherry", "date", "apple2", "Zed", "", "a"};
	qsort(words, sizeof words / sizeof words[0], sizeof words[0], cmp_str);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		printf("[%s]", words[i]);
	printf("\n");
	char *key = "fig";
	char **hit = bsearch(&key, words, sizeof words / sizeof words[0], sizeof words[0], cmp_str);
	printf("bsearch fig -> index %d\n", hit ? (int)(hit - words) : -1);

	int acc = 1;
	volatile picker pk = pick;
	for (unsigned i = 0; i < 1000; i++)
		acc = pk(i * 7 + 3)(acc, (int)(i % 97) + 1) & 0xffffff;
	printf("binop chain acc=%d\n", acc);

	struct stats st = {0, 0, 0, 0};
	int hist[8] = {0};
	for_each(a, n, acc_stats, &st);
	for_each(a, n, acc_hist, hist);
	printf("stats: sum=%ld min=%d max=%d count=%d hist=", st.sum, st.min, st.max, st.count);
	for (int i = 0; i < 8; i++)
		printf("%d%c", hist[i], i == 7 ? '\n' : ',');

	struct shape shapes[6];
	for (int i = 0; i < 6; i++) {
		shapes[i].vt = i % 2 ? &tri_vt : &rect_vt;
		shapes[i].a = i + 3;
		shapes[i].b = 2 * i + 1;
	}
	long total = 0;
	for (int i = 0; i < 6; i++) {
		long ar = shapes[i].vt->area2(&shapes[i]);
		printf("%s(%d,%d) area*2=%ld\n", shapes[i].vt->name(), shapes[i].a, shapes[i].b, ar);
		total += ar;
	}
	printf("total area*2=%ld\n", total);
	free(a);
	free(b);
	return 0;
}
