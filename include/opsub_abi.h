/*
 * The opsub hypercall ABI, shared by guests (through opsub.h) and opsub.
 *
 * A hypercall is the instruction `vmcall` with the call number in rax and
 * up to six arguments in rdi, rsi, rdx, r10, r8, r9 (the syscall order).
 * The result comes back in rax: >= 0 on success, -errno on failure.  Every
 * other register, the flags and the vector state are preserved.  Natively
 * (without opsub) vmcall raises SIGILL.
 *
 * Pointers are guest addresses; opsub copies every structure it is given
 * before checking it, checks every address against the guest's memory and
 * returns -EFAULT for anything outside it.
 */
#ifndef OPSUB_ABI_H
#define OPSUB_ABI_H

#include <stdint.h>

/* write(buf, len) to opsub's standard output; returns the bytes written
 * (possibly fewer than len), -EFAULT for a bad buffer. */
#define OPSUB_HC_CONSOLE      1
/* Monotonic clock in nanoseconds. */
#define OPSUB_HC_CLOCK        2
/* wait(deadline_ns, busy_poll_ns): blocks until the monotonic clock reaches
 * deadline_ns or a receive interrupt of one of the guest's network ports
 * arrives; returns 1 for an interrupt, 0 for the deadline.  Before sleeping
 * it may poll the ports' receive rings for busy_poll_ns (at most
 * OPSUB_BUSY_POLL_MAX_NS; 0: sleep at once). */
#define OPSUB_HC_WAIT         3
#define OPSUB_BUSY_POLL_MAX_NS 1000000u

/* ---- network ------------------------------------------------------------ */

/* net_open(port, struct opsub_net_info *info): opens the guest's network
 * port `port` (0 .. ports-1) and fills info; opening again fills the same.
 * Returns 0, -ENODEV without such a port, -EFAULT for a bad info pointer,
 * -ENOMEM when the port's memory cannot be set up. */
#define OPSUB_HC_NET_OPEN     16
/* net_burst(port, struct opsub_net_burst *b): one gate crossing for a whole
 * burst: sends b->tx, gives the empty buffers b->post to the receiver,
 * returns received frames in b->rx and finished transmit buffers in b->done
 * (in batches: every 128 frames sent, and all of them on a call that sends
 * nothing).  Counts are updated in place.  Returns 0; -EINVAL when a count is over
 * OPSUB_NET_BURST_MAX or a buffer breaks the rules (the counts then say how
 * far it got); -EFAULT for an unreadable request; -ENODEV unless the port
 * is open in opsub mode. */
#define OPSUB_HC_NET_BURST    17
/* net_stats(port, struct opsub_net_stats *s). Returns 0, -ENODEV before
 * net_open, -EFAULT for a bad pointer. */
#define OPSUB_HC_NET_STATS    18
/* net_reg(port, reg, value): emulated mode's register access, a trap:
 * reg is a byte offset in the queue page (nic_regs.h), or'ed with
 * OPSUB_NET_REG_WRITE to write value; returns the value read, 0 after a
 * write, -errno for a bad access. */
#define OPSUB_HC_NET_REG      19
#define OPSUB_NET_REG_WRITE   (1u << 31)
/* net_kick(port): paravirt mode's notification of the backend, the
 * analogue of a VM exit on a virtqueue kick.  In passthrough mode: the
 * guest's driver wrote a doorbell while its queue page said nic_asleep
 * (nic_regs.h), and this wakes the NIC. */
#define OPSUB_HC_NET_KICK     20
/* port_fd(port): a descriptor that is readable (poll, select, epoll) while
 * frames may wait on the port, for event loops that also wait on pipes,
 * timers or stdin; read() on it is EINVAL.  In opsub mode it is exact; in
 * the other modes it is always readable.  Returns the descriptor (close-
 * on-exec), -ENODEV without the port, -EMFILE. */
#define OPSUB_HC_PORT_FD      21

