// Exercises string/memory functions (memcpy, memmove incl. overlap, memset, memcmp, memchr, strlen, strcmp, strncmp, strstr, strchr, ...) over many sizes and alignments, and at a page boundary.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t h = 0xcbf29ce484222325ull;
static void mix(uint64_t v) { h = (h ^ v) * 0x100000001b3ull; }
static void mixbuf(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mix(p[i]);
}
static int sgn(int v) { return (v > 0) - (v < 0); }
static long errors;
#define CHECK(c) do { if (!(c)) { errors++; if (errors < 10) printf("check failed line %d\n", __LINE__); } } while (0)

/* Copies through volatile function pointers so the compiler cannot replace the calls with inline code. */
static void *(*volatile p_memcpy)(void *, const void *, size_t) = memcpy;
static void *(*volatile p_memmove)(void *, const void *, size_t) = memmove;
static void *(*volatile p_memset)(void *, int, size_t) = memset;
static size_t (*volatile p_strlen)(const char *) = strlen;

static unsigned char src[70000], dst[70000];

int main(void)
{
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (unsigned char)(i * 7 + (i >> 8) + 1);
	static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129,
	                               255, 256, 257, 511, 512, 513, 1000, 1024, 4095, 4096, 4097, 8191, 65536 + 3};
	const size_t nsizes = sizeof sizes / sizeof sizes[0];
	/* memcpy: every size x src alignment x dst alignment, with canaries */
	for (size_t si = 0; si < nsizes; si++) {
		size_t n = sizes[si];
		int maxal = n > 5000 ? 2 : 16;
		for (int sa = 0; sa < maxal; sa++)
			for (int da = 0; da < maxal; da += 3) {
				memset(dst, 0xEE, n + 64);
				p_memcpy(dst + 16 + da, src + sa, n);
				CHECK(dst[15 + da] == 0xEE && dst[16 + da + n] == 0xEE);
				CHECK(memcmp(dst + 16 + da, src + sa, n) == 0);
				mix(dst[16 + da + n / 2]);
			}
	}
	printf("memcpy done: h=%016llx errors=%ld\n", (unsigned long long)h, errors);
	/* memmove with overlap in both directions */
	for (size_t si = 0; si < nsizes; si++) {
		size_t n = sizes[si];
		if (n > 5000)
			continue;
		for (int shift = -33; shift <= 33; shift += (shift > -3 && shift < 3) ? 1 : 5) {
			unsigned char ref[6000];
			memcpy(dst, src, n + 100);
			memcpy(ref, src, n + 100);
			size_t from = 50, to = (size_t)(50 + shift);
			/* reference: byte-by-byte through a temporary */
			unsigned char tmp[6000];
			for (size_t i = 0; i < n; i++)
				tmp[i] = ref[from + i];
			for (size_t i = 0; i < n; i++)
				ref[to + i] = tmp[i];
			p_memmove(dst + to, dst + from, n);
			CHECK(memcmp(dst, ref, n + 100) == 0);
			mix(dst[to + n / 3]);
		}
	}
	printf("memmove done: h=%016llx errors=%ld\n", (unsigned long long)h, errors);
	/* memset */
	for (size_t si = 0; si < nsizes; si++) {
		size_t n = sizes[si];
		for (int a = 0; a < 16; a += 5) {
			memset(dst, 1, n + 40);
			p_memset(dst + 8 + a, (int)(n & 0xff) | 0x100, n);
			CHECK(dst[7 + a] == 1 && dst[8 + a + n] == 1);
			for (size_t i = 0; i < n; i++)
				if (dst[8 + a + i] != (unsigned char)n) {
					errors++;
					break;
				}
		}
	}
	printf("memset done: errors=%ld\n", errors);
	/* strlen / strchr / strrchr / memchr over lengths and alignments */
	char *s = (char *)dst;
	for (size_t len = 0; len < 300; len++)
		for (int a = 0; a < 16; a++) {
			memset(s, 'a' + (int)(len % 26), 400);
			s[a + len] = 0;
			CHECK(p_strlen(s + a) == len);
			if (len > 2) {
				s[a + len / 2] = '#';
				s[a + len - 1] = '#';
				CHECK(strchr(s + a, '#') == s + a + len / 2);
				CHECK(strrchr(s + a, '#') == s + a + len - 1);
				CHECK(memchr(s + a, '#', len) == s + a + len / 2);
				CHECK(memrchr(s + a, '#', len) == s + a + len - 1);
				CHECK(strchr(s + a, 0) == s + a + len);
				CHECK(strchrnul(s + a, '@') == s + a + len);
			}
		}
	printf("strlen/strchr done: errors=%ld\n", errors);
	/* strcmp/strncmp/memcmp with a difference at every position */
	char *t = (char *)src + 1000;
	long cmpsum = 0;
	for (size_t len = 1; len < 200; len += 3)
		for (int a = 0; a < 8; a++)
			for (int b = 0; b < 8; b += 3) {
				char *x = s + a, *y = t + b;
				for (size_t i = 0; i < len; i++)
					x[i] = y[i] = (char)('A' + (i * 13) % 50);
				x[len] = y[len] = 0;
				CHECK(strcmp(x, y) == 0 && strncmp(x, y, len + 5) == 0 && memcmp(x, y, len) == 0);
				size_t pos = (len * 7) % len;
				x[pos] = (char)(x[pos] + (len % 2 ? 1 : -1));
				cmpsum = cmpsum * 3 + sgn(strcmp(x, y)) + 5 * sgn(memcmp(x, y, len)) + 7 * sgn(strncmp(x, y, pos + 1)) + 11 * sgn(strncmp(x, y, pos));
				x[pos] = (char)0xC8; /* high bytes compare as unsigned */
				cmpsum = cmpsum * 3 + sgn(strcmp(x, y)) + 2 * sgn(strcasecmp(x, y));
				cmpsum %= 1000000007;
			}
	printf("compare checksum %ld errors=%ld\n", cmpsum, errors);
	/* strstr / memmem / strspn / strcspn / strpbrk / strtok_r */
	static const char hay[] = "the rain in spain stays mainly in the plain; aaaaaaaaaaab abababababc mississippi";
	static const char *const needles[] = {"ain", "plain", "spain s", "aaab", "ababc", "issip", "ssippi", "", "x", "the", "mainly in the plain; a", "abababababd", "i"};
	for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
		const char *p = strstr(hay, needles[i]);
		const char *q = memmem(hay, sizeof hay - 1, needles[i], strlen(needles[i]));
		printf("strstr(%s)=%ld memmem=%ld strspn=%zu strcspn=%zu pbrk=%ld\n", needles[i], p ? (long)(p - hay) : -1L,
		       q ? (long)(q - hay) : -1L, strspn(hay, needles[i]), strcspn(hay, needles[i]),
		       strpbrk(hay, needles[i]) ? (long)(strpbrk(hay, needles[i]) - hay) : -1L);
	}
	char toks[] = "  alpha,beta;;gamma delta,,epsilon  ";
	char *save, *tok;
	printf("tokens:");
	for (tok = strtok_r(toks, " ,;", &save); tok; tok = strtok_r(NULL, " ,;", &save))
		printf(" [%s]", tok);
	printf("\n");
	/* copies, concatenation, duplication */
	char buf[64];
	char *e = stpcpy(buf, "abc");
	e = stpcpy(e, "def");
	strcat(buf, "ghi");
	const char *volatile more = "jklmnop";
	strncat(buf, more, 3);
	printf("built %s len %zu end-off %ld\n", buf, strlen(buf), (long)(e - buf));
	memset(buf, 'Z', sizeof buf);
	strncpy(buf, "xy", 8);
	mixbuf((unsigned char *)buf, 10);
	char *d1 = strdup("duplicate me"), *d2 = strndup("truncate here", 8);
	printf("strdup %s strndup %s strncpy pad %d %d h=%016llx\n", d1, d2, buf[5], buf[8], (unsigned long long)h);
	free(d1);
	free(d2);
	/* functions reading right up to a PROT_NONE page */
	long pg = 4096;
	char *map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return 1;
	mprotect(map + pg, (size_t)pg, PROT_NONE);
	long edgesum = 0;
	for (int len = 0; len < 70; len++) {
		char *str = map + pg - len - 1;
		memset(str, 'q', (size_t)len);
		str[len] = 0;
		edgesum += (long)strlen(str) + (strchr(str, 'z') == NULL) + (memchr(str, 0, (size_t)len + 1) == str + len);
		edgesum += strcmp(str, str) == 0;
		char *copy = map;
		memcpy(copy, str, (size_t)len + 1);
		edgesum += strcmp(copy, str) == 0;
		edgesum += (long)strnlen(str, 1000);
	}
	printf("page edge checksum %ld\n", edgesum);
	munmap(map, 2 * (size_t)pg);
	printf("final h=%016llx errors=%ld\n", (unsigned long long)h, errors);
	return errors ? 1 : 0;
}
