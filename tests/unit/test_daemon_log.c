/*
 * test_daemon_log.c: the daemon's log (daemon/log.h) and what it does with a
 * guest process's output (daemon/guest_output.h): the line format, levels,
 * a rotated file, text from outside that cannot forge a line, labelled
 * guest lines, the report channel's last words, and a guest's end in words.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/guest_output.h"
#include "daemon/log.h"

#define STAMP "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z opsub\\[[0-9]+\\]: "

static char dir[64], path[128];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/opsub-test-log-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	log_close();
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The whole of a file (malloc'ed, NUL-ended). */
static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	if (!f)
		return strdup("");
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strdup(buf);
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Every line of text matches STAMP followed by the regular expression of
 * its own line in want (NULL-ended), in order, and there are no others. */
static void assert_lines(const char *text, const char *const *want)
{
	char *copy = strdup(text), *save = NULL;
	unsigned i = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		assert_non_null(want[i]);
		char re[512];
		snprintf(re, sizeof(re), STAMP "%s$", want[i]);
		regex_t r;
		assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
		if (regexec(&r, line, 0, NULL, 0) != 0)
			fail_msg("line %u: '%s' does not match '%s'", i, line, re);
		regfree(&r);
	}
	assert_null(want[i]);
	free(copy);
}

static void test_time_format(void **state)
{
	(void)state;
	char out[32];
	struct timespec t = {.tv_sec = 86400 + 3661, .tv_nsec = 234567890};
	log_format_time(&t, out);
	assert_string_equal(out, "1970-01-02T01:01:01.234Z");
}

static void test_lines_levels_and_outside_text(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(log_open(path, LOG_LEVEL_INFO, err, sizeof(err)), 0);
	assert_false(log_is_stderr());
	log_event("guest '%s' started", "a");
	log_warning("guest 'a' ended: %s", "exit status 3");
	log_error("queue %u is withdrawn", 7u);
	/* a request or guest text with a newline, a carriage return, an escape
	 * and a tab: one line still, nothing that starts a line of its own */
	log_event("refused: %s", "x\n2020-01-01T00:00:00.000Z opsub[1]: forged\r\x1b[31m\tend");
	char *text = slurp(path);
	static const char *const want[] = {
		"guest 'a' started",
		"warning: guest 'a' ended: exit status 3",
		"error: queue 7 is withdrawn",
		"refused: x\\?2020-01-01T00:00:00\\.000Z opsub\\[1\\]: forged\\?\\?\\[31m end",
		NULL,
	};
	assert_lines(text, want);
	free(text);
	/* the least level drops what is below it */
	assert_int_equal(log_open(path, LOG_LEVEL_WARNING, err, sizeof(err)), 0);
	log_event("not shown");
	log_warning("shown");
	text = slurp(path);
	assert_null(strstr(text, "not shown"));
	assert_non_null(strstr(text, "warning: shown\n"));
	free(text);
}

static void test_long_message_is_cut(void **state)
{
	(void)state;
	char err[256] = "";
	unlink(path);
	assert_int_equal(log_open(path, LOG_LEVEL_INFO, err, sizeof(err)), 0);
	static char big[3 * LOG_LINE_MAX];
	memset(big, 'x', sizeof(big) - 1);
	log_event("%s", big);
	log_guest_line("g", "stdout", big, sizeof(big) - 1);
	char *text = slurp(path);
	assert_int_equal(count_lines(text), 2);
	char *second = strchr(text, '\n') + 1;
	assert_int_equal(second - text, LOG_LINE_MAX);   /* the whole line, newline included */
	assert_memory_equal(second - 4, "...\n", 4);
	assert_int_equal(strlen(second), LOG_LINE_MAX);
	free(text);
}

static void test_reopen_after_rotation(void **state)
{
	(void)state;
	char err[256] = "", old[160];
	unlink(path);
	assert_int_equal(log_open(path, LOG_LEVEL_INFO, err, sizeof(err)), 0);
	log_event("before");
	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(rename(path, old), 0);
	log_event("still into the moved file");
	assert_int_equal(log_reopen(err, sizeof(err)), 0);
	log_event("after");
	char *a = slurp(old), *b = slurp(path);
	assert_non_null(strstr(a, "before"));
	assert_non_null(strstr(a, "still into the moved file"));
	assert_null(strstr(a, "after"));
	assert_int_equal(count_lines(b), 1);
	assert_non_null(strstr(b, "after"));
	free(a);
	free(b);
}

