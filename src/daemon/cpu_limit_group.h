/*
 * Inside the CPU module (cpu_limit.h): its state, shared by the groups'
 * code (cpu_limit.c) and the probe that finds where they may go
 * (cpu_limit_probe.c).  Not for other modules.
 */
#ifndef OPSUB_DAEMON_CPU_LIMIT_GROUP_H
#define OPSUB_DAEMON_CPU_LIMIT_GROUP_H

#include <limits.h>

#include "daemon/cpu_limit.h"

struct cpu_limit {
	enum cpu_limit_kind kind;
	int dir;                   /* the parent group opsub-ID, open; -1: none */
	char path[PATH_MAX];       /* its path, for messages */
	char why[1024];            /* CPU_LIMIT_NONE: what was tried, what failed */
	bool cpuacct;              /* v1: cpuacct is mounted with cpu (cpuacct.usage in each group) */
	uint64_t weight_sum;       /* of the guests in their groups */
};

/* Writes text into FILE of the parent's child group `group` (NULL: the
 * parent itself).  0, or -1 with "cannot write 'TEXT' to PATH: REASON" in
 * err (if not NULL). */
int cpu_group_write(const struct cpu_limit *cl, const char *group, const char *file, const char *text, char *err,
                    size_t errlen);
/* Removes every (empty) group directly under the open directory dir. */
void cpu_group_remove_children(int dir);

#endif
