/* Subcommands of build/opsub; each returns the process exit status. */
#ifndef OPSUB_CLI_CLI_H
#define OPSUB_CLI_CLI_H

int cmd_run(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_guest_proc(int argc, char **argv);
int cmd_cpu(int argc, char **argv);

/* Prints "opsub CMD: MESSAGE" and returns 2 (bad usage). */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
