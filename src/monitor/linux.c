/*
 * The Linux personality: the system calls a static Linux program needs,
 * in one table.  This file has the process, memory, time and signal calls;
 * files.c the descriptors and paths.c the paths (on the guest's own file
 * system, fs/fs.h), wait.c pipes, timers and polling.  There is no process
 * creation, no sockets and no signal to anyone else: those calls return
 * an error code, as the table says.
 *
 * Every guest pointer is checked here, in the handler that takes it, with
 * gm_access_ok / gm_read / gm_write: a range outside the sandbox, running
 * off its end or over a page the guest may not access gives -EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor/freeze.h"
#include "monitor/guest_clock.h"
#include "monitor/personality.h"
#include "monitor/monitor.h"
#include "monitor/syscalls.h"

static bool stopping;   /* set by exit and fatal self-signals */

static int64_t stop(struct monitor *m, int status)
{
	m->exit_status = status;
	stopping = true;
	return 0;
}

static int64_t host_result(ssize_t r) { return r < 0 ? -errno : r; }

/* ---- memory --------------------------------------------------------------- */

static unsigned guest_prot(uint64_t prot)
{
	return (prot & PROT_READ ? GP_R : 0) | (prot & PROT_WRITE ? GP_W : 0) | (prot & PROT_EXEC ? GP_X : 0);
}

/* A page-aligned [addr, addr+len) inside guest memory: 0, or -errno. */
static int64_t check_range(const struct monitor *m, uint64_t addr, uint64_t len, int64_t err)
{
	if (addr % GUEST_PAGE || len == 0 || len > m->gm.size || addr < GUEST_LOWEST || addr > m->gm.size - len)
		return err;
	return 0;
}

static int64_t sys_brk(struct monitor *m, ARGS)
{
	struct guest_mem *gm = &m->gm;
	uint64_t want = a[0];
	if (want < gm->brk_start || want > gm->mmap_low)
		return (int64_t)gm->brk;
	uint64_t old_end = page_up(gm->brk), new_end = page_up(want);
	if (new_end > old_end) {
		if (!gm_range_free(gm, old_end, new_end - old_end) ||
		    gm_map(gm, old_end, new_end - old_end, GP_R | GP_W))
			return (int64_t)gm->brk;
	} else if (new_end < old_end && gm_unmap(gm, new_end, old_end - new_end)) {
		return (int64_t)gm->brk;
	}
	gm->brk = want;
	return (int64_t)want;
}

static int64_t sys_mmap(struct monitor *m, ARGS)
{
	uint64_t addr = a[0], len = page_up(a[1]), flags = a[3];
	if (a[1] == 0 || len < a[1] || a[5] % GUEST_PAGE ||
	    ((flags & MAP_TYPE) != MAP_PRIVATE && (flags & MAP_TYPE) != MAP_SHARED &&
	     (flags & MAP_TYPE) != MAP_SHARED_VALIDATE))
		return -EINVAL;
	bool file = !(flags & MAP_ANONYMOUS);
	if (file) {
		int64_t r = file_map_check(m, a[4], flags, a[2]);
		if (r)
			return r;
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (check_range(m, addr, len, -ENOMEM))
			return addr % GUEST_PAGE ? -EINVAL : -ENOMEM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !gm_range_free(&m->gm, addr, len))
			return -EEXIST;
	} else if (addr == 0 || addr % GUEST_PAGE || check_range(m, addr, len, -1) ||
	           !gm_range_free(&m->gm, addr, len)) {
		addr = gm_find_free(&m->gm, len);
		if (!addr)
			return -ENOMEM;
	}
	/* a file's bytes are copied in before the mapping gets its protection */
	if (gm_map(&m->gm, addr, len, file ? GP_R | GP_W : guest_prot(a[2])))
		return -ENOMEM;
	if (file) {
		int64_t r = file_map_fill(m, a[4], addr, len, a[5]);
		if (r || gm_protect(&m->gm, addr, len, guest_prot(a[2]))) {
			gm_unmap(&m->gm, addr, len);
			return r ? r : -ENOMEM;
		}
	}
	return (int64_t)addr;
}

