/*
 * Where the example guests are, for the commands that run them (demo,
 * bench): build/guests beside build/opsub in a build tree, or
 * PREFIX/lib/opsub/guests beside PREFIX/bin/opsub once installed
 * (dist/dist.mk).  Found from this binary's own path, so an installed opsub
 * never runs a build tree's guests or the other way round.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *const beside_binary[] = {"guests", "../lib/opsub/guests"};

void example_guest_dir(char *out, size_t len)
{
	char self[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	const char *dir = dirname(self);
	for (size_t i = 0; i < sizeof(beside_binary) / sizeof(beside_binary[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/%s/pktgen", dir, beside_binary[i]);
		if (access(probe, R_OK) == 0) {
			snprintf(out, len, "%s/%s", dir, beside_binary[i]);
			return;
		}
	}
	/* neither: name the build tree's, whose absence the callers explain */
	snprintf(out, len, "%s/%s", dir, beside_binary[0]);
}
