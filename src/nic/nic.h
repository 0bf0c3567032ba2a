/*
 * nic.h: a software model of a multi-queue NIC without SR-IOV or IOMMU.
 *
 * The model behaves like the hardware: a DMA engine on its own thread reads
 * descriptors and frame bytes wherever the descriptors point and writes
 * received frames wherever they point, trusting every address that lies in
 * a mapped DMA window (no IOMMU: only the trusted driver may write
 * descriptors). Drivers talk to it only through the register file
 * (nic_regs.h), which they may map from other processes; the daemon, in the
 * model's process, uses the control functions below, which write the global
 * registers that the engine obeys.
 *
 * Threads: the control functions may be called from any thread (they
 * serialise on one lock and never run on the engine thread). A change made
 * by a control function is in force when it returns: if the engine is
 * running, the call waits for the engine to pass a point where it holds no
 * ring or window pointer (at most one engine iteration; a sleeping engine
 * is woken for it). Statistics may be read at any time.
 *
 * Errors: calls that can fail return 0 on success and -1 on failure, with a
 * one-line message in err (err may be NULL, errlen 0).
 */
#ifndef OPSUB_NIC_NIC_H
#define OPSUB_NIC_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nic_regs.h"
#include "nic/wire.h"

struct nic;

enum nic_poll_mode {
	/* Spins for ~1 ms after the last work, then sleeps until a doorbell
	 * (the drivers write the queue's doorbell eventfd when they see
	 * nic_asleep, nic_ring.h), a control call or input on the wire: an
	 * idle NIC costs no CPU. While a rate limiter holds frames back, or a
	 * lossless wire's wait budget runs, it naps ~50 us at a time instead.
	 * Sleeps are also cut at 1 s, a backstop. */
	NIC_POLL_ADAPTIVE,
	/* Spins without ever sleeping: for benchmarks. */
	NIC_POLL_BUSY,
};

struct nic_config {
	unsigned num_queues;        /* queue pairs, 1..NIC_MAX_QUEUES */
	const char *wire;           /* a wire_open spec (wire.h) */
	/* Or a wire already open (the pool's uplink, daemon/pool.h): the NIC
	 * takes it over, closing it with itself or when nic_create fails. */
	struct wire *wire_backend;
	uint64_t line_rate_bps;     /* port rate shared by WRR, 0 = unlimited */
	enum nic_poll_mode poll_mode;
	int dma_cpu;                /* CPU to pin the engine to, -1 = none */
	/* Lossless wires: how long in all the wire may wait for one queue
	 * without a descriptor while other queues could receive, before
	 * frames for it are dropped (docs/nic.md, "Receive"); 0 = 5 ms. */
	uint64_t rx_wait_ns;
};

/* 64 queues, wire "null", unlimited line rate, adaptive, no pinning. */
void nic_config_defaults(struct nic_config *cfg);

/* Creates a NIC in its power-on state: engine stopped, link up, every
 * queue pair disabled with 1024-entry rings, admin up, weight 1, no rate
 * limit, no filters, no window mapped. NULL on a bad config or failure. */
struct nic *nic_create(const struct nic_config *cfg, char *err,
                       size_t errlen);

/* Stops the engine if running, closes the wire (a pcap OUT file is then
 * complete), frees everything. NULL is ok. */
void nic_destroy(struct nic *nic);

/* Starts / stops the DMA engine thread. While stopped the NIC does nothing:
 * doorbells wait. nic_stop returns when the thread has exited. */
int nic_start(struct nic *nic, char *err, size_t errlen);
void nic_stop(struct nic *nic);

/* CPU time the engine thread has used, over all its runs, in ns. */
uint64_t nic_dma_cpu_ns(struct nic *nic);

/* How busy the engine is: time stamp counter cycles of the iterations that
 * moved frames (work) and of all iterations it did not sleep in (awake).
 * A busy-polling engine is always on the CPU; work / awake over a window
 * is the share of that CPU time a device needed for the traffic. */
void nic_engine_busy(struct nic *nic, uint64_t *work, uint64_t *awake);

/* Times the engine has gone to sleep for want of work (adaptive mode). */
uint64_t nic_engine_sleeps(const struct nic *nic);

/* ---- register file ------------------------------------------------- */

/* The register file is one shared-memory object per page: the global area
 * (the daemon's, never handed out) and one 4 KiB page per queue pair. A
 * driver in another process gets only the page of its own queue:
 * nic_queue_page_fd(q) (sealed against resizing; map it at offset 0). Every
 * nic_queue_reset(q) replaces that object with a fresh one, so whoever held
 * the old one (a process that used to own the queue) no longer reaches the
 * queue. Owned by the NIC: dup it to pass it on. -1 for a bad q. */
int nic_queue_page_fd(const struct nic *nic, unsigned q);
unsigned nic_num_queues(const struct nic *nic);

/* The model process's own mappings, for in-process drivers and tools. */
struct nic_queue_regs *nic_queue_regs(struct nic *nic, unsigned q);
const struct nic_global_regs *nic_global_regs(const struct nic *nic);

