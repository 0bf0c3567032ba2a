/* The "metrics" config value (metrics.h); apart from the server, so that
 * the config parser needs no HTTP library. */
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool metrics_parse_listen(const char *text, uint32_t *addr, uint16_t *port, char *err, size_t errlen)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = text ? strrchr(text, ':') : NULL;
	struct in_addr a;
	char *end;
	unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || (size_t)(colon - text) >= sizeof(host) || !colon[1] || *end || p < 1 || p > 65535) {
		snprintf(err, errlen, "\"metrics\" must look like \"127.0.0.1:9200\" (an IPv4 address and a port 1..65535)");
		return false;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = 0;
	if (inet_pton(AF_INET, host, &a) != 1) {
		snprintf(err, errlen, "\"metrics\" must look like \"127.0.0.1:9200\" (an IPv4 address and a port 1..65535)");
		return false;
	}
	if (addr)
		*addr = a.s_addr;
	if (port)
		*port = (uint16_t)p;
	return true;
}
