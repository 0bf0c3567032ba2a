/*
 * nic_ring.h: the driver side of one queue pair, written against the queue
 * page only (nic_regs.h), as small inline steps: what any driver of this NIC
 * does, in order. The tests and the benchmark drive the model with it; the
 * trusted driver does the same after validating its guest's requests.
 *
 * Single-threaded per queue: one thread owns a queue's driver side.
 *
 * Doorbells (tails, control) go through nic_doorbell_write32: the NIC
 * sleeps when it has nothing to do, and a driver that rings while it
 * sleeps also writes the queue's doorbell eventfd (doorbell_fd, given at
 * start: nic_queue_doorbell_fd in the model's process, passed with the
 * queue page to a driver elsewhere). The *_kick functions do both; the
 * *_ring ones make no system call and tell the caller to wake the NIC.
 */
#ifndef OPSUB_NIC_RING_H
#define OPSUB_NIC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nic_regs.h"

/* Wakes a sleeping NIC through a queue's doorbell eventfd (-1: none, the
 * caller wakes it otherwise). A full counter (EAGAIN) means a wakeup is
 * pending anyway. */
static inline void nic_doorbell_wake(int doorbell_fd)
{
	if (doorbell_fd < 0)
		return;   /* a driver that wakes the NIC in its own way */
	uint64_t one = 1;
	ssize_t rc = write(doorbell_fd, &one, sizeof(one));
	(void)rc;
}

/* Writes the queue's control register (enable bits) as a doorbell. */
static inline void nic_queue_write_control(struct nic_queue_regs *regs,
                                           uint32_t value, int doorbell_fd)
{
	if (nic_doorbell_write32(regs, &regs->control, value))
		nic_doorbell_wake(doorbell_fd);
}

/* Memory the driver hands to the NIC: host view and device address of the
 * same bytes (a DMA window, or part of one). */
struct nic_dma_arena {
	uint8_t *host;
	uint64_t dev;
	uint64_t size, used;
};

/* Bump allocation; NULL when the arena is full. align: a power of two. */
static inline void *nic_arena_alloc(struct nic_dma_arena *a, uint64_t len,
                                    uint64_t align, uint64_t *dev)
{
	uint64_t start = (a->used + align - 1) & ~(align - 1);
	if (start > a->size || len > a->size - start)
		return NULL;
	a->used = start + len;
	*dev = a->dev + start;
	return a->host + start;
}

/* Waits until (status & mask) == want, up to timeout_ms. */
static inline bool nic_queue_wait_status(struct nic_queue_regs *regs,
                                         uint32_t mask, uint32_t want,
                                         unsigned timeout_ms)
{
	for (unsigned waited_us = 0; waited_us < timeout_ms * 1000u;
	     waited_us += 20) {
		if ((nic_reg_read32(&regs->status) & mask) == want)
			return true;
		struct timespec nap = { 0, 20000 };
		nanosleep(&nap, NULL);
	}
	return (nic_reg_read32(&regs->status) & mask) == want;
}

/* ---- transmit ------------------------------------------------------ */

struct nic_txq {
	struct nic_queue_regs *regs;
	struct nic_tx_desc *ring;
	uint32_t size;
	uint32_t tail;          /* next descriptor to fill (not yet rung) */
	uint32_t clean;         /* oldest descriptor not yet completed */
	int doorbell_fd;        /* the queue's doorbell eventfd */
};

/* Programs the ring and sets TX_EN; the NIC latches it (status TX_ACTIVE,
 * or TX_ERR with tx_error) at its next iteration. */
static inline void nic_txq_start(struct nic_txq *txq,
                                 struct nic_queue_regs *regs,
                                 struct nic_tx_desc *ring, uint64_t ring_dev,
                                 uint32_t size, int doorbell_fd)
{
	*txq = (struct nic_txq){ .regs = regs, .ring = ring, .size = size,
	                         .doorbell_fd = doorbell_fd };
	nic_reg_write32(&regs->tx_tail, 0);
	nic_reg_write64(&regs->tx_ring_base, ring_dev);
	nic_reg_write32(&regs->tx_ring_size, size);
	nic_queue_write_control(regs, nic_reg_read32(&regs->control) |
	                        NIC_QCTL_TX_EN, doorbell_fd);
}

/* Descriptors that may be filled now (one slot always stays empty). */
static inline uint32_t nic_txq_free(const struct nic_txq *txq)
{
	return txq->size - 1 - ((txq->tail - txq->clean) & (txq->size - 1));
}

/* Fills the next descriptor; visible to the NIC at nic_txq_kick. */
static inline void nic_txq_post(struct nic_txq *txq, uint64_t addr,
                                uint16_t len, uint8_t cmd, uint16_t vlan)
{
	/* Two whole words (one 16-byte store where vectors are allowed), not
	 * a store per field: the ring's lines are the NIC's between bursts, so
	 * every store waits for its line, and a burst's stores must fit the
	 * store buffer.  Status, errors and the reserved byte are 0. */
	uint8_t *d = (uint8_t *)&txq->ring[txq->tail];
	uint64_t rest = (uint64_t)len | (uint64_t)cmd << 24 | (uint64_t)vlan << 48;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &rest, 8);
	txq->tail = (txq->tail + 1) & (txq->size - 1);
}

