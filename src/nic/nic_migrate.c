/*
 * nic_migrate.c: the NIC's part of live migration (nic.h, "migration";
 * docs/migration.md, "2. The NIC").
 *
 * DMA dirty logs. Pages written by the device never fault, so the guest's
 * own write tracking cannot see them: the NIC keeps, per DMA window, a
 * bitmap of the pages it wrote (received frames, descriptor write-backs).
 * Marks are atomic ORs made after the write, so a caller that harvests a
 * word with an atomic exchange and then reads the pages sees every write
 * whose bit it took; a write after that sets the bit again. The engine's
 * marks cost one predictable branch per frame while no window has a log
 * (nic->dirty_logging, changed only through engine calls, which also make
 * start and stop take effect between two iterations).
 *
 * The paravirt backend writes guest memory from its own thread and marks
 * it with nic_dirty_mark, after the write. Its fast path while no log is on
 * is one load; what makes that enough is the other side's heavy barrier:
 * nic_dirty_log_start publishes the bitmap and then runs membarrier(2), so
 * every thread of the process has passed a full barrier before start
 * returns. A backend write that came before its look at the (still empty)
 * log is then visible to the caller's first copy of the page; one that
 * comes after sees the log. (Without membarrier every mark fences itself.)
 * Stopping withdraws the bitmap and waits for the marks inside it.
 *
 * Quiescing a queue: receive steering stops delivering to it (each frame
 * counted), transmit goes on until its ring is empty. A quiesced queue is
 * never waited for by a lossless wire, whatever its wait budget.
 *
 * Announcing: QEMU's self-announce, a RARP reverse request from the MAC,
 * sent on the wire at once and twice more 50 ms apart by the engine (a
 * timer it keeps between iterations; an idle engine sleeps no longer than
 * until the next one is due), so the caller never waits for the repeats.
 */
#include "nic/nic_internal.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NIC_DIRTY_PAGE     (1ull << NIC_DIRTY_PAGE_SHIFT)
#define ANNOUNCE_FRAMES    3u
#define ANNOUNCE_GAP_NS    50000000ull      /* 50 ms, as QEMU's default */
#define RARP_FRAME_LEN     60u              /* Ethernet minimum, no FCS */
#define DRAIN_POLL_NS      50000u           /* quiesce: looks at the TX ring */

/* ---- DMA dirty logs -------------------------------------------------- */

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

void migrate_init(struct nic *nic)
{
	/* Registering is process-wide and idempotent. Without the expedited
	 * command, the global one (slow, but start is rare) will do; without
	 * either, the marks fence themselves, decided before any thread can
	 * mark. */
	nic->membarrier_private =
		membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
	long supported = membarrier(MEMBARRIER_CMD_QUERY);
	nic->mark_fenced = !nic->membarrier_private &&
	                   (supported < 0 || !(supported & MEMBARRIER_CMD_GLOBAL));
}

/* Every other thread of the process executes a full barrier before this
 * returns (membarrier(2)). */
static int barrier_all_threads(struct nic *nic)
{
	if (nic->mark_fenced)
		return 0;   /* the marks fence themselves */
	return (int)membarrier(nic->membarrier_private
	                       ? MEMBARRIER_CMD_PRIVATE_EXPEDITED
	                       : MEMBARRIER_CMD_GLOBAL);
}

/* Sets the bits of the pages [offset, offset + len) touches; pages beyond
 * the log are not the log's (cannot happen: the log covers its window). */
static void mark_pages(uint64_t *bitmap, uint64_t pages, uint64_t offset,
                       uint64_t len)
{
	uint64_t first = offset >> NIC_DIRTY_PAGE_SHIFT;
	if (first >= pages)
		return;
	/* a window is at most 4 GiB: a longer len would only wrap the sum */
	if (len > 1ull << NIC_WINDOW_SHIFT)
		len = 1ull << NIC_WINDOW_SHIFT;
	uint64_t last = (offset + len - 1) >> NIC_DIRTY_PAGE_SHIFT;
	if (last >= pages)
		last = pages - 1;
	/* release: the write being marked is visible to whoever takes the
	 * bit (an atomic exchange) */
	for (uint64_t p = first; p <= last; p++)
		__atomic_fetch_or(&bitmap[p / 64], 1ull << (p % 64),
		                  __ATOMIC_RELEASE);
}

