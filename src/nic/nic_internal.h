/*
 * nic_internal.h: the NIC model's private state, shared by its files:
 *   nic.c         lifetime, register file, control functions, engine calls
 *   nic_dma.c     DMA windows
 *   nic_engine.c  the engine thread: iterations, ring latching, idling
 *   nic_tx.c      transmit: WRR over queues, rate limiting, descriptors
 *   nic_rx.c      receive: steering, descriptors, publishing, interrupts
 *   nic_idle.c    sleeping when there is nothing to do, doorbell wake-ups
 *   nic_mirror.c  port mirroring: copies of a queue's frames for capture
 *   nic_migrate.c live migration: DMA dirty logs, quiescing a queue,
 *                 announcing a MAC
 *
 * Ownership: struct engine_queue and the steering table belong to the
 * engine thread while it runs; the control thread touches them only through
 * nic_engine_call (run on the engine thread at an iteration boundary) or
 * while the engine is stopped.
 */
#ifndef OPSUB_NIC_INTERNAL_H
#define OPSUB_NIC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "nic/nic.h"
#include "nic/nic_steer.h"
#include "nic/token_bucket.h"

#define NIC_TX_BATCH        64u     /* descriptors per wire burst */
#define NIC_RX_BATCH        64u     /* frames per wire peek */
#define NIC_RX_BATCHES      4u      /* wire peeks per engine iteration */
#define NIC_DRR_QUANTUM     16384u  /* bytes per round per unit of weight */
#define NIC_BURST_NS        4000000u /* default bucket depth: 4 ms of rate */
#define NIC_MAX_WEIGHT      1000u
/* Lossless wires: a queue may hold the wire's head back for this long
 * while others could receive (its wait budget), and earns it back at
 * 1/NIC_RX_WAIT_EARN of the time once its driver posts again. */
#define NIC_RX_WAIT_DEFAULT_NS 5000000u
#define NIC_RX_WAIT_EARN    16u

/* ---- DMA windows (nic_dma.c) ---------------------------------------- */

struct dma_window {
	uint8_t *host;
	uint64_t size;          /* 0: unmapped; read with acquire */
};

/* The host address of device range [addr, addr + len), or NULL when the
 * range is not inside one mapped window (a DMA error). len > 0. */
static inline uint8_t *dma_translate(const struct dma_window *windows,
                                     uint64_t addr, uint64_t len)
{
	uint64_t index = addr >> NIC_WINDOW_SHIFT;
	if (index >= NIC_MAX_WINDOWS)
		return NULL;
	uint64_t size = __atomic_load_n(&windows[index].size, __ATOMIC_ACQUIRE);
	uint64_t offset = addr & 0xffffffffu;
	if (len > size || offset > size - len)
		return NULL;
	return windows[index].host + offset;
}

/* ---- migration (nic_migrate.c) -------------------------------------- */

#define NIC_DIRTY_PAGE_SHIFT 12     /* the dirty logs' page: 4 KiB */
#define NIC_ANNOUNCE_SLOTS  16u     /* MACs being announced at once */

/* The DMA dirty log of one window. bitmap is published last (after pages)
 * and withdrawn first; the engine reads it only between engine calls, and
 * nic_dirty_mark (another thread) only while counted in writers, which
 * nic_dirty_log_stop waits to drain before its caller may free the bitmap. */
struct dirty_log {
	uint64_t *bitmap;       /* atomic; NULL: no log */
	uint64_t pages;         /* bits in bitmap */
	int writers;            /* atomic: nic_dirty_mark calls inside */
};

/* A MAC being announced: `left` more RARP frames, the next one at due_ns
 * (CLOCK_MONOTONIC). Engine-private. */
struct announce_slot {
	uint8_t mac[6];
	uint8_t left;
	uint64_t due_ns;
};

/* ---- per queue, engine-private -------------------------------------- */

enum ring_state {
	RING_OFF,               /* enable bit seen clear */
	RING_ON,                /* latched: base, size, head are valid */
	RING_ERROR,             /* stopped on an error until enable is cleared */
};

struct engine_ring {
	enum ring_state state;
	uint64_t base;          /* device address */
	uint32_t size;          /* entries, power of two */
	uint32_t head;          /* next descriptor the NIC processes */
	uint32_t tail;          /* doorbell value last read */
	uint8_t *host;          /* translated ring, valid in iteration host_epoch */
	uint64_t host_epoch;
};

