/*
 * Requests to a guest process about migration (docs/migration.md, section
 * 1; driver/link.h LINK_MIG_*): the daemon writes the request on the
 * guest's link socket and, for a running guest, sends SIGUSR2, again every
 * millisecond until the reply comes (a signal that lands where the request
 * cannot be served at once is simply followed by another).  The reply is
 * one LINK_MIG_REPLY whose `queue` is the request's type and whose
 * `mem_size` is a result >= 0 or -errno.  The guest process's words are
 * untrusted: anything else it sends is dropped with its descriptors, and a
 * reply is only a number, range-checked by the caller.
 */
#ifndef OPSUB_DAEMON_MIGRATE_GUEST_H
#define OPSUB_DAEMON_MIGRATE_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The guest process: its link socket, a pidfd of it, and the job's abort
 * eventfd (readable: give up at once). */
struct mig_guest {
	int link_sock, pidfd, abort_fd;
};

/* Sends request `type` (with descriptor fd, -1: none) and SIGUSR2, and
 * waits up to timeout_ms for its reply: *result.  0, or -1 with a
 * one-line reason (no reply, process gone, cancelled). */
int mig_guest_call(const struct mig_guest *gp, uint32_t type, int fd, unsigned timeout_ms, int64_t *result,
                   char *err, size_t errlen);
/* The reply to a request already sent (LINK_MIG_STATE at boot), without
 * signals. */
int mig_guest_reply(const struct mig_guest *gp, uint32_t type, unsigned timeout_ms, int64_t *result, char *err,
                    size_t errlen);
/* A negative reply (-errno) in words; any other value, as the guest
 * process's word is untrusted, as "an unknown error". */
const char *mig_guest_error(int64_t result);
/* LINK_MIG_SAVE of a paused guest: the state (malloc'ed, *len bytes, at
 * most GUEST_STATE_MAX, its header checked as the destination checks it
 * against mem_size and io).  NULL with a reason. */
uint8_t *mig_guest_save(const struct mig_guest *gp, uint64_t mem_size, unsigned io, size_t *len, char *err,
                        size_t errlen);

#endif
