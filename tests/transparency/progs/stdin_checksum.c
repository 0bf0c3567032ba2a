// Exercises reading stdin: read(2) until EOF with varying chunk sizes, then prints byte/line/word counts, CRC-32, FNV-1a and a byte histogram (the runner feeds stdin_checksum.in).
// stdin: stdin_checksum.in
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static const size_t chunks[] = {1, 7, 64, 4096, 3, 65536, 100};
	size_t cap = 1 << 16, len = 0, reads = 0;
	unsigned char *buf = malloc(cap);
	for (int i = 0;; i++) {
		size_t want = chunks[i % 7];
		if (len + want > cap) {
			cap = (len + want) * 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(0, buf + len, want);
		if (n < 0) {
			perror("read");
			return 1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		reads++;
	}
	uint32_t table[256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	uint32_t crc = 0xffffffff;
	uint64_t fnv = 0xcbf29ce484222325ull;
	size_t lines = 0, words = 0, hist[256] = {0};
	int inword = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = buf[i];
		crc = table[(crc ^ c) & 0xff] ^ (crc >> 8);
		fnv = (fnv ^ c) * 0x100000001b3ull;
		hist[c]++;
		lines += c == '\n';
		int sp = c == ' ' || c == '\n' || c == '\t' || c == '\r';
		if (!sp && !inword)
			words++;
		inword = !sp;
	}
	printf("bytes=%zu lines=%zu words=%zu crc32=%08x fnv1a=%016llx\n", len, lines, words, ~crc, (unsigned long long)fnv);
	printf("data arrived in %s read calls\n", reads > 1 ? "several" : "one or no");
	printf("top bytes:");
	for (int k = 0; k < 5; k++) {
		int best = 0;
		for (int c = 1; c < 256; c++)
			if (hist[c] > hist[best])
				best = c;
		printf(" %02x:%zu", best, hist[best]);
		hist[best] = 0;
	}
	printf("\n");
	if (len) {
		size_t first_nl = 0;
		while (first_nl < len && buf[first_nl] != '\n')
			first_nl++;
		printf("first line: %.*s\n", (int)(first_nl < 80 ? first_nl : 80), (const char *)buf);
	}
	/* a second read at EOF must return 0 again */
	char extra;
	printf("read at EOF again: %zd\n", read(0, &extra, 1));
	free(buf);
	return 0;
}
