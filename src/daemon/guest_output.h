/*
 * What a guest process writes, as the daemon passes it on, and its end in
 * words.
 *
 * A guest process writes on up to three pipes to the daemon:
 *
 * - its program's stdout and stderr: each line becomes the log line
 *   "guest 'NAME' stdout: TEXT" (or stderr), so guest output never mixes
 *   unlabelled into the daemon's stream.  There are no such pipes when the
 *   guest has an "output" file (the daemon opens it, the process writes
 *   there directly) or shares the daemon's own descriptors (opsub run --net,
 *   whose one guest owns the terminal);
 * - the report channel (`guest-proc --report-fd N`): what opsub's own code
 *   in the guest process says (the monitor's fault report, the loader's
 *   refusal, an internal error, --stats, --trace-syscalls), which a guest
 *   process without it writes on its stderr.  The guest program cannot
 *   write there (the personality gives it descriptors 0-2 only), so what
 *   comes on it is opsub's word: it is passed on like the program's stderr
 *   (labelled "monitor", or appended to the "output" file), and its last
 *   "opsub: " line is kept: it says why a process that ends badly ended.
 *
 * Pipes are read only by the daemon's main loop (guests_poll), at most
 * GUEST_OUTPUT_BUDGET bytes per pipe per pass, so a chatty guest waits on a
 * full pipe and cannot hold up the daemon.
 */
#ifndef OPSUB_DAEMON_GUEST_OUTPUT_H
#define OPSUB_DAEMON_GUEST_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#define GUEST_LINE_MAX      1024            /* a longer line is passed on in pieces */
#define GUEST_OUTPUT_BUDGET (64u << 10)
#define GUEST_LAST_WORDS    384

enum guest_stream { GUEST_STDOUT, GUEST_STDERR, GUEST_REPORT, GUEST_STREAMS };

struct guest_output {
	int fd[GUEST_STREAMS];                 /* read ends, non-blocking; -1: none */
	int file_fd;                           /* the "output" file, for report lines; -1: none */
	size_t pending_len[GUEST_STREAMS];     /* a line not ended yet, per pipe */
	char pending[GUEST_STREAMS][GUEST_LINE_MAX];
	char last_words[GUEST_LAST_WORDS];     /* last "opsub: " report line, without "opsub: " */
};

/* Before the fork.  FILE: the guest's "output" file (NULL: none); SHARE:
 * the process keeps the daemon's stdout and stderr and has no report
 * channel.  child[s] gets the descriptor the process must have as its
 * stdout, stderr and report channel (-1: none, keep the daemon's).
 * 0, or -1 with a one-line reason naming the guest. */
int guest_output_open(struct guest_output *o, const char *name, const char *file, bool share,
                      int child[GUEST_STREAMS], char *err, size_t errlen);
/* After the fork: the daemon's copies of the process's ends. */
void guest_output_close_child_ends(int child[GUEST_STREAMS]);
/* Passes on what the process wrote: whole lines, within the budget; with
 * at_end (the process is gone) everything left, partial lines included. */
void guest_output_forward(struct guest_output *o, const char *name, bool at_end);
void guest_output_close(struct guest_output *o);

/* How a guest process ended, in words, from its wait status (waitpid):
 * "exit status 3"; the monitor's report for an exit it explains
 * ("guest fault: segmentation fault (SIGSEGV) at rip ...", "PROGRAM: not an
 * ELF file"); "killed by signal SIGKILL"; "jail violation: ... (SIGSYS)";
 * "internal error: ..."; "stopped by the daemon" when the daemon killed
 * it (stop, remove, reload). */
void guest_end_reason(int wait_status, bool stopped_by_daemon, const char *last_words, char *out, size_t len);

#endif
