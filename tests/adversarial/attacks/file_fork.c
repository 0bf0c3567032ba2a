// Attack: create a process (fork, vfork, clone, clone3) whose child creates
// the host file argv[1] with creat().
// Natively: the child creates the file (the parent waits for it).
// Under opsub: no process creation: -ENOSYS, no file.
// variants: fork vfork clone clone3
#include "attack.h"
#include <signal.h>

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	long pid;
	if (!strcmp(v, "fork"))
		pid = sc0(SYS_fork);
	else if (!strcmp(v, "vfork"))
		pid = sc0(SYS_vfork);
	else if (!strcmp(v, "clone"))
		pid = sc5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	else {
		struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } ca;
		memset(&ca, 0, sizeof(ca));
		ca.exit_signal = SIGCHLD;
		pid = sc2(435, &ca, sizeof(ca));
	}
	if (pid == 0) {
		sc2(SYS_creat, argv[1], 0644);
		sc1(SYS_exit_group, 0);
	}
	note("%s returned %ld", v, pid);
	if (pid > 0) {
		int st;
		sc4(SYS_wait4, pid, &st, 0, 0);
		escaped("%s created child process %ld", v, pid);
	}
	return 0;
}
