// Exercises stdio formatting: snprintf with every conversion, flag, width, precision and length modifier, %n, return values and truncation, sscanf/strtol parsing, and stdout buffering modes.
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define T(...) do { char b[512]; int r = snprintf(b, sizeof b, __VA_ARGS__); printf("%-26s -> [%s] (%d)\n", #__VA_ARGS__, b, r); } while (0)

int main(void)
{
	volatile double big = 1e300;
	setvbuf(stdout, NULL, _IOFBF, 1 << 14);
	/* integers */
	T("%d|%i|%u", -123, 456, 789u);
	T("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
	T("%x|%X|%#x|%#X|%o|%#o", 0xbeefu, 0xbeefu, 0xbeefu, 0xbeefu, 8u, 8u);
	T("%.0d|%.0x|%#.0o|%.5d|%8.3d", 0, 0u, 0u, 42, -7);
	T("%hhd|%hhu|%hd|%hu", (signed char)-1, (unsigned char)255, (short)-32768, (unsigned short)65535);
	T("%ld|%lu|%lx", LONG_MIN, ULONG_MAX, LONG_MAX + 0UL);
	T("%lld|%llu|%llo", LLONG_MIN, ULLONG_MAX, 0777ULL);
	T("%jd|%ju|%zd|%zu|%td", (intmax_t)-5, (uintmax_t)5, (ssize_t)-6, (size_t)6, (ptrdiff_t)-7);
	T("%" PRId64 "|%" PRIx32 "|%" PRIu16, (int64_t)-1, (uint32_t)0xdeadbeef, (uint16_t)65535);
	T("%*d|%-*d|%.*d", 6, 1, 6, 2, 4, 3);
	T("%*d|%*.*d", -6, 1, 8, 5, 3);
	/* characters and strings */
	T("%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
	T("%s|%10s|%-10s|%.2s|%*.*s", "hello", "right", "left", "truncate", 6, 3, "abcdef");
	T("%s", "");
	T("%ls|%lc", L"wide", (wint_t)L'W');
	T("%%|%c%%", 'z');
	/* floating point */
	T("%f|%.2f|%10.3f|%-10.1f|%+.1f|% .1f", 3.14159, 3.14159, -3.14159, 2.5, 2.5, 2.5);
	T("%e|%.2E|%12.4e|%.0e|%#.0e", 12345.678, 12345.678, -0.000123, 5.5, 5.5);
	T("%g|%g|%g|%g|%#g|%.3g", 100000.0, 1000000.0, 0.0001, 0.00001, 1.0, 3.14159);
	T("%a|%A|%.2a|%.0a|%a", 1.0, -10.5, 3.14159, 1.5, 0.0);
	T("%08.3f|%-8.2e|%+08d|%#08x", -1.5, 1.5, 7, 255u);
	T("%.15g|%.17g|%.20f", 0.1, 0.1, 0.1);
	T("%Lf|%.3Le|%Lg", 1.5L, 123.456L, 1e-10L);
	T("%f|%e|%g|%F", big * 10, -big * 1e10, big * 1e10, big * 1e10);
	/* pointers */
	T("%p|%p", (void *)0, (void *)0x1234);
	/* %n */
	{
		int n1 = 0, n2 = 0;
		char b[64];
		long ln = 0;
		signed char hn = 0;
		snprintf(b, sizeof b, "abc%ndef%n%ln%hhn", &n1, &n2, &ln, &hn);
		printf("%%n: %d %d %ld %d\n", n1, n2, ln, hn);
	}
	/* truncation and return values */
	{
		char small[8];
		const char *volatile f1 = "%s-%d", *volatile f2 = "xyz"; /* hidden from -Wformat-truncation */
		int r = snprintf(small, sizeof small, f1, "abcdefghij", 12345);
		printf("truncated: [%s] r=%d\n", small, r);
		r = snprintf(NULL, 0, "%d %s %f", 1, "two", 3.0);
		printf("measure only: %d\n", r);
		r = snprintf(small, 1, f2, 0);
		printf("size 1: [%s] r=%d\n", small, r);
		char big[5000];
		r = snprintf(big, sizeof big, "%4000d|", 1);
		printf("wide field: r=%d last=%c\n", r, big[r - 1]);
		r = printf("%s", "");
		printf("printf of empty returned %d\n", r);
	}
	/* scanf family */
	{
		int a, b, n;
		unsigned u;
		char word[16], rest[32];
		double d;
		long l;
		int got = sscanf("  42 -17 0x1F 2.5e3 hello world123", "%d %i %x %lf %15s %31s", &a, &b, &u, &d, word, rest);
		printf("sscanf got=%d a=%d b=%d u=%u d=%g word=%s rest=%s\n", got, a, b, u, d, word, rest);
		got = sscanf("key=value;n=77", "%15[^=]=%31[^;];n=%ld%n", word, rest, &l, &n);
		printf("sscanf scanset got=%d [%s] [%s] %ld consumed=%d\n", got, word, rest, l, n);
		got = sscanf("abc", "%d", &a);
		printf("sscanf mismatch got=%d, empty got=%d\n", got, sscanf("", "%d", &a));
		got = sscanf("0777 0b1 -0x10 010", "%i %i %i %o", &a, &b, &n, &u);
		printf("sscanf %%i got=%d %d %d %d %u\n", got, a, b, n, u);
		char c1, c2;
		got = sscanf("x y", "%c %c", &c1, &c2);
		printf("sscanf chars got=%d '%c' '%c'\n", got, c1, c2);
	}
	/* strtol family */
	{
		static const char *const ins[] = {"123", "-0x7f", "0777", "z", "  +99abc", "9223372036854775808", "-9223372036854775809", "1010", "zz"};
		static const int bases[] = {10, 0, 0, 36, 10, 10, 10, 2, 36};
		for (int i = 0; i < 9; i++) {
			char *end;
			errno = 0;
			long v = strtol(ins[i], &end, bases[i]);
			int e = errno;
			errno = 0;
			unsigned long uv = strtoul(ins[i], NULL, bases[i]);
			printf("strtol(\"%s\", %d) = %ld rest=\"%s\" erange=%d strtoul=%lu\n", ins[i], bases[i], v, end, e == ERANGE, uv);
		}
		printf("strtoull(\"-1\")=%llu atoi(\"  -42x\")=%d atol=%ld atoll=%lld\n", strtoull("-1", NULL, 10), atoi("  -42x"), atol("2147483648"), atoll("-9000000000"));
	}
	/* buffering modes do not change what is written */
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("line buffered ");
	putchar('o');
	puts("k");
	fputs("fputs\n", stdout);
	fwrite("fwrite\n", 1, 7, stdout);
	fflush(stdout);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("unbuffered %d\n", 1);
	fprintf(stdout, "%s %c%c\n", "fprintf", 'o', 'k');
	dprintf(1, "dprintf %d\n", 2);
	return 0;
}
