/* opsub: one binary, subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"run", cmd_run, "run a static x86-64 program in a sandbox: opsub run [options] PROGRAM [ARGS...]"},
	{"daemon", cmd_daemon, "run the NIC and the guests of a config: opsub daemon --config FILE"},
	{"ctl", cmd_ctl, "talk to a running daemon: opsub ctl list|stats|add|remove|set|stop"},
	{"demo", cmd_demo, "several guests sharing the NIC, live figures: opsub demo [--seconds N] [--json]"},
	{"bench", cmd_bench, "one I/O benchmark scenario: opsub bench --mode M --scenario tx|rx|fwd ..."},
	{"cpu", cmd_cpu, "the guest CPU model and what this host executes of it: opsub cpu"},
	{"version", cmd_version, "the version of opsub and the compiler that built it: opsub version"},
	{"guest-proc", cmd_guest_proc, NULL},
};

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "opsub %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see opsub %s --help)\n", cmd);
	return 2;
}

static void help(FILE *f)
{
	fprintf(f, "usage: opsub COMMAND [ARGS...]\n"
	           "       opsub --version\n\n"
	           "Runs untrusted static x86-64 programs as translated code, each in its own jailed\n"
	           "process, sharing one NIC that only trusted driver code programs.\n\n"
	           "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].summary)   /* internal commands have none */
			fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\noptions:\n"
	           "  -h, --help     print this help and exit\n"
	           "  --version      print the version and the compiler that built it, and exit\n\n"
	           "\"opsub COMMAND --help\" describes each command and its options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "opsub: unknown command '%s' (see opsub --help)\n", argv[1]);
	return 2;
}
