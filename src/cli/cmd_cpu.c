/*
 * opsub cpu: the guest CPU model, what this host does for each of its
 * features (probed by executing them) and what opsub itself relies on.
 * Exits 0 when this host can run guests, 1 when it cannot (the last line
 * says why).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "gates/host.h"

int cmd_cpu(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: opsub cpu\n\nPrints the guest CPU model, this host's support for each feature "
		       "(probed by executing it, not read from CPUID) and what opsub relies on; exits 1 if this "
		       "host cannot run guests.\n");
		return 0;
	}
	if (argc > 1)
		return usage_error("cpu", "unexpected argument '%s'", argv[1]);
	return host_report(stdout) ? 1 : 0;
}
