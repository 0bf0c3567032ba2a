/*
 * Live migration, snapshots and restores in the daemon (docs/migration.md).
 *
 * Each one is a job with a thread of its own, so that a migration never
 * holds up the main loop, other requests or other guests.  The threads
 * touch the daemon's state only through the main loop: they work on
 * their own copies and duplicates (the guest's memory mapped again, its
 * link socket dup'ed, a pidfd of its process, the NIC's thread-safe calls),
 * and what must change the daemon (reserving a name, creating the guest
 * that arrived, freeing the one that left) they ask of the main loop
 * (migrate_poll runs it and wakes them).  A guest being migrated cannot be
 * changed, removed or migrated again; if its process ends meanwhile, the
 * main loop cancels the job and waits for its thread before reclaiming it.
 *
 * Requests (control.c):
 *   {"cmd":"migrate","guest":NAME,"to":"HOST:PORT"}
 *   {"cmd":"snapshot","guest":NAME,"file":PATH[,"stop":true]}
 *   {"cmd":"restore","file":PATH[,"name":NAME]}
 * The client's connection is taken over by the job: progress lines
 * {"progress":"..."} while it runs, then the reply object.
 */
#ifndef OPSUB_DAEMON_MIGRATE_H
#define OPSUB_DAEMON_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

struct daemon;
struct guest;
struct json_t;

/* Downtime target of pre-copy, and its round limit. */
#define MIG_DOWNTIME_TARGET_NS 2000000u
#define MIG_MAX_ROUNDS         30u
/* Incoming migrations and restores at a time. */
#define MIG_MAX_INCOMING       4u

/* At daemon start: the listen socket of "migration" "listen" (if any).
 * 0, or -1 with a reason (the port is taken...). */
int migrate_start(struct daemon *d, char *err, size_t errlen);
/* Descriptors for the main loop to poll (POLLIN): up to 2, -1 unused. */
void migrate_fds(const struct daemon *d, int fds[2]);
/* Main loop, every pass: accepts migrations, serves the jobs' calls,
 * finishes ended jobs (frees a guest that left, sends replies). */
void migrate_poll(struct daemon *d);
/* At stop: cancels every job (a guest leaving stays here, resumed) and
 * waits for their threads; closes the listen socket. */
void migrate_stop_all(struct daemon *d);
/* A guest's process ended while a job had it: the job is cancelled and
 * its thread waited for, before the guest is reclaimed. */
void migrate_guest_ended(struct daemon *d, struct guest *g);
/* A guest name or MAC that a job reserves for a guest on its way in. */
bool migrate_reserved(const struct daemon *d, const char *name, const unsigned char mac[6]);

/* The requests.  client_fd: the control connection, which the job takes
 * over (dup'ed) when it starts: the return value is then NULL and the job
 * replies.  -1: no client (replies are logged only).  Otherwise the error
 * reply object. */
struct json_t *migrate_request(struct daemon *d, struct json_t *req, int client_fd);
struct json_t *snapshot_request(struct daemon *d, struct json_t *req, int client_fd);
struct json_t *restore_request(struct daemon *d, struct json_t *req, int client_fd);

#endif
