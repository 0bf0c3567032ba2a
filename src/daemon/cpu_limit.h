/*
 * CPU for guests: a share (weight) and an optional cap per guest, through
 * the kernel's cgroup cpu controller (docs/daemon.md, "CPU").
 *
 * At daemon start cpu_limit_open finds where this daemon may make groups:
 * cgroup v2 if its cpu controller can be enabled for a directory of ours,
 * else a cgroup v1 hierarchy with the cpu controller.  Under the chosen
 * base (the daemon's own group first, the hierarchy's root second) it makes
 * a parent group opsub-PID, and in it one group per guest that has other
 * settings than the defaults, guest-NAME.  A guest process is moved into
 * its group before it boots (the daemon sends LINK_BOOT after the move, so
 * no guest instruction runs outside it), or when `set` first gives it
 * other settings; the group is removed once the process is reaped.  cpu_limit_close
 * removes whatever is left and the parent.  Parents left by a daemon that
 * was killed (SIGKILL) are removed by the next daemon's open: a group can
 * only be removed once no process is in it, so this never takes a group
 * that is in use.
 *
 * Only the daemon writes these files: a guest process is jailed (no open,
 * no files), so it cannot raise its own share or lift its cap.
 *
 * Scales.  The weight is cgroup v2's, 1..10000, default 100 (the weight of
 * one ordinary process); v1 gets cpu.shares = weight * 1024 / 100.  The cap
 * is in cores (0.5: half of one CPU; 2: two CPUs), applied as a quota per
 * period of 100 ms (v2 cpu.max "QUOTA 100000", v1 cpu.cfs_quota_us and
 * cpu.cfs_period_us); 0 means no cap.  The parent's own weight is the sum
 * of its guests' (at most the controller's limit), so that the guests
 * together weigh against the host's other processes what they did as
 * separate processes outside any group.
 *
 * Cost: each operation is a few file writes in one guest's group, found by
 * name under the parent's open directory: no operation scans the guests,
 * thousands of them are fine.
 *
 * Unavailable (no hierarchy, not writable, the cpu controller held
 * elsewhere): cpu_limit_open says so once in the log, naming what was
 * tried; guests run as before, and a request that sets CPU is refused with
 * that reason.  The daemon never fails because of it.  Every function
 * takes NULL as "not set up" (a daemon that was never started).
 */
#ifndef OPSUB_DAEMON_CPU_LIMIT_H
#define OPSUB_DAEMON_CPU_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CPU_WEIGHT_MIN     1
#define CPU_WEIGHT_MAX     10000
#define CPU_WEIGHT_DEFAULT 100          /* one ordinary process */
#define CPU_MAX_MIN        0.01         /* cores: the kernel's least quota, 1 ms per period */
#define CPU_MAX_MAX        1024.0       /* cores */
#define CPU_PERIOD_US      100000       /* the period a cap is measured over */

enum cpu_limit_kind { CPU_LIMIT_NONE, CPU_LIMIT_V2, CPU_LIMIT_V1 };

struct cpu_limit;

/* Probes /proc/self/mounts and /proc/self/cgroup and makes the parent
 * group.  Logs what it uses, or why nothing: a warning if `warn`, else a
 * routine line (opsub run --net and the demo set no CPU limits).  NULL
 * only when out of memory. */
struct cpu_limit *cpu_limit_open(bool warn);
/* The same from other mount and cgroup tables (for tests); `id` names the
 * parent group (opsub-ID). */
struct cpu_limit *cpu_limit_open_from(const char *mounts_file, const char *cgroup_file, long id, bool warn);
/* Removes every guest group left and the parent.  NULL is ok. */
void cpu_limit_close(struct cpu_limit *cl);

enum cpu_limit_kind cpu_limit_kind(const struct cpu_limit *cl);
/* The parent group's path ("" when unavailable). */
const char *cpu_limit_path(const struct cpu_limit *cl);
/* Why CPU control is unavailable: what was tried and what failed. */
const char *cpu_limit_why(const struct cpu_limit *cl);

/* Whether a guest may have these settings here: 0, or -1 with "CPU
 * control is unavailable on this host: WHY" when they are not the
 * defaults (weight 100, no cap) and there is no controller. */
int cpu_limit_check(const struct cpu_limit *cl, unsigned weight, double max, char *err, size_t errlen);

/* Makes the guest's group, gives it weight and cap (max cores, 0: none)
 * and moves process pid into it.  0, or -1 with a reason (the group is
 * removed again).  A guest with the default settings gets no group (0):
 * it weighs what an ordinary process weighs, as a group of weight 100
 * would make it, and its start costs no move (a move takes the kernel's
 * cgroup write lock: tens of milliseconds on a busy host, minutes for
 * thousands of guests).  With no controller: 0 for the defaults, else
 * cpu_limit_check's refusal. */
int cpu_limit_join(struct cpu_limit *cl, const char *guest, pid_t pid, unsigned weight, double max, char *err,
                   size_t errlen);
/* New settings for a guest; old_* are what it had.  A guest without a
 * group yet (it had the defaults) gets one now, process pid moved in.  0,
 * or -1 with a reason (the old settings stay). */
int cpu_limit_apply(struct cpu_limit *cl, const char *guest, pid_t pid, unsigned old_weight, double old_max,
                    unsigned weight, double max, char *err, size_t errlen);
/* Removes the guest's group, once its process is reaped; `weight` is what
 * it had.  A group that does not exist (the guest never joined) is fine. */
void cpu_limit_leave(struct cpu_limit *cl, const char *guest, unsigned weight);
/* CPU time the guest's process has used, in seconds: its group's usage
 * counter, or with v1 without cpuacct (or no controller) the process's own
 * user + system time (/proc/PID/stat).  0, or -1 if it cannot be read. */
int cpu_limit_usage(const struct cpu_limit *cl, const char *guest, pid_t pid, double *seconds);

/* The mappings (for tests and the log). */
bool cpu_max_valid(double cores);                 /* CPU_MAX_MIN..CPU_MAX_MAX */
unsigned cpu_weight_to_shares(unsigned weight);   /* v1 cpu.shares */
uint64_t cpu_max_to_quota_us(double cores);       /* per CPU_PERIOD_US; 0: no cap */
/* What goes into the files: v2 cpu.max ("max 100000", "20000 100000"),
 * v1 cpu.cfs_quota_us ("-1", "20000"). */
void cpu_max_v2_text(double cores, char *out, size_t len);
void cpu_max_v1_text(double cores, char *out, size_t len);
/* "none", "0.2", "2" (for logs and replies) */
void cpu_max_format(double cores, char *out, size_t len);

#endif
