#include "driver/netdrv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "driver/drv.h"
#include "opsub_vring.h"
#include "monitor/freeze.h"
#include "monitor/guest_clock.h"
#include "monitor/monitor.h"

struct drv drv = {.link_sock = -1, .ring_fd = -1, .page_fd = -1, .kick_fd = -1, .call_fd = -1};

/* ---- boot and queue set-up ----------------------------------------------- */

static void replace_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/* Takes one message other than the boot message: the descriptors of a
 * queue, the paravirt notifications, or a migration request (for
 * monitor/freeze.c); anything else is closed. */
static void take_msg(const struct link_msg *msg, int *fd, int n)
{
	if (msg->type >= LINK_MIG_PAUSE && msg->type <= LINK_MIG_STATE) {
		for (int i = 1; i < n; i++)
			close(fd[i]);
		freeze_take(msg, n ? fd[0] : -1);
		return;
	}
	if (msg->type == LINK_QUEUE && n == LINK_QUEUE_FDS && msg->queue < NIC_MAX_QUEUES) {
		replace_fd(&drv.irq_fd[msg->queue], fd[0]);
		replace_fd(&drv.qpage_fd[msg->queue], fd[1]);
		replace_fd(&drv.doorbell_fd[msg->queue], fd[2]);
	} else if (msg->type == LINK_VIRTIO && n == 2 && drv.kick_fd < 0) {
		drv.kick_fd = fd[0];
		drv.call_fd = fd[1];
	} else {
		for (int i = 0; i < n; i++)
			close(fd[i]);
	}
}