struct engine_queue {
	struct nic_queue_regs *regs;
	struct engine_ring tx, rx;
	bool admin_up;
	/* Quiesced for migration: steering delivers nothing to it (each frame
	 * counted in quiesced_frames, which the control side reads). */
	bool quiesced;
	bool rx_admitted;       /* admin_up && !quiesced: may receive */
	uint64_t quiesced_frames;
	/* WRR (deficit round robin in bytes) and rate limiting */
	uint32_t quantum;
	int64_t deficit;
	bool quantum_given;     /* this round's quantum is in deficit */
	struct token_bucket bits, packets;
	bool backlogged;        /* the last visit left frames in the ring */
	/* RX completions not yet published (head register, interrupt) */
	bool rx_dirty;
	/* Lossless wires (nic_rx.c): how much longer the wire may still be
	 * held for this queue while it has no descriptor (ns), when that was
	 * last settled, in which hold episode, and whether the driver posted
	 * descriptors since. */
	uint64_t wait_left_ns;
	uint64_t wait_mark_ns;
	uint64_t wait_episode;
	bool rx_posted;
	uint64_t rx_empty_epoch;    /* iteration its RX ring was last seen empty */
	struct nic_mirror *mirror;  /* gets a copy of its frames, or NULL */
};

/* ---- the NIC ------------------------------------------------------- */

struct nic {
	/* register file: one reserved range, the global area and each queue
	 * page mapped into it from a shared-memory object of its own */
	void *regs_map;
	size_t regs_size;
	int global_fd;
	int *page_fds;          /* per queue; replaced by every queue reset */
	int new_page_fd;        /* handed to engine_reset_queue */
	bool reset_failed;      /* engine_reset_queue could not map it */
	struct nic_global_regs *global;
	unsigned num_queues;
	struct engine_queue *queues;
	int *irq_fds;
	int *doorbell_fds;      /* per queue; replaced by every queue reset */
	int new_doorbell_fd;    /* handed to engine_reset_queue */

	struct dma_window windows[NIC_MAX_WINDOWS];
	struct dirty_log dirty[NIC_MAX_WINDOWS];  /* per window, nic_migrate.c */
	struct wire *wire;

	/* engine thread */
	enum nic_poll_mode poll_mode;
	int dma_cpu;
	pthread_t thread;
	bool running;           /* control side's view; under ctl_lock */
	int stop;               /* atomic: asks the thread to exit */
	uint64_t cpu_ns_before; /* CPU time of finished runs */
	uint64_t epoch;         /* engine iteration number */
	bool has_prefetchw;     /* CPUID says PREFETCHW executes */
	uint64_t tsc_work;      /* atomic: TSC cycles of iterations that moved frames */
	uint64_t tsc_awake;     /* atomic: TSC cycles of all iterations but sleeps */
	bool link_up;

	/* idling (nic_idle.c) */
	int epoll_fd;           /* doorbell eventfds, wake_fd, the wire's fd */
	int wake_fd;            /* eventfd: control calls and stop */
	int asleep;             /* atomic: nic_asleep is set in the pages */
	uint64_t sleeps;        /* atomic: times the engine went to sleep */
	int sleep_backstop_ms;  /* a sleep ends after this long at the most */
	bool wire_watched;      /* the wire's descriptor wakes the engine */

	/* control: one request at a time, under ctl_lock */
	pthread_mutex_t ctl_lock;
	void (*call_fn)(struct nic *nic, unsigned arg);
	unsigned call_arg;
	struct nic_mirror *call_mirror;  /* arguments of engine_set_mirror */
	struct nic_mirror *call_mirror_only_if;   /* NULL: unconditionally */
	uint64_t call_seq;      /* atomic: bumped by the control thread */
	uint64_t call_done;     /* atomic: set by the engine when served */

	/* scheduling and steering (engine) */
	struct token_bucket port;
	bool any_rate_limit;    /* some bucket is limited: TX needs the time */
	bool port_backlogged;   /* the last pass left frames in some ring */
	unsigned rr_next;       /* index in active[] the WRR round resumes at */
	/* The queues the engine looks at each iteration: admin up, or a ring
	 * not off (so a queue taken down still sees its driver stop it).  A
	 * pool of thousands of queues, most of them unused, then costs what
	 * its used ones do.  Rebuilt at the start of an iteration after a
	 * change (active_stale). */
	unsigned *active;
	unsigned nactive;
	bool active_stale;
	struct steer_table *steer;
	uint64_t rx_wait_ns;    /* a lossless wire's wait budget per queue */
	uint64_t rx_episode;    /* bumped when a held frame leaves the wire */
	bool rx_holding;        /* the frame at the wire's head is held */
	bool rx_hold_timed;     /* ... while others could receive: the wait
	                         * budget runs, so the engine must not sleep */
	uint16_t *rx_dirty_list;
	unsigned rx_dirty_count;
	/* migration (nic_migrate.c): some window has a dirty log, the one
	 * branch DMA writes pay while none has */
	bool dirty_logging;
	unsigned dirty_logs;    /* control side, under ctl_lock */
	bool mark_fenced;       /* no membarrier: nic_dirty_mark fences itself */
	bool membarrier_private;    /* registered for the expedited command */
	unsigned announcing;    /* announce slots with frames left (engine) */
	struct announce_slot announces[NIC_ANNOUNCE_SLOTS];
	uint8_t call_mac[6];    /* argument of engine_announce */
	uint8_t (*vlan_scratch)[NIC_MAX_FRAME];   /* NIC_TX_BATCH frames */
};