static void test_bad_target_keeps_the_old(void **state)
{
	(void)state;
	char err[256] = "", bad[160];
	unlink(path);
	assert_int_equal(log_open(path, LOG_LEVEL_INFO, err, sizeof(err)), 0);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/log", dir);
	assert_int_equal(log_open(bad, LOG_LEVEL_INFO, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open the log file"));
	assert_non_null(strstr(err, bad));
	assert_null(strchr(err, '\n'));
	log_event("kept");
	char *text = slurp(path);
	assert_non_null(strstr(text, "kept"));
	free(text);
}

/* syslog is refused, saying why, where nothing listens on /dev/log (syslog(3)
 * would drop every line without a word); taken where something does */
static void test_syslog_needs_a_listener(void **state)
{
	(void)state;
	char err[256] = "";
	struct stat st;
	bool listens = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
	log_close();
	int rc = log_open("syslog", LOG_LEVEL_INFO, err, sizeof(err));
	if (listens) {
		assert_int_equal(rc, 0);
		assert_false(log_is_stderr());
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, "cannot log to syslog: /dev/log"));
		assert_true(log_is_stderr());   /* the target before: stderr */
	}
	log_close();
}

static void test_guest_lines_and_last_words(void **state)
{
	(void)state;
	char err[256] = "";
	unlink(path);
	assert_int_equal(log_open(path, LOG_LEVEL_ERROR, err, sizeof(err)), 0);   /* output shows whatever the level */
	struct guest_output o;
	int child[GUEST_STREAMS];
	assert_int_equal(guest_output_open(&o, "g1", NULL, false, child, err, sizeof(err)), 0);
	for (int s = 0; s < GUEST_STREAMS; s++)
		assert_true(o.fd[s] >= 0 && child[s] >= 0);
	static char longline[GUEST_LINE_MAX + 10];
	memset(longline, 'y', sizeof(longline) - 1);
	dprintf(child[GUEST_STDOUT], "hello\nopsub: guest fault: forged on stdout\n%s\npartial", longline);
	dprintf(child[GUEST_STDERR], "oops\n");
	dprintf(child[GUEST_REPORT], "opsub: syscall write/1(0x1, 0x2, 0x3) = 3\n"
	                             "opsub: guest fault: segmentation fault (SIGSEGV) at rip 0x401000: mov eax, [rax]\n"
	                             "opsub stats (1.0 ms):\n  blocks translated 3\n"
	                             "opsub: syscall exit_group/231(0x0, 0x0, 0x0) = 0\n");
	guest_output_forward(&o, "g1", false);
	char *text = slurp(path);
	assert_null(strstr(text, "partial"));   /* not ended yet */
	free(text);
	guest_output_close_child_ends(child);
	guest_output_forward(&o, "g1", true);
	text = slurp(path);
	static const char *const want[] = {
		"guest 'g1' stdout: hello",
		"guest 'g1' stdout: opsub: guest fault: forged on stdout",
		"guest 'g1' stdout: y{1024}",
		"guest 'g1' stdout: y{9}",
		"guest 'g1' stderr: oops",
		"guest 'g1' monitor: opsub: syscall write/1\\(0x1, 0x2, 0x3\\) = 3",
		"guest 'g1' monitor: opsub: guest fault: segmentation fault \\(SIGSEGV\\) at rip 0x401000: mov eax, \\[rax\\]",
		"guest 'g1' monitor: opsub stats \\(1\\.0 ms\\):",
		"guest 'g1' monitor:   blocks translated 3",
		"guest 'g1' monitor: opsub: syscall exit_group/231\\(0x0, 0x0, 0x0\\) = 0",
		"guest 'g1' stdout: partial",   /* at the end: the process is gone */
		NULL,
	};
	assert_lines(text, want);
	free(text);
	/* only the report channel explains an end, and a trace line does not */
	assert_string_equal(o.last_words, "guest fault: segmentation fault (SIGSEGV) at rip 0x401000: mov eax, [rax]");
	guest_output_close(&o);
}

