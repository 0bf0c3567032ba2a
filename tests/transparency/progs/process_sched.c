// The process's identity and scheduling as a program asks for them: thread
// names (prctl, pthread_setname_np), nice values, scheduling policies and
// priorities, memory locking, process group and session, groups and
// resuid.  Benchmarks set their priority, lock their memory or name their
// threads, and stop when a call they expect to work fails.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define SHOW(name, expr)                                                                                  \
	do {                                                                                              \
		errno = 0;                                                                                \
		long r_ = (long)(expr);                                                                   \
		printf("%-28s %ld %s\n", name, r_, r_ < 0 ? strerror(errno) : "");                       \
	} while (0)

int main(void)
{
	char name[16] = "";
	SHOW("prctl(PR_SET_NAME)", prctl(PR_SET_NAME, "a-long-thread-name"));
	SHOW("prctl(PR_GET_NAME)", prctl(PR_GET_NAME, name));
	printf("name now '%s'\n", name);
	SHOW("pthread_setname_np", pthread_setname_np(pthread_self(), "main"));
	SHOW("prctl(unknown option)", prctl(0x7fff0000, 0, 0, 0, 0));
	SHOW("getpriority", getpriority(PRIO_PROCESS, 0));
	SHOW("setpriority(5)", setpriority(PRIO_PROCESS, 0, 5));
	SHOW("getpriority after", getpriority(PRIO_PROCESS, 0));
	SHOW("nice(2)", nice(2));
	struct sched_param sp = {0}, rt = {.sched_priority = 10};
	SHOW("sched_getscheduler", sched_getscheduler(0));
	SHOW("sched_setscheduler(BATCH)", sched_setscheduler(0, SCHED_BATCH, &sp));
	SHOW("sched_setscheduler(OTHER, 3)", sched_setscheduler(0, SCHED_OTHER, &rt));
	SHOW("sched_getparam", sched_getparam(0, &sp));
	SHOW("sched_get_priority_max(RR)", sched_get_priority_max(SCHED_RR));
	SHOW("sched_get_priority_min(FIFO)", sched_get_priority_min(SCHED_FIFO));
	SHOW("sched_get_priority_max(OTHER)", sched_get_priority_max(SCHED_OTHER));
	SHOW("sched_get_priority_max(42)", sched_get_priority_max(42));
	static char buf[8192];
	SHOW("mlock", mlock(buf, sizeof(buf)));
	SHOW("munlock", munlock(buf, sizeof(buf)));
	SHOW("mlockall", mlockall(MCL_CURRENT));
	SHOW("munlockall", munlockall());
	SHOW("mlockall(0)", mlockall(0));
	SHOW("getpgrp is getpgid(0)", getpgrp() == getpgid(0));
	SHOW("getsid(0) > 0", getsid(0) > 0);
	gid_t groups[64];
	int n = getgroups(0, NULL);
	SHOW("getgroups(0) >= 0", n >= 0);
	SHOW("getgroups agrees", getgroups(64, groups) == n);
	uid_t r, e, s;
	SHOW("getresuid", getresuid(&r, &e, &s));
	printf("resuid all getuid %d\n", r == getuid() && e == getuid() && s == getuid());
	return 0;
}