static int64_t sys_munmap(struct monitor *m, ARGS)
{
	uint64_t len = page_up(a[1]);
	if (check_range(m, a[0], len, -EINVAL))
		return -EINVAL;
	return gm_unmap(&m->gm, a[0], len);
}

static int64_t sys_mprotect(struct monitor *m, ARGS)
{
	uint64_t len = page_up(a[1]);
	if (a[1] == 0)
		return a[0] % GUEST_PAGE ? -EINVAL : 0;
	if (check_range(m, a[0], len, -ENOMEM))
		return a[0] % GUEST_PAGE ? -EINVAL : -ENOMEM;
	return gm_protect(&m->gm, a[0], len, guest_prot(a[2]));
}

static int64_t sys_mremap(struct monitor *m, ARGS)
{
	struct guest_mem *gm = &m->gm;
	uint64_t old = a[0], olen = page_up(a[1]), nlen = page_up(a[2]), flags = a[3];
	/* nlen == 0: a new length of 0, or one that rounds up past 2^64 (Linux: EINVAL) */
	if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED) || nlen == 0 || old % GUEST_PAGE ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	if (check_range(m, old, olen, -EFAULT) || !gm_access_ok(gm, old, olen, 0))
		return -EFAULT;
	unsigned prot = gm->page[old / GUEST_PAGE] & (GP_R | GP_W | GP_X);
	if (!(flags & MREMAP_FIXED)) {
		if (nlen <= olen) {
			if (nlen < olen && gm_unmap(gm, old + nlen, olen - nlen))
				return -ENOMEM;
			return (int64_t)old;
		}
		if (old + nlen <= gm->size && gm_range_free(gm, old + olen, nlen - olen))
			return gm_map(gm, old + olen, nlen - olen, prot) ? -ENOMEM : (int64_t)old;
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
	}
	uint64_t dst = flags & MREMAP_FIXED ? a[4] : gm_find_free(gm, nlen);
	if (!dst || check_range(m, dst, nlen, -1) || (dst < old + olen && old < dst + nlen))
		return flags & MREMAP_FIXED ? -EINVAL : -ENOMEM;
	if (gm_map(gm, dst, nlen, GP_R | GP_W))
		return -ENOMEM;
	/* The memory file holds the bytes at their guest addresses, whatever
	 * the protections of the old range. */
	uint64_t copy = olen < nlen ? olen : nlen;
	if (pread(gm->fd, guest_ptr(dst), copy, (off_t)old) != (ssize_t)copy ||
	    gm_protect(gm, dst, nlen, prot) || gm_unmap(gm, old, olen)) {
		gm_unmap(gm, dst, nlen);
		return -ENOMEM;
	}
	return (int64_t)dst;
}

static int64_t sys_madvise(struct monitor *m, ARGS)
{
	uint64_t len = page_up(a[1]);
	if (a[0] % GUEST_PAGE)
		return -EINVAL;
	if (a[1] == 0)
		return 0;
	if (check_range(m, a[0], len, -ENOMEM) || !gm_access_ok(&m->gm, a[0], len, 0))
		return -ENOMEM;
	if (a[2] == MADV_DONTNEED) {
		/* private anonymous memory reads back as zeros afterwards */
		unsigned prot = m->gm.page[a[0] / GUEST_PAGE] & (GP_R | GP_W | GP_X);
		for (uint64_t p = a[0]; p < a[0] + len; p += GUEST_PAGE)
			if ((m->gm.page[p / GUEST_PAGE] & (GP_R | GP_W | GP_X)) != prot)
				return -EINVAL;   /* mixed protections: not emulated */
		if (gm_map(&m->gm, a[0], len, prot))
			return -ENOMEM;
	}
	return 0;
}

/* ---- process and thread state --------------------------------------------- */

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

static int64_t sys_arch_prctl(struct monitor *m, ARGS)
{
	switch (a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (a[1] >= GUEST_SPACE)
			return -EPERM;   /* segment bases are guest addresses */
		*(a[0] == ARCH_SET_FS ? &m->ctx->fs_base : &m->ctx->gs_base) = a[1];
		return 0;
	case ARCH_GET_FS:
		return gm_write(&m->gm, a[1], &m->ctx->fs_base, 8);
	case ARCH_GET_GS:
		return gm_write(&m->gm, a[1], &m->ctx->gs_base, 8);
	default:
		return -EINVAL;
	}
}

