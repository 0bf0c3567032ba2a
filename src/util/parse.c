#include "util/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static bool scaled(const char *s, double base, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0))   /* NaN too: no integer stands for it */
		return false;
	switch (*end) {
	case 'k': case 'K': v *= base; end++; break;
	case 'm': case 'M': v *= base * base; end++; break;
	case 'g': case 'G': v *= base * base * base; end++; break;
	default: break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

bool parse_size(const char *s, uint64_t *out)
{
	double v;
	if (!scaled(s, 1024, &v) || v > 1e18)
		return false;
	*out = (uint64_t)v;
	return true;
}

bool parse_rate(const char *s, uint64_t *out)
{
	double v;
	if (!scaled(s, 1000, &v) || v > 1e18)
		return false;
	*out = (uint64_t)v;
	return true;
}

bool parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= 0 && v <= 1e7))
		return false;
	*out = v;
	return true;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Six groups of one or two hex digits: no sign, space or "0x" (which
 * sscanf's %x would take, "-1" as ff). */
bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(*s), lo;
		if (hi < 0)
			return false;
		s++;
		if ((lo = hex_digit(*s)) >= 0) {
			hi = hi * 16 + lo;
			s++;
		}
		mac[i] = (uint8_t)hi;
		if (*s != (i < 5 ? ':' : '\0'))
			return false;
		s++;
	}
	return true;
}

bool parse_ipv4_prefix(const char *s, uint32_t *addr, uint32_t *mask)
{
	unsigned a, b, c, d, n = 32;
	int used = 0, used_n = 0;
	if (sscanf(s, "%u.%u.%u.%u%n", &a, &b, &c, &d, &used) != 4)
		return false;
	const char *rest = s + used;
	if (*rest == '/' && sscanf(rest + 1, "%u%n", &n, &used_n) == 1)
		rest += 1 + used_n;
	if (*rest || a > 255 || b > 255 || c > 255 || d > 255 || n > 32)
		return false;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*mask = n ? ~0u << (32 - n) : 0;
	return true;
}

void make_one_line(char *text, size_t size)
{
	char out[512];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p && o + 5 < sizeof(out); p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = 0;
	snprintf(text, size, "%s", out);
}
