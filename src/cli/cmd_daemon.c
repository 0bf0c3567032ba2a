/* opsub daemon --config FILE */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/control.h"
#include "daemon/daemon.h"

int cmd_daemon(int argc, char **argv)
{
	const char *path = NULL, *log = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: opsub daemon --config FILE\n"
			       "Starts the NIC, its wire, the host port and the guests of FILE (JSON,\n"
			       "see docs/daemon.md) and serves the control API until stopped.\n\n"
			       "options:\n"
			       "  --config FILE   the set-up to run: NIC, wire, host port, control socket, guests\n"
			       "  --log TARGET    where the log goes: a file (appended to), \"syslog\" or \"stderr\"\n"
			       "                  (default: the config's \"log\", else stderr)\n\n"
			       "signals: SIGTERM, SIGINT, SIGQUIT stop it cleanly; SIGHUP reopens the log and\n"
			       "re-reads FILE; SIGUSR1 logs every guest's counters.\n");
			return 0;
		} else
			return usage_error("daemon", "unknown argument %s", argv[i]);
	}
	if (!path)
		return usage_error("daemon", "--config FILE is required");
	static struct daemon d;
	char err[512];
	if (config_load(path, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "opsub daemon: %s: %s\n", path, err);
		return 2;
	}
	if (!d.cfg.control)
		d.cfg.control = control_default_path();
	d.config_path = path;   /* re-read on SIGHUP */
	d.log_override = log;
	d.version = opsub_version();
	int rc = daemon_run(&d, NULL, 0, NULL);
	config_free(&d.cfg);
	return rc;
}