/* The eventfd the NIC signals for queue q (see irq_arm in docs/nic.md).
 * Owned by the NIC; non-blocking. */
int nic_queue_irq_fd(const struct nic *nic, unsigned q);

/* The doorbell eventfd of queue q: a driver that rings a doorbell while
 * the page's nic_asleep is set writes it (nic_ring.h), which wakes the
 * engine. Replaced by every nic_queue_reset, like the page. Owned by the
 * NIC; dup it to pass it on. -1 for a bad q. */
int nic_queue_doorbell_fd(const struct nic *nic, unsigned q);

/* ---- DMA windows --------------------------------------------------- */

/* Makes device addresses [index << 32, (index << 32) + size) reach
 * host_ptr. size: 1 byte..4 GiB; the slot must be unmapped. */
int nic_window_map(struct nic *nic, unsigned index, void *host_ptr,
                   uint64_t size, char *err, size_t errlen);

/* Removes a window. When it returns the engine will never again touch the
 * window's memory (in-flight DMA has finished); later DMA there fails with
 * a DMA error. Unmapping an unmapped slot is an error. */
int nic_window_unmap(struct nic *nic, unsigned index, char *err,
                     size_t errlen);

/* ---- queue pairs --------------------------------------------------- */

/* Returns queue pair q to its power-on state: the engine stops using it
 * (acknowledged before return), its queue page is a new shared-memory
 * object in power-on state (rings disabled, tails, heads and statistics
 * zero, sizes 1024, interrupt disarmed and its eventfd drained: whoever
 * held the old page's descriptor or mapping can no longer reach the
 * queue), and every filter that targets it is cleared. The daemon's
 * settings for it (rate, weight, admin) are kept. Fails (-1) only when no
 * new page can be made; the queue then keeps its old page and must not be
 * handed to anyone else. */
int nic_queue_reset(struct nic *nic, unsigned q, char *err, size_t errlen);

/* Admin enable: while down the queue neither transmits nor receives
 * (frames steered to it are dropped and counted in its rx_dropped, or wait
 * on a lossless wire), whatever its driver writes; its rings stay latched
 * and resume where they were when it comes back up. */
int nic_queue_set_admin(struct nic *nic, unsigned q, bool up, char *err,
                        size_t errlen);

struct nic_rate {
	uint64_t bps;           /* frame bits/s, 0 = unlimited */
	uint64_t pps;           /* packets/s, 0 = unlimited */
	uint32_t burst_bytes;   /* 0 = 4 ms worth of bps (at least 2048) */
	uint32_t burst_packets; /* 0 = 4 ms worth of pps (at least 1) */
};

/* TX token buckets of queue q. Takes effect at once, traffic running.
 * Rates count frame bytes (no preamble, gap or FCS). A queue held back
 * while the host did not run the engine catches up for up to 50 ms, so
 * the long-run rate holds on a busy host (token_bucket.h). */
int nic_queue_set_rate(struct nic *nic, unsigned q,
                       const struct nic_rate *rate, char *err, size_t errlen);

/* WRR weight of queue q, 1..1000: saturating queues share the line rate
 * in proportion to their weights. */
int nic_queue_set_weight(struct nic *nic, unsigned q, unsigned weight,
                         char *err, size_t errlen);

/* Port line rate in frame bits/s, 0 = unlimited. */
void nic_set_line_rate(struct nic *nic, uint64_t bps);

/* Link: while down nothing is sent to or taken from the wire (TX waits). */
void nic_set_link(struct nic *nic, bool up);

/* ---- migration (nic_migrate.c, docs/migration.md) ------------------------ */

/* DMA dirty log of one window: from now on every DMA write into the window
 * (received frames, descriptor write-backs) sets the bit of each page
 * (4 KiB) it touches in `bitmap` (pages bits, atomic OR made after the
 * write; the caller clears bits it harvests with atomic exchange, then
 * reads those pages).  The window must be mapped and pages cover it.  One
 * log per window (-1 with a reason: unmapped, too small, already logged).
 * Writes made before start returns, by the engine or by a nic_dirty_mark
 * caller, are visible to the caller's reads after it, so a first full copy
 * made after start misses nothing. */
int nic_dirty_log_start(struct nic *nic, unsigned window, uint64_t *bitmap,
                        uint64_t pages, char *err, size_t errlen);
/* Ends the window's log (none: nothing to do).  When it returns nothing
 * touches the bitmap any more: the engine is past it and nic_dirty_mark
 * calls inside it have finished (waited for), so it may be freed.
 * Unmapping the window ends its log too. */
void nic_dirty_log_stop(struct nic *nic, unsigned window);
/* Marks [addr, addr+len) of device address space dirty in its window's log,
 * if it has one (bits beyond the log's pages are never touched): for
 * writers outside the NIC (the paravirt backend), from any thread, called
 * after the write.  One load while no log is on. */
