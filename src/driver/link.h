/*
 * The link between the daemon and one guest process.
 *
 * The daemon creates every resource of a guest (its memory, its ring area,
 * the link page) and hands the descriptors to the guest process over a Unix
 * socket pair (SCM_RIGHTS); the process is exec'd fresh, so it inherits
 * nothing else.  Of the NIC it gets only what belongs to its own queues:
 * per queue the interrupt eventfd, the queue page and the doorbell eventfd
 * that wakes a sleeping NIC (LINK_QUEUE), never the
 * global registers or another queue's page; the ring area (which holds NIC
 * rings the device trusts) only in the modes whose trusted driver writes
 * them (opsub, emulated); and in paravirt mode, where the daemon's backend
 * drives the queue, the queue page read-only, for the statistics.  Afterwards the daemon changes
 * the guest's network set-up by sending the descriptors of queues it gains,
 * then rewriting the link page (link_publish); the trusted driver in the
 * guest process checks the generation at every network gate, takes one
 * consistent snapshot of the queue set (link_read), applies it and
 * acknowledges it in `ack`.  No guest code runs in the daemon and nothing of
 * the daemon is visible to the guest.
 *
 * The link page is shared with the guest process, so each side treats what
 * the other writes as untrusted: the daemon reads only `ack` and the
 * paravirt fields, once each, and needs neither to be true for the safety
 * of others (a queue taken away gets a new page before it is reused).
 */
#ifndef OPSUB_DRIVER_LINK_H
#define OPSUB_DRIVER_LINK_H

#include <stdbool.h>
#include <stdint.h>

#define LINK_MAX_QUEUES   16
/* Ring area (outside guest memory, a DMA window of its own): each queue
 * slot holds a TX and an RX ring of NIC_RING_MAX descriptors, slot i at
 * i * LINK_RING_SLOT; then the copy buffers of the modes that copy packet
 * data (emulated, paravirt), buffer i at LINK_COPY_OFF + i * LINK_COPY_STRIDE
 * (2176 bytes: buffers exactly 2 KiB apart crowd the same cache sets). */
#define LINK_RING_SLOT    (2u * 4096u * 16u)
#define LINK_COPY_OFF     ((uint64_t)LINK_MAX_QUEUES * LINK_RING_SLOT)
#define LINK_COPY_STRIDE  2176u
#define LINK_COPY_BUFS    (2u * 4096u)
#define LINK_RING_AREA    (LINK_COPY_OFF + (uint64_t)LINK_COPY_BUFS * LINK_COPY_STRIDE)

struct link_page {
	uint32_t generation;          /* daemon: odd while it rewrites the queue set, even after */
	uint32_t ack;                 /* guest: the generation it has applied */
	uint32_t mode;                /* enum opsub_net_mode */
	uint32_t nqueues;             /* NIC queue pairs of the guest's port */
	uint16_t queue[LINK_MAX_QUEUES];
	uint8_t mac[6];
	uint16_t draining;            /* bit i: queue[i] is being taken away (below) */
	uint32_t ring_size;           /* descriptors per ring */
	uint32_t mem_window;          /* device window of the guest's memory */
	uint32_t ring_window;         /* device window of its ring area */
	uint32_t vring_ready;         /* paravirt: the guest's virtqueues are at vring_addr */
	uint64_t vring_addr;
};

enum link_msg_type {
	LINK_BOOT = 1,      /* fds: memory, link page, and the ring area in the modes whose driver drives a NIC queue */
	LINK_QUEUE = 2,     /* fds: interrupt eventfd, queue page and doorbell eventfd of NIC queue `queue` */
	LINK_VIRTIO = 3,    /* paravirt: fds kick (guest -> backend), call (backend -> guest) */
	/* Migration and snapshots (docs/migration.md): the daemon writes one of
	 * these, then sends SIGUSR2; the guest process serves it at its next safe
	 * point and answers with one LINK_MIG_REPLY.  (Dirty pages are the
	 * daemon's to find: docs/migration.md.) */
	LINK_MIG_PAUSE = 16,       /* stop at a safe point, serve requests until RESUME */
	LINK_MIG_RESUME = 17,      /* go on running the guest */
	LINK_MIG_SAVE = 21,        /* fd: memfd to write the guest state into (monitor/guest_state.h) */
	LINK_MIG_STATE = 22,       /* at boot, instead of a program: fd: the guest state to start from */
	LINK_MIG_REPLY = 23,       /* guest -> daemon: queue = the request, mem_size = result or -errno */
};

struct link_msg {
	uint32_t type;
	uint32_t queue;
	uint64_t mem_size;
};

#define LINK_BOOT_FDS 3             /* at most; 2 without the ring area */
#define LINK_QUEUE_FDS 3

/* The queue set of one generation, as the driver acts on it.  queue[0]
 * is the one the port receives on (the daemon steers the port's MAC
 * there).  A draining queue is one the port is moving away from, make
 * before break: the daemon has steered the MAC to queue[0] already, the
 * driver posts and sends nothing more on it but still takes the frames
 * that reached it before, and drops it when a later generation leaves it
 * out.  queue[0] is never draining. */
struct link_queues {
	uint32_t generation;
	uint32_t nqueues;             /* at most LINK_MAX_QUEUES */
	uint16_t queue[LINK_MAX_QUEUES];
	uint16_t draining;            /* bit i: queue[i] drains */
};

/* Daemon: writes the queue set and makes it the next generation
 * (*generation, the daemon's own count, never read back from the page). */
void link_publish(struct link_page *p, uint32_t *generation, unsigned nqueues, const uint16_t *queue,
                  uint16_t draining);

/* Driver: one consistent copy of the queue set, each field read once; false
 * if the daemon was rewriting it all along (try again later). */
bool link_read(const struct link_page *p, struct link_queues *out);

/* Sends msg with nfds descriptors; 0 or -1 with errno. */
int link_send(int sock, const struct link_msg *msg, const int *fds, int nfds);

/* Receives one message and up to maxfds descriptors (*nfds gets the count);
 * 1 on success, 0 when nothing is waiting (non-blocking socket), -1 on
 * error or end of file. */
int link_recv(int sock, struct link_msg *msg, int *fds, int maxfds, int *nfds);

#endif
