/*
 * metrics.h: the daemon's counters over HTTP in the Prometheus text
 * exposition format (version 0.0.4), config key "metrics": "ADDR:PORT"
 * (docs/daemon.md, "Metrics"). GET /metrics answers per guest and per
 * queue counters (packets, bytes, drops, errors), settings as gauges
 * (rates, weight, queue count), guest state, the NIC's own counters and
 * the captures' figures.
 *
 * Threads: libmicrohttpd serves on a thread of its own. It never reads the
 * daemon's guest table, which the main loop changes: a scrape asks the main
 * loop for a snapshot (metrics_poll, at its next pass, within ~20 ms) and
 * waits for it at most a second (then it answers the last one). The main
 * loop builds the snapshot from the NIC's counter registers, which it reads
 * like any observer, without a lock the data path takes; it holds the
 * metrics lock only to copy the snapshot, and never waits for a scrape.
 */
#ifndef OPSUB_DAEMON_METRICS_H
#define OPSUB_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct metrics;

/* Checks a "metrics" value, "A.B.C.D:PORT" (PORT 1..65535); false with a
 * one-line reason. addr and port may be NULL. */
bool metrics_parse_listen(const char *text, uint32_t *addr, uint16_t *port, char *err, size_t errlen);

/* Listens on listen ("A.B.C.D:PORT") and serves; NULL with a one-line
 * reason (e.g. the port is taken). */
struct metrics *metrics_start(struct daemon *d, const char *listen, char *err, size_t errlen);

/* Main loop, every pass: answers a scrape waiting for a snapshot. */
void metrics_poll(struct metrics *m, struct daemon *d);

/* Stops serving (a scrape in progress gets its answer first). NULL is ok. */
void metrics_stop(struct metrics *m);

/* The exposition text of a snapshot taken now, in the calling thread (the
 * main loop's; for tests). malloc'ed. */
char *metrics_render_now(struct daemon *d);

#endif
