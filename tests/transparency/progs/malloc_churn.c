// Exercises the allocator: thousands of malloc/calloc/realloc/free of random-ish sizes (small to >128 KiB mmap-sized) with a fixed-seed PRNG, content verification, aligned_alloc; argv[1] = operations.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x853c49e6748fea9bull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#define SLOTS 512
struct slot { unsigned char *p; size_t size; uint32_t seed; };
static struct slot slots[SLOTS];
static long errors;
static uint64_t hash = 0xcbf29ce484222325ull;

static size_t pick_size(void)
{
	unsigned r = (unsigned)(rng() % 1000);
	if (r < 700) return 1 + rng() % 128;
	if (r < 950) return 129 + rng() % 4000;
	if (r < 997) return 4097 + rng() % 30000;
	return 65537 + rng() % 200000;
}
static unsigned char pat(uint32_t seed, size_t i) { return (unsigned char)((seed >> (i % 24)) + i * 131); }
static void fill(struct slot *s, size_t from)
{
	for (size_t i = from; i < s->size; i++)
		s->p[i] = pat(s->seed, i);
}
static void verify(const struct slot *s, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (s->p[i] != pat(s->seed, i)) {
			errors++;
			return;
		}
	for (size_t i = 0; i < upto; i += 61)
		hash = (hash ^ s->p[i]) * 0x100000001b3ull;
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 10000;
	long nmalloc = 0, ncalloc = 0, nrealloc = 0, nfree = 0, bytes = 0, peak_live = 0, live = 0;
	for (long op = 0; op < ops; op++) {
		struct slot *s = &slots[rng() % SLOTS];
		unsigned what = (unsigned)(rng() % 100);
		if (!s->p) {
			s->size = pick_size();
			s->seed = (uint32_t)rng();
			if (what < 15) {
				s->p = calloc(1, s->size);
				ncalloc++;
				for (size_t i = 0; i < s->size; i++)
					if (s->p[i]) {
						errors++;
						break;
					}
			} else {
				s->p = malloc(s->size);
				nmalloc++;
			}
			if (!s->p) {
				printf("allocation of %zu failed\n", s->size);
				return 1;
			}
			fill(s, 0);
			bytes += (long)s->size;
			live += (long)s->size;
		} else if (what < 50) {
			verify(s, s->size);
			free(s->p);
			s->p = NULL;
			live -= (long)s->size;
			nfree++;
		} else {
			size_t ns = what < 90 ? pick_size() : s->size + 1 + rng() % 64;
			unsigned char *np = realloc(s->p, ns);
			if (!np) {
				printf("realloc to %zu failed\n", ns);
				return 1;
			}
			s->p = np;
			verify(s, ns < s->size ? ns : s->size);
			live += (long)ns - (long)s->size;
			size_t old = s->size;
			s->size = ns;
			if (ns > old)
				fill(s, old);
			nrealloc++;
		}
		if (live > peak_live)
			peak_live = live;
	}
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].p) {
			verify(&slots[i], slots[i].size);
			free(slots[i].p);
			slots[i].p = NULL;
		}
	printf("ops=%ld malloc=%ld calloc=%ld realloc=%ld free=%ld bytes=%ld peak_live=%ld errors=%ld hash=%016llx\n",
	       ops, nmalloc, ncalloc, nrealloc, nfree, bytes, peak_live, errors, (unsigned long long)hash);

	/* aligned allocations */
	int misaligned = 0;
	void *keep[64];
	for (int i = 0; i < 64; i++) {
		size_t al = (size_t)1 << (4 + i % 9);
		void *p;
		if (i % 2) {
			p = aligned_alloc(al, al * (size_t)(1 + i % 3) * (al < 128 ? 128 / al : 1));
		} else if (posix_memalign(&p, al, 100 + (size_t)i * 10) != 0) {
			p = NULL;
		}
		if (!p || ((uintptr_t)p & (al - 1)))
			misaligned++;
		if (p)
			memset(p, i, 100);
		keep[i] = p;
	}
	long ksum = 0;
	for (int i = 0; i < 64; i++) {
		ksum += keep[i] ? ((unsigned char *)keep[i])[99] : -1000;
		free(keep[i]);
	}
	printf("aligned: misaligned=%d ksum=%ld\n", misaligned, ksum);

	/* realloc growth pattern of a vector, and malloc(0)/realloc(NULL)/free(NULL) */
	int *vec = NULL;
	size_t cap = 0, n = 0;
	for (int i = 0; i < 100000; i++) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			vec = realloc(vec, cap * sizeof *vec);
		}
		vec[n++] = i ^ (i >> 3);
	}
	long long vs = 0;
	for (size_t i = 0; i < n; i++)
		vs += vec[i];
	free(vec);
	void *z = malloc(0), *rn = realloc(NULL, 10);
	free(NULL);
	printf("vector n=%zu cap=%zu sum=%lld malloc(0) non-null=%d realloc(NULL) non-null=%d\n", n, cap, vs, z != NULL, rn != NULL);
	free(z);
	free(rn);
	/* many tiny objects, freed in a scrambled order */
	enum { TINY = 20000 };
	static void *tiny[TINY];
	for (int i = 0; i < TINY; i++) {
		tiny[i] = malloc(1 + (size_t)(i % 48));
		memset(tiny[i], i & 0xff, 1 + (size_t)(i % 48));
	}
	long tsum = 0;
	for (int i = 0; i < TINY; i++) {
		int j = (int)(((long)i * 7919) % TINY);
		tsum += ((unsigned char *)tiny[j])[0];
		free(tiny[j]);
	}
	printf("tiny sum %ld\n", tsum);
	return errors ? 1 : 0;
}
