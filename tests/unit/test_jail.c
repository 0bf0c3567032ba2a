/*
 * The seccomp jail as code that escaped the translator would meet it: in a
 * child that closed the jail, each system call the jail must refuse kills
 * the process (SIGSYS), and what the monitor needs still works.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/jail.h"

enum { ALLOWED = 0, KILLED = 1 };

/* Runs one raw system call in a jailed child: KILLED if the jail killed it. */
static int jailed(long nr, long a0, long a1, long a2)
{
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		char err[128];
		if (jail_enter(err, sizeof(err)))
			syscall(SYS_exit_group, 3);
		if (a0 == -1)
			a0 = parent;
		syscall(nr, a0, a1, a2);
		syscall(SYS_exit_group, 0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return KILLED;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	return ALLOWED;
}

static void test_refused(void **state)
{
	(void)state;
	assert_int_equal(jailed(SYS_openat, AT_FDCWD, (long)"/etc/passwd", O_RDONLY), KILLED);
	assert_int_equal(jailed(SYS_socket, AF_INET, SOCK_STREAM, 0), KILLED);
	assert_int_equal(jailed(SYS_kill, -1, 0, 0), KILLED);
	assert_int_equal(jailed(SYS_tgkill, -1, -1, 0), KILLED);          /* the parent: another process */
	assert_int_equal(jailed(SYS_mprotect, 0, 4096, PROT_EXEC), KILLED);
	assert_int_equal(jailed(SYS_execve, (long)"/bin/true", 0, 0), KILLED);
	assert_int_equal(jailed(SYS_ptrace, 0, 0, 0), KILLED);
}

static void test_needed_allowed(void **state)
{
	(void)state;
	assert_int_equal(jailed(SYS_getpid, 0, 0, 0), ALLOWED);
	assert_int_equal(jailed(SYS_write, 1, (long)"", 0), ALLOWED);
	assert_int_equal(jailed(SYS_mprotect, 0, 4096, PROT_READ), ALLOWED);   /* fails, but allowed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_needed_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