/* The doorbell (the descriptors are seen first); true when the NIC sleeps
 * and must be woken (nic_doorbell_wake). No system call. */
static inline bool nic_txq_ring(struct nic_txq *txq)
{
	return nic_doorbell_write32(txq->regs, &txq->regs->tx_tail, txq->tail);
}

/* The doorbell, waking the NIC if it sleeps. */
static inline void nic_txq_kick(struct nic_txq *txq)
{
	if (nic_txq_ring(txq))
		nic_doorbell_wake(txq->doorbell_fd);
}

/* Completed descriptors since the last call (their buffers are free). */
static inline uint32_t nic_txq_reap(struct nic_txq *txq)
{
	uint32_t head = nic_reg_read32(&txq->regs->tx_head);
	uint32_t done = (head - txq->clean) & (txq->size - 1);
	txq->clean = head;
	return done;
}

/* ---- receive ------------------------------------------------------- */

struct nic_rxq {
	struct nic_queue_regs *regs;
	struct nic_rx_desc *ring;
	uint32_t size;
	uint32_t tail;          /* next descriptor to post (not yet rung) */
	uint32_t next;          /* next descriptor to check for a frame */
	int doorbell_fd;        /* the queue's doorbell eventfd */
};

static inline void nic_rxq_start(struct nic_rxq *rxq,
                                 struct nic_queue_regs *regs,
                                 struct nic_rx_desc *ring, uint64_t ring_dev,
                                 uint32_t size, int doorbell_fd)
{
	*rxq = (struct nic_rxq){ .regs = regs, .ring = ring, .size = size,
	                         .doorbell_fd = doorbell_fd };
	nic_reg_write32(&regs->rx_tail, 0);
	nic_reg_write64(&regs->rx_ring_base, ring_dev);
	nic_reg_write32(&regs->rx_ring_size, size);
	nic_queue_write_control(regs, nic_reg_read32(&regs->control) |
	                        NIC_QCTL_RX_EN, doorbell_fd);
}

static inline uint32_t nic_rxq_free(const struct nic_rxq *rxq)
{
	return rxq->size - 1 - ((rxq->tail - rxq->next) & (rxq->size - 1));
}

/* Posts a buffer of capacity bytes; visible to the NIC at nic_rxq_kick.
 * Returns the descriptor index, which nic_rxq_poll reports back. */
static inline uint32_t nic_rxq_post(struct nic_rxq *rxq, uint64_t addr,
                                    uint16_t capacity)
{
	uint32_t index = rxq->tail;
	struct nic_rx_desc *d = &rxq->ring[index];
	d->addr = addr;
	d->writeback = nic_rx_writeback(capacity, 0, 0, 0);
	rxq->tail = (index + 1) & (rxq->size - 1);
	return index;
}

/* As nic_txq_ring / nic_txq_kick, for posted receive buffers. */
static inline bool nic_rxq_ring(struct nic_rxq *rxq)
{
	return nic_doorbell_write32(rxq->regs, &rxq->regs->rx_tail, rxq->tail);
}

static inline void nic_rxq_kick(struct nic_rxq *rxq)
{
	if (nic_rxq_ring(rxq))
		nic_doorbell_wake(rxq->doorbell_fd);
}

/* Completed descriptors from next on, counted with one read of the head
 * register: a batch driver then reads them without polling DD bits in
 * cache lines the NIC may still be writing. Take them with nic_rxq_poll. */
static inline uint32_t nic_rxq_ready(const struct nic_rxq *rxq)
{
	return (nic_reg_read32(&rxq->regs->rx_head) - rxq->next) &
	       (rxq->size - 1);
}

/* Looks at the next completed descriptor without taking it: true with its
 * write-back (length, status, errors, vlan), false if the NIC has not
 * filled it. */
static inline bool nic_rxq_peek(const struct nic_rxq *rxq,
                                struct nic_rx_desc *done)
{
	if (rxq->next == rxq->tail)
		return false;
	const struct nic_rx_desc *d = &rxq->ring[rxq->next];
	uint64_t wb = __atomic_load_n(&d->writeback, __ATOMIC_ACQUIRE);
	if (!(wb >> 32 & NIC_RXD_STA_DD))
		return false;
	done->addr = d->addr;
	done->writeback = wb;
	return true;
}

/* Takes the next completed descriptor: true with its index and write-back,
 * false if the NIC has not filled it. */
static inline bool nic_rxq_poll(struct nic_rxq *rxq, uint32_t *index,
                                struct nic_rx_desc *done)
{
	if (!nic_rxq_peek(rxq, done))
		return false;
	*index = rxq->next;
	rxq->next = (rxq->next + 1) & (rxq->size - 1);
	return true;
}

#endif