static int64_t sys_getpid(struct monitor *m, ARGS) { (void)m; (void)a; return getpid(); }
static int64_t sys_getppid(struct monitor *m, ARGS) { (void)m; (void)a; return getppid(); }
static int64_t sys_getuid(struct monitor *m, ARGS) { (void)m; (void)a; return getuid(); }
static int64_t sys_getgid(struct monitor *m, ARGS) { (void)m; (void)a; return getgid(); }
static int64_t sys_zero(struct monitor *m, ARGS) { (void)m; (void)a; return 0; }

/* ---- the process and its scheduling ------------------------------------- */

/* The guest has one CPU, CPU 0: its threads take turns on it (threads.h),
 * and thread pools and OpenMP sized by the CPU count start one thread.
 * 0 names the caller, as the pid of the process or of any of its threads. */
static bool own_pid(struct monitor *m, uint64_t pid)
{
	return pid == 0 || pid == (uint64_t)getpid() || threads_pending_of(m, pid);
}

static int64_t sys_sched_getaffinity(struct monitor *m, ARGS)
{
	if (!own_pid(m, a[0]))
		return -ESRCH;
	uint64_t mask = 1;
	if (a[1] < sizeof(mask) || a[1] % sizeof(mask))   /* whole longs, as the kernel wants */
		return -EINVAL;
	int64_t r = gm_write(&m->gm, a[2], &mask, sizeof(mask));
	return r ? r : (int64_t)sizeof(mask);               /* the bytes written */
}

static int64_t sys_sched_setaffinity(struct monitor *m, ARGS)
{
	if (!own_pid(m, a[0]))
		return -ESRCH;
	uint64_t mask = 0;
	if (gm_read(&m->gm, &mask, a[2], a[1] < sizeof(mask) ? a[1] : sizeof(mask)))
		return -EFAULT;
	return mask & 1 ? 0 : -EINVAL;                      /* a set without CPU 0 has no CPU of ours */
}

/* Scheduling policies and priorities are the guest's to set and read back;
 * none changes how the host schedules it.  Real-time policies are refused
 * as for a process without CAP_SYS_NICE. */
static int64_t sys_sched_getscheduler(struct monitor *m, ARGS)
{
	return own_pid(m, a[0]) ? SCHED_OTHER : -ESRCH;
}

static int64_t sys_sched_setscheduler(struct monitor *m, ARGS)
{
	int32_t priority;
	if (!own_pid(m, a[0]))
		return -ESRCH;
	if (gm_read(&m->gm, &priority, a[2], 4))
		return -EFAULT;
	uint64_t policy = a[1] & ~(uint64_t)SCHED_RESET_ON_FORK;
	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return -EPERM;
	return (policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE) && priority == 0 ? 0 : -EINVAL;
}

static int64_t sys_sched_getparam(struct monitor *m, ARGS)
{
	const int32_t priority = 0;
	return own_pid(m, a[0]) ? gm_write(&m->gm, a[1], &priority, 4) : -ESRCH;
}

static int64_t sys_sched_setparam(struct monitor *m, ARGS)
{
	int32_t priority;
	if (!own_pid(m, a[0]))
		return -ESRCH;
	if (gm_read(&m->gm, &priority, a[1], 4))
		return -EFAULT;
	return priority == 0 ? 0 : -EINVAL;
}

/* A policy's static priorities, as Linux gives them: rt_max for the
 * real-time ones (1 at least), 0 for the others, -EINVAL for no policy. */
static int64_t priority_bound(uint64_t policy, int64_t rt)
{
	switch (policy) {
	case SCHED_FIFO: case SCHED_RR: return rt;
	case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE: case SCHED_DEADLINE: return 0;
	default: return -EINVAL;
	}
}

static int64_t sys_sched_get_priority_max(struct monitor *m, ARGS) { (void)m; return priority_bound(a[0], 99); }
static int64_t sys_sched_get_priority_min(struct monitor *m, ARGS) { (void)m; return priority_bound(a[0], 1); }

