/*
 * The personality's handlers, one per Linux system call, listed in the one
 * table of monitor/linux.c.  Each takes the six argument registers as the
 * guest left them and returns the result or -errno; every guest pointer is
 * checked in the handler that takes it, and guest bytes (paths, structs)
 * are copied once into the monitor before they are looked at.
 *
 * linux.c: process, memory, time; signals.c: signals; timers.c: timers;
 * threads.c: threads and futexes; files.c: descriptors; paths.c: paths,
 * names and attributes; wait.c: pipes, eventfd, timerfd, poll, select and
 * epoll.
 */
#ifndef OPSUB_MONITOR_SYSCALLS_H
#define OPSUB_MONITOR_SYSCALLS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "monitor/fdtab.h"
#include "monitor/monitor.h"

#define ARGS const uint64_t a[6]
typedef int64_t (*sys_fn)(struct monitor *m, ARGS);

/* files.c and paths.c */
#define FILE_CALLS(X) X(read) X(write) X(open) X(close) X(stat) X(fstat) X(lstat) X(lseek) X(ioctl) \
	X(pread64) X(pwrite64) X(readv) X(writev) X(access) X(dup) X(dup2) X(sendfile) X(fcntl) X(flock) \
	X(fsync) X(truncate) X(ftruncate) X(getdents64) X(getcwd) X(chdir) X(fchdir) X(rename) X(mkdir) \
	X(rmdir) X(creat) X(link) X(unlink) X(symlink) X(readlink) X(chmod) X(fchmod) X(chown) X(umask) \
	X(statfs) X(fstatfs) X(fadvise64) X(openat) X(mkdirat) X(mknodat) X(fchownat) X(newfstatat) \
	X(unlinkat) X(renameat) X(linkat) X(symlinkat) X(readlinkat) X(fchmodat) X(faccessat) \
	X(utimensat) X(fallocate) X(dup3) X(preadv) X(pwritev) X(renameat2) X(statx) X(faccessat2) \
	X(utimes) X(utime) X(chroot) X(fchown) X(setxattr) X(lsetxattr) X(fsetxattr) X(getxattr) \
	X(lgetxattr) X(fgetxattr) X(listxattr) X(llistxattr) X(flistxattr) X(removexattr) X(lremovexattr) \
	X(fremovexattr)
/* wait.c */
#define WAIT_CALLS(X) X(poll) X(pipe) X(select) X(epoll_create) X(epoll_wait) X(epoll_ctl) X(pselect6) \
	X(ppoll) X(epoll_pwait) X(timerfd_create) X(eventfd) X(timerfd_settime) X(timerfd_gettime) \
	X(eventfd2) X(epoll_create1) X(pipe2) X(epoll_pwait2)

/* signals.c, timers.c */
#define SIGNAL_CALLS(X) X(rt_sigaction) X(rt_sigprocmask) X(rt_sigreturn) X(pause) X(kill) X(rt_sigpending) \
	X(rt_sigsuspend) X(sigaltstack) X(tkill) X(tgkill) X(rt_sigtimedwait)
#define TIMER_CALLS(X) X(getitimer) X(alarm) X(setitimer) X(timer_create) X(timer_settime) X(timer_gettime) \
	X(timer_getoverrun) X(timer_delete)

/* threads.c; linux.c's exit (of the process) */
#define THREAD_CALLS(X) X(clone) X(exit_thread) X(futex) X(sched_yield) X(gettid) X(set_tid_address) X(exit)

#define DECLARE(name) int64_t sys_##name(struct monitor *m, ARGS);
FILE_CALLS(DECLARE)
WAIT_CALLS(DECLARE)
SIGNAL_CALLS(DECLARE)
TIMER_CALLS(DECLARE)
THREAD_CALLS(DECLARE)
#undef DECLARE

/* Shared by files.c and wait.c. */

/* Reads from / writes to a description on a buffer already checked and
 * in the monitor's view of guest memory; off < 0: at the description's
 * position.  Blocks as Linux would unless O_NONBLOCK. */
int64_t of_read(struct monitor *m, struct ofile *of, void *buf, uint64_t len, int64_t off);
int64_t of_write(struct monitor *m, struct ofile *of, const void *buf, uint64_t len, int64_t off);

/* wait.c: the readiness objects' part of read and write (-EAGAIN: none
 * now), and a blocking wait for one description. */
int64_t waitobj_read(struct ofile *of, void *buf, uint64_t len);
int64_t waitobj_write(struct ofile *of, const void *buf, uint64_t len);
int64_t wait_for(struct monitor *m, struct ofile *of, short events);
/* files.c, for mmap of a file (a private copy: a shared mapping is
 * allowed only read-only and does not see later writes): whether fd can
 * be mapped so (0 or -errno), and its bytes from off into the new mapping
 * [addr, addr+len), zeros past the end. */
int64_t file_map_check(struct monitor *m, uint64_t fd, uint64_t flags, uint64_t prot);
int64_t file_map_fill(struct monitor *m, uint64_t fd, uint64_t addr, uint64_t len, uint64_t off);

/* paths.c, for the loader (sandbox/loader.h, struct loader_interp): a
 * dynamically linked program's interpreter, a regular file at `path` in
 * the guest's file system or, failing that, at the real path the host
 * gives `path` (a host's /lib64/ld-linux-x86-64.so.2 is an absolute link
 * into /lib/x86_64-linux-gnu, which a volume cannot follow), if that is in
 * the guest's file system.  A host descriptor for reading, or -errno.
 * Nothing outside the guest's file system is opened. */
int open_interpreter(void *monitor, const char *path);

/* linux.c: sleeps for the guest timespec at req (absolute on clk when
 * abs); a signal ends it with -EINTR and the time left at rem (0: nowhere,
 * relative sleeps only).  With other threads the running one blocks. */
int64_t guest_sleep(struct monitor *m, clockid_t clk, bool abs, uint64_t req, uint64_t rem);

/* The port descriptor for a hypercall (OPSUB_HC_PORT_FD). */
int64_t port_fd_open(struct monitor *m, uint64_t port);

#endif