void nic_dirty_mark(struct nic *nic, uint64_t dev_addr, uint64_t len);

/* Stops queue q taking received frames (each one steered to it is counted,
 * see nic_queue_quiesced_frames, and in its rx_dropped; a lossless wire
 * never waits for it) and waits until its transmit ring is sent
 * (head == tail; or TX not enabled) or timeout_ns passes: 0, or -1 on
 * timeout, a TX ring stopped on an error or a bad q (the queue stays
 * quiesced).  nic_queue_unquiesce undoes it (as does nic_queue_reset). */
int nic_queue_quiesce(struct nic *nic, unsigned q, uint64_t timeout_ns);
void nic_queue_unquiesce(struct nic *nic, unsigned q);
/* Frames steered to q while it was quiesced, since the last quiesce. */
uint64_t nic_queue_quiesced_frames(const struct nic *nic, unsigned q);

/* Announces mac on the wire as QEMU's self-announce does (a RARP frame from
 * it), now and twice more 50 ms apart, so a switch learns its new place.
 * Returns at once: the engine sends the repeats (while the link is down
 * they wait for it).  Like any frame sent, on a loop wire the local queues
 * with a broadcast filter get them too. */
void nic_announce(struct nic *nic, const uint8_t mac[6]);

/* ---- receive filters ----------------------------------------------- */

struct nic_filter {
	uint8_t mac[6];         /* destination MAC, matched exactly */
	uint16_t vlan;          /* VLAN id 0..4095, or NIC_VLAN_ANY */
	uint16_t queue;
	uint16_t flags;         /* NIC_FILTER_BROADCAST | NIC_FILTER_PROMISC */
};

/* Adds a filter in a free slot of the table (NIC_MAX_FILTERS) and returns
 * the slot (>= 0), or -1 when the table is full or the filter is invalid.
 * Steering (docs/nic.md): a frame goes to every queue with a filter whose
 * MAC equals its destination and whose VLAN is ANY or the frame's VLAN id
 * (an untagged frame matches only ANY); a broadcast or multicast frame also
 * goes to every queue with a BROADCAST filter on a matching VLAN; a frame
 * no queue took goes to the PROMISC queues of a matching VLAN; a queue gets
 * at most one copy. */
int nic_filter_add(struct nic *nic, const struct nic_filter *filter,
                   char *err, size_t errlen);
int nic_filter_clear(struct nic *nic, unsigned slot, char *err,
                     size_t errlen);

/* ---- statistics ---------------------------------------------------- */

/* The counters of nic_regs.h, read from the registers. */
void nic_queue_stats(const struct nic *nic, unsigned q,
                     struct nic_queue_stats_regs *out);
void nic_global_stats(const struct nic *nic,
                      struct nic_global_stats_regs *out);

/* The wire backend (for its statistics). */
const struct wire *nic_wire(const struct nic *nic);

/* ---- port mirroring (capture) ----------------------------------------- */

/* A mirror gets a copy of every frame that the queues attached to it send
 * (to the wire, before the wire sees it) or receive (as written into the
 * driver's buffer). The engine copies each frame into a bounded lock-free
 * ring (one producer, the engine; one consumer, the mirror's reader); a
 * frame that does not fit is dropped and counted, never waited for, so a
 * mirror never slows the NIC or any other queue. */
struct nic_mirror;

enum nic_mirror_dir { NIC_MIRROR_TX, NIC_MIRROR_RX };

struct nic_mirror_frame {
	uint64_t realtime_ns;   /* when the engine copied it (CLOCK_REALTIME) */
	uint16_t queue;
	uint8_t dir;            /* enum nic_mirror_dir */
	uint32_t len;
	uint8_t data[NIC_MAX_FRAME];
};

/* A mirror holding up to slots frames (a power of two, 2..65536). NULL on
 * a bad size or no memory. */
struct nic_mirror *nic_mirror_create(unsigned slots);
/* Detach it from every queue first. NULL is ok. */
void nic_mirror_destroy(struct nic_mirror *m);

/* Queue q's frames go to m from now on (NULL: to no mirror). In force on
 * return. A queue reset detaches the queue. */
int nic_queue_set_mirror(struct nic *nic, unsigned q, struct nic_mirror *m,
                         char *err, size_t errlen);
/* Detaches queue q if (and only if) it goes to m: a queue that changed
 * owner may be mirrored for its new owner already. */
void nic_queue_unset_mirror(struct nic *nic, unsigned q,
                            struct nic_mirror *m);

/* The reader's side (one thread): the oldest frame, or NULL when the ring
 * is empty; nic_mirror_next frees its slot. */
const struct nic_mirror_frame *nic_mirror_peek(struct nic_mirror *m);
void nic_mirror_next(struct nic_mirror *m);
/* Frames copied into the ring / dropped because it was full, so far. */
uint64_t nic_mirror_copied(const struct nic_mirror *m);
uint64_t nic_mirror_dropped(const struct nic_mirror *m);

#endif
