/*
 * The pool: ports for more guests than the NIC has queue pairs.
 *
 * The NIC keeps its hardware-like queue pairs (64 by default).  A guest
 * that has none of its own gets a queue pair of the pool device: a second
 * instance of the same NIC model, run by the daemon, with up to
 * NIC_MAX_QUEUES software queue pairs whose wire is one queue pair of the
 * NIC (the uplink).  To the guest's trusted driver a pool queue is a queue
 * like any other (a queue page, rings in its ring area, an interrupt and a
 * doorbell eventfd), so the SDK calls, the driver's checks and the
 * isolation are the same; the pool's engine is trusted code that copies
 * each frame once between the guest's buffers and the uplink's (its own
 * memory, DMA window POOL_WINDOW of the NIC), and steers received frames
 * by the pool's own MAC filters.
 *
 * On the NIC the uplink queue takes every frame no other queue matched
 * (a PROMISC filter) and every broadcast, so the frames of pooled guests
 * reach the pool without a NIC filter each; the NIC's filter table and
 * queue pairs stay for the guests that hold dedicated queues.  Costs
 * (docs/architecture.md): one more copy per frame each way and the pool
 * engine's thread; pooled guests share the uplink queue's WRR share and
 * the pool engine's rate.
 */
#ifndef OPSUB_DAEMON_POOL_H
#define OPSUB_DAEMON_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "nic/nic.h"

/* Queue pairs of the pool device unless the config says (nic "pool"). */
#define POOL_DEFAULT_QUEUES 1024u
/* The NIC's DMA window of the uplink's rings and buffers. */
#define POOL_WINDOW (NIC_MAX_WINDOWS - 1)
/* The uplink's filter MAC: locally administered, never a guest's
 * (config_mac_ok refuses it). */
#define POOL_UPLINK_MAC {0xfe, 0xff, 0xff, 0xff, 0xff, 0xfe}

struct pool;

/* Creates the pool device with `queues` queue pairs on NIC queue `uplink`
 * (reset and taken by the pool), rings of ring_size, and starts it.  NULL
 * with a one-line reason in err. */
struct pool *pool_start(struct nic *nic, unsigned uplink, unsigned queues, unsigned ring_size,
                        enum nic_poll_mode poll_mode, char *err, size_t errlen);
/* Stops the pool's engine, gives the uplink queue back (reset) and frees
 * everything.  NULL is ok. */
void pool_stop(struct pool *p);

/* The pool device (its queues, filters, windows, statistics are driven
 * with nic.h like the NIC's). */
struct nic *pool_nic(const struct pool *p);

/* A free pool queue pair, reset (a page no one else holds), or -1 when all
 * are taken.  pool_release resets it and makes it free again. */
int pool_take(struct pool *p);
void pool_release(struct pool *p, unsigned q);
unsigned pool_free_queues(const struct pool *p);

/* Frames the NIC has delivered to the uplink so far, and frames the pool
 * has taken from it (and steered to its queues): once taken reaches a
 * count delivered at some moment, every frame the NIC steered to the pool
 * before that moment is in a pool queue's ring. */
uint64_t pool_uplink_delivered(const struct pool *p);
uint64_t pool_uplink_taken(const struct pool *p);
/* The same the other way: frames the pool has put on the uplink's TX ring,
 * and frames the NIC has sent from it. */
uint64_t pool_uplink_posted(const struct pool *p);
uint64_t pool_uplink_sent(const struct pool *p);

#endif
