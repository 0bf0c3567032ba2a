/*
 * opsub guest-proc [--stats] -- PROGRAM [ARGS...]
 *
 * Not for users: the daemon execs this for every guest, with the link
 * socket as descriptor 3 (driver/link.h).  It builds the sandbox on the
 * memory the daemon sends, attaches the trusted NIC driver and runs the
 * program jailed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "driver/netdrv.h"
#include "monitor/monitor.h"

#define LINK_FD 3

extern char **environ;

static int attach(struct monitor *m, char *err, size_t errlen)
{
	return netdrv_attach(m, err, errlen);
}

int cmd_guest_proc(int argc, char **argv)
{
	struct monitor_opts o = {.before_run = attach};
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--stats"))
			o.stats = true;
		else if (!strcmp(argv[i], "--trace-syscalls"))
			o.trace_syscalls = true;
		else if (!strcmp(argv[i], "--no-verify"))
			o.no_verify = true;
		else
			return usage_error("guest-proc", "unknown option %s", argv[i]);
	}
	if (i + 1 >= argc)
		return usage_error("guest-proc", "no PROGRAM given");
	char err[256];
	if (netdrv_boot(LINK_FD, &o.mem_fd, &o.mem_size, err, sizeof(err))) {
		fprintf(stderr, "opsub guest-proc: %s (it is started by the daemon only)\n", err);
		return 1;
	}
	return monitor_run(&o, argv[i + 1], argv + i + 1, environ);
}