/* Every packet buffer has this capacity: a 64-byte aligned block of the
 * guest's own writable memory. */
#define OPSUB_NET_BUF_SIZE    2048u
#define OPSUB_NET_MAX_FRAME   2048u
#define OPSUB_NET_MIN_FRAME   14u
/* At most this many entries per array of one burst. */
#define OPSUB_NET_BURST_MAX   256u

enum opsub_net_mode {
	OPSUB_IO_OPSUB = 0,        /* trusted driver behind the gate (safe) */
	OPSUB_IO_PASSTHROUGH = 1,  /* the guest writes the NIC rings itself (unsafe) */
	OPSUB_IO_PARAVIRT = 2,     /* virtio ring + host backend copying (safe) */
	OPSUB_IO_EMULATED = 3,     /* every register access traps (safe) */
};

struct opsub_net_info {
	uint8_t mac[6];
	uint16_t mode;             /* enum opsub_net_mode */
	uint32_t ports;            /* ports this guest has */
	uint32_t ring_size;        /* descriptors per ring */
	/* passthrough: where the NIC's queue page is mapped in guest memory,
	 * and the device address of guest address 0 (the guest's own rings
	 * go in its own memory) */
	uint64_t regs;
	uint64_t dev_base;
	/* paravirt and emulated: guest memory set aside for the device */
	uint64_t shared;
	uint64_t shared_size;
};

struct opsub_net_pkt {
	uint64_t addr;             /* guest address of the frame */
	uint32_t len;              /* frame length */
	uint32_t reserved;         /* ignored on transmit, 0 on receive */
};

struct opsub_net_burst {
	uint64_t tx;               /* struct opsub_net_pkt[tx_n]: frames to send */
	uint64_t post;             /* uint64_t[post_n]: empty buffers for receiving */
	uint64_t rx;               /* struct opsub_net_pkt[rx_n]: filled with received frames */
	uint64_t done;             /* uint64_t[done_n]: filled with sent buffers */
	uint32_t tx_n;             /* in: frames in tx; out: frames queued */
	uint32_t post_n;           /* in: buffers in post; out: buffers taken */
	uint32_t rx_n;             /* in: room in rx; out: frames received */
	uint32_t done_n;           /* in: room in done; out: buffers returned */
	uint32_t rx_posted;        /* out: receive buffers the NIC holds now */
	uint32_t reserved;
};

struct opsub_net_stats {
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t rx_dropped, tx_refused;   /* tx_refused: buffers the driver rejected */
};

/* ---- paravirt: two virtio 1.x split virtqueues in guest memory ----------- */
/*
 * At info.shared: virtqueue 0 receives, virtqueue 1 transmits (as in
 * virtio-net), each of info.ring_size entries, laid out one after the other
 * as below.  Descriptor addresses are guest addresses; one buffer per
 * frame, no virtio-net header.  Notification suppression uses the flags
 * (VRING_USED_F_NO_NOTIFY, VRING_AVAIL_F_NO_INTERRUPT).
 */
struct opsub_vring_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct opsub_vring_used_elem { uint32_t id, len; };

#define OPSUB_VRING_DESC_F_WRITE      2u
#define OPSUB_VRING_USED_F_NO_NOTIFY  1u
#define OPSUB_VRING_AVAIL_F_NO_INTERRUPT 1u

/* Offsets of one virtqueue of n entries: desc table, avail ring, used ring. */
#define OPSUB_VRING_AVAIL(n)  ((uint64_t)(n) * 16)
#define OPSUB_VRING_USED(n)   ((OPSUB_VRING_AVAIL(n) + 4 + 2 * (uint64_t)(n) + 2 + 63) & ~63ull)
#define OPSUB_VRING_SIZE(n)   ((OPSUB_VRING_USED(n) + 4 + 8 * (uint64_t)(n) + 2 + 4095) & ~4095ull)

#endif
