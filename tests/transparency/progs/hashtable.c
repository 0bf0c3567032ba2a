// Exercises hash tables: open addressing with tombstones and resizing, separate chaining with string keys (word counts), checked against a shadow array; argv[1] = operations.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x0123456789ABCDEFull;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
	return x;
}

/* open addressing, linear probing, keys != 0; TOMB marks deleted slots */
#define TOMB UINT64_MAX
struct oa { uint64_t *keys; int64_t *vals; size_t cap, used, live; unsigned long probes, resizes; };
static void oa_init(struct oa *t, size_t cap)
{
	t->keys = calloc(cap, 8);
	t->vals = calloc(cap, 8);
	t->cap = cap;
	t->used = t->live = 0;
}
static void oa_put(struct oa *t, uint64_t k, int64_t v);
static void oa_grow(struct oa *t)
{
	struct oa old = *t;
	oa_init(t, old.live * 4 > old.cap ? old.cap * 2 : old.cap);
	t->probes = old.probes;
	t->resizes = old.resizes + 1;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i] && old.keys[i] != TOMB)
			oa_put(t, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}
static void oa_put(struct oa *t, uint64_t k, int64_t v)
{
	if ((t->used + 1) * 10 > t->cap * 7)
		oa_grow(t);
	size_t i = mix64(k) & (t->cap - 1), tomb = SIZE_MAX;
	for (;; i = (i + 1) & (t->cap - 1)) {
		t->probes++;
		if (t->keys[i] == k) {
			t->vals[i] = v;
			return;
		}
		if (t->keys[i] == TOMB && tomb == SIZE_MAX)
			tomb = i;
		if (t->keys[i] == 0)
			break;
	}
	if (tomb != SIZE_MAX)
		i = tomb;
	else
		t->used++;
	t->keys[i] = k;
	t->vals[i] = v;
	t->live++;
}
static int64_t *oa_get(struct oa *t, uint64_t k)
{
	for (size_t i = mix64(k) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		t->probes++;
		if (t->keys[i] == k)
			return &t->vals[i];
		if (t->keys[i] == 0)
			return NULL;
	}
}
static int oa_del(struct oa *t, uint64_t k)
{
	int64_t *v = oa_get(t, k);
	if (!v)
		return 0;
	t->keys[v - t->vals] = TOMB;
	t->live--;
	return 1;
}

/* chaining with string keys */
struct node { struct node *next; char *key; long count; };
struct chain { struct node **b; size_t nb, n; };
static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}
static void ch_add(struct chain *c, const char *w)
{
	size_t i = str_hash(w) % c->nb;
	for (struct node *p = c->b[i]; p; p = p->next)
		if (!strcmp(p->key, w)) {
			p->count++;
			return;
		}
	struct node *p = malloc(sizeof *p);
	p->key = strdup(w);
	p->count = 1;
	p->next = c->b[i];
	c->b[i] = p;
	c->n++;
}
static int cmp_node(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 60000;
	enum { UNIVERSE = 5000 };
	static int64_t shadow[UNIVERSE];
	static char present[UNIVERSE];
	struct oa t;
	oa_init(&t, 16);
	t.probes = t.resizes = 0;
	long mism = 0, hits = 0, dels = 0;
	for (long op = 0; op < ops; op++) {
		uint64_t r = rng();
		uint32_t k = (uint32_t)(r % UNIVERSE);
		uint64_t key = (uint64_t)k * 0x9E3779B97F4A7C15ull + 1;
		switch ((r >> 32) % 4) {
		case 0: case 1:
			oa_put(&t, key, (int64_t)op);
			shadow[k] = op;
			present[k] = 1;
			break;
		case 2: {
			int64_t *v = oa_get(&t, key);
			if ((v != NULL) != present[k] || (v && *v != shadow[k]))
				mism++;
			hits += v != NULL;
			break;
		}
		default:
			if (oa_del(&t, key) != present[k])
				mism++;
			dels += present[k];
			present[k] = 0;
		}
	}
	long npresent = 0;
	for (int k = 0; k < UNIVERSE; k++)
		npresent += present[k];
	printf("open addressing: ops=%ld live=%zu (expect %ld) cap=%zu hits=%ld dels=%ld resizes=%lu probes=%lu mismatches=%ld\n",
	       ops, t.live, npresent, t.cap, hits, dels, t.resizes, t.probes, mism);

	static const char *const words[] = {"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
	                                    "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua"};
	struct chain c = {calloc(97, sizeof(struct node *)), 97, 0};
	char w[64];
	for (long i = 0; i < ops / 2; i++) {
		uint64_t r = rng();
		snprintf(w, sizeof w, "%s%s%u", words[r % 19], (r >> 8) % 3 ? "" : words[(r >> 16) % 19], (unsigned)((r >> 24) % 4));
		ch_add(&c, w);
	}
	struct node **all = malloc(c.n * sizeof *all);
	size_t k = 0, longest = 0;
	for (size_t i = 0; i < c.nb; i++) {
		size_t len = 0;
		for (struct node *p = c.b[i]; p; p = p->next, len++)
			all[k++] = p;
		if (len > longest)
			longest = len;
	}
	qsort(all, c.n, sizeof *all, cmp_node);
	printf("chaining: distinct=%zu longest chain=%zu\n", c.n, longest);
	for (int i = 0; i < 8 && (size_t)i < c.n; i++)
		printf("  %-24s %ld\n", all[i]->key, all[i]->count);
	for (size_t i = 0; i < c.n; i++) {
		free(all[i]->key);
		free(all[i]);
	}
	free(all);
	free(c.b);
	free(t.keys);
	free(t.vals);
	return mism ? 1 : 0;
}
