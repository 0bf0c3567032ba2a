#include "monitor/guest_clock.h"

#include <errno.h>

#define NS 1000000000ll

/* Added to the host's clock, by clock id; the real-time clocks keep 0. */
static int64_t offset_ns[GUEST_CLOCKS];

static bool offset_applies(clockid_t id)
{
	return id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE;
}

/* Host clock `id` in ns, or -1. */
static int64_t host_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static struct timespec from_ns(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return (struct timespec){(time_t)(ns / NS), (long)(ns % NS)};
}

int guest_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id < 0 || id >= GUEST_CLOCKS)
		return -EINVAL;
	int64_t ns = host_ns(id);
	if (ns < 0)
		return -errno;
	*ts = from_ns(ns + offset_ns[id]);
	return 0;
}

uint64_t guest_clock_now_ns(void)
{
	return (uint64_t)(host_ns(CLOCK_MONOTONIC) + offset_ns[CLOCK_MONOTONIC]);
}

/* a - b, saturated: deadlines far in the future stay far in the future */
static int64_t sub_sat(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? INT64_MAX : 0) : r;
}

struct timespec guest_clock_to_host(clockid_t id, struct timespec guest)
{
	int64_t ns;
	if (__builtin_mul_overflow((int64_t)guest.tv_sec, NS, &ns) || __builtin_add_overflow(ns, (int64_t)guest.tv_nsec, &ns))
		ns = INT64_MAX;
	return from_ns(sub_sat(ns, id >= 0 && id < GUEST_CLOCKS ? offset_ns[id] : 0));
}

uint64_t guest_clock_to_host_ns(uint64_t guest_monotonic_ns)
{
	int64_t ns = guest_monotonic_ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)guest_monotonic_ns;
	int64_t host = sub_sat(ns, offset_ns[CLOCK_MONOTONIC]);
	return host < 0 ? 0 : (uint64_t)host;
}

void guest_clock_save(int64_t out[GUEST_CLOCKS])
{
	for (clockid_t id = 0; id < GUEST_CLOCKS; id++) {
		struct timespec ts = {0, 0};
		guest_clock_gettime(id, &ts);
		out[id] = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
	}
}

void guest_clock_restore(const int64_t saved[GUEST_CLOCKS])
{
	int64_t elapsed = host_ns(CLOCK_REALTIME) - saved[CLOCK_REALTIME];
	if (elapsed < 0)
		elapsed = 0;   /* the hosts' real-time clocks disagree: never backwards */
	if (elapsed > (1ll << 62))
		elapsed = 1ll << 62;
	for (clockid_t id = 0; id < GUEST_CLOCKS; id++) {
		if (!offset_applies(id))
			continue;
		bool cpu_time = id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID;
		int64_t now = host_ns(id);
		if (now < 0)
			now = 0;
		offset_ns[id] = saved[id] + (cpu_time ? 0 : elapsed) - now;
	}
}
