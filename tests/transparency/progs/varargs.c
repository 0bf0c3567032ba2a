// Exercises varargs: a hand-written printf-like formatter (two passes with va_copy), many int/double args spilling to the stack, long double and struct varargs, va_list passed by pointer.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out { char *buf; size_t cap, len; };
static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}
static void put_u(struct out *o, unsigned long long v, unsigned base, int upper, int width, char pad)
{
	char tmp[64];
	int n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}
/* Supports %d %i %u %x %X %o %c %s %% %f (fixed, 6 digits) with l/ll and a width/zero flag. */
static size_t my_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = {buf, cap, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*p == '0') { pad = '0'; p++; }
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l') { lng++; p++; }
		switch (*p) {
		case 'd': case 'i': {
			long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0) { put(&o, '-'); put_u(&o, 0ull - (unsigned long long)v, 10, 0, width - 1, pad); }
			else put_u(&o, (unsigned long long)v, 10, 0, width, pad);
			break;
		}
		case 'u': case 'x': case 'X': case 'o': {
			unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_u(&o, v, *p == 'u' ? 10 : *p == 'o' ? 8 : 16, *p == 'X', width, pad);
			break;
		}
		case 'c': put(&o, (char)va_arg(ap, int)); break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = (int)strlen(s);
			while (width-- > len) put(&o, ' ');
			while (*s) put(&o, *s++);
			break;
		}
		case 'f': {
			double d = va_arg(ap, double);
			if (d < 0) { put(&o, '-'); d = -d; }
			unsigned long long scaled = (unsigned long long)(d * 1e6 + 0.5);
			put_u(&o, scaled / 1000000, 10, 0, 0, ' ');
			put(&o, '.');
			put_u(&o, scaled % 1000000, 10, 0, 6, '0');
			break;
		}
		case '%': put(&o, '%'); break;
		default: put(&o, '?'); break;
		}
	}
	if (o.cap)
		o.buf[o.len < o.cap ? o.len : o.cap - 1] = 0;
	return o.len;
}

static int my_printf(const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	size_t need = my_vformat(NULL, 0, fmt, ap); /* measuring pass */
	char *buf = malloc(need + 1);
	size_t got = my_vformat(buf, need + 1, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	fputs(buf, stdout);
	free(buf);
	return got == need ? (int)got : -1;
}

/* Compare against libc vsnprintf using the same va_list twice via va_copy. */
static void both(const char *mine, const char *libc, ...)
{
	va_list ap, ap2;
	char a[256], b[256];
	va_start(ap, libc);
	va_copy(ap2, ap);
	my_vformat(a, sizeof a, mine, ap);
	vsnprintf(b, sizeof b, libc, ap2);
	va_end(ap2);
	va_end(ap);
	printf("mine=[%s] libc=[%s] %s\n", a, b, strcmp(a, b) ? "DIFFER" : "same");
}

static long sum_ints(int n, ...)
{
	va_list ap;
	long s = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s = s * 3 + va_arg(ap, int);
	va_end(ap);
	return s;
}
static double sum_doubles(int n, ...)
{
	va_list ap;
	double s = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s = s * 0.5 + va_arg(ap, double);
	va_end(ap);
	return s;
}
/* mixed: 'i' int, 'd' double, 'l' long double, 'p' struct pair, 's' string, 'L' long long */
struct pair { int a; double b; };
struct big { long x[5]; };
static void mixed(const char *spec, ...)
{
	va_list ap;
	va_start(ap, spec);
	printf("mixed(%s):", spec);
	for (const char *p = spec; *p; p++) {
		switch (*p) {
		case 'i': printf(" i%d", va_arg(ap, int)); break;
		case 'd': printf(" d%.3f", va_arg(ap, double)); break;
		case 'l': printf(" l%.5Lf", va_arg(ap, long double)); break;
		case 'p': { struct pair pr = va_arg(ap, struct pair); printf(" p{%d,%.2f}", pr.a, pr.b); break; }
		case 'b': { struct big bg = va_arg(ap, struct big); printf(" b{%ld..%ld}", bg.x[0], bg.x[4]); break; }
		case 's': printf(" s'%s'", va_arg(ap, char *)); break;
		case 'L': printf(" L%lld", va_arg(ap, long long)); break;
		}
	}
	va_end(ap);
	printf("\n");
}

/* consume some arguments in a helper through a pointer to the va_list */
static int take_two(va_list *ap) { int a = va_arg(*ap, int); int b = va_arg(*ap, int); return a * 100 + b; }
static void pairs(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	printf("pairs:");
	for (int i = 0; i < n; i++)
		printf(" %d", take_two(&ap));
	va_end(ap);
	printf("\n");
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char buf[128];
	vsnprintf(buf, sizeof buf, fmt, ap);
	printf("%s: %s\n", prefix, buf);
}
static void logf_(const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	vlog("first", fmt, ap);
	vlog("again", fmt, ap2);
	va_end(ap2);
	va_end(ap);
}

int main(void)
{
	int r = my_printf("hello %s, %d %i %u %x %X %o %c %% %05d %ld %lld %llu %f %f|%8s|\n", "world", -42, 7,
	                  4000000000u, 0xbeefu, 0xcafeu, 8u, 'Z', 42, -1234567890123L, -9000000000000000000LL,
	                  18446744073709551615ull, 3.14159265, -0.0000005, "pad");
	printf("my_printf returned %d\n", r);
	both("%d|%u|%x|%s|%c|%08x", "%d|%u|%x|%s|%c|%08x", -5, 5u, 255u, "str", 'q', 0x1234u);
	both("%ld %lu %lld", "%ld %lu %lld", -1L, 123456789012ul, 1LL << 62);
	printf("sum_ints(20) = %ld\n", sum_ints(20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20));
	printf("sum_ints(0) = %ld\n", sum_ints(0));
	printf("sum_doubles(14) = %.17g\n", sum_doubles(14, 1.0, 2.5, 3.25, 4.125, 5.0, 6.0, 7.0, 8.0, 9.0, 10.5, 11.0, 12.0, 13.0, 14.75));
	struct pair pr = {7, 2.25};
	struct big bg = {{1, 2, 3, 4, 5}};
	mixed("idlpsLdibd", 1, 2.5, 3.125L, pr, "s1", 1LL << 40, -0.5, -3, bg, 1e10);
	mixed("ddddddddddiiiiiiil", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 1, 2, 3, 4, 5, 6, 7, (long double)1 / 3);
	pairs(5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	logf_("%s=%d (%.2f) [%5.1s]", "x", 99, 1.0 / 3, "abc");
	return 0;
}