static void test_output_file_takes_the_report(void **state)
{
	(void)state;
	char err[256] = "", file[160];
	snprintf(file, sizeof(file), "%s/guest.out", dir);
	unlink(path);
	assert_int_equal(log_open(path, LOG_LEVEL_INFO, err, sizeof(err)), 0);
	struct guest_output o;
	int child[GUEST_STREAMS];
	assert_int_equal(guest_output_open(&o, "g2", file, false, child, err, sizeof(err)), 0);
	assert_true(o.fd[GUEST_STDOUT] < 0 && o.fd[GUEST_STDERR] < 0 && o.fd[GUEST_REPORT] >= 0);
	dprintf(child[GUEST_STDOUT], "to the file\n");
	dprintf(child[GUEST_REPORT], "opsub: %s: not an ELF file\n", "/x");
	guest_output_close_child_ends(child);
	guest_output_forward(&o, "g2", true);
	assert_string_equal(o.last_words, "/x: not an ELF file");
	guest_output_close(&o);
	char *f = slurp(file), *l = slurp(path);
	assert_string_equal(f, "to the file\nopsub: /x: not an ELF file\n");
	assert_string_equal(l, "");
	free(f);
	free(l);
	/* a file that cannot be opened is an error naming the guest and file */
	char bad[200];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.out", dir);
	assert_int_equal(guest_output_open(&o, "g3", bad, false, child, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "guest 'g3': cannot open its \"output\" file"));
	for (int s = 0; s < GUEST_STREAMS; s++)
		assert_true(o.fd[s] < 0 && child[s] < 0);
	/* shared stdio: no pipes at all */
	assert_int_equal(guest_output_open(&o, "g4", NULL, true, child, err, sizeof(err)), 0);
	for (int s = 0; s < GUEST_STREAMS; s++)
		assert_true(o.fd[s] < 0 && child[s] < 0);
}

static void test_end_in_words(void **state)
{
	(void)state;
	char out[512];
	guest_end_reason(W_EXITCODE(0, 0), false, "", out, sizeof(out));
	assert_string_equal(out, "exit status 0");
	guest_end_reason(W_EXITCODE(3, 0), false, "", out, sizeof(out));
	assert_string_equal(out, "exit status 3");
	/* opsub's explanation of a non-zero exit is the reason */
	guest_end_reason(W_EXITCODE(139, 0), false, "guest fault: segmentation fault (SIGSEGV) at rip 0x1", out, sizeof(out));
	assert_string_equal(out, "guest fault: segmentation fault (SIGSEGV) at rip 0x1");
	guest_end_reason(W_EXITCODE(2, 0), false, "/bin/x: not an ELF file", out, sizeof(out));
	assert_string_equal(out, "/bin/x: not an ELF file");
	/* ... but not of a clean exit */
	guest_end_reason(W_EXITCODE(0, 0), false, "guest fault: old", out, sizeof(out));
	assert_string_equal(out, "exit status 0");
	guest_end_reason(W_EXITCODE(0, SIGKILL), false, "", out, sizeof(out));
	assert_string_equal(out, "killed by signal SIGKILL");
	guest_end_reason(W_EXITCODE(0, SIGKILL), true, "", out, sizeof(out));
	assert_string_equal(out, "stopped by the daemon (SIGKILL)");
	guest_end_reason(W_EXITCODE(0, SIGSYS), false, "", out, sizeof(out));
	assert_non_null(strstr(out, "jail violation"));
	assert_non_null(strstr(out, "SIGSYS"));
	guest_end_reason(W_EXITCODE(0, SIGABRT), false, "internal error: translation of guest code at 0x1 rejected: x",
	                 out, sizeof(out));
	assert_string_equal(out, "internal error: translation of guest code at 0x1 rejected: x (killed by SIGABRT)");
	guest_end_reason(W_EXITCODE(0, SIGSEGV), false, "", out, sizeof(out));
	assert_true(!strncmp(out, "internal error: ", 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_lines_levels_and_outside_text),
		cmocka_unit_test(test_long_message_is_cut),
		cmocka_unit_test(test_reopen_after_rotation),
		cmocka_unit_test(test_bad_target_keeps_the_old),
		cmocka_unit_test(test_syslog_needs_a_listener),
		cmocka_unit_test(test_guest_lines_and_last_words),
		cmocka_unit_test(test_output_file_takes_the_report),
		cmocka_unit_test(test_end_in_words),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
