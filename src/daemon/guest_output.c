/* A guest process's output and report channel, passed on (guest_output.h). */
#include "daemon/guest_output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/log.h"

static const char *const stream_label[GUEST_STREAMS] = {"stdout", "stderr", "monitor"};

int guest_output_open(struct guest_output *o, const char *name, const char *file, bool share,
                      int child[GUEST_STREAMS], char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->file_fd = -1;
	for (int s = 0; s < GUEST_STREAMS; s++)
		o->fd[s] = child[s] = -1;
	if (share)
		return 0;
	if (file) {
		o->file_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
		if (o->file_fd < 0) {
			snprintf(err, errlen, "guest '%s': cannot open its \"output\" file %s: %s", name, file, strerror(errno));
			return -1;
		}
		/* the process gets its own descriptor of the file; the daemon's
		 * (o->file_fd) takes the report lines */
		child[GUEST_STDOUT] = fcntl(o->file_fd, F_DUPFD_CLOEXEC, 0);
		child[GUEST_STDERR] = child[GUEST_STDOUT] < 0 ? -1 : fcntl(child[GUEST_STDOUT], F_DUPFD_CLOEXEC, 0);
		if (child[GUEST_STDERR] < 0)
			goto fail;
	}
	for (int s = file ? GUEST_REPORT : 0; s < GUEST_STREAMS; s++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0)
			goto fail;
		o->fd[s] = p[0];
		child[s] = p[1];
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	}
	return 0;
fail:
	snprintf(err, errlen, "guest '%s': cannot make its output pipes: %s", name, strerror(errno));
	guest_output_close_child_ends(child);
	guest_output_close(o);
	return -1;
}

void guest_output_close_child_ends(int child[GUEST_STREAMS])
{
	for (int s = 0; s < GUEST_STREAMS; s++) {
		if (child[s] >= 0)
			close(child[s]);
		child[s] = -1;
	}
}

void guest_output_close(struct guest_output *o)
{
	for (int s = 0; s < GUEST_STREAMS; s++) {
		if (o->fd[s] >= 0)
			close(o->fd[s]);
		o->fd[s] = -1;
	}
	if (o->file_fd >= 0)
		close(o->file_fd);
	o->file_fd = -1;
}

/* What explains an end: opsub's own last message, not a syscall trace. */
static void keep_last_words(struct guest_output *o, const char *line, size_t len)
{
	static const char *const prefixes[] = {"opsub: ", "opsub guest-proc: "};
	if (len >= 15 && !memcmp(line, "opsub: syscall ", 15))
		return;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t p = strlen(prefixes[i]);
		if (len > p && !memcmp(line, prefixes[i], p)) {
			size_t n = len - p < sizeof(o->last_words) - 1 ? len - p : sizeof(o->last_words) - 1;
			memcpy(o->last_words, line + p, n);
			o->last_words[n] = 0;
			return;
		}
	}
}

static void pass_line(struct guest_output *o, const char *name, enum guest_stream s, const char *line, size_t len)
{
	if (s != GUEST_REPORT) {
		log_guest_line(name, stream_label[s], line, len);
		return;
	}
	keep_last_words(o, line, len);
	if (o->file_fd < 0) {
		log_guest_line(name, stream_label[s], line, len);
		return;
	}
	char buf[GUEST_LINE_MAX + 1];
	memcpy(buf, line, len);
	buf[len] = '\n';
	if (write(o->file_fd, buf, len + 1) < 0) {
		/* a full disk loses the report in the file; the log still has
		 * the end of the guest with its reason */
	}
}

/* Adds what was read to the pending line of s and passes on every line
 * that is complete (or full). */
static void take(struct guest_output *o, const char *name, enum guest_stream s, const char *data, size_t n)
{
	char *line = o->pending[s];
	size_t *len = &o->pending_len[s];
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			pass_line(o, name, s, line, *len);
			*len = 0;
			continue;
		}
		line[(*len)++] = data[i];
		if (*len == GUEST_LINE_MAX) {
			pass_line(o, name, s, line, *len);
			*len = 0;
		}
	}
}

void guest_output_forward(struct guest_output *o, const char *name, bool at_end)
{
	char buf[4096];
	for (int s = 0; s < GUEST_STREAMS; s++) {
		if (o->fd[s] < 0)
			continue;
		size_t budget = GUEST_OUTPUT_BUDGET;
		while (at_end || budget) {
			ssize_t r = read(o->fd[s], buf, at_end || budget > sizeof(buf) ? sizeof(buf) : budget);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			take(o, name, (enum guest_stream)s, buf, (size_t)r);
			budget -= (size_t)r < budget ? (size_t)r : budget;
		}
		if (at_end && o->pending_len[s]) {
			pass_line(o, name, (enum guest_stream)s, o->pending[s], o->pending_len[s]);
			o->pending_len[s] = 0;
		}
	}
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

void guest_end_reason(int ws, bool stopped_by_daemon, const char *last_words, char *out, size_t len)
{
	if (WIFEXITED(ws)) {
		/* a non-zero exit that opsub explained: the explanation (every
		 * "opsub: " line but a trace ends the guest process) */
		if (WEXITSTATUS(ws) != 0 && last_words[0])
			snprintf(out, len, "%s", last_words);
		else
			snprintf(out, len, "exit status %d", WEXITSTATUS(ws));
		return;
	}
	if (!WIFSIGNALED(ws)) {
		snprintf(out, len, "wait status 0x%x", (unsigned)ws);
		return;
	}
	int sig = WTERMSIG(ws);
	const char *abbrev = sigabbrev_np(sig) ? sigabbrev_np(sig) : "?";
	if (stopped_by_daemon)
		snprintf(out, len, "stopped by the daemon (SIG%s)", abbrev);
	else if (sig == SIGSYS)
		snprintf(out, len, "jail violation: a system call the jail does not allow (killed by SIGSYS)%s%s",
		         last_words[0] ? "; last report: " : "", last_words);
	else if (starts_with(last_words, "internal error"))
		snprintf(out, len, "%s (killed by SIG%s)", last_words, abbrev);
	else if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP)
		/* the monitor turns every guest fault into an exit status: a
		 * process killed by one of these is opsub's own failure */
		snprintf(out, len, "internal error: the guest process crashed with SIG%s (a fault in opsub, or the "
		         "signal came from outside)", abbrev);
	else
		snprintf(out, len, "killed by signal SIG%s", abbrev);
}