/* The nice value, as the kernel's getpriority returns it: 20 - nice. */
static int64_t sys_getpriority(struct monitor *m, ARGS)
{
	if (a[0] > PRIO_USER)
		return -EINVAL;
	return a[0] == PRIO_PROCESS && !own_pid(m, a[1]) ? -ESRCH : 20 - m->nice;
}

static int64_t sys_setpriority(struct monitor *m, ARGS)
{
	if (a[0] > PRIO_USER)
		return -EINVAL;
	if (a[0] == PRIO_PROCESS && !own_pid(m, a[1]))
		return -ESRCH;
	int64_t nice = (int64_t)(int32_t)a[2];
	m->nice = (int32_t)(nice < -20 ? -20 : nice > 19 ? 19 : nice);
	return 0;
}

/* Locking pages in memory: ranges are checked; guest memory stays where
 * it is either way. */
static int64_t sys_mlock(struct monitor *m, ARGS)
{
	uint64_t start = a[0] & ~(uint64_t)(GUEST_PAGE - 1);
	return a[1] && !gm_access_ok(&m->gm, start, a[0] + a[1] - start, 0) ? -ENOMEM : 0;
}

static int64_t sys_mlockall(struct monitor *m, ARGS)
{
	(void)m;
	return a[0] && !(a[0] & ~(uint64_t)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) ? 0 : -EINVAL;
}

/* Process group, session and groups: the host process's, as for the pid
 * and the ids; the guest cannot change them (its process group and session
 * are opsub's, whose job control and signals they decide). */
static int64_t sys_getpgid(struct monitor *m, ARGS)
{
	return own_pid(m, a[0]) ? getpgrp() : -ESRCH;
}

static int64_t sys_getsid(struct monitor *m, ARGS)
{
	return own_pid(m, a[0]) ? getsid(0) : -ESRCH;
}

static int64_t sys_getpgrp(struct monitor *m, ARGS) { (void)m; (void)a; return getpgrp(); }
static int64_t sys_setpgid(struct monitor *m, ARGS) { (void)m; (void)a; return -EPERM; }
static int64_t sys_setsid(struct monitor *m, ARGS) { (void)m; (void)a; return -EPERM; }

static int64_t sys_getgroups(struct monitor *m, ARGS)
{
	gid_t groups[64];
	int n = getgroups(64, groups);
	if (n < 0)
		return -errno;
	if ((int32_t)a[0] < 0)
		return -EINVAL;
	if (a[0] == 0)
		return n;
	if (a[0] < (uint64_t)n)
		return -EINVAL;
	return gm_write(&m->gm, a[1], groups, (uint64_t)n * sizeof(gid_t)) ? -EFAULT : n;
}

/* getresuid and getresgid: the host process's ids, real, effective, saved. */
static int64_t write_three(struct monitor *m, const uint64_t a[6], const uint32_t id[3])
{
	for (int i = 0; i < 3; i++)
		if (gm_write(&m->gm, a[i], &id[i], 4))
			return -EFAULT;
	return 0;
}

static int64_t sys_getresuid(struct monitor *m, ARGS)
{
	uid_t id[3];
	getresuid(&id[0], &id[1], &id[2]);
	return write_three(m, a, id);
}

static int64_t sys_getresgid(struct monitor *m, ARGS)
{
	gid_t id[3];
	getresgid(&id[0], &id[1], &id[2]);
	return write_three(m, a, id);
}

/* prctl: the thread's name; every other option is EINVAL, as for an option
 * the kernel does not know. */
static int64_t sys_prctl(struct monitor *m, ARGS)
{
	char name[16];
	switch (a[0]) {
	case PR_SET_NAME:
		memset(name, 0, sizeof(name));
		for (size_t i = 0; i < sizeof(name) - 1; i++) {
			if (gm_read(&m->gm, &name[i], a[1] + i, 1))
				return -EFAULT;
			if (!name[i])
				break;
		}
		memcpy(m->thread_name, name, sizeof(name));
		return 0;
	case PR_GET_NAME:
		return gm_write(&m->gm, a[1], m->thread_name, sizeof(m->thread_name));
	default:
		return -EINVAL;
	}
}

static int64_t sys_getcpu(struct monitor *m, ARGS)
{
	const uint32_t zero = 0;
	for (int i = 0; i < 2; i++)                         /* cpu, node */
		if (a[i] && gm_write(&m->gm, a[i], &zero, sizeof(zero)))
			return -EFAULT;
	return 0;
}

