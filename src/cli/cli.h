/* Subcommands of build/opsub; each returns the process exit status. */
#ifndef OPSUB_CLI_CLI_H
#define OPSUB_CLI_CLI_H

#include <stddef.h>

int cmd_run(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_guest_proc(int argc, char **argv);
int cmd_cpu(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* The version text of `opsub --version` (for the daemon's start line). */
const char *opsub_version(void);

/* The directory of the example guests (pktgen, sink, ...) for this binary:
 * build/guests in a build tree, PREFIX/lib/opsub/guests when installed. */
void example_guest_dir(char *out, size_t len);

/* Prints the help of the entry WORD of the list under SECTION (e.g.
 * "requests:") in the help text HELP: "usage: PREFIX WORD ARGS..." and what
 * it does.  Returns 0, or -1 when there is no such entry. */
int help_entry(const char *help, const char *section, const char *word, const char *prefix);

/* Prints "opsub CMD: MESSAGE" and returns 2 (bad usage). */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
