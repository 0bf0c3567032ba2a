/*
 * nic_idle.c: what the engine does when an iteration moved nothing.
 *
 * Adaptive mode: spin for IDLE_SPIN_NS after the last work (a burst that
 * pauses briefly finds the engine awake), then sleep until something can
 * make work: a doorbell, a control call, input on the wire. Sleeping is a
 * handshake with the drivers, like a NIC's doorbell interrupt:
 *
 *   engine: nic_asleep = 1 in every queue page; full barrier; one more
 *           iteration (it reads every doorbell); nothing moved: epoll_wait
 *           on every queue's doorbell eventfd, its own wake_fd (control
 *           calls, stop) and the wire's descriptor (a TAP).
 *   driver: writes a doorbell with a full barrier, then reads nic_asleep;
 *           set: writes the queue's doorbell eventfd (nic_ring.h).
 *
 * Either the engine's last look sees the doorbell or the driver sees the
 * flag, so no doorbell is slept through. Each queue has an eventfd of its
 * own, handed only to that queue's driver and replaced at every queue reset
 * like its page: a process can drain only its own wake-ups.
 *
 * The engine does not sleep while time alone can make work: a rate
 * limiter holding frames back (port_backlogged), or a lossless wire
 * holding a frame for a queue whose wait budget runs (rx_hold_timed).
 * Then it naps IDLE_NAP_NS at a time, as before. A sleep is cut at
 * SLEEP_BACKSTOP_MS: a driver that never wakes the NIC (passthrough guest
 * code is not trusted to) waits at most that long. Tests set
 * OPSUB_NIC_SLEEP_BACKSTOP_MS much higher, so that a missed wake-up shows
 * as a stall instead of as a 1 s delay.
 */
#include "nic/nic_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define IDLE_SPIN_NS      1000000u   /* spin this long after the last work */
#define IDLE_NAP_NS       50000u     /* a nap while time can make work */
#define SLEEP_BACKSTOP_MS 1000

/* epoll data of the sources other than queues (queues are 0..255) */
#define SOURCE_WAKE 0x10000u
#define SOURCE_WIRE 0x10001u

static int watch(struct nic *nic, int fd, uint32_t source)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = source };
	return epoll_ctl(nic->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int idle_init(struct nic *nic, char *err, size_t errlen)
{
	const char *backstop = getenv("OPSUB_NIC_SLEEP_BACKSTOP_MS");
	nic->sleep_backstop_ms = backstop && atoi(backstop) > 0 ? atoi(backstop) : SLEEP_BACKSTOP_MS;
	nic->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	nic->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nic->epoll_fd < 0 || nic->wake_fd < 0 ||
	    watch(nic, nic->wake_fd, SOURCE_WAKE) < 0)
		goto fail;
	for (unsigned q = 0; q < nic->num_queues; q++)
		if (watch(nic, nic->doorbell_fds[q], q) < 0)
			goto fail;
	int wire_fd = nic->wire->ops->rx_fd ? nic->wire->ops->rx_fd(nic->wire)
	                                    : -1;
	if (wire_fd >= 0 && watch(nic, wire_fd, SOURCE_WIRE) < 0)
		goto fail;
	nic->wire_watched = wire_fd >= 0;
	return 0;
fail:
	snprintf(err, errlen, "nic: cannot set up the engine's wake-ups: %s",
	         strerror(errno));
	return -1;
}

void idle_destroy(struct nic *nic)
{
	if (nic->epoll_fd >= 0)
		close(nic->epoll_fd);
	if (nic->wake_fd >= 0)
		close(nic->wake_fd);
	nic->epoll_fd = nic->wake_fd = -1;
}

void idle_swap_doorbell(struct nic *nic, unsigned q, int new_fd)
{
	epoll_ctl(nic->epoll_fd, EPOLL_CTL_DEL, nic->doorbell_fds[q], NULL);
	close(nic->doorbell_fds[q]);
	nic->doorbell_fds[q] = new_fd;
	/* Cannot fail for a fresh eventfd short of kernel memory; then the
	 * queue is woken by the backstop only, which is still correct. */
	watch(nic, new_fd, q);
}

void idle_watch_wire(struct nic *nic, bool on)
{
	if (!nic->wire->ops->rx_fd || nic->wire_watched == on)
		return;
	/* input waits while the link is down: a readable TAP must not keep
	 * waking an engine that will not read it */
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = SOURCE_WIRE };
	epoll_ctl(nic->epoll_fd, EPOLL_CTL_MOD, nic->wire->ops->rx_fd(nic->wire), &ev);
	nic->wire_watched = on;
}

void idle_wake_engine(struct nic *nic)
{
	uint64_t one = 1;
	ssize_t rc = write(nic->wake_fd, &one, sizeof(one));
	(void)rc;   /* a full counter: a wake-up is pending anyway */
}

/* The flag goes to the pages of the active queues: an inactive one comes
 * back only through a control call, which the engine serves awake (and a
 * reset writes the flag into the new page). */
static void set_asleep(struct nic *nic, uint32_t value)
{
	for (unsigned i = 0; i < nic->nactive; i++)
		__atomic_store_n(&nic->queues[nic->active[i]].regs->nic_asleep, value,
		                 __ATOMIC_RELAXED);
	/* seq_cst: the barrier between these stores and the engine's next
	 * look at the doorbells (and the control side's call_seq) */
	__atomic_store_n(&nic->asleep, (int)value, __ATOMIC_SEQ_CST);
}

void idle_work_done(struct nic *nic)
{
	if (__atomic_load_n(&nic->asleep, __ATOMIC_RELAXED))
		set_asleep(nic, 0);
}

/* Empties the eventfds that fired, so the next sleep waits for new ones. */
static void drain(struct nic *nic, const struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		uint32_t source = ev[i].data.u32;
		int fd = source == SOURCE_WAKE ? nic->wake_fd
		         : source < nic->num_queues ? nic->doorbell_fds[source]
		         : -1;   /* the wire: the engine's next iteration reads it */
		uint64_t count;
		if (fd >= 0 && read(fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN) {
			/* nothing to do: the counter is simply empty */
		}
	}
}

static void nap(void)
{
	struct timespec t = { 0, IDLE_NAP_NS };
	nanosleep(&t, NULL);
}

void idle_step(struct nic *nic, uint64_t now, uint64_t idle_since)
{
	if (now - idle_since < IDLE_SPIN_NS) {
		__builtin_ia32_pause();
		return;
	}
	if (nic->port_backlogged || (nic->rx_holding && nic->rx_hold_timed)) {
		idle_work_done(nic);
		nap();
		return;
	}
	if (!__atomic_load_n(&nic->asleep, __ATOMIC_RELAXED)) {
		/* armed: the next iteration is the last look before sleeping */
		set_asleep(nic, 1);
		return;
	}
	/* a pending announcement (nic_migrate.c) is a timer */
	int timeout_ms = nic->sleep_backstop_ms;
	int announce_ms = announce_sleep_ms(nic, now);
	if (announce_ms >= 0 && announce_ms < timeout_ms)
		timeout_ms = announce_ms;
	__atomic_add_fetch(&nic->sleeps, 1, __ATOMIC_RELAXED);
	struct epoll_event ev[16];
	int n = epoll_wait(nic->epoll_fd, ev, 16, timeout_ms);
	if (n > 0) {
		drain(nic, ev, n);
		set_asleep(nic, 0);
	}
	/* n == 0: the backstop. Still armed: the next iteration looks at
	 * everything once more and the engine sleeps again. */
}
