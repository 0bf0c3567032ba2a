/* Migration requests to a guest process (migrate_guest.h). */
#include "daemon/migrate_guest.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daemon/migrate_recv.h"
#include "driver/link.h"
#include "monitor/guest_state.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

#define NUDGE_MS 1   /* SIGUSR2 again after this long without a reply */
#define SAVE_MS  5000u

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *request_name(uint32_t type)
{
	switch (type) {
	case LINK_MIG_PAUSE: return "pause";
	case LINK_MIG_RESUME: return "resume";
	case LINK_MIG_SAVE: return "save its state";
	case LINK_MIG_STATE: return "restore its state";
	default: return "a migration request";
	}
}

const char *mig_guest_error(int64_t result)
{
	return result < 0 && result >= -4095 ? strerror((int)-result) : "an unknown error";
}

static int signal_it(const struct mig_guest *gp, char *err, size_t errlen)
{
	if (syscall(SYS_pidfd_send_signal, gp->pidfd, SIGUSR2, NULL, 0))
		FAIL("the guest process is gone (%s)", strerror(errno));
	return 0;
}

/* Waits for the reply to `type`, nudging the process while it runs. */
static int await(const struct mig_guest *gp, uint32_t type, bool nudge, unsigned timeout_ms, int64_t *result,
                 char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			FAIL("the guest process did not %s within %u ms (is it stuck, or an opsub without migration "
			     "support?)", request_name(type), timeout_ms);
		struct pollfd p[3] = {{.fd = gp->link_sock, .events = POLLIN}, {.fd = gp->abort_fd, .events = POLLIN},
		                      {.fd = gp->pidfd, .events = POLLIN}};
		int wait = nudge ? NUDGE_MS : (int)(deadline - now);
		if (poll(p, 3, wait) < 0 && errno != EINTR)
			FAIL("poll: %s", strerror(errno));
		if (p[1].revents & POLLIN)
			FAIL("cancelled");
		if (p[0].revents) {
			struct link_msg r;
			int fds[4], n = 0;
			int got = link_recv(gp->link_sock, &r, fds, 4, &n);
			for (int i = 0; i < n; i++)
				close(fds[i]);
			if (got < 0)
				FAIL("the guest process is gone (its link closed)");
			if (got == 1 && r.type == LINK_MIG_REPLY && r.queue == type) {
				*result = (int64_t)r.mem_size;
				return 0;
			}
			continue;   /* anything else: dropped */
		}
		if (p[2].revents)
			FAIL("the guest process ended before it could %s (its report is in the daemon's log)",
			     request_name(type));
		if (nudge && signal_it(gp, err, errlen))
			return -1;
	}
}

int mig_guest_call(const struct mig_guest *gp, uint32_t type, int fd, unsigned timeout_ms, int64_t *result,
                   char *err, size_t errlen)
{
	struct link_msg m = {.type = type};
	if (link_send(gp->link_sock, &m, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0))
		FAIL("the guest process is gone (link: %s)", strerror(errno));
	if (signal_it(gp, err, errlen))
		return -1;
	return await(gp, type, true, timeout_ms, result, err, errlen);
}

int mig_guest_reply(const struct mig_guest *gp, uint32_t type, unsigned timeout_ms, int64_t *result, char *err,
                    size_t errlen)
{
	return await(gp, type, false, timeout_ms, result, err, errlen);
}

uint8_t *mig_guest_save(const struct mig_guest *gp, uint64_t mem_size, unsigned io, size_t *len, char *err,
                        size_t errlen)
{
	int fd = memfd_create("opsub-state", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot make a file for the guest state: %s", strerror(errno));
		return NULL;
	}
	int64_t size;
	uint8_t *state = NULL;
	if (mig_guest_call(gp, LINK_MIG_SAVE, fd, SAVE_MS, &size, err, errlen))
		goto out;
	if (size < 0) {
		snprintf(err, errlen, "the guest process could not save its state: %s", mig_guest_error(size));
		goto out;
	}
	if (size > GUEST_STATE_MAX) {
		snprintf(err, errlen, "the guest process says its state is %lld bytes, more than %u",
		         (long long)size, GUEST_STATE_MAX);
		goto out;
	}
	state = malloc((size_t)size + 1);
	if (!state || pread(fd, state, (size_t)size, 0) != (ssize_t)size) {
		snprintf(err, errlen, "cannot read the guest's state back (%s)", state ? "short file" : "out of memory");
		free(state);
		state = NULL;
		goto out;
	}
	/* checked as the destination will check it: a bad one fails here, and
	 * the guest runs on */
	if (mig_check_state_header(state, (size_t)size, mem_size, (enum opsub_net_mode)io, err, errlen)) {
		free(state);
		state = NULL;
		goto out;
	}
	*len = (size_t)size;
out:
	close(fd);
	return state;
}