int64_t sys_exit(struct monitor *m, ARGS) { return stop(m, (int)(a[0] & 0xff)); }

static int64_t sys_uname(struct monitor *m, ARGS)
{
	struct utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	strcpy(u.nodename, "opsub");
	strcpy(u.release, "6.1.0-opsub");
	strcpy(u.version, "#1 opsub guest");
	strcpy(u.machine, "x86_64");
	return gm_write(&m->gm, a[0], &u, sizeof(u));
}

static int64_t sys_getrandom(struct monitor *m, ARGS)
{
	if (!gm_access_ok(&m->gm, a[0], a[1], GP_W) || !gm_prepare_write(&m->gm, a[0], a[1]))
		return -EFAULT;
	return host_result(getrandom(guest_ptr(a[0]), a[1], (unsigned)(a[2] & (GRND_NONBLOCK | GRND_RANDOM))));
}

static int64_t limits(struct monitor *m, uint64_t res, uint64_t old)
{
	uint64_t lim[2] = {RLIM_INFINITY, RLIM_INFINITY};
	switch (res) {
	case RLIMIT_STACK: lim[0] = lim[1] = GUEST_STACK_SIZE; break;
	case RLIMIT_NOFILE: lim[0] = fd_limit(); lim[1] = FD_MAX; break;
	case RLIMIT_AS: case RLIMIT_DATA: lim[0] = lim[1] = m->gm.size; break;
	case RLIMIT_NPROC: lim[0] = lim[1] = 1; break;
	default: if (res >= RLIM_NLIMITS) return -EINVAL; break;
	}
	return old ? gm_write(&m->gm, old, lim, sizeof(lim)) : 0;
}

static int64_t sys_prlimit64(struct monitor *m, ARGS)
{
	if (a[0] != 0 && a[0] != (uint64_t)getpid())
		return -EPERM;
	uint64_t want[2];
	if (a[2] && gm_read(&m->gm, want, a[2], sizeof(want)))
		return -EFAULT;
	if (a[2] && want[0] > want[1])
		return -EINVAL;
	if (a[2] && a[1] == RLIMIT_NOFILE && want[1] > FD_MAX)
		return -EPERM;
	int64_t r = limits(m, a[1], a[3]);
	/* the descriptor limit is kept (at most FD_MAX); other new limits are
	 * accepted and ignored */
	if (!r && a[2] && a[1] == RLIMIT_NOFILE)
		fd_set_limit((unsigned)want[0]);
	return r;
}

static int64_t sys_getrlimit(struct monitor *m, ARGS) { return limits(m, a[0], a[1]); }

static int64_t sys_setrlimit(struct monitor *m, ARGS)
{
	const uint64_t b[6] = {0, a[0], a[1], 0, 0, 0};
	return sys_prlimit64(m, b);
}

static int64_t sys_getrusage(struct monitor *m, ARGS)
{
	struct rusage ru;
	int who = (int)a[0];   /* the kernel takes an int */
	if (who != RUSAGE_SELF && who != RUSAGE_THREAD)
		return who == RUSAGE_CHILDREN ? gm_write(&m->gm, a[1], memset(&ru, 0, sizeof(ru)), sizeof(ru)) : -EINVAL;
	getrusage(RUSAGE_SELF, &ru);
	return gm_write(&m->gm, a[1], &ru, sizeof(ru));
}

/* The guest's view of the machine: its own memory, one process. */
static int64_t sys_sysinfo(struct monitor *m, ARGS)
{
	struct sysinfo si;
	struct timespec up;
	memset(&si, 0, sizeof(si));
	guest_clock_gettime(CLOCK_BOOTTIME, &up);
	uint64_t used = (m->gm.brk - m->gm.brk_start) + (m->gm.mmap_top - m->gm.mmap_low);
	si.uptime = up.tv_sec;
	si.totalram = m->gm.size;
	si.freeram = used < m->gm.size ? m->gm.size - used : 0;
	si.procs = 1;
	si.mem_unit = 1;
	return gm_write(&m->gm, a[0], &si, sizeof(si));
}

