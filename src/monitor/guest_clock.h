/*
 * The guest's clocks.  A guest reads the host's clocks, except that the
 * clocks that measure elapsed time (monotonic, raw, coarse, boot time and
 * the CPU-time clocks) carry an offset per clock, 0 until the guest is
 * restored from a saved state (docs/migration.md): then each goes on from
 * the value it had when the state was saved, plus the real time that has
 * passed since (as far as the two hosts' CLOCK_REALTIME tell; never a jump
 * backwards).  CLOCK_REALTIME and CLOCK_REALTIME_COARSE are the host's.
 *
 * Every clock read and every absolute deadline of the personality and the
 * hypercalls goes through here, so the guest never sees the host's raw
 * monotonic time once it has moved.
 */
#ifndef OPSUB_MONITOR_GUEST_CLOCK_H
#define OPSUB_MONITOR_GUEST_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Clock ids 0..GUEST_CLOCKS-1 exist for the guest (CLOCK_REALTIME ..
 * CLOCK_BOOTTIME); CLOCK_THREAD_CPUTIME_ID reads the process's CPU time
 * (one thread). */
#define GUEST_CLOCKS 8

/* A timespec in ns, and back (ns >= 0). */
static inline int64_t timespec_ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
static inline struct timespec ns_timespec(int64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}

/* The guest's time on clock id (< GUEST_CLOCKS): 0 or -errno. */
int guest_clock_gettime(clockid_t id, struct timespec *ts);

/* Guest CLOCK_MONOTONIC in ns. */
uint64_t guest_clock_now_ns(void);

/* The host time on the same clock at which guest clock `id` shows `guest`
 * (an absolute deadline), clamped at 0. */
struct timespec guest_clock_to_host(clockid_t id, struct timespec guest);
uint64_t guest_clock_to_host_ns(uint64_t guest_monotonic_ns);

/* Every guest clock now, in ns (for a saved state). */
void guest_clock_save(int64_t out[GUEST_CLOCKS]);

/* Sets the offsets so that each elapsed-time clock goes on from saved[id],
 * advanced by max(0, host CLOCK_REALTIME now - saved[CLOCK_REALTIME]) for
 * the clocks that run while a process does not (not the CPU-time ones).
 * Values must be in [0, 2^62) (guest_state checks it). */
void guest_clock_restore(const int64_t saved[GUEST_CLOCKS]);

#endif