int netdrv_boot(int link_sock, int *mem_fd, uint64_t *mem_size, char *err, size_t errlen)
{
	struct link_msg msg;
	int fds[LINK_BOOT_FDS], n;
	drv.link_sock = link_sock;
	for (unsigned i = 0; i < NIC_MAX_QUEUES; i++)
		drv.irq_fd[i] = drv.qpage_fd[i] = drv.doorbell_fd[i] = -1;
	/* The daemon sends the descriptors of the first queues before the boot
	 * message, so they are here before any generation names them. */
	int r;
	while ((r = link_recv(link_sock, &msg, fds, LINK_BOOT_FDS, &n)) == 1 && msg.type != LINK_BOOT)
		take_msg(&msg, fds, n);
	if (r != 1 || n < LINK_BOOT_FDS - 1) {
		snprintf(err, errlen, "no boot message from the daemon on the link socket");
		return -1;
	}
	/* later messages (queue descriptors) are picked up without waiting */
	fcntl(link_sock, F_SETFL, O_NONBLOCK);
	*mem_fd = fds[0];
	*mem_size = msg.mem_size;
	drv.page_fd = fds[1];
	drv.ring_fd = n == LINK_BOOT_FDS ? fds[2] : -1;   /* only when this mode's driver writes rings */
	drv.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, drv.page_fd, 0);
	drv.ring_area = drv.ring_fd < 0 ? NULL
	                : mmap(NULL, LINK_RING_AREA, PROT_READ | PROT_WRITE, MAP_SHARED, drv.ring_fd, 0);
	if (drv.page == MAP_FAILED || drv.ring_area == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the link page or the ring area: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void give_back(uint64_t addr)
{
	if (drv.nreturned == drv.returned_cap) {
		unsigned cap = drv.returned_cap ? drv.returned_cap * 2 : 1024;
		uint64_t *p = realloc(drv.returned, cap * sizeof(uint64_t));
		if (!p)
			return;   /* the guest loses the buffer, nothing else */
		drv.returned = p;
		drv.returned_cap = cap;
	}
	drv.returned[drv.nreturned++] = addr;
}

static uint64_t guest_addr(uint64_t dev) { return dev & 0xffffffffu; }

/* A frame received on a queue being stopped: handed out before the ring's,
 * like those a restored guest carries (drv.carried). */
static void carry(struct opsub_net_pkt pkt)
{
	if (drv.carried_next == drv.ncarried)
		drv.carried_next = drv.ncarried = 0;
	if (drv.ncarried == drv.carried_cap) {
		unsigned cap = drv.carried_cap ? drv.carried_cap * 2 : 256;
		struct opsub_net_pkt *p = realloc(drv.carried, cap * sizeof(*p));
		if (!p) {
			give_back(pkt.addr);   /* the frame is lost, the buffer is not */
			return;
		}
		drv.carried = p;
		drv.carried_cap = cap;
	}
	drv.carried[drv.ncarried++] = pkt;
}

/* How long queue_down waits for the NIC to let go of a queue's rings: the
 * engine sees a control write within one iteration (a sleeping one is
 * woken by the doorbell). */
#define QUEUE_STOP_MS 200

void queue_down(struct dq *q)
{
	nic_queue_write_control(q->regs, 0, q->tx.doorbell_fd);
	/* Until the NIC says the rings are off it may still write a
	 * completion into them: a new queue in the same slot would find a
	 * descriptor it did not write.  A NIC that never answers keeps the
	 * slot (stale), and the daemon's reset of the queue ends it. */
	bool stopped = nic_queue_wait_status(q->regs, NIC_QSTA_TX_ACTIVE | NIC_QSTA_RX_ACTIVE, 0, QUEUE_STOP_MS);
	/* frames it received still reach the guest; buffers the NIC will not
	 * finish any more go back to it */
	for (uint32_t i = q->tx.clean; i != q->tx.tail; i = (i + 1) & (q->tx.size - 1))
		give_back(q->tx_frame[i]);
	struct nic_rx_desc d;
	uint32_t index;
	for (uint32_t ready = q->receives ? nic_rxq_ready(&q->rx) : 0; ready-- && nic_rxq_poll(&q->rx, &index, &d);) {
		uint64_t addr = guest_addr(d.addr);
		if ((d.writeback >> 32) & NIC_RXD_STA_ERR || !gm_prepare_write(&drv.m->gm, addr, OPSUB_NET_BUF_SIZE))
			give_back(addr);
		else
			carry((struct opsub_net_pkt){.addr = addr, .len = (uint16_t)d.writeback});
	}
	for (uint32_t i = q->rx.next; q->receives && i != q->rx.tail; i = (i + 1) & (q->rx.size - 1))
		give_back(guest_addr(q->rx.ring[i].addr));
	/* its counters stay in the port's (net_stats): a program that waits
	 * for "sent" to reach what it queued must not see it fall */
	const struct nic_queue_stats_regs *st = &q->regs->stats;
	drv.retired.tx_packets += st->tx_packets;
	drv.retired.tx_bytes += st->tx_bytes;
	drv.retired.rx_packets += st->rx_packets;
	drv.retired.rx_bytes += st->rx_bytes;
	drv.retired.rx_dropped += st->rx_dropped;
	munmap(q->regs, NIC_QUEUE_PAGE_SIZE);
	memset(q, 0, sizeof(*q));
	q->stale = !stopped;
}

int queue_up(unsigned slot, unsigned nic_q, bool receives)
{
	struct dq *q = &drv.q[slot];
	if (slot >= LINK_MAX_QUEUES || q->regs || q->stale || nic_q >= NIC_MAX_QUEUES || drv.qpage_fd[nic_q] < 0 ||
	    !drv.ring_area)
		return -1;
	void *regs = mmap(NULL, NIC_QUEUE_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, drv.qpage_fd[nic_q], 0);
	if (regs == MAP_FAILED)
		return -1;
	memset(q, 0, sizeof(*q));
	q->nic_q = nic_q;
	q->regs = regs;
	q->receives = receives;
	uint64_t off = (uint64_t)slot * LINK_RING_SLOT, half = LINK_RING_SLOT / 2;
	int doorbell = drv.doorbell_fd[nic_q];
	nic_queue_write_control(q->regs, 0, doorbell);   /* enable latches on 0 -> 1 */
	nic_txq_start(&q->tx, regs, (struct nic_tx_desc *)(drv.ring_area + off), NIC_DEV_ADDR(drv.ring_window, off),
	              drv.ring_size, doorbell);
	if (receives)
		nic_rxq_start(&q->rx, regs, (struct nic_rx_desc *)(drv.ring_area + off + half),
		              NIC_DEV_ADDR(drv.ring_window, off + half), drv.ring_size, doorbell);
	return 0;
}

int netdrv_pull_link(void)
{
	struct link_msg msg;
	int fd[LINK_QUEUE_FDS], n, r;
	while ((r = link_recv(drv.link_sock, &msg, fd, LINK_QUEUE_FDS, &n)) == 1)
		take_msg(&msg, fd, n);
	return r < 0 ? -1 : 0;
}

static bool in_set(const struct link_queues *set, unsigned nic_q)
{
	for (unsigned i = 0; i < set->nqueues; i++)
		if (set->queue[i] == nic_q)
			return true;
	return false;
}

/* The descriptors of queues no longer ours are closed: what the process
 * does not hold cannot be misused (the daemon gives a reused queue a new
 * page anyway). */
static void drop_lost_queues(const struct link_queues *set)
{
	for (unsigned n = 0; n < NIC_MAX_QUEUES; n++) {
		if (in_set(set, n))
			continue;
		replace_fd(&drv.irq_fd[n], -1);
		replace_fd(&drv.qpage_fd[n], -1);
		replace_fd(&drv.doorbell_fd[n], -1);
	}
}

/* The slot of our queue nic_q, or -1. */
static int slot_of(unsigned nic_q)
{
	for (unsigned k = 0; k < LINK_MAX_QUEUES; k++)
		if (drv.q[k].regs && drv.q[k].nic_q == nic_q)
			return (int)k;
	return -1;
}

/* Brings the running queues to the set: a queue that stays keeps its slot
 * and its rings (and what is in flight on them) unless its part changes
 * to one its rings were not started for; one that goes is stopped; one
 * that comes gets a free slot.  Returns how many of the set's queues run
 * (the first ones: a queue that cannot start ends the set there). */
static unsigned apply_queues(const struct link_queues *set)
{
	bool wanted[LINK_MAX_QUEUES] = {false};
	for (unsigned i = 0; i < set->nqueues; i++) {
		int k = slot_of(set->queue[i]);
		bool receives = i == 0, draining = set->draining >> i & 1;
		/* a queue whose RX ring runs may stay to receive (queue[0]) or
		 * drain; one without may only send */
		if (k >= 0 && (drv.q[k].receives ? receives || draining : !receives && !draining))
			wanted[k] = true;
	}
	for (unsigned k = 0; k < LINK_MAX_QUEUES; k++)
		if (drv.q[k].regs && !wanted[k])
			queue_down(&drv.q[k]);
	unsigned n = 0;
	for (; n < set->nqueues; n++) {
		int k = slot_of(set->queue[n]);
		for (unsigned free = 0; k < 0 && free < LINK_MAX_QUEUES; free++)
			if (!drv.q[free].regs && !drv.q[free].stale && queue_up(free, set->queue[n], n == 0) == 0)
				k = (int)free;
		if (k < 0)
			break;
		drv.q[k].draining = set->draining >> n & 1;
		drv.pos[n] = (unsigned)k;
	}
	return n;
}

/* Applies a new link page generation: the queue set of the port, from one
 * snapshot taken after the generation (never from the shared page again). */
static void apply_link(void)
{
	struct link_queues set;
	if (__atomic_load_n(&drv.page->generation, __ATOMIC_ACQUIRE) == drv.generation || !link_read(drv.page, &set))
		return;
	/* the daemon sent the descriptors of a generation's queues before it
	 * published it: they are in the socket now */
	netdrv_pull_link();
	unsigned nq = set.nqueues;
	for (unsigned i = 0; i < nq; i++)
		if (set.queue[i] >= NIC_MAX_QUEUES)
			nq = i;   /* not a queue of this NIC: use the ones before it */
	set.nqueues = nq;
	if (drv.mode == OPSUB_IO_OPSUB && drv.opened)
		nq = apply_queues(&set);
	drop_lost_queues(&set);
	drv.link = set;
	drv.nq = nq;
	drv.generation = set.generation;
	/* A new receiving queue in front of a draining one: the daemon steers
	 * the port's MAC to it once this is acknowledged, so the answer waits
	 * until it holds buffers (burst_run), as many as the old one had up to
	 * ACK_POSTED; a port that posted none acknowledges at once. */
	unsigned want = 0;
	for (unsigned i = 1; i < nq; i++)
		if (dq_at(i)->draining)
			want += rx_posted(dq_at(i));
	drv.ack_posted = want < ACK_POSTED ? want : ACK_POSTED;
	drv.ack_due = nq && rx_posted(dq_at(0)) < drv.ack_posted ? set.generation : 0;
	if (!drv.ack_due)
		__atomic_store_n(&drv.page->ack, set.generation, __ATOMIC_RELEASE);
}

/* ---- network hypercalls ---------------------------------------------------- */

int open_queues(void)
{
	unsigned want = drv.nq;
	drv.nq = apply_queues(&drv.link);
	return drv.nq == want ? 0 : -1;
}

static int64_t net_open(struct monitor *m, uint64_t port, uint64_t info_addr)
{
	struct opsub_net_info info;
	apply_link();
	if (port != 0 || drv.nq == 0)
		return -ENODEV;
	if (!gm_access_ok(&m->gm, info_addr, sizeof(info), GP_W))
		return -EFAULT;
	if (drv.opened)   /* opening again answers the same */
		return gm_write(&m->gm, info_addr, &drv.info, sizeof(drv.info));
	memset(&info, 0, sizeof(info));
	memcpy(info.mac, drv.mac, 6);
	info.mode = (uint16_t)drv.mode;
	info.ports = 1;
	info.ring_size = drv.ring_size;
	if (drv.mode == OPSUB_IO_OPSUB) {
		if (open_queues())
			return -ENOMEM;
	} else if (drv.mode == OPSUB_IO_PASSTHROUGH) {
		/* the queue page itself, mapped into the sandbox; the driver keeps
		 * a view of its own for the statistics */
		int page = drv.qpage_fd[drv.link.queue[0]];
		uint64_t at = gm_find_free(&m->gm, GUEST_PAGE);
		drv.q[0].regs = page < 0 ? MAP_FAILED : mmap(NULL, GUEST_PAGE, PROT_READ, MAP_SHARED, page, 0);
		if (!at || drv.q[0].regs == MAP_FAILED ||
		    mmap(guest_ptr(at), GUEST_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, page, 0) == MAP_FAILED)
			return -ENOMEM;
		drv.nq = 1;
		gm_adopt(&m->gm, at, GUEST_PAGE, GP_R | GP_W);
		info.regs = at;
		info.dev_base = NIC_DEV_ADDR(drv.mem_window, 0);
	} else if (drv.mode == OPSUB_IO_EMULATED) {
		if (emulated_open(m))
			return -ENOMEM;
	} else if (drv.mode == OPSUB_IO_PARAVIRT) {
		/* the virtqueues, in guest memory; the daemon's backend finds
		 * them through the link page */
		uint64_t size = 2 * OPSUB_VRING_SIZE(drv.ring_size), at = gm_find_free(&m->gm, size);
		if (!at || gm_map(&m->gm, at, size, GP_R | GP_W) || drv.kick_fd < 0)
			return -ENOMEM;
		int page = drv.qpage_fd[drv.link.queue[0]];
		drv.q[0].regs = page < 0 ? MAP_FAILED : mmap(NULL, GUEST_PAGE, PROT_READ, MAP_SHARED, page, 0);   /* statistics */
		if (drv.q[0].regs == MAP_FAILED)
			return -ENOMEM;
		drv.nq = 1;
		__atomic_store_n(&drv.page->vring_addr, at, __ATOMIC_RELAXED);
		__atomic_store_n(&drv.page->vring_ready, 1, __ATOMIC_RELEASE);
		info.shared = at;
		info.shared_size = size;
	} else {
		return -EOPNOTSUPP;
	}
	drv.opened = true;
	drv.info = info;
	return gm_write(&m->gm, info_addr, &info, sizeof(info));
}

/* NET_BURST through the full gate: whatever the fast path leaves aside
 * (a queue change to apply, watched pages to make writable, receive errors)
 * is done here, around the same data path. */
static void wake_nic(unsigned nic_q)
{
	if (nic_q < NIC_MAX_QUEUES && drv.doorbell_fd[nic_q] >= 0)
		nic_doorbell_wake(drv.doorbell_fd[nic_q]);
}

static int64_t net_burst(struct monitor *m, uint64_t port, uint64_t req_addr)
{
	static const struct burst_slow slow = {gm_prepare_write, give_back, wake_nic};
	if (drv.replay) {
		/* the fast gate did this call and left the wake-up to us */
		drv.replay = false;
		wake_nic(drv.wake_q);
		if (req_addr == drv.replay_req)
			return drv.replay_rc;
	}
	apply_link();
	drv.force_slow = false;
	return burst_run(&m->gm, port, req_addr, &slow);
}

/* NET_BURST through the fast gate (gates/fast.h): vector registers are the
 * guest's, so only the general-registers-only data path may run. */
static int64_t net_burst_fast(struct monitor *m, uint64_t port, uint64_t req_addr)
{
	return burst_run(&m->gm, port, req_addr, NULL);
}

static int64_t net_stats(struct monitor *m, uint64_t port, uint64_t out)
{
	struct opsub_net_stats s = drv.retired;
	s.tx_refused = drv.tx_refused;
	apply_link();
	if (port != 0 || !drv.opened)
		return -ENODEV;
	for (unsigned i = 0; i < drv.nq && dq_at(i)->regs; i++) {
		const struct nic_queue_stats_regs *r = &dq_at(i)->regs->stats;
		s.tx_packets += r->tx_packets;
		s.tx_bytes += r->tx_bytes;
		s.rx_packets += r->rx_packets;
		s.rx_bytes += r->rx_bytes;
		s.rx_dropped += r->rx_dropped;
	}
	return gm_write(&m->gm, out, &s, sizeof(s));
}

/* Paravirt: the backend's kick.  Passthrough: the guest's own driver rang
 * a doorbell while the NIC slept (its page's nic_asleep) and wakes it. */
static int64_t net_kick(uint64_t port)
{
	uint64_t one = 1;
	if (port == 0 && drv.mode == OPSUB_IO_PASSTHROUGH && drv.opened) {
		wake_nic(drv.link.queue[0]);
		return 0;
	}
	if (port != 0 || drv.mode != OPSUB_IO_PARAVIRT || drv.kick_fd < 0)
		return -ENODEV;
	return write(drv.kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN ? -errno : 0;
}

/* The queues the port takes frames from now: those draining while there
 * are, else the receiving one (burst.gpr.c). */
static bool any_draining(void)
{
	bool draining = false;
	for (unsigned i = 1; i < drv.nq; i++)
		draining |= dq_at(i)->draining;
	return draining;
}

static bool receives_from(unsigned i, bool draining)
{
	return i ? dq_at(i)->draining : !draining;
}

/* Polls those queues until one has a frame or the clock passes `until`:
 * at full rate the next frame comes sooner than a sleeper wakes up (the
 * NIC's eventfd write and two context switches), and on a host with slow
 * system calls sleeping at every empty poll halved receive. */
static bool rx_busy_poll(uint64_t until)
{
	bool draining = any_draining();
	do {
		for (unsigned i = 0; i < drv.nq; i++)
			if (receives_from(i, draining) && nic_rxq_ready(&dq_at(i)->rx))
				return true;
		__builtin_ia32_pause();
	} while (monitor_now_ns() < until);
	return false;
}

/* Arms the receive interrupts of the queues the port takes frames from
 * and lists their eventfds; false if a frame came before the arming,
 * which would not interrupt. */
static bool arm_receive(struct pollfd *p, unsigned *n)
{
	bool ready = false, draining = any_draining();
	for (unsigned i = 0; i < drv.nq; i++) {
		struct dq *q = dq_at(i);
		if (!receives_from(i, draining))
			continue;
		nic_reg_write32(&q->regs->irq_arm, 1);
		ready |= nic_rxq_ready(&q->rx) != 0;
		p[(*n)++] = (struct pollfd){.fd = drv.irq_fd[q->nic_q], .events = POLLIN};
	}
	return !ready;
}

/* Sleeps until the deadline or a receive interrupt of the port (from the
 * NIC, or in paravirt mode from the backend); in opsub mode it first polls
 * the receive queues for up to busy_ns. */
static int64_t net_wait(uint64_t deadline, uint64_t busy_ns)
{
	struct pollfd p[LINK_MAX_QUEUES];
	unsigned n = 0;
	if (drv.mode == OPSUB_IO_OPSUB && drv.opened) {
		if (drv.carried_next < drv.ncarried)
			return 1;
		if (busy_ns) {
			uint64_t now = monitor_now_ns();
			busy_ns = busy_ns < OPSUB_BUSY_POLL_MAX_NS ? busy_ns : OPSUB_BUSY_POLL_MAX_NS;
			if (rx_busy_poll(now + busy_ns < deadline ? now + busy_ns : deadline))
				return 1;
		}
		if (!arm_receive(p, &n))
			return 1;
	} else if (drv.mode == OPSUB_IO_PARAVIRT && drv.call_fd >= 0) {
		p[n++] = (struct pollfd){.fd = drv.call_fd, .events = POLLIN};
	} else if (drv.nq && drv.irq_fd[drv.link.queue[0]] >= 0) {
		p[n++] = (struct pollfd){.fd = drv.irq_fd[drv.link.queue[0]], .events = POLLIN};
	}
	uint32_t generation = drv.generation;
	for (;;) {
		apply_link();   /* a sleeping guest still lets go of queues it lost */
		if (drv.generation != generation)
			return 1;   /* its queues changed: look again (a spurious wake-up) */
		uint64_t now = monitor_now_ns();
		if (now >= deadline)
			return 0;
		uint64_t ms = (deadline - now + 999999) / 1000000;
		int r = poll(p, n, ms > 1000 ? 1000 : (int)ms);
		if (r < 0 && freeze_pending)
			freeze_serve(drv.m, drv.m->ctx->rip, GS_CALL_HYPERCALL);
		if (r > 0) {
			for (unsigned i = 0; i < n; i++) {
				uint64_t v;
				if ((p[i].revents & POLLIN) && read(p[i].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					return -errno;
			}
			return 1;
		}
	}
}

/* The port descriptor's readiness (monitor.h: port_arm). */
static bool net_port_arm(struct monitor *m, unsigned port, struct pollfd *p, unsigned *n, unsigned max)
{
	(void)m;
	apply_link();
	if (port != 0 || drv.mode != OPSUB_IO_OPSUB || !drv.opened)
		return true;   /* the guest's own driver owns the rings: it looks itself */
	if (max < LINK_MAX_QUEUES)
		return true;
	return !arm_receive(p, n) || drv.carried_next < drv.ncarried;
}

static int64_t net_hypercall(struct monitor *m, uint64_t nr, const uint64_t a[6])
{
	if (drv.replay && nr != OPSUB_HC_NET_BURST) {
		/* cannot happen (the full gate takes the same call at once);
		 * if it did, the wake-up still goes out and nothing is replayed */
		drv.replay = false;
		wake_nic(drv.wake_q);
	}
	switch (nr) {
	case OPSUB_HC_NET_OPEN: return net_open(m, a[0], a[1]);
	case OPSUB_HC_NET_BURST: return net_burst(m, a[0], a[1]);
	case OPSUB_HC_NET_STATS: return net_stats(m, a[0], a[1]);
	case OPSUB_HC_NET_KICK: return net_kick(a[0]);
	case OPSUB_HC_NET_REG:
		apply_link();
		return a[0] == 0 && drv.opened && drv.mode == OPSUB_IO_EMULATED ? emulated_reg(m, a[1], a[2]) : -ENODEV;
	case OPSUB_HC_WAIT: apply_link(); return net_wait(guest_clock_to_host_ns(a[0]), a[1]);
	default: return -ENOSYS;
	}
}

int netdrv_attach(struct monitor *m, char *err, size_t errlen)
{
	/* what never changes, read once */
	drv.m = m;
	drv.mode = (enum opsub_net_mode)__atomic_load_n(&drv.page->mode, __ATOMIC_RELAXED);
	drv.ring_size = __atomic_load_n(&drv.page->ring_size, __ATOMIC_RELAXED);
	drv.mem_window = __atomic_load_n(&drv.page->mem_window, __ATOMIC_RELAXED);
	drv.ring_window = __atomic_load_n(&drv.page->ring_window, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < 6; i++)
		drv.mac[i] = __atomic_load_n(&drv.page->mac[i], __ATOMIC_RELAXED);
	if (drv.ring_size < NIC_RING_MIN || drv.ring_size > NIC_RING_MAX || (drv.ring_size & (drv.ring_size - 1))) {
		snprintf(err, errlen, "bad ring size %u from the daemon", drv.ring_size);
		return -1;
	}
	m->hypercall_ext = net_hypercall;
	m->hypercall_fast = net_burst_fast;
	m->port_arm = net_port_arm;
	m->port_save = netdrv_state_save;
	m->port_restore = netdrv_state_restore;
	apply_link();
	return 0;
}