/* CPU times in clock ticks (100 a second, sysconf's _SC_CLK_TCK) and the
 * ticks since boot on the guest's clock; a null buffer is allowed. */
static int64_t sys_times(struct monitor *m, ARGS)
{
	struct rusage ru;
	struct timespec up;
	getrusage(RUSAGE_SELF, &ru);
	guest_clock_gettime(CLOCK_BOOTTIME, &up);
	int64_t tms[4] = {ru.ru_utime.tv_sec * 100 + ru.ru_utime.tv_usec / 10000,
	                  ru.ru_stime.tv_sec * 100 + ru.ru_stime.tv_usec / 10000, 0, 0};
	if (a[0] && gm_write(&m->gm, a[0], tms, sizeof(tms)))
		return -EFAULT;
	return up.tv_sec * 100 + up.tv_nsec / 10000000;
}

/* ---- time ----------------------------------------------------------------- */

static int64_t sys_clock_gettime(struct monitor *m, ARGS)
{
	struct timespec ts;
	if (a[0] > CLOCK_BOOTTIME)
		return -EINVAL;   /* no other process's clocks */
	int r = guest_clock_gettime((clockid_t)a[0], &ts);
	return r ? r : gm_write(&m->gm, a[1], &ts, sizeof(ts));
}

static int64_t sys_clock_getres(struct monitor *m, ARGS)
{
	struct timespec ts;
	if (a[0] > CLOCK_BOOTTIME)
		return -EINVAL;
	clock_getres((clockid_t)a[0], &ts);
	return a[1] ? gm_write(&m->gm, a[1], &ts, sizeof(ts)) : 0;
}

static int64_t sys_gettimeofday(struct monitor *m, ARGS)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t tv[2] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec / 1000};
	if (a[0] && gm_write(&m->gm, a[0], tv, sizeof(tv)))
		return -EFAULT;
	uint32_t tz[2] = {0, 0};
	return a[1] ? gm_write(&m->gm, a[1], tz, sizeof(tz)) : 0;
}

static int64_t sys_time(struct monitor *m, ARGS)
{
	int64_t t = (int64_t)time(NULL);
	if (a[0] && gm_write(&m->gm, a[0], &t, 8))
		return -EFAULT;
	return t;
}

/* What is left of a sleep until the host time `end` on clk, into the
 * guest timespec at rem (a relative sleep a signal interrupted). */
static int64_t sleep_left(struct monitor *m, clockid_t clk, struct timespec end, uint64_t rem)
{
	struct timespec now;
	clock_gettime(clk, &now);
	int64_t left = (end.tv_sec - now.tv_sec) * 1000000000 + (end.tv_nsec - now.tv_nsec);
	if (left < 0)
		left = 0;
	struct timespec r = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
	return gm_write(&m->gm, rem, &r, sizeof(r));
}

/* Sleeps for the guest timespec at req (absolute on clk when abs).  The
 * sleep is made absolute on the host's clock first, so that a migration
 * request served in the middle (EINTR) does not shorten or lengthen it.
 * A signal to deliver ends it with -EINTR, and a relative sleep writes
 * what was left to the guest timespec at rem (0: nowhere). */
int64_t guest_sleep(struct monitor *m, clockid_t clk, bool abs, uint64_t req, uint64_t rem)
{
	struct timespec ts, now;
	if (gm_read(&m->gm, &ts, req, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	if (abs) {
		ts = guest_clock_to_host(clk, ts);
	} else if (clock_gettime(clk, &now) == 0) {
		ts.tv_sec = ts.tv_sec > INT32_MAX ? INT32_MAX + now.tv_sec : ts.tv_sec + now.tv_sec;
		ts.tv_nsec += now.tv_nsec;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
	}
	if (threads_many(m) && clock_gettime(clk, &now) == 0) {
		int64_t left = (ts.tv_sec - now.tv_sec) * 1000000000 + (ts.tv_nsec - now.tv_nsec);
		return threads_sleep(m, monitor_now_ns() + (uint64_t)(left > 0 ? left : 0), abs ? 0 : rem);
	}
	int r;
	while ((r = clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL)) == EINTR) {
		if (signals_waiting(m))
			return rem && !abs && sleep_left(m, clk, ts, rem) ? -EFAULT : -EINTR;
		if (freeze_pending)
			freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);
	}
	return -r;
}

