/* Which host a figure was measured on: every benchmark prints this with its
 * figures, since they move with the CPU, the kernel and the neighbours. */
#ifndef OPSUB_UTIL_HOST_INFO_H
#define OPSUB_UTIL_HOST_INFO_H

struct host_info {
	char cpu[96];      /* /proc/cpuinfo "model name", or "unknown" */
	char kernel[72];   /* uname -r */
	double load1;      /* one-minute load average, now */
};

void host_info_read(struct host_info *h);

#endif
