/*
 * capture.h: one guest's frames, both directions, into a pcap file while
 * the guest runs (like dpdk-pdump): the control request "capture",
 * `opsub ctl capture GUEST FILE [--seconds N]` (docs/daemon.md, "Capture").
 *
 * How: the NIC mirrors the guest's queues (nic.h, port mirroring): its
 * engine copies each frame the guest sends or receives into a bounded
 * lock-free ring, dropping (and counting) what does not fit, so a capture
 * never slows the NIC or any other guest. A thread per capture drains the
 * ring into the file with libpcap. The daemon's main loop (capture_poll)
 * keeps the mirror on the guest's current queues when they change, and ends
 * a capture when its time is up or its guest ends.
 *
 * The file: created by the daemon (mode 0644), never an existing file
 * (the daemon runs as root: a request must not be able to overwrite one);
 * an absolute path (the daemon's working directory is not the client's).
 * Link type Ethernet, microsecond timestamps of when the NIC copied each
 * frame; complete (flushed, closed) when the stop reply is sent.
 *
 * One capture per guest at a time. Main-loop thread only.
 */
#ifndef OPSUB_DAEMON_CAPTURE_H
#define OPSUB_DAEMON_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct json_t;

/* The "capture" control request: {"cmd":"capture","guest":NAME,
 * "file":PATH[,"seconds":N]} starts, {"cmd":"capture","guest":NAME,
 * "stop":true} stops (reply with frames written and dropped). The reply
 * object (new reference). */
struct json_t *capture_request(struct daemon *d, struct json_t *req);

/* Main loop, every pass: follows queue changes, ends captures whose time
 * is up or whose guest has ended. */
void capture_poll(struct daemon *d);

/* Ends every capture (files complete); before the NIC is destroyed. */
void capture_stop_all(struct daemon *d);

/* Figures of the capture of guest slot s, for the metrics; false if none. */
struct capture_figures { uint64_t written, dropped; };
bool capture_figures(const struct daemon *d, unsigned slot, struct capture_figures *out);

#endif