void dirty_note(struct nic *nic, uint64_t dev_addr, uint64_t len)
{
	uint64_t window = dev_addr >> NIC_WINDOW_SHIFT;
	if (window >= NIC_MAX_WINDOWS || len == 0)
		return;
	struct dirty_log *log = &nic->dirty[window];
	/* the engine: valid until the next engine call, which is how a log
	 * is stopped */
	uint64_t *bitmap = __atomic_load_n(&log->bitmap, __ATOMIC_ACQUIRE);
	if (bitmap)
		mark_pages(bitmap, log->pages, dev_addr & 0xffffffffu, len);
}

static void engine_dirty_recount(struct nic *nic, unsigned unused)
{
	(void)unused;
	nic->dirty_logging = nic->dirty_logs > 0;
}

int nic_dirty_log_start(struct nic *nic, unsigned window, uint64_t *bitmap,
                        uint64_t pages, char *err, size_t errlen)
{
	if (window >= NIC_MAX_WINDOWS || !bitmap || pages == 0) {
		snprintf(err, errlen, "nic: bad dirty log for DMA window %u: the "
		         "window must be < %u, the bitmap non-NULL with at least "
		         "one page", window, NIC_MAX_WINDOWS);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	struct dirty_log *log = &nic->dirty[window];
	uint64_t size = nic->windows[window].size;   /* ours: under ctl_lock */
	uint64_t needed = (size + NIC_DIRTY_PAGE - 1) >> NIC_DIRTY_PAGE_SHIFT;
	int rc = -1;
	if (!size) {
		snprintf(err, errlen, "nic: DMA window %u is not mapped: no dirty "
		         "log for it", window);
	} else if (pages < needed) {
		snprintf(err, errlen, "nic: a dirty log of %llu pages is too small "
		         "for DMA window %u (%llu bytes: %llu pages)",
		         (unsigned long long)pages, window,
		         (unsigned long long)size, (unsigned long long)needed);
	} else if (log->bitmap) {
		snprintf(err, errlen, "nic: DMA window %u already has a dirty log: "
		         "stop it first", window);
	} else {
		log->pages = pages;
		__atomic_store_n(&log->bitmap, bitmap, __ATOMIC_SEQ_CST);
		nic->dirty_logs++;
		nic_engine_call(nic, engine_dirty_recount, 0);
		if (barrier_all_threads(nic) == 0) {
			rc = 0;
		} else {
			int e = errno;
			dirty_log_end(nic, window);
			snprintf(err, errlen, "nic: cannot synchronise the dirty log "
			         "with the paravirt backend (membarrier: %s)",
			         strerror(e));
		}
	}
	pthread_mutex_unlock(&nic->ctl_lock);
	return rc;
}

void dirty_log_end(struct nic *nic, unsigned window)
{
	struct dirty_log *log = &nic->dirty[window];
	if (!log->bitmap)
		return;
	__atomic_store_n(&log->bitmap, NULL, __ATOMIC_SEQ_CST);
	nic->dirty_logs--;
	nic_engine_call(nic, engine_dirty_recount, 0);
	/* a nic_dirty_mark that saw the bitmap is a few instructions from
	 * done (unless preempted right there) */
	while (__atomic_load_n(&log->writers, __ATOMIC_SEQ_CST))
		sched_yield();
}

void nic_dirty_log_stop(struct nic *nic, unsigned window)
{
	if (window >= NIC_MAX_WINDOWS)
		return;
	pthread_mutex_lock(&nic->ctl_lock);
	dirty_log_end(nic, window);
	pthread_mutex_unlock(&nic->ctl_lock);
}

void nic_dirty_mark(struct nic *nic, uint64_t dev_addr, uint64_t len)
{
	uint64_t window = dev_addr >> NIC_WINDOW_SHIFT;
	if (window >= NIC_MAX_WINDOWS || len == 0)
		return;
	struct dirty_log *log = &nic->dirty[window];
	if (__builtin_expect(nic->mark_fenced, 0))
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else    /* the caller's write stays before the look (membarrier does
	         * the rest, see the top of the file) */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&log->bitmap, __ATOMIC_ACQUIRE))
		return;
	/* Counted, then looked at again: either the stop sees us and waits,
	 * or we see that it withdrew the bitmap. */
	__atomic_add_fetch(&log->writers, 1, __ATOMIC_SEQ_CST);
	uint64_t *bitmap = __atomic_load_n(&log->bitmap, __ATOMIC_SEQ_CST);
	if (bitmap)
		mark_pages(bitmap, log->pages, dev_addr & 0xffffffffu, len);
	__atomic_sub_fetch(&log->writers, 1, __ATOMIC_RELEASE);
}

