// Exercises strings through libc: snprintf'd keys strdup'ed and appended to one buffer grown by realloc (mremap once it is large), then sorted with qsort and strcmp through a comparator; argv[1] = keys.
// args: 20000
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	if (n < 1)
		n = 20000;
	char **keys = malloc(n * sizeof *keys), *all = NULL;
	size_t len = 0;
	unsigned x = 1;
	for (int i = 0; i < n; i++) {
		char buf[32];
		x = x * 1103515245u + 12345u;
		int k = snprintf(buf, sizeof buf, "key%08u-%u", x % 100000000u, i);
		char *grown = realloc(all, len + (size_t)k + 1);
		if (!keys || !(keys[i] = strdup(buf)) || !grown)
			return printf("out of memory\n"), 1;
		all = grown;
		memcpy(all + len, buf, (size_t)k + 1);
		len += (size_t)k;
	}
	qsort(keys, n, sizeof *keys, by_string);
	unsigned long h = 0;
	for (int i = 0; i < n; i++)
		h = h * 31 + (unsigned char)keys[i][3 + i % 8];
	printf("%lu %zu %s %s\n", h, len, keys[0], keys[n - 1]);
	return 0;
}
