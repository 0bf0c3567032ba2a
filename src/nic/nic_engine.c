/*
 * nic_engine.c: the DMA engine thread. Each iteration it serves a pending
 * control call, notices enable bits flipped by drivers (latching rings),
 * runs one WRR transmit pass, takes frames from the wire, and publishes
 * receive completions. Iteration boundaries are the quiesce points: no
 * window or ring pointer survives from one iteration to the next.
 */
#include "nic/nic_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define SLEEP_SLACK_NS       5000u      /* so a 50 us nap is ~50 us */

static void write_status(struct engine_queue *eq)
{
	uint32_t status = 0;
	if (eq->tx.state == RING_ON)
		status |= NIC_QSTA_TX_ACTIVE;
	if (eq->rx.state == RING_ON)
		status |= NIC_QSTA_RX_ACTIVE;
	if (eq->tx.state == RING_ERROR)
		status |= NIC_QSTA_TX_ERR;
	if (eq->rx.state == RING_ERROR)
		status |= NIC_QSTA_RX_ERR;
	if (!eq->admin_up)
		status |= NIC_QSTA_ADMIN_DOWN;
	if (nic_reg_read32(&eq->regs->status) != status)
		nic_reg_write32(&eq->regs->status, status);
}

void engine_stop_ring(struct engine_queue *eq, struct engine_ring *ring,
                      bool tx, enum nic_queue_error why)
{
	ring->state = RING_ERROR;
	nic_reg_write32(tx ? &eq->regs->tx_error : &eq->regs->rx_error, why);
	write_status(eq);
}

static bool is_power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Enable went 0->1: take base and size as they are now. */
static void ring_latch(struct nic *nic, struct engine_queue *eq,
                       struct engine_ring *ring, bool tx)
{
	struct nic_queue_regs *regs = eq->regs;
	uint64_t base = nic_reg_read64(tx ? &regs->tx_ring_base
	                                  : &regs->rx_ring_base);
	uint32_t size = nic_reg_read32(tx ? &regs->tx_ring_size
	                                  : &regs->rx_ring_size);
	enum nic_queue_error why = NIC_QERR_NONE;
	if (!is_power_of_two(size) || size < NIC_RING_MIN || size > NIC_RING_MAX)
		why = NIC_QERR_RING_SIZE;
	else if (base % 16)
		why = NIC_QERR_RING_ALIGN;
	else if (!dma_translate(nic->windows, base, (uint64_t)size * 16))
		why = NIC_QERR_RING_DMA;
	if (why != NIC_QERR_NONE) {
		engine_stop_ring(eq, ring, tx, why);
		return;
	}
	*ring = (struct engine_ring){ .state = RING_ON, .base = base,
	                              .size = size };
	nic->active_stale = true;
	if (tx) {
		nic_reg_write32(&regs->tx_head, 0);
	} else {
		nic_reg_write32(&regs->rx_head, 0);
	}
	nic_reg_write32(tx ? &regs->tx_error : &regs->rx_error, NIC_QERR_NONE);
	write_status(eq);
}

static void ring_follow_enable(struct nic *nic, struct engine_queue *eq,
                               struct engine_ring *ring, bool enabled,
                               bool tx)
{
	if (ring->state == RING_OFF && enabled) {
		ring_latch(nic, eq, ring, tx);
	} else if (ring->state != RING_OFF && !enabled) {
		ring->state = RING_OFF;
		nic->active_stale = true;
		write_status(eq);
	}
}

static void rebuild_active(struct nic *nic)
{
	nic->nactive = 0;
	for (unsigned q = 0; q < nic->num_queues; q++) {
		const struct engine_queue *eq = &nic->queues[q];
		if (eq->admin_up || eq->tx.state != RING_OFF || eq->rx.state != RING_OFF)
			nic->active[nic->nactive++] = q;
	}
	if (nic->rr_next >= nic->nactive)
		nic->rr_next = 0;
	nic->active_stale = false;
}

static void poll_queue_controls(struct nic *nic)
{
	if (nic->active_stale)
		rebuild_active(nic);
	for (unsigned i = 0; i < nic->nactive; i++) {
		struct engine_queue *eq = &nic->queues[nic->active[i]];
		uint32_t control = nic_reg_read32(&eq->regs->control);
		ring_follow_enable(nic, eq, &eq->tx, control & NIC_QCTL_TX_EN,
		                   true);
		ring_follow_enable(nic, eq, &eq->rx, control & NIC_QCTL_RX_EN,
		                   false);
	}
}

void engine_reload_config(struct nic *nic, unsigned unused)
{
	(void)unused;
	const struct nic_global_regs *g = nic->global;
	uint64_t now = nic_now_ns();
	nic->link_up = g->dev_ctrl & NIC_CTRL_LINK_UP;
	if (nic->epoll_fd >= 0)
		idle_watch_wire(nic, nic->link_up);
	tb_configure(&nic->port, g->line_rate_bps, 0, NIC_BURST_NS,
	             8 * NIC_MAX_FRAME, now);
	nic->any_rate_limit = nic->port.limited;
	for (unsigned q = 0; q < nic->num_queues; q++) {
		struct engine_queue *eq = &nic->queues[q];
		const struct nic_queue_sched_regs *s = &g->sched[q];
		tb_configure(&eq->bits, s->rate_bps, 8ull * s->burst_bytes,
		             NIC_BURST_NS, 8 * NIC_MAX_FRAME, now);
		tb_configure(&eq->packets, s->rate_pps, s->burst_packets,
		             NIC_BURST_NS, 1, now);
		nic->any_rate_limit |= eq->bits.limited || eq->packets.limited;
		eq->quantum = s->weight * NIC_DRR_QUANTUM;
		eq->admin_up = s->admin & NIC_ADMIN_UP;
		queue_admit_rx(eq);
		write_status(eq);
	}
	steer_compile(nic->steer, g->filter, nic->num_queues);
	nic->active_stale = true;   /* admin may have changed */
}