/* ---- quiescing a queue ----------------------------------------------- */

static void engine_quiesce_queue(struct nic *nic, unsigned q)
{
	struct engine_queue *eq = &nic->queues[q];
	eq->quiesced = true;
	__atomic_store_n(&eq->quiesced_frames, 0, __ATOMIC_RELAXED);
	queue_admit_rx(eq);
}

static void engine_unquiesce_queue(struct nic *nic, unsigned q)
{
	struct engine_queue *eq = &nic->queues[q];
	eq->quiesced = false;
	/* back as after a reset: a full wait budget, not one charged for the
	 * time it was away */
	rx_wait_reset(nic, eq);
	queue_admit_rx(eq);
}

/* Whether queue q's transmit ring has nothing left for the NIC: 1 sent (or
 * not enabled: nothing is the NIC's), 0 not yet, -1 never (stopped on an
 * error). Each register read once. */
static int tx_drained(const struct nic_queue_regs *regs)
{
	uint32_t control = nic_reg_read32(&regs->control);
	uint32_t status = nic_reg_read32(&regs->status);
	uint32_t head = nic_reg_read32(&regs->tx_head);
	uint32_t tail = nic_reg_read32(&regs->tx_tail);
	if (!(control & NIC_QCTL_TX_EN) && !(status & NIC_QSTA_TX_ACTIVE))
		return 1;
	if (status & NIC_QSTA_TX_ERR)
		return -1;
	if (!(status & NIC_QSTA_TX_ACTIVE))
		return 0;   /* enabled, not latched yet */
	return head == tail;
}

int nic_queue_quiesce(struct nic *nic, unsigned q, uint64_t timeout_ns)
{
	if (q >= nic->num_queues)
		return -1;
	uint64_t start = nic_now_ns();
	uint64_t deadline = start + timeout_ns < start ? UINT64_MAX
	                                                : start + timeout_ns;
	pthread_mutex_lock(&nic->ctl_lock);
	nic_engine_call(nic, engine_quiesce_queue, q);
	pthread_mutex_unlock(&nic->ctl_lock);

	/* Not under ctl_lock: the other queues' control goes on meanwhile. */
	const struct nic_queue_regs *regs = nic_queue_regs(nic, q);
	for (;;) {
		int drained = tx_drained(regs);
		if (drained)
			return drained > 0 ? 0 : -1;
		uint64_t now = nic_now_ns();
		if (now >= deadline)
			return -1;
		/* A doorbell its paused driver rang without the eventfd (a
		 * fast gate stopped between the two) must not leave the ring
		 * to the backstop. */
		if (__atomic_load_n(&nic->asleep, __ATOMIC_ACQUIRE))
			idle_wake_engine(nic);
		uint64_t nap = deadline - now < DRAIN_POLL_NS ? deadline - now
		                                              : DRAIN_POLL_NS;
		struct timespec t = { 0, (long)nap };
		nanosleep(&t, NULL);
	}
}

void nic_queue_unquiesce(struct nic *nic, unsigned q)
{
	if (q >= nic->num_queues)
		return;
	pthread_mutex_lock(&nic->ctl_lock);
	nic_engine_call(nic, engine_unquiesce_queue, q);
	pthread_mutex_unlock(&nic->ctl_lock);
}

uint64_t nic_queue_quiesced_frames(const struct nic *nic, unsigned q)
{
	if (q >= nic->num_queues)
		return 0;
	return __atomic_load_n(&nic->queues[q].quiesced_frames,
	                       __ATOMIC_RELAXED);
}

/* ---- announcing a MAC ------------------------------------------------ */

