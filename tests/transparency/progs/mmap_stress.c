// Exercises anonymous memory under random churn (fixed seed): mappings of 1..96 pages mapped, filled, checked, shrunk from either end, grown or moved by mremap, partly replaced by MAP_FIXED, made read-only and unmapped, thousands of times; every page must read as zero when new and keep its bytes while mapped. Prints counts and any mismatch.
// args: 6000
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PG 4096
#define SLOTS 48

struct slot {
	unsigned char *p;
	size_t pages;
	unsigned tag;   /* page i holds bytes (tag + i) & 0xff, or 0 where fresh */
	int read_only;
	int split;      /* a page replaced by MAP_FIXED: Linux's mremap wants one mapping */
};

static struct slot slots[SLOTS];
static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static long nonzero_fresh, wrong_kept, ops[6];

static unsigned rng(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static void expect_zero(const unsigned char *p, size_t pages)
{
	for (size_t i = 0; i < pages * PG; i++)
		if (p[i]) {
			nonzero_fresh++;
			return;
		}
}

static void fill(struct slot *s, size_t from)
{
	for (size_t i = from; i < s->pages; i++)
		memset(s->p + i * PG, (int)((s->tag + i) & 0xff) | 1, PG);
}

static void expect_kept(const struct slot *s, size_t pages)
{
	for (size_t i = 0; i < pages; i++) {
		unsigned char want = (unsigned char)(((s->tag + i) & 0xff) | 1);
		const unsigned char *q = s->p + i * PG;
		if (q[0] != want || q[PG / 2] != want || q[PG - 1] != want) {
			wrong_kept++;
			return;
		}
	}
}

static void new_mapping(struct slot *s)
{
	s->pages = 1 + rng(96);
	s->p = mmap(NULL, s->pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->p == MAP_FAILED) {
		printf("mmap of %zu pages failed\n", s->pages);
		exit(1);
	}
	expect_zero(s->p, s->pages);
	s->tag = rng(256);
	s->read_only = 0;
	s->split = 0;
	fill(s, 0);
	ops[0]++;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 6000;
	for (long r = 0; r < rounds; r++) {
		struct slot *s = &slots[rng(SLOTS)];
		if (!s->p) {
			new_mapping(s);
			continue;
		}
		expect_kept(s, s->pages);
		switch (rng(6)) {
		case 0:   /* unmap whole */
			munmap(s->p, s->pages * PG);
			s->p = NULL;
			ops[1]++;
			break;
		case 1:   /* shrink from the end or the start */
			if (s->pages > 1) {
				size_t cut = 1 + rng((unsigned)s->pages - 1);
				if (rng(2)) {
					munmap(s->p + (s->pages - cut) * PG, cut * PG);
				} else {
					munmap(s->p, cut * PG);
					s->p += cut * PG;
					s->tag += (unsigned)cut;
				}
				s->pages -= cut;
				ops[2]++;
			}
			break;
		case 2:   /* grow (in place or moved): the new part is zero */
			if (!s->read_only && !s->split) {
				size_t more = 1 + rng(32);
				unsigned char *q = mremap(s->p, s->pages * PG, (s->pages + more) * PG, MREMAP_MAYMOVE);
				if (q == MAP_FAILED) {
					printf("mremap failed\n");
					return 1;
				}
				s->p = q;
				expect_zero(q + s->pages * PG, more);
				size_t old = s->pages;
				s->pages += more;
				fill(s, old);
				ops[3]++;
			}
			break;
		case 3:   /* replace a middle page in place with a fresh one */
			if (s->pages > 2 && !s->read_only) {
				size_t at = 1 + rng((unsigned)s->pages - 2);
				unsigned char *q = mmap(s->p + at * PG, PG, PROT_READ | PROT_WRITE,
				                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
				if (q != s->p + at * PG) {
					printf("MAP_FIXED failed\n");
					return 1;
				}
				expect_zero(q, 1);
				memset(q, (int)((s->tag + at) & 0xff) | 1, PG);
				s->split = 1;
				ops[4]++;
			}
			break;
		case 4:   /* read-only, then unmapped */
			mprotect(s->p, s->pages * PG, PROT_READ);
			s->read_only = 1;
			expect_kept(s, s->pages);
			munmap(s->p, s->pages * PG);
			s->p = NULL;
			ops[5]++;
			break;
		default:   /* rewrite in place */
			if (!s->read_only) {
				s->tag = rng(256);
				fill(s, 0);
			}
			break;
		}
	}
	printf("maps %ld, unmaps %ld, shrinks %ld, mremaps %ld, fixed %ld, read-only %ld\n", ops[0], ops[1], ops[2],
	       ops[3], ops[4], ops[5]);
	printf("nonzero fresh mappings %ld, mappings that lost their bytes %ld\n", nonzero_fresh, wrong_kept);
	return nonzero_fresh || wrong_kept;
}
