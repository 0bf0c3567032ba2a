/*
 * Checks of a wire spec and of interface names, made before anything
 * starts (a config, opsub run --net): everything that can be told from the
 * text itself.  What depends on the host (a capture file that cannot be
 * opened, a TAP interface that cannot be created) is found when the wire
 * opens.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/daemon.h"
#include "nic/wire.h"
#include "null_frame.h"
#include "util/parse.h"

bool config_ifname_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == ':' || (unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f)
			return false;
	return true;
}

/* Whether two paths name the same file: the same text, or (both existing)
 * the same inode, as through a link or "./". */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return !strcmp(a, b) ||
	       (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static int check_null(const char *args, char *err, size_t errlen)
{
	if (!args)
		return 0;
	char *copy = strdup(args), *save = NULL;
	char *size_text = strtok_r(copy, ",", &save), *dst = strtok_r(NULL, ",", &save);
	char *src = strtok_r(NULL, ",", &save), *more = strtok_r(NULL, ",", &save), *end = NULL;
	uint8_t mac[6];
	unsigned long size = 0;
	errno = 0;
	if (size_text)
		size = strtoul(size_text, &end, 10);
	int rc = -1;
	if (!size_text || errno || *end || size_text[0] < '0' || size_text[0] > '9' || size < NULL_FRAME_MIN ||
	    size > WIRE_MAX_FRAME)
		snprintf(err, errlen, "null: the frame size must be from %u to %u: use null:SIZE[,DSTMAC[,SRCMAC]]",
		         NULL_FRAME_MIN, WIRE_MAX_FRAME);
	else if ((dst && (strlen(dst) != 17 || !parse_mac(dst, mac))) || (src && (strlen(src) != 17 || !parse_mac(src, mac))))
		snprintf(err, errlen, "null: a MAC must look like 02:00:00:00:00:01: use null:SIZE[,DSTMAC[,SRCMAC]]");
	else if (more)
		snprintf(err, errlen, "null: too many fields: use null:SIZE[,DSTMAC[,SRCMAC]]");
	else
		rc = 0;
	free(copy);
	return rc;
}

static int check_pcap(const char *args, char *err, size_t errlen)
{
	const char *comma = args ? strchr(args, ',') : NULL;
	if (!comma || strchr(comma + 1, ',')) {
		snprintf(err, errlen, "pcap: give an input and an output file: pcap:IN,OUT (either may be empty)");
		return -1;
	}
	if (comma == args && !comma[1]) {
		snprintf(err, errlen, "pcap: both files are empty: give an input, an output or both");
		return -1;
	}
	char *in = strndup(args, (size_t)(comma - args));
	bool same = *in && comma[1] && same_file(in, comma + 1);
	free(in);
	if (same) {
		snprintf(err, errlen, "pcap: the input and the output are the same file (the output would overwrite "
		         "the input): give two different files");
		return -1;
	}
	return 0;
}

int config_check_wire(const char *spec, char *err, size_t errlen)
{
	char why[200];
	if (!wire_spec_known(spec, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	const char *colon = strchr(spec, ':');
	const char *args = colon ? colon + 1 : NULL;
	if (!strncmp(spec, "null", 4))
		return check_null(args, err, errlen);
	if (!strncmp(spec, "loop", 4) && args) {
		snprintf(err, errlen, "loop takes no arguments (got '%s')", spec);
		return -1;
	}
	if (!strncmp(spec, "pcap", 4))
		return check_pcap(args, err, errlen);
	if (!strncmp(spec, "tap", 3) && (!args || !config_ifname_ok(args))) {
		snprintf(err, errlen, "tap: bad interface name '%s': use tap:IFNAME with 1 to %d characters, "
		         "no '/', ':' or spaces", args ? args : "", IFNAMSIZ - 1);
		return -1;
	}
	return 0;
}
