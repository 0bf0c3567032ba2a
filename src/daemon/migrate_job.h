/*
 * One migration, snapshot or restore in progress (migrate.h): what its
 * thread owns, and how it asks the main loop for what only the main loop
 * may do.  Internal to migrate*.c.
 */
#ifndef OPSUB_DAEMON_MIGRATE_JOB_H
#define OPSUB_DAEMON_MIGRATE_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/daemon.h"
#include "daemon/migrate.h"
#include "daemon/migrate_recv.h"
#include "daemon/migrate_stream.h"

enum mig_kind { JOB_SEND, JOB_SNAPSHOT, JOB_RECEIVE, JOB_RESTORE };

struct mig_job;
typedef int (*mig_call_fn)(struct daemon *d, struct mig_job *j, void *arg, char *err, size_t errlen);

struct mig_job {
	enum mig_kind kind;
	struct daemon *d;                  /* main loop only, and through calls */
	pthread_t thread;
	bool thread_started;
	int abort_fd;                      /* eventfd: readable once cancelled */
	int wake_fd;                       /* the main loop's eventfd (not owned) */
	int client_fd;                     /* the control client (progress, reply), -1: none */
	uint64_t started_ns;
	char what[4400];                   /* "guest 'x' to HOST:PORT", for the log (a target may be a long path) */

	/* ---- source (send, snapshot): copies taken by the main loop ---- */
	unsigned slot;                     /* the guest's slot (its struct guest is the main loop's) */
	struct guest_config cfg;           /* owned copy, for HELLO */
	struct nic *nic;
	int mem_fd, link_sock, pidfd;
	pid_t pid;                         /* its process (pidfd tells it was not reused) */
	uint64_t mem_size;
	uint32_t cpu_rows;                 /* the guest's optional CPU rows, for HELLO */
	unsigned window;                   /* its memory's DMA window */
	unsigned nqueues;
	uint16_t queue[LINK_MAX_QUEUES];
	struct vhost *vhost;               /* paravirt: its backend, parked at the switch-over */
	char target[4096];                 /* HOST:PORT, or the snapshot file */
	bool stop_after;                   /* snapshot --stop */
	int out_fd;                        /* snapshot: the new file */

	/* ---- destination (receive, restore) ---- */
	int conn_fd;                       /* accepted connection / snapshot file */
	char rename[GUEST_NAME_MAX];       /* restore NAME, "" for the file's */
	struct mig_incoming in;
	bool reserved;                     /* name and MAC held for it (migrate_reserved) */
	char created[GUEST_NAME_MAX];      /* the guest it created, "" none yet */

	/* ---- a call to the main loop (mig_call) ---- */
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	mig_call_fn call_fn;
	void *call_arg;
	bool call_pending, call_done, cancelled;
	int call_rc;
	char call_err[512];

	/* ---- outcome, read by the main loop once `finished` ---- */
	bool finished;                     /* atomic: the thread has ended */
	bool ok;
	bool free_source;                  /* send: the destination runs the guest; free ours */
	bool stop_source;                  /* snapshot --stop: remove the guest */
	char error[512];
	const char *cancel_why;            /* main loop: why it cancelled the job, NULL: it did not */
	uint64_t bytes, rounds, data_pages, zero_pages, frames_lost;
	double total_ms, downtime_ms;
};

/* Runs fn(d, j, arg) on the main loop and waits for it: its result, or -1
 * with a reason (also when the job is cancelled or the daemon stops). */
int mig_call(struct mig_job *j, mig_call_fn fn, void *arg, char *err, size_t errlen);
/* A progress line to the client (and, with log, to the daemon's log). */
void mig_progress(struct mig_job *j, bool log, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool mig_cancelled(struct mig_job *j);
/* The thread's last act: marks the job finished and wakes the main loop. */
void mig_finished(struct mig_job *j);
uint64_t mig_now_ns(void);

/* Main loop (migrate.c): a new job of this kind (the client's connection
 * duplicated, -1: none), NULL when MAX_JOBS run or out of memory; its
 * thread started (0; on failure the job is freed: -1); freeing one that
 * never started; the incoming jobs (receive, restore) now running. */
struct mig_job *mig_job_new(struct daemon *d, enum mig_kind kind, int client_fd);
int mig_job_start(struct daemon *d, struct mig_job *j);
void mig_job_free(struct daemon *d, struct mig_job *j);
unsigned mig_incoming_jobs(const struct migrate *m);

/* The threads (migrate_send.c, migrate_dest.c). */
void *mig_send_thread(void *arg);
void *mig_dest_thread(void *arg);

#endif
