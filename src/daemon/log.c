/* The daemon's log (log.h): timestamped lines to stderr, a file or syslog. */
#include "daemon/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

enum target { TO_STDERR, TO_FILE, TO_SYSLOG };

#define SYSLOG_SOCKET "/dev/log"   /* where syslog(3) sends (glibc's _PATH_LOG) */

/* One lock for the target and every write: a SIGHUP reopen never closes a
 * descriptor under a thread that is writing a line. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum target target = TO_STDERR;
static int file_fd = -1;
static char *file_path;
static enum log_level least = LOG_LEVEL_INFO;

void log_format_time(const struct timespec *realtime, char out[32])
{
	struct tm tm;
	gmtime_r(&realtime->tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ", realtime->tv_nsec / 1000000);
}

static int open_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		snprintf(err, errlen, "cannot open the log file %s: %s (give a writable file, \"stderr\" or \"syslog\")",
		         path, strerror(errno));
	return fd;
}

/* Leaves the current target; the caller holds the lock. */
static void leave_target(void)
{
	if (target == TO_FILE)
		close(file_fd);
	else if (target == TO_SYSLOG)
		closelog();
	file_fd = -1;
	free(file_path);
	file_path = NULL;
	target = TO_STDERR;
}

/* syslog(3) drops every line without a word when no one listens. */
static int syslog_listens(char *err, size_t errlen)
{
	struct stat st;
	if (stat(SYSLOG_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
		return 0;
	snprintf(err, errlen, "cannot log to syslog: %s is not a socket (no syslog daemon or journald here); give a "
	         "log file or \"stderr\"", SYSLOG_SOCKET);
	return -1;
}

int log_open(const char *where, enum log_level level, char *err, size_t errlen)
{
	int fd = -1;
	bool to_syslog = where && !strcmp(where, "syslog");
	bool to_file = where && !to_syslog && strcmp(where, "stderr");
	if (to_file && (fd = open_file(where, err, errlen)) < 0)
		return -1;
	if (to_syslog && syslog_listens(err, errlen))
		return -1;
	pthread_mutex_lock(&lock);
	leave_target();
	__atomic_store_n(&least, level, __ATOMIC_RELAXED);
	if (to_syslog) {
		openlog("opsub", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		target = TO_SYSLOG;
	} else if (to_file) {
		file_fd = fd;
		file_path = strdup(where);
		target = TO_FILE;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

int log_reopen(char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	int rc = 0;
	if (target == TO_FILE) {
		int fd = open_file(file_path, err, errlen);
		if (fd >= 0) {
			close(file_fd);
			file_fd = fd;
		} else
			rc = -1;
	} else if (target == TO_SYSLOG) {
		closelog();
		openlog("opsub", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void log_close(void)
{
	pthread_mutex_lock(&lock);
	leave_target();
	pthread_mutex_unlock(&lock);
}

bool log_is_stderr(void)
{
	pthread_mutex_lock(&lock);
	bool r = target == TO_STDERR;
	pthread_mutex_unlock(&lock);
	return r;
}

/* Control characters would let outside text start a line of its own. */
static void make_printable(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t')
			s[i] = ' ';
		else if (c < 0x20 || c == 0x7f)
			s[i] = '?';
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* nowhere left to say that the log cannot be written */
		p += w;
		n -= (size_t)w;
	}
}

/* Writes one line: the message is msg (len bytes, not yet made printable). */
static void emit(enum log_level level, const char *msg, size_t len)
{
	static const char *const words[] = {"", "warning: ", "error: "};
	static const int priorities[] = {LOG_INFO, LOG_WARNING, LOG_ERR};
	char line[LOG_LINE_MAX];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char stamp[32];
	log_format_time(&now, stamp);
	pthread_mutex_lock(&lock);
	int head = target == TO_SYSLOG ? 0
	           : snprintf(line, sizeof(line), "%s opsub[%d]: %s", stamp, (int)getpid(), words[level]);
	size_t room = sizeof(line) - (size_t)head - 1;   /* the newline */
	bool cut = len > room;
	size_t n = cut ? room : len;
	memcpy(line + head, msg, n);
	make_printable(line + head, n);
	if (cut)
		memcpy(line + head + n - 3, "...", 3);
	n += (size_t)head;
	if (target == TO_SYSLOG) {
		line[n] = 0;
		syslog(priorities[level], "%s", line);
	} else {
		line[n++] = '\n';
		write_all(target == TO_FILE ? file_fd : STDERR_FILENO, line, n);
	}
	pthread_mutex_unlock(&lock);
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	if (level < __atomic_load_n(&least, __ATOMIC_RELAXED))
		return;
	char msg[LOG_LINE_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	/* a message longer than msg is cut by emit, which sees it as too long */
	emit(level, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
}

void log_event(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

void log_guest_line(const char *guest, const char *stream, const char *text, size_t len)
{
	char msg[LOG_LINE_MAX + 1];   /* one more byte than a line: emit sees what is too long */
	int head = snprintf(msg, sizeof(msg), "guest '%s' %s: ", guest, stream);
	if (head < 0 || (size_t)head >= sizeof(msg))
		return;
	size_t n = len < sizeof(msg) - (size_t)head ? len : sizeof(msg) - (size_t)head;
	memcpy(msg + head, text, n);
	emit(LOG_LEVEL_INFO, msg, (size_t)head + n);
}