/* The queue's page becomes nic->new_page_fd's object, mapped at the same
 * place: a process still holding the old object (its last owner) writes
 * where the engine no longer looks. Here, between iterations, nothing of
 * the engine holds a pointer into the page. */
static bool swap_queue_page(struct nic *nic, unsigned q)
{
	int fd = nic->new_page_fd;
	nic->new_page_fd = -1;
	if (mmap(nic->queues[q].regs, NIC_QUEUE_PAGE_SIZE, PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		close(fd);
		nic->reset_failed = true;
		return false;
	}
	close(nic->page_fds[q]);
	nic->page_fds[q] = fd;
	return true;
}

void engine_reset_queue(struct nic *nic, unsigned q)
{
	struct engine_queue *eq = &nic->queues[q];
	struct nic_queue_regs *regs = eq->regs;
	if (nic->new_page_fd >= 0 && swap_queue_page(nic, q) &&
	    nic->new_doorbell_fd >= 0) {
		idle_swap_doorbell(nic, q, nic->new_doorbell_fd);
		nic->new_doorbell_fd = -1;
	}
	eq->mirror = NULL;   /* a new owner is never captured for the old one */
	/* Power-on values; if no new page could be mapped, the old one at
	 * least has its rings stopped. */
	memset(regs, 0, sizeof(*regs));
	regs->tx_ring_size = regs->rx_ring_size = NIC_RING_DEFAULT;
	/* the engine may be about to sleep: the new owner must know */
	regs->nic_asleep = (uint32_t)__atomic_load_n(&nic->asleep,
	                                             __ATOMIC_RELAXED);
	rx_wait_reset(nic, eq);
	eq->tx = (struct engine_ring){ .state = RING_OFF };
	eq->rx = (struct engine_ring){ .state = RING_OFF };
	eq->deficit = 0;
	eq->quantum_given = false;
	eq->quiesced = false;   /* its quiesced_frames stay readable */
	uint64_t pending;
	while (read(nic->irq_fds[q], &pending, sizeof(pending)) > 0)
		continue;   /* drain: a new owner starts with no wakeup */
	for (unsigned i = 0; i < NIC_MAX_FILTERS; i++)
		if (nic->global->filter[i].queue == q)
			memset(&nic->global->filter[i], 0,
			       sizeof(nic->global->filter[i]));
	engine_reload_config(nic, 0);
}

uint64_t nic_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void serve_call(struct nic *nic)
{
	/* seq_cst: pairs with nic_engine_call (nic_idle.c has the handshake) */
	uint64_t seq = __atomic_load_n(&nic->call_seq, __ATOMIC_SEQ_CST);
	if (seq == nic->call_done)
		return;
	nic->call_fn(nic, nic->call_arg);
	__atomic_store_n(&nic->call_done, seq, __ATOMIC_RELEASE);
}

void *nic_engine_main(void *arg)
{
	struct nic *nic = arg;
	prctl(PR_SET_TIMERSLACK, SLEEP_SLACK_NS, 0, 0, 0);
	nic_reg_write32(&nic->global->dev_status, NIC_STATUS_RUNNING);
	uint64_t idle_since = 0;    /* 0: the last iteration did work */
	uint64_t tsc = __rdtsc();   /* one read per iteration: ~13 ns */

	while (!__atomic_load_n(&nic->stop, __ATOMIC_ACQUIRE)) {
		serve_call(nic);
		nic->epoch++;
		/* The clock costs as much as a few frames: read it only for
		 * rate limiting and for idling. */
		uint64_t now = nic->any_rate_limit ? nic_now_ns() : 0;
		poll_queue_controls(nic);
		unsigned moved = 0;
		if (nic->link_up) {
			moved += tx_schedule(nic, now);
			if (__builtin_expect(nic->announcing != 0, 0))
				moved += announce_tick(nic);
			moved += rx_from_wire(nic);
		}
		rx_publish(nic);

		uint64_t end = __rdtsc();
		__atomic_store_n(&nic->tsc_awake, nic->tsc_awake + (end - tsc), __ATOMIC_RELAXED);
		if (moved)
			__atomic_store_n(&nic->tsc_work, nic->tsc_work + (end - tsc), __ATOMIC_RELAXED);
		tsc = end;
		if (moved) {
			idle_since = 0;
			idle_work_done(nic);
			continue;
		}
		if (nic->poll_mode == NIC_POLL_BUSY) {
			__builtin_ia32_pause();
			continue;
		}
		if (!now)
			now = nic_now_ns();
		if (!idle_since)
			idle_since = now;
		uint64_t slept = nic->sleeps;
		idle_step(nic, now, idle_since);
		if (__atomic_load_n(&nic->sleeps, __ATOMIC_RELAXED) != slept)
			tsc = __rdtsc();   /* a sleep is not awake time */
	}

	idle_work_done(nic);
	nic->epoch++;
	nic_reg_write32(&nic->global->dev_status, 0);
	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	nic->cpu_ns_before += (uint64_t)cpu.tv_sec * 1000000000u +
	                      (uint64_t)cpu.tv_nsec;
	return NULL;
}
