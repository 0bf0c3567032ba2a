/*
 * opsub guest-proc [--report-fd N] [--stats] [--trace-syscalls] [--no-verify]
 *                  [--root DIR|ARCHIVE] [--volume HOSTDIR:GUESTDIR[:ro]]...
 *                  [--tmp-size SIZE] (-- PROGRAM [ARGS...] | --restore)
 *
 * Not for users: the daemon execs this for every guest, with the link
 * socket as descriptor 3 (driver/link.h).  It builds the sandbox on the
 * memory the daemon sends, attaches the trusted NIC driver and runs the
 * program jailed.  With --restore it runs, instead of a program, the guest
 * state the daemon sends after the boot message (a migration or a
 * snapshot: monitor/freeze.h).  Either way it serves the daemon's
 * migration requests.
 *
 * With --report-fd, everything opsub itself says in this process (a guest
 * fault, the loader's refusal, an internal error, statistics) goes to
 * descriptor N, the daemon's report channel (daemon/guest_output.h), and
 * the guest's own descriptors 0-2 carry only what the guest wrote: the
 * guest cannot write to N, so the daemon can trust what comes on it.
 *
 * --root, --volume and --tmp-size are `opsub run`'s (the guest's "root",
 * "volumes" and "tmp_size"), checked again here: the host may have
 * changed since the daemon read its config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "driver/netdrv.h"
#include "fs/fs_options.h"
#include "monitor/freeze.h"
#include "monitor/monitor.h"

#define LINK_FD 3

extern char **environ;

static int attach(struct monitor *m, char *err, size_t errlen)
{
	return netdrv_attach(m, err, errlen);
}

int cmd_guest_proc(int argc, char **argv)
{
	struct monitor_opts o = {.before_run = attach, .track_writes = true};
	static char volume_buf[FS_MAX_VOLUMES][FS_VOLUME_BUF];   /* o.fs borrows from it */
	char why[512];
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--stats"))
			o.stats = true;
		else if (!strcmp(argv[i], "--trace-syscalls"))
			o.trace_syscalls = true;
		else if (!strcmp(argv[i], "--no-verify"))
			o.no_verify = true;
		else if (!strcmp(argv[i], "--restore"))
			o.restore = true;
		else if (fs_is_option(argv[i])) {
			const char *opt = argv[i];
			if (fs_take_option(&o.fs, volume_buf, opt, ++i < argc ? argv[i] : NULL, why, sizeof(why)))
				return usage_error("guest-proc", "%s", why);
		}
		else if (!strcmp(argv[i], "--report-fd") && i + 1 < argc) {
			/* glibc's stderr is a variable: opsub's messages move, the
			 * guest's descriptor 2 stays */
			FILE *report = fdopen(atoi(argv[++i]), "w");
			if (!report)
				return usage_error("guest-proc", "--report-fd %s is not an open descriptor", argv[i]);
			setvbuf(report, NULL, _IONBF, 0);   /* a fault ends the process with _exit */
			stderr = report;
		} else
			return usage_error("guest-proc", "unknown option %s", argv[i]);
	}
	if (!o.restore && i + 1 >= argc)
		return usage_error("guest-proc", "no PROGRAM given");
	if (o.restore && i < argc)
		return usage_error("guest-proc", "--restore runs a saved guest, not a PROGRAM");
	char err[256];
	if (netdrv_boot(LINK_FD, &o.mem_fd, &o.mem_size, err, sizeof(err)) ||
	    freeze_install(LINK_FD, netdrv_pull_link, err, sizeof(err))) {
		fprintf(stderr, "opsub guest-proc: %s (it is started by the daemon only)\n", err);
		return 1;
	}
	return o.restore ? monitor_run(&o, NULL, NULL, environ) : monitor_run(&o, argv[i + 1], argv + i + 1, environ);
}
