// Exercises a library interpreter: musl's POSIX regex (regcomp once, regexec with submatches on generated lines, some matching, some not); argv[1] = lines.
// args: 5000
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5000;
	regex_t re;
	if (regcomp(&re, "([a-z]+)@([a-z]+)\\.(com|org|net)", REG_EXTENDED))
		return printf("regcomp failed\n"), 1;
	long hits = 0, span = 0;
	unsigned x = 7;
	for (int i = 0; i < n; i++) {
		char line[128];
		x = x * 1103515245u + 12345u;
		snprintf(line, sizeof line, "user%u id %u mail ab%cde@ex%cmple.%s end", x % 1000, x, 'a' + x % 26,
		         'a' + (x >> 8) % 26, (x >> 4) % 3 ? "com" : "xyz");
		regmatch_t m[4];
		if (!regexec(&re, line, 4, m, 0)) {
			hits++;
			span += m[2].rm_eo - m[2].rm_so;
		}
	}
	regfree(&re);
	printf("%ld matches, %ld bytes in the second group\n", hits, span);
	return 0;
}
