/*
 * Internals shared by the trusted driver's files: the driver state of one
 * guest process and the checks every mode applies to guest buffers.
 */
#ifndef OPSUB_DRIVER_DRV_H
#define OPSUB_DRIVER_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/link.h"
#include "monitor/freeze_check.h"
#include "gates/ctx.h"
#include "nic_ring.h"
#include "opsub_abi.h"
#include "sandbox/guest_mem.h"

struct monitor;

/* One NIC queue pair of the guest's port, as the driver drives it.  The
 * rings are in the ring area, which the guest cannot reach, so what they
 * hold (device addresses the driver wrote) can be trusted when read back. */
struct dq {
	unsigned nic_q;                  /* NIC queue pair number */
	struct nic_queue_regs *regs;     /* its queue page, NULL: this ring slot is free */
	struct nic_txq tx;
	struct nic_rxq rx;
	bool receives;                   /* its RX ring runs: it is, or was, queue[0] */
	bool draining;                   /* being taken away (link.h): receive only */
	bool stale;                      /* free slot the NIC did not let go of: never reused */
	/* guest address of the frame in each TX slot: reclaim reads these,
	 * not the descriptors (lines the NIC reads too) */
	uint32_t tx_frame[NIC_RING_MAX];
	/* gm watch_epoch when each RX slot's buffer was posted (and checked
	 * unwatched): receive looks at page bits only if the epoch moved */
	uint64_t rx_epoch[NIC_RING_MAX];
};

struct drv {
	struct monitor *m;
	int link_sock, ring_fd, page_fd;
	struct link_page *page;
	uint8_t *ring_area;
	uint32_t generation;             /* of the link page, as applied */
	struct link_queues link;         /* the queue set applied: the only copy used */
	uint8_t mac[6];                  /* read once from the link page */
	uint32_t ring_size, mem_window, ring_window;
	enum opsub_net_mode mode;
	unsigned nq;
	/* By ring slot: a queue keeps its slot (its rings in the ring area)
	 * while it is ours, whatever its place in the set; pos[i] is the slot
	 * of the set's queue i (dq_at). */
	struct dq q[LINK_MAX_QUEUES];
	unsigned pos[LINK_MAX_QUEUES];
	int irq_fd[NIC_MAX_QUEUES];      /* eventfds received, by NIC queue */
	int qpage_fd[NIC_MAX_QUEUES];    /* queue pages received, by NIC queue */
	int doorbell_fd[NIC_MAX_QUEUES]; /* doorbell eventfds received, by NIC queue */
	unsigned tx_next;                /* round robin over the queues */
	unsigned tx_since_reclaim;       /* frames queued since the rings were reaped */
	uint64_t *returned;              /* buffers to hand back (queues taken away) */
	unsigned nreturned, returned_cap;
	uint64_t tx_refused;
	uint32_t ack_due;                /* a generation to acknowledge once ack_posted buffers are on dq_at(0), 0: none */
	unsigned ack_posted;
	struct opsub_net_stats retired;  /* counters of the queues it no longer has */
	int kick_fd, call_fd;            /* paravirt notifications */
	bool opened;
	bool force_slow;                 /* a received frame needs the full gate */
	/* The fast path rang a doorbell while the NIC slept: it answered
	 * BURST_SLOW after doing the burst, and the full gate's NET_BURST
	 * (the same call, taken again at once) only wakes the NIC through
	 * queue wake_q's doorbell eventfd and returns replay_rc. */
	bool replay;
	uint64_t replay_req;
	int64_t replay_rc;
	unsigned wake_q;
	struct opsub_net_info info;      /* what NET_OPEN answered */
	/* Frames received and not yet taken from a queue that was stopped, or
	 * by a restored guest (netdrv_state.c): handed out before the rings' */
	struct opsub_net_pkt *carried;
	unsigned ncarried, carried_next, carried_cap;
	/* Guest pages [rx_ok_lo, rx_ok_hi) were all mapped writable and
	 * unwatched at gm prot_epoch rx_ok_epoch (rx_buffer_ok) */
	uint64_t rx_ok_lo, rx_ok_hi, rx_ok_epoch;
};

extern struct drv drv;

/* Receive buffers queue q holds. */
static inline unsigned rx_posted(const struct dq *q)
{
	return q->receives ? (q->rx.tail - q->rx.next) & (q->rx.size - 1) : 0;
}

/* The acknowledgement of a generation that puts a new receiving queue in
 * front of a draining one waits for this many buffers on it (netdrv.c). */
#define ACK_POSTED 32u

/* The checks on guest buffers, for every mode: inside guest memory, no
 * wrap-around, a sane length, the right protection, and for receive
 * buffers 64-byte alignment and no page holding translated code. */
bool tx_buffer_ok(const struct guest_mem *gm, uint64_t addr, uint32_t len);
bool rx_buffer_ok(const struct guest_mem *gm, uint64_t addr, uint32_t capacity);

/* What only the full gate may do for NET_BURST: code compiled normally,
 * which may touch vector registers. */
struct burst_slow {
	bool (*prepare_write)(struct guest_mem *gm, uint64_t addr, uint64_t len);
	void (*give_back)(uint64_t addr);
	void (*wake_nic)(unsigned nic_q);   /* a doorbell rang while the NIC slept */
};

/* NET_BURST's data path (burst.gpr.c, general registers only).  slow is
 * NULL on the fast gate, where burst_run returns BURST_SLOW, before
 * changing anything, whenever it would need slow's helpers, with one
 * exception: a doorbell that finds the NIC asleep is seen only after it
 * rang, so then the burst is done, the result kept in drv.replay_rc, and
 * BURST_SLOW sends the same call to the full gate, which wakes the NIC and
 * answers replay_rc (netdrv.c: net_burst); burst.gpr.c
 * refers to no outside function (the build checks), so on the fast gate a
 * mistaken call would crash on the NULL rather than run vector code. */
#define BURST_SLOW ((int64_t)GATE_SLOW)
int64_t burst_run(struct guest_mem *gm, uint64_t port, uint64_t req_addr, const struct burst_slow *slow);

/* Queues a buffer to be handed back to the guest through `done`. */
void give_back(uint64_t addr);

/* The set's queue i (i < drv.nq); dq_at(0) is the one the port receives on. */
static inline struct dq *dq_at(unsigned i) { return &drv.q[drv.pos[i]]; }

/* Maps and starts queue pair nic_q in ring slot slot.  queue_down stops
 * one, waits until the NIC has let go of its rings (so the slot can be
 * reused) and hands the buffers it still held back to the guest. */
int queue_up(unsigned slot, unsigned nic_q, bool receives);
void queue_down(struct dq *q);

/* Device address of copy buffer i of the ring area, and its host view. */
static inline uint64_t copy_dev(unsigned i) { return NIC_DEV_ADDR(drv.ring_window, LINK_COPY_OFF + (uint64_t)i * LINK_COPY_STRIDE); }
static inline uint8_t *copy_host(uint64_t dev) { return drv.ring_area + (dev & 0xffffffffu); }

/* Maps and starts the queue pairs of the applied set (opsub mode); -1 if
 * one cannot be (drv.nq is then the ones that could). */
int open_queues(void);

/* The port's part of a saved state (netdrv_state.c, monitor.h's port_save
 * and port_restore). */
size_t netdrv_state_save(struct monitor *m, uint8_t *out, size_t room);
int netdrv_state_restore(struct monitor *m, const struct gs_view *v, char *err, size_t errlen);

/* Emulated mode (emulated.c). */
int emulated_open(struct monitor *m);
int64_t emulated_reg(struct monitor *m, uint64_t reg, uint64_t value);

#endif
