/*
 * Pausing, saving and restoring the guest of this process, for live
 * migration and snapshots (docs/migration.md, section 1).
 *
 * The daemon writes a request on the link socket and sends SIGUSR2 (again
 * every millisecond until it gets the reply).  The signal handler only
 * marks the request pending and, if the guest was in translated code,
 * single-steps it to the next instruction boundary and into the gates
 * (monitor/fault.c).  Requests are served at safe points, where every guest
 * register is in the runtime context and the guest's next instruction is
 * known: at the entry of every full gate, and inside the calls that block
 * (sleeps, waits), which then go on as if nothing happened.
 *
 * The saved state (monitor/guest_state.h) puts the guest at an instruction
 * boundary: inside a blocking call, at that call's instruction with its
 * registers as before it, so a restored guest makes the call again.
 */
#ifndef OPSUB_MONITOR_FREEZE_H
#define OPSUB_MONITOR_FREEZE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/link.h"
#include "monitor/freeze_check.h"

struct monitor;

/* Set by the SIGUSR2 handler and by freeze_take: a request waits. */
extern volatile sig_atomic_t freeze_pending;

/* Takes requests from the daemon on link_sock, the guest process's link.
 * The network driver reads that socket too, for its own messages: pull
 * reads everything waiting there (non-blocking) and hands requests to
 * freeze_take; it returns -1 once the daemon has closed the link.
 * 0, or -1 with a reason. */
int freeze_install(int link_sock, int (*pull)(void), char *err, size_t errlen);

/* A LINK_MIG_* message read from the link socket by whoever read it; fd
 * (or -1) is its descriptor, which is taken over. */
void freeze_take(const struct link_msg *msg, int fd);

/* Serves the waiting requests; returns once the guest may go on.  The
 * guest's registers are in the runtime context; its next instruction is at
 * pc, which is the instruction of a blocking call when call is not
 * GS_CALL_NONE (then rax holds the call's number). */
void freeze_serve(struct monitor *m, uint64_t pc, uint32_t call);

/* The state of the guest (paused, at pc as for freeze_serve), in a new
 * buffer (*out, to free; its size returned), or -errno. */
int64_t freeze_save(struct monitor *m, uint64_t pc, uint32_t call, uint8_t **out);

/* Start of a restored guest.  freeze_load reads the state the daemon sent
 * (LINK_MIG_STATE) once into a buffer of its own, checks all of it
 * (gs_check) and applies what the monitor holds: page protections, break,
 * registers, vector state, clocks, personality; *pc gets where the guest
 * goes on.  After the network driver has attached, freeze_loaded applies
 * the port's part (the monitor's port_restore), answers the daemon and
 * frees the buffer.  Both return 0, or -1 with a reason (freeze_loaded
 * also tells the daemon). */
int freeze_load(struct monitor *m, uint64_t *pc, char *err, size_t errlen);
int freeze_loaded(struct monitor *m, char *err, size_t errlen);

#endif