static int64_t sys_nanosleep(struct monitor *m, ARGS) { return guest_sleep(m, CLOCK_MONOTONIC, false, a[0], a[1]); }

static int64_t sys_clock_nanosleep(struct monitor *m, ARGS)
{
	if (a[0] > CLOCK_BOOTTIME || a[0] == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	return guest_sleep(m, (clockid_t)a[0], a[1] & TIMER_ABSTIME, a[2], a[3]);
}

static int64_t sys_absent(struct monitor *m, ARGS) { (void)m; (void)a; return -ENOSYS; }

/* ---- the table ------------------------------------------------------------- */

#define CALL(nr, name) [nr] = {#name, sys_##name}
static const struct { const char *name; sys_fn fn; } table[] = {
	CALL(0, read), CALL(1, write), CALL(2, open), CALL(3, close), CALL(4, stat), CALL(5, fstat),
	CALL(6, lstat), CALL(7, poll), CALL(8, lseek), CALL(9, mmap), CALL(10, mprotect), CALL(11, munmap),
	CALL(12, brk), CALL(13, rt_sigaction), CALL(14, rt_sigprocmask), CALL(15, rt_sigreturn), CALL(16, ioctl),
	CALL(17, pread64),
	CALL(18, pwrite64), CALL(19, readv), CALL(20, writev), CALL(21, access), CALL(22, pipe),
	CALL(23, select), CALL(24, sched_yield), CALL(25, mremap), CALL(28, madvise), CALL(32, dup),
	CALL(33, dup2), CALL(34, pause), CALL(35, nanosleep), CALL(36, getitimer), CALL(37, alarm),
	CALL(38, setitimer), CALL(39, getpid), CALL(40, sendfile),
	[41] = {"socket", sys_absent}, CALL(56, clone), [57] = {"fork", sys_absent},
	[58] = {"vfork", sys_absent}, [59] = {"execve", sys_absent}, [60] = {"exit", sys_exit_thread}, CALL(62, kill),
	CALL(63, uname), CALL(72, fcntl), CALL(73, flock), CALL(74, fsync), [75] = {"fdatasync", sys_fsync},
	CALL(76, truncate), CALL(77, ftruncate), CALL(79, getcwd), CALL(80, chdir), CALL(81, fchdir),
	CALL(82, rename), CALL(83, mkdir), CALL(84, rmdir), CALL(85, creat), CALL(86, link), CALL(87, unlink),
	CALL(88, symlink), CALL(89, readlink), CALL(90, chmod), CALL(91, fchmod), CALL(92, chown),
	CALL(93, fchown), [94] = {"lchown", sys_chown}, CALL(95, umask),
	CALL(96, gettimeofday), CALL(97, getrlimit), CALL(160, setrlimit), CALL(98, getrusage), CALL(99, sysinfo),
	CALL(100, times), [101] = {"ptrace", sys_absent},
	CALL(102, getuid), CALL(104, getgid), [107] = {"geteuid", sys_getuid}, [108] = {"getegid", sys_getgid},
	CALL(109, setpgid), CALL(111, getpgrp), CALL(112, setsid), CALL(115, getgroups), CALL(118, getresuid),
	CALL(120, getresgid), CALL(121, getpgid), CALL(124, getsid), CALL(140, getpriority),
	CALL(141, setpriority), CALL(142, sched_setparam), CALL(143, sched_getparam), CALL(144, sched_setscheduler),
	CALL(145, sched_getscheduler), CALL(146, sched_get_priority_max), CALL(147, sched_get_priority_min),
	CALL(149, mlock), [150] = {"munlock", sys_mlock}, CALL(151, mlockall), [152] = {"munlockall", sys_zero},
	CALL(157, prctl), [325] = {"mlock2", sys_mlock},
	CALL(110, getppid), CALL(127, rt_sigpending), CALL(128, rt_sigtimedwait), CALL(130, rt_sigsuspend), CALL(131, sigaltstack),
	CALL(132, utime), CALL(137, statfs),
	CALL(138, fstatfs), CALL(158, arch_prctl), CALL(161, chroot), CALL(186, gettid),
	CALL(188, setxattr), CALL(189, lsetxattr), CALL(190, fsetxattr), CALL(191, getxattr), CALL(192, lgetxattr),
	CALL(193, fgetxattr), CALL(194, listxattr), CALL(195, llistxattr), CALL(196, flistxattr),
	CALL(197, removexattr), CALL(198, lremovexattr), CALL(199, fremovexattr),
	CALL(200, tkill), CALL(201, time), CALL(202, futex), CALL(203, sched_setaffinity),
	CALL(204, sched_getaffinity), CALL(213, epoll_create), CALL(217, getdents64),
	CALL(218, set_tid_address), CALL(221, fadvise64), CALL(222, timer_create), CALL(223, timer_settime),
	CALL(224, timer_gettime), CALL(225, timer_getoverrun), CALL(226, timer_delete), CALL(228, clock_gettime), CALL(229, clock_getres),
	CALL(230, clock_nanosleep), [231] = {"exit_group", sys_exit}, CALL(232, epoll_wait), CALL(233, epoll_ctl),
	CALL(234, tgkill), CALL(235, utimes), CALL(257, openat), CALL(258, mkdirat), CALL(259, mknodat),
	CALL(260, fchownat), CALL(262, newfstatat), CALL(263, unlinkat), CALL(264, renameat), CALL(265, linkat),
	CALL(266, symlinkat), CALL(267, readlinkat), CALL(268, fchmodat), CALL(269, faccessat),
	CALL(270, pselect6), CALL(271, ppoll), [273] = {"set_robust_list", sys_zero}, CALL(280, utimensat),
	CALL(281, epoll_pwait), CALL(283, timerfd_create), CALL(284, eventfd), CALL(285, fallocate),
	CALL(286, timerfd_settime), CALL(287, timerfd_gettime), CALL(290, eventfd2), CALL(291, epoll_create1),
	CALL(292, dup3), CALL(293, pipe2), CALL(295, preadv), CALL(296, pwritev), CALL(302, prlimit64),
	CALL(309, getcpu),
	CALL(316, renameat2), CALL(318, getrandom), [322] = {"execveat", sys_absent}, CALL(332, statx),
	[334] = {"rseq", sys_absent}, [435] = {"clone3", sys_absent}, [437] = {"openat2", sys_absent},
	CALL(439, faccessat2), CALL(441, epoll_pwait2),
};
#undef CALL

/* Calls Linux makes again after a handler with SA_RESTART (-ERESTARTSYS):
 * reads and writes that block, and a futex wait without a timeout. */
static bool restarts(uint64_t nr, const uint64_t a[6])
{
	switch (nr) {
	case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64: case SYS_pwrite64:
	case SYS_preadv: case SYS_pwritev: case SYS_sendfile: case SYS_flock:
		return true;
	case SYS_futex:
		return ((a[1] & FUTEX_CMD_MASK) == FUTEX_WAIT || (a[1] & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) && !a[3];
	default:
		return false;
	}
}

bool personality_syscall(struct monitor *m, struct rt_ctx *c)
{
	uint64_t nr = c->gpr[GPR_RAX];
	const uint64_t args[6] = {c->gpr[GPR_RDI], c->gpr[GPR_RSI], c->gpr[GPR_RDX],
	                          c->gpr[GPR_R10], c->gpr[GPR_R8], c->gpr[GPR_R9]};
	bool known = nr < sizeof(table) / sizeof(table[0]) && table[nr].fn;
	stopping = false;
	int64_t r = known ? table[nr].fn(m, args) : -ENOSYS;
	m->syscalls++;
	if (m->opts.trace_syscalls)
		fprintf(stderr, "opsub: syscall %s/%lu(0x%lx, 0x%lx, 0x%lx) = %ld\n", known ? table[nr].name : "unknown",
		        nr, args[0], args[1], args[2], r);
	if (r == THREAD_BLOCKED)
		return stopping;   /* its result comes when it is woken (threads.h) */
	c->gpr[GPR_RAX] = (uint64_t)r;
	if (r == -EINTR && restarts(nr, args))
		signals_note_interrupted(m, nr, c->rip);
	threads_call_done(m);
	return stopping;
}
