/* Parsing of command-line and config values, with one-line errors. */
#ifndef OPSUB_UTIL_PARSE_H
#define OPSUB_UTIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "4096", "64K", "512M", "4G" (powers of 1024). */
bool parse_size(const char *s, uint64_t *out);
/* A non-negative decimal number, e.g. "2.5". */
bool parse_seconds(const char *s, double *out);
/* "02:00:00:00:00:01" */
bool parse_mac(const char *s, uint8_t mac[6]);
/* "10.0.0.1/24" -> address and netmask in host byte order (no /N: /32). */
bool parse_ipv4_prefix(const char *s, uint32_t *addr, uint32_t *mask);
/* Rates with an optional unit: "10G", "500M", "1.5k" (powers of 1000). */
bool parse_rate(const char *s, uint64_t *out);

/* Makes a reason one line, in place, whatever it quotes: a key, a path or
 * jansson's excerpt of the input may hold control characters ("seco\nds"),
 * which become escapes (\n, \t, \x01). */
void make_one_line(char *text, size_t size);

#endif
