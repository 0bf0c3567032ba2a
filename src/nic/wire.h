/*
 * wire.h: what is at the other end of the NIC's port.
 *
 * A wire backend takes the frames the NIC transmits and supplies the frames
 * it receives. All calls except wire_open, wire_close and wire_read_stats
 * are made by the NIC's DMA engine thread only, so backends keep no locks;
 * they are driven in batches and never block.
 *
 * Specs accepted by wire_open:
 *   null                          sink: reads every byte of every TX frame
 *   null:SIZE[,DSTMAC[,SRCMAC]]   sink, and a lossless source of SIZE-byte
 *                                 frames (null_frame.h), 60 <= SIZE <= 2048
 *   loop                          TX frames come back as RX frames (lossy)
 *   pcap:IN,OUT                   RX from libpcap file IN (lossless), TX
 *                                 appended to libpcap file OUT; either empty
 *   tap:IFNAME                    Linux TAP interface, created if absent and
 *                                 brought up (lossy)
 */
#ifndef OPSUB_NIC_WIRE_H
#define OPSUB_NIC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_MIN_FRAME 14u      /* an Ethernet header */
#define WIRE_MAX_FRAME 2048u    /* = NIC_MAX_FRAME */

/* One frame. TX: data holds all len bytes. RX (from wire_ops.rx_peek):
 * data holds at least the first min(len, 18) bytes (enough to steer on
 * destination MAC and VLAN); all len bytes unless the backend has rx_write.
 * cookie is the backend's own. */
struct wire_frame {
	const uint8_t *data;
	uint32_t len;
	uint64_t cookie;
};

/* Counters; the engine thread writes them, wire_read_stats reads them. */
struct wire_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_frames, rx_bytes;
	uint64_t errors;        /* failed writes/reads, malformed input frames */
	uint64_t tx_checksum;   /* null only: sum of null_frame_sum64 of TX */
};

struct wire;

struct wire_ops {
	/* Takes n frames; it has read their bytes when it returns. A frame
	 * the backend cannot send is counted in errors (wires never push
	 * back on TX). */
	void (*tx_burst)(struct wire *w, const struct wire_frame *frames,
	                 unsigned n);
	/* Offers up to max received frames without consuming them; they stay
	 * valid, and are offered again, until rx_consume. NULL: no RX side. */
	unsigned (*rx_peek)(struct wire *w, struct wire_frame *frames,
	                    unsigned max);
	/* Writes a peeked frame's len bytes to dst (the same bytes each time
	 * it is asked). NULL: the NIC copies frame->data itself. */
	void (*rx_write)(struct wire *w, const struct wire_frame *frame,
	                 uint8_t *dst);
	/* Drops the first n frames offered. */
	void (*rx_consume)(struct wire *w, unsigned n);
	/* Flushes and frees. */
	void (*close)(struct wire *w);
	/* A descriptor that polls readable when rx_peek may offer frames,
	 * so that an idle NIC can sleep until input arrives. NULL: the wire
	 * has input only when rx_peek says so (files, the null source), or
	 * only from transmit (loop), and the NIC needs no wake-up for it. */
	int (*rx_fd)(const struct wire *w);
};

struct wire {
	const struct wire_ops *ops;
	const char *kind;       /* "null", "loop", "pcap", "tap" */
	/* RX frames wait for a descriptor instead of being dropped. */
	bool lossless;
	struct wire_stats stats;
	/* Set by the NIC before use: where a loopback wire hands the frames it
	 * is given to transmit (it copies nothing itself). */
	void (*deliver)(void *ctx, const struct wire_frame *frames, unsigned n);
	void *deliver_ctx;
};

/* Opens a backend from a spec (above). On error returns NULL and writes a
 * one-line message saying what is wrong and what is accepted. */
struct wire *wire_open(const char *spec, char *err, size_t errlen);

/* Whether spec names a known backend (its arguments are checked by
 * wire_open); for checking a configuration before anything starts. */
bool wire_spec_known(const char *spec, char *err, size_t errlen);

/* Flushes (a pcap OUT file is complete after this) and frees; NULL is ok. */
void wire_close(struct wire *w);

/* A consistent-enough snapshot from any thread: each counter is read
 * atomically, the set is not. */
void wire_read_stats(const struct wire *w, struct wire_stats *out);

/* Counter updates, for backends (single writer: the engine thread). */
static inline void wire_count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* The constructors behind wire_open; args is the text after "kind:" (NULL
 * when there was no colon). */
struct wire *wire_null_open(const char *args, char *err, size_t errlen);
struct wire *wire_loop_open(const char *args, char *err, size_t errlen);
struct wire *wire_pcap_open(const char *args, char *err, size_t errlen);
struct wire *wire_tap_open(const char *args, char *err, size_t errlen);

#endif
