/*
 * opsub.h: the whole guest interface of opsub, for programs built with
 * `musl-gcc -static` and linked with libopsub.a (build/guests/libopsub.a).
 *
 * A guest is an ordinary static Linux program: it may use the C library as
 * usual (stdout, malloc, clocks; no files, threads or sockets).  This header
 * adds what the sandbox offers beyond Linux: opsub's console and clock, and
 * direct, zero-copy access to the guest's network ports.
 *
 * The same binary runs in every I/O mode the host chooses (opsub,
 * passthrough, paravirt, emulated); only speed and safety differ.  Nothing
 * here blocks unless it says so.  The interface is single-threaded, like
 * the guests.
 */
#ifndef OPSUB_H
#define OPSUB_H

#include <stddef.h>
#include <stdint.h>

#include "opsub_abi.h"

/* ---- console and time ----------------------------------------------------- */

/* Writes to opsub's standard output (unbuffered).  Returns n or -errno. */
long opsub_console(const char *s, size_t n);

/* Monotonic time in nanoseconds. */
uint64_t opsub_clock_ns(void);

/* Sleeps until deadline_ns (monotonic) or until a receive interrupt of any
 * open port.  Returns 1 for an interrupt, 0 when the deadline passed. */
int opsub_wait(uint64_t deadline_ns);

/* True when running under opsub (false natively: then every other call
 * here must not be used). */
int opsub_present(void);

/* ---- network ports ---------------------------------------------------------- */

struct opsub_port;

/* One packet buffer: OPSUB_NET_BUF_SIZE bytes of guest memory owned either
 * by the program or by the port, never both. */
struct opsub_buf {
	uint8_t *data;
	uint32_t len;        /* frame length (rx: set by the port; tx: set by you) */
};

/* Opens port `index` (0 for the first) with a pool of `nbufs` buffers
 * (0: a default of 4096).  Up to half the pool (at most a ring's worth) is
 * kept posted for receiving; the rest is for opsub_buf_alloc.  Returns
 * NULL and sets errno on failure (ENODEV: the guest has no such port;
 * ENOMEM: no memory for the pool). */
struct opsub_port *opsub_port_open(unsigned index, unsigned nbufs);

/* The port's MAC address (6 bytes) and the I/O mode the host chose. */
const uint8_t *opsub_port_mac(const struct opsub_port *p);
enum opsub_net_mode opsub_port_mode(const struct opsub_port *p);

/* Takes up to n free buffers from the pool (len set to 0).  Returns how
 * many; fewer when the pool is short (buffers in flight come back as the
 * port finishes with them). */
unsigned opsub_buf_alloc(struct opsub_port *p, struct opsub_buf *bufs, unsigned n);
/* Returns buffers to the pool. */
void opsub_buf_free(struct opsub_port *p, const struct opsub_buf *bufs, unsigned n);

/* Asks for the cache line at p ahead of writing it (PREFETCHW when the CPU
 * has it, else a plain prefetch).  A buffer the NIC has just read or
 * written sits in the other core's cache: asking for the lines of the next
 * few frames while working on this one keeps the core from waiting for
 * each in turn. */
extern int opsub_has_prefetchw;   /* set by opsub_port_open */
static inline void opsub_prefetch_write(const void *p)
{
	if (opsub_has_prefetchw)
		__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
	else
		__builtin_prefetch(p, 1);
}

/* Sends up to n frames, zero-copy: the port owns each accepted buffer until
 * the NIC has sent it, then returns it to the pool by itself.  Returns the
 * number accepted (from the start of bufs); the rest stay yours. */
unsigned opsub_tx_burst(struct opsub_port *p, struct opsub_buf *bufs, unsigned n);

/* Receives up to max frames.  Each returned buffer is yours: send it
 * (opsub_tx_burst) or give it back (opsub_buf_free). */
unsigned opsub_rx_burst(struct opsub_port *p, struct opsub_buf *bufs, unsigned max);

/* Waits at most timeout_ns for a frame to arrive on p.  Returns 1 when one
 * may be waiting, 0 on timeout.  It polls the port before it sleeps: at
 * full rate the next frame comes sooner than a sleeping guest wakes up.
 * How long adapts between the two bounds: longer while frames come during
 * the poll, shorter while the guest ends up sleeping anyway (guests that
 * share a core would spin in each other's time). */
#define OPSUB_PORT_BUSY_POLL_NS 50000u
#define OPSUB_PORT_BUSY_POLL_MIN_NS 1000u
int opsub_port_wait(struct opsub_port *p, uint64_t timeout_ns);

/* A descriptor that poll, select and epoll report readable while frames
 * may wait on p (in opsub mode exactly; in the other modes always), to
 * wait on the port together with pipes, timers and stdin.  Receive with
 * opsub_rx_burst as usual.  Returns the descriptor or -1 with errno. */
int opsub_port_fd(struct opsub_port *p);

/* The port's counters as the NIC and the driver see them. */
int opsub_port_stats(struct opsub_port *p, struct opsub_net_stats *s);

#endif
