/* opsub run [options] PROGRAM [ARGS...] */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sandbox/monitor.h"
#include "util/parse.h"

extern char **environ;

static const char help_text[] =
	"usage: opsub run [options] PROGRAM [ARGS...]\n"
	"Runs a static x86-64 Linux program (musl-gcc -static, PIE or not) under the\n"
	"translator.  Its stdin, stdout and stderr are yours; opsub exits with its status.\n\n"
	"options:\n"
	"  --mem SIZE          guest memory, 16M..4G (default 1G)\n"
	"  --stats             print translator statistics on stderr at the end\n"
	"  --trace-syscalls    print every guest system call on stderr\n"
	"  --seconds N         stop the guest after N seconds and exit 0\n"
	"  --no-verify         skip the verifier (for measuring its cost only)\n";

int cmd_run(int argc, char **argv)
{
	struct monitor_opts o = {.mem_size = GUEST_MEM_DEFAULT};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(help_text, stdout);
			return 0;
		} else if (!strcmp(a, "--stats")) {
			o.stats = true;
		} else if (!strcmp(a, "--trace-syscalls")) {
			o.trace_syscalls = true;
		} else if (!strcmp(a, "--no-verify")) {
			o.no_verify = true;
		} else if (!strcmp(a, "--mem")) {
			if (++i == argc || !parse_size(argv[i], &o.mem_size) || o.mem_size < GUEST_MEM_MIN ||
			    o.mem_size > GUEST_SPACE || o.mem_size % GUEST_PAGE)
				return usage_error("run", "--mem needs a size from 16M to 4G in whole pages, e.g. 512M");
		} else if (!strcmp(a, "--seconds")) {
			if (++i == argc || !parse_seconds(argv[i], &o.seconds))
				return usage_error("run", "--seconds needs a number of seconds, e.g. 5");
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			return usage_error("run", "unknown option %s", a);
		}
	}
	if (i == argc)
		return usage_error("run", "no PROGRAM given");
	return monitor_run(&o, argv[i], argv + i, environ);
}