/* nic.c: runs fn(nic, arg) on the engine thread at an iteration boundary
 * and waits for it, or runs it here if the engine is stopped. Caller holds
 * ctl_lock. */
void nic_engine_call(struct nic *nic, void (*fn)(struct nic *, unsigned),
                     unsigned arg);

/* nic_engine.c */
uint64_t nic_now_ns(void);      /* CLOCK_MONOTONIC */
void *nic_engine_main(void *arg);
void engine_reload_config(struct nic *nic, unsigned unused);
void engine_reset_queue(struct nic *nic, unsigned q);
void engine_stop_ring(struct engine_queue *eq, struct engine_ring *ring,
                      bool tx, enum nic_queue_error why);

/* nic_tx.c: one WRR pass over the queues; returns frames sent. */
unsigned tx_schedule(struct nic *nic, uint64_t now);

/* nic_idle.c: set-up and teardown of the engine's wake-up sources, the
 * idle step of an iteration that moved nothing, and waking the engine
 * from the control side. */
int idle_init(struct nic *nic, char *err, size_t errlen);
void idle_destroy(struct nic *nic);
/* Sleeps, or arms for sleeping, or naps, as the idle time says. */
void idle_step(struct nic *nic, uint64_t now, uint64_t idle_since);
/* Work was done: clear nic_asleep if it is set. */
void idle_work_done(struct nic *nic);
void idle_wake_engine(struct nic *nic);
/* The wire's input wakes the engine (on) or not (off: the link is down). */
void idle_watch_wire(struct nic *nic, bool on);
/* engine_reset_queue: the queue's doorbell eventfd becomes new_fd. */
void idle_swap_doorbell(struct nic *nic, unsigned q, int new_fd);

/* nic_mirror.c: the engine's side of a mirror. */
void mirror_put(struct nic_mirror *m, unsigned q, unsigned dir,
                const struct wire_frame *frames, unsigned n);
void engine_set_mirror(struct nic *nic, unsigned q);

/* nic_migrate.c: the engine's side of migration. */
void migrate_init(struct nic *nic);     /* nic_create: probes membarrier */
/* Marks [dev_addr, dev_addr + len) in its window's log, if any; the engine
 * calls it (after the write) only while nic->dirty_logging. */
void dirty_note(struct nic *nic, uint64_t dev_addr, uint64_t len);
/* nic_window_unmap: the window's log ends with it. Caller holds ctl_lock. */
void dirty_log_end(struct nic *nic, unsigned window);
/* Sends the RARP frames that are due; frames sent. While nic->announcing. */
unsigned announce_tick(struct nic *nic);
/* ms until the next announcement is due (0: now), or -1: none pending. */
int announce_sleep_ms(const struct nic *nic, uint64_t now);

/* Whether a queue may receive now: admin up and not quiesced (the one test
 * of both on the receive path, nic_rx.c). */
static inline void queue_admit_rx(struct engine_queue *eq)
{
	eq->rx_admitted = eq->admin_up && !eq->quiesced;
}

/* nic_rx.c */
unsigned rx_from_wire(struct nic *nic);
void rx_wait_reset(struct nic *nic, struct engine_queue *eq);
void rx_deliver_burst(void *nic, const struct wire_frame *frames, unsigned n);
void rx_publish(struct nic *nic);
void irq_fire(struct nic *nic, unsigned q);

/* Statistics registers have one writer, the engine, so a relaxed
 * load-add-store is enough; readers see whole values. */
/* Asks for a line the engine is about to write (an RX buffer, a descriptor
 * it writes back) in the state that lets it write: the line sits in the
 * driver's cache on the other core, and a read prefetch would leave the
 * write waiting for a second transfer (rx 64 B went from 11 to 24 Mpps).
 * PREFETCHW where the CPU has it, else a read prefetch. */
static inline void prefetch_for_write(const struct nic *nic, const void *p)
{
	if (nic->has_prefetchw)
		__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
	else
		__builtin_prefetch(p, 1);
}

static inline void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
	                 __ATOMIC_RELAXED);
}

/* The translated descriptor ring, or NULL after stopping the ring with a
 * DMA error. Cached for the current iteration only: windows may be
 * unmapped between iterations. */
static inline uint8_t *ring_host(struct nic *nic, struct engine_queue *eq,
                                 struct engine_ring *ring, bool tx)
{
	if (ring->host_epoch == nic->epoch)
		return ring->host;
	ring->host = dma_translate(nic->windows, ring->base,
	                           (uint64_t)ring->size * 16);
	ring->host_epoch = nic->epoch;
	if (!ring->host) {
		stat_add(&eq->regs->stats.dma_errors, 1);
		stat_add(&nic->global->stats.dma_errors, 1);
		engine_stop_ring(eq, ring, tx, NIC_QERR_RING_DMA);
	}
	return ring->host;
}

#endif