/* The RARP reverse request QEMU's self-announce sends (RFC 903 layout):
 * from mac to everyone, "who is mac", no protocol addresses. */
static void rarp_frame(uint8_t f[RARP_FRAME_LEN], const uint8_t mac[6])
{
	memset(f, 0, RARP_FRAME_LEN);
	memset(f, 0xff, 6);                     /* destination: broadcast */
	memcpy(f + 6, mac, 6);                  /* source */
	f[12] = 0x80, f[13] = 0x35;             /* EtherType: RARP */
	f[14] = 0x00, f[15] = 0x01;             /* hardware: Ethernet */
	f[16] = 0x08, f[17] = 0x00;             /* protocol: IPv4 */
	f[18] = 6, f[19] = 4;                   /* address sizes */
	f[20] = 0x00, f[21] = 0x03;             /* reverse request */
	memcpy(f + 22, mac, 6);                 /* sender hardware address */
	/* 28..31 sender protocol address 0 */
	memcpy(f + 32, mac, 6);                 /* target hardware address */
	/* 38..41 target protocol address 0, then padding */
}

unsigned announce_tick(struct nic *nic)
{
	if (!nic->link_up)
		return 0;   /* kept: sent when the link comes back */
	uint64_t now = nic_now_ns();
	uint8_t frames[NIC_ANNOUNCE_SLOTS][RARP_FRAME_LEN];
	struct wire_frame burst[NIC_ANNOUNCE_SLOTS];
	unsigned n = 0, pending = 0;
	for (unsigned i = 0; i < NIC_ANNOUNCE_SLOTS; i++) {
		struct announce_slot *s = &nic->announces[i];
		if (s->left && s->due_ns <= now) {
			rarp_frame(frames[n], s->mac);
			burst[n] = (struct wire_frame){ .data = frames[n],
			                                .len = RARP_FRAME_LEN };
			n++;
			/* the gap counts from this one: a late engine never
			 * sends two back to back */
			s->due_ns = now + ANNOUNCE_GAP_NS;
			s->left--;
		}
		pending += s->left != 0;
	}
	nic->announcing = pending;
	if (n) {
		/* a loop wire delivers them now: ring pointers cached before
		 * this call (engine stopped, window since unmapped) must not
		 * be used */
		nic->epoch++;
		nic->wire->ops->tx_burst(nic->wire, burst, n);
		stat_add(&nic->global->stats.tx_frames, n);
		stat_add(&nic->global->stats.tx_bytes, (uint64_t)n * RARP_FRAME_LEN);
	}
	return n;
}

int announce_sleep_ms(const struct nic *nic, uint64_t now)
{
	if (!nic->announcing || !nic->link_up)
		return -1;   /* a link coming up is a control call: it wakes us */
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < NIC_ANNOUNCE_SLOTS; i++)
		if (nic->announces[i].left && nic->announces[i].due_ns < next)
			next = nic->announces[i].due_ns;
	if (next <= now)
		return 0;
	return (int)((next - now + 999999) / 1000000);
}

/* The slot for call_mac: its own if it is being announced already (the
 * schedule starts over), else a free one, else the one nearest its end. */
static void engine_announce(struct nic *nic, unsigned unused)
{
	(void)unused;
	struct announce_slot *slot = NULL;
	for (unsigned i = 0; i < NIC_ANNOUNCE_SLOTS && !slot; i++)
		if (nic->announces[i].left &&
		    !memcmp(nic->announces[i].mac, nic->call_mac, 6))
			slot = &nic->announces[i];
	if (!slot) {
		slot = &nic->announces[0];
		for (unsigned i = 1; i < NIC_ANNOUNCE_SLOTS; i++)
			if (nic->announces[i].left < slot->left)
				slot = &nic->announces[i];
	}
	memcpy(slot->mac, nic->call_mac, 6);
	slot->left = ANNOUNCE_FRAMES;
	slot->due_ns = 0;   /* at once */
	nic->announcing = 1;
	announce_tick(nic);
}

void nic_announce(struct nic *nic, const uint8_t mac[6])
{
	pthread_mutex_lock(&nic->ctl_lock);
	memcpy(nic->call_mac, mac, 6);
	nic_engine_call(nic, engine_announce, 0);
	pthread_mutex_unlock(&nic->ctl_lock);
}
