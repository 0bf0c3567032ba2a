// Exercises memory that is unmapped and mapped again: every new anonymous mapping and every page the break grows into must read as zero, whatever the same addresses held before (same sizes mapped over and over, read-only maps, part of a mapping unmapped and mapped again with MAP_FIXED, the break shrunk and grown, mremap); prints how many nonzero bytes it found.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096

static long nonzero(const unsigned char *p, size_t len)
{
	long n = 0;
	for (size_t i = 0; i < len; i++)
		n += p[i] != 0;
	return n;
}

static unsigned char *map(void *at, size_t len, int prot, int extra)
{
	unsigned char *p = mmap(at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int main(void)
{
	long bad = 0, maps = 0;

	/* the same sizes over and over, each filled before it goes */
	static const size_t sizes[] = {PG, 8 * PG, 32 * PG, 3 * PG};
	for (int round = 0; round < 400; round++) {
		size_t len = sizes[round % 4];
		unsigned char *p = map(NULL, len, PROT_READ | PROT_WRITE, 0);
		if (!p)
			return printf("mmap failed\n"), 1;
		bad += nonzero(p, len);
		memset(p, 0xab, len);
		munmap(p, len);
		maps++;
	}

	/* filled, unmapped, then mapped again read-only */
	for (int round = 0; round < 20; round++) {
		unsigned char *p = map(NULL, 8 * PG, PROT_READ | PROT_WRITE, 0);
		memset(p, 0xcd, 8 * PG);
		munmap(p, 8 * PG);
		unsigned char *q = map(NULL, 8 * PG, PROT_READ, 0);
		bad += nonzero(q, 8 * PG);
		munmap(q, 8 * PG);
		maps += 2;
	}

	/* the middle of a mapping unmapped and mapped again in place */
	unsigned char *whole = map(NULL, 16 * PG, PROT_READ | PROT_WRITE, 0);
	memset(whole, 0xef, 16 * PG);
	munmap(whole + 4 * PG, 8 * PG);
	unsigned char *mid = map(whole + 4 * PG, 8 * PG, PROT_READ | PROT_WRITE, MAP_FIXED);
	bad += mid ? nonzero(mid, 8 * PG) : 1;
	/* and a fixed map over pages still mapped */
	unsigned char *over = map(whole, 4 * PG, PROT_READ | PROT_WRITE, MAP_FIXED);
	bad += over ? nonzero(over, 4 * PG) : 1;
	long kept = 0;
	for (size_t i = 12 * PG; i < 16 * PG; i++)
		kept += whole[i] == 0xef;
	munmap(whole, 16 * PG);

	/* the break shrunk and grown again */
	unsigned char *brk0 = sbrk(0);
	if (sbrk(16 * PG) != (void *)-1) {
		memset(brk0, 0x5a, 16 * PG);
		sbrk(-16 * PG);
		sbrk(16 * PG);
		bad += nonzero(brk0, 16 * PG);
		sbrk(-16 * PG);
	}

	/* mremap: grown in place or moved, the new part reads as zero */
	unsigned char *r = map(NULL, 4 * PG, PROT_READ | PROT_WRITE, 0);
	memset(r, 0x77, 4 * PG);
	unsigned char *spare = map(NULL, 8 * PG, PROT_READ | PROT_WRITE, 0);
	memset(spare, 0x66, 8 * PG);
	munmap(spare, 8 * PG);
	unsigned char *grown = mremap(r, 4 * PG, 12 * PG, MREMAP_MAYMOVE);
	if (grown != MAP_FAILED) {
		bad += nonzero(grown + 4 * PG, 8 * PG);
		kept += grown[0] == 0x77 && grown[4 * PG - 1] == 0x77;
		munmap(grown, 12 * PG);
	}

	printf("%ld mappings, %ld nonzero bytes in fresh memory, %ld bytes kept where they should be\n", maps, bad, kept);
	return bad != 0;
}
