/*
 * The receiving end of a migration stream or a snapshot file, as far as it
 * can be checked without the daemon: every record after decryption is
 * hostile input (docs/migration.md, "The destination").
 *
 * Order: HELLO, then PAGES records, then HOLES records (possibly none),
 * then one STATE, then END (the FINAL record); anything else is refused.  HELLO: the version, the memory size
 * (a whole number of pages, as a config's "mem"), the guest's config
 * validated as a config file's guest is (config_guest_from_stream: no
 * "output" path, the program not looked up on this host), and the same
 * memory size in both.  PAGES: a count of at most MIG_PAGES_PER_RECORD
 * entries that fills the record exactly, every page number below the
 * memory's pages, every kind known.  HOLES: at most MIG_HOLES_PER_RECORD
 * ranges filling the record, each non-empty, inside the memory, in
 * ascending order without overlap.  STATE: at most GUEST_STATE_MAX bytes
 * filling the record, a header (monitor/guest_state.h) with the magic, the
 * version, its own size equal to the bytes carried, the memory size of
 * HELLO and the I/O mode of the config (or no port), and the paravirt
 * backend's state for a paravirt guest and only for one (its values are
 * checked by vhost_start_at, which knows the ring size).  END: the counts of pages of each
 * kind equal to those received.
 *
 * Pages are written into `mem` (the destination's own mapping of the new
 * memory), from the record's decrypted copy: nothing is read twice; holes
 * are punched in `mem_fd`.  Without them (the fuzzer, a dry check) the
 * records are only checked.
 */
#ifndef OPSUB_DAEMON_MIGRATE_RECV_H
#define OPSUB_DAEMON_MIGRATE_RECV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon.h"
#include "daemon/migrate_stream.h"

enum mig_phase { MIG_WANT_HELLO, MIG_WANT_PAGES, MIG_DONE };

struct mig_incoming {
	enum mig_phase phase;
	struct guest_config cfg;        /* from HELLO, checked (owned) */
	uint32_t cpu_rows;              /* HELLO's: the guest's optional CPU rows */
	uint64_t mem_size, pages, resident_pages;
	uint8_t *mem;                   /* where pages go; NULL: checked only */
	int mem_fd;                     /* the memory file, for holes; -1: checked only */
	uint64_t data_pages, zero_pages;
	bool holes;                     /* a HOLES record came: no more PAGES */
	uint64_t holes_end;             /* the end of the last hole, for their order */
	uint8_t *state;                 /* a copy of the guest state (malloc'ed), NULL until STATE */
	uint32_t state_len;
	bool has_vring;
	struct vhost_state vring;       /* as STATE carried it (vhost_start_at checks it) */
	struct mig_end end;             /* as END said */
};

void mig_incoming_init(struct mig_incoming *in);
void mig_incoming_free(struct mig_incoming *in);

/* Takes one decrypted record (type, payload of len bytes, final as the
 * stream tagged it).  0, or -1 with a one-line reason; after -1 the
 * stream is refused.  phase becomes MIG_DONE after a valid END. */
int mig_take(struct mig_incoming *in, uint8_t type, const uint8_t *payload, size_t len, bool final, char *err,
             size_t errlen);

/* The guest state's header (monitor/guest_state.h) as the daemons check
 * it; the guest process checks the rest. */
int mig_check_state_header(const uint8_t *state, size_t len, uint64_t mem_size, enum opsub_net_mode io,
                           char *err, size_t errlen);

#endif
