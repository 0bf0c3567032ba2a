/*
 * The daemon's log: one line per event, each with its time, to stderr (the
 * default), a file, or syslog.  On stderr and in a file a line reads
 *
 *   2024-12-04T15:36:12.345Z opsub[4242]: guest 'gen' started: pid 4250, ...
 *   2024-12-04T15:36:14.002Z opsub[4242]: warning: guest 'gen' ended ...
 *
 * (ISO 8601, UTC, milliseconds; the daemon's pid; "warning: " or "error: "
 * before what is not routine).  Syslog gets the same text without the time
 * and pid, which syslog adds itself, at LOG_INFO, LOG_WARNING or LOG_ERR,
 * facility LOG_DAEMON.
 *
 * Any thread may log.  Each line is a single write(2) of at most
 * LOG_LINE_MAX bytes, so lines from several threads, or from several
 * daemons appending to one file, never interleave.  Text from outside the
 * daemon (guest output, a client's request) cannot forge a line: every
 * control character in a message is replaced (a tab by a space, the others
 * by '?'), and a message too long for one line is cut and ends in "...".
 *
 * Until log_open, events of every level go to stderr.
 */
#ifndef OPSUB_DAEMON_LOG_H
#define OPSUB_DAEMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define LOG_LINE_MAX 4096

/* What an event is; log_open's `least` drops the levels below it. */
enum log_level {
	LOG_LEVEL_INFO,      /* routine: started, stopped, changed, a request refused */
	LOG_LEVEL_WARNING,   /* a guest ended badly, something was not applied */
	LOG_LEVEL_ERROR,     /* the daemon itself could not do something */
};

/* TARGET: NULL or "stderr", "syslog", or the path of a file the lines are
 * appended to (created 0640).  0, or -1 with a one-line reason (the
 * previous target is kept then): a file that cannot be opened, or syslog
 * with no one listening on /dev/log. */
int log_open(const char *target, enum log_level least, char *err, size_t errlen);
/* The same target again, for SIGHUP after a log rotation: a file is
 * reopened by its path.  0, or -1 with a reason (the old file is kept). */
int log_reopen(char *err, size_t errlen);
/* Back to stderr (closes a file, or the syslog connection). */
void log_close(void);
/* Whether lines go to this process's stderr (a caller that must also tell
 * the user something on stderr then need not say it twice). */
bool log_is_stderr(void);

/* One event, printf-style.  Use log_event for what happens in normal
 * operation (a guest started or stopped, a setting changed, a request
 * refused), log_warning for a guest that ended badly or a change that was
 * not applied, log_error for what the daemon itself failed to do. */
void log_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line a guest wrote (len bytes, no newline) on STREAM ("stdout",
 * "stderr", "monitor"), labelled "guest 'NAME' STREAM: TEXT".  Logged
 * whatever the least level: it is output, not an event. */
void log_guest_line(const char *guest, const char *stream, const char *text, size_t len);

/* "2024-12-04T15:36:12.345Z" (24 characters and the NUL). */
void log_format_time(const struct timespec *realtime, char out[32]);

#endif
