/*
 * Migrations, snapshots and restores on the daemon's main loop
 * (migrate.h): the jobs, the listen socket, the jobs' calls, and the end
 * of each job (the reply, the log, freeing a guest that left).  The
 * requests that start jobs are migrate_request.c.
 */
#include "daemon/migrate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/migrate_job.h"

#define MAX_JOBS (DAEMON_MAX_GUESTS + MIG_MAX_INCOMING)

struct migrate {
	int wake_fd;                  /* eventfd: a job wants the main loop */
	int listen_fd;                /* -1: not listening */
	struct mig_job *job[MAX_JOBS];
};

uint64_t mig_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wake(int fd)
{
	uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* saturated: it is readable anyway */
	}
}

/* ---- the job's side ------------------------------------------------------- */

bool mig_cancelled(struct mig_job *j)
{
	return __atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE);
}

int mig_call(struct mig_job *j, mig_call_fn fn, void *arg, char *err, size_t errlen)
{
	pthread_mutex_lock(&j->lock);
	j->call_fn = fn;
	j->call_arg = arg;
	j->call_done = false;
	j->call_pending = !j->cancelled;
	if (j->call_pending)
		wake(j->wake_fd);
	while (j->call_pending && !j->call_done && !j->cancelled)
		pthread_cond_wait(&j->done_cond, &j->lock);
	int rc = j->call_done ? j->call_rc : -1;
	if (j->call_done && rc)
		snprintf(err, errlen, "%s", j->call_err);
	else if (!j->call_done)
		snprintf(err, errlen, "cancelled (the daemon stops, or the guest ended)");
	j->call_pending = false;
	pthread_mutex_unlock(&j->lock);
	return rc;
}

void mig_progress(struct mig_job *j, bool log, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (log)
		log_event("%s: %s", j->what, text);
	if (j->client_fd < 0)
		return;
	json_t *o = json_pack("{s:s}", "progress", text);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (line) {
		size_t n = strlen(line);
		line[n] = '\n';
		/* a client that does not read misses lines, the job does not wait */
		if (send(j->client_fd, line, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		}
		free(line);
	}
}

void mig_finished(struct mig_job *j)
{
	__atomic_store_n(&j->finished, true, __ATOMIC_RELEASE);
	wake(j->wake_fd);
}

/* ---- jobs on the main loop --------------------------------------------------- */

struct mig_job *mig_job_new(struct daemon *d, enum mig_kind kind, int client_fd)
{
	struct migrate *m = d->mig;
	unsigned slot = MAX_JOBS;
	for (unsigned i = 0; i < MAX_JOBS && slot == MAX_JOBS; i++)
		if (!m->job[i])
			slot = i;
	struct mig_job *j = slot < MAX_JOBS ? calloc(1, sizeof(*j)) : NULL;
	if (!j)
		return NULL;
	j->kind = kind;
	j->d = d;
	j->abort_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	j->wake_fd = m->wake_fd;
	j->client_fd = -1;
	j->mem_fd = j->link_sock = j->pidfd = j->out_fd = j->conn_fd = -1;
	j->started_ns = mig_now_ns();
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->done_cond, NULL);
	mig_incoming_init(&j->in);
	if (j->abort_fd < 0) {
		free(j);
		return NULL;
	}
	if (client_fd >= 0) {
		j->client_fd = fcntl(client_fd, F_DUPFD_CLOEXEC, 3);
		struct timeval t = {.tv_sec = 2};
		setsockopt(j->client_fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
	}
	m->job[slot] = j;
	return j;
}

void mig_job_free(struct daemon *d, struct mig_job *j)
{
	for (unsigned i = 0; i < MAX_JOBS; i++)
		if (d->mig->job[i] == j)
			d->mig->job[i] = NULL;
	int *fds[] = {&j->abort_fd, &j->client_fd, &j->mem_fd, &j->link_sock, &j->pidfd, &j->out_fd, &j->conn_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	config_guest_free(&j->cfg);
	mig_incoming_free(&j->in);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->done_cond);
	free(j);
}

int mig_job_start(struct daemon *d, struct mig_job *j)
{
	/* the thread must not take signals meant for the main loop's signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&j->thread, NULL, j->kind == JOB_SEND || j->kind == JOB_SNAPSHOT ? mig_send_thread
	                                                                                            : mig_dest_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		mig_job_free(d, j);
		return -1;
	}
	j->thread_started = true;
	return 0;
}

/* Stops the job's thread at its next wait; `why` becomes its error. */
static void cancel(struct mig_job *j, const char *why)
{
	j->cancel_why = why;
	pthread_mutex_lock(&j->lock);
	j->cancelled = true;
	pthread_cond_broadcast(&j->done_cond);
	pthread_mutex_unlock(&j->lock);
	wake(j->abort_fd);
}

/* Runs a call the job waits for. */
static void serve_call(struct daemon *d, struct mig_job *j)
{
	pthread_mutex_lock(&j->lock);
	bool pending = j->call_pending && !j->call_done && !j->cancelled;
	mig_call_fn fn = j->call_fn;
	void *arg = j->call_arg;
	pthread_mutex_unlock(&j->lock);
	if (!pending)
		return;
	char err[512] = "";
	int rc = fn(d, j, arg, err, sizeof(err));
	pthread_mutex_lock(&j->lock);
	j->call_rc = rc;
	snprintf(j->call_err, sizeof(j->call_err), "%s", err);
	j->call_done = true;
	pthread_cond_broadcast(&j->done_cond);
	pthread_mutex_unlock(&j->lock);
}

static const char *kind_word(enum mig_kind k)
{
	return k == JOB_SEND ? "migration" : k == JOB_SNAPSHOT ? "snapshot" : k == JOB_RECEIVE ? "incoming migration"
	       : "restore";
}

/* The job's thread has ended: what it did is logged and answered, and a
 * guest that left (or a snapshot's --stop) is freed.  guest_gone: its
 * guest's process has ended and is being reclaimed by the caller. */
static void finish(struct daemon *d, struct mig_job *j, bool guest_gone)
{
	if (j->thread_started)
		pthread_join(j->thread, NULL);
	struct guest *g = j->kind == JOB_SEND || j->kind == JOB_SNAPSHOT ? d->guest[j->slot] : NULL;
	if (g && g->migrating == j)
		g->migrating = NULL;
	char err[256];
	if (g && !guest_gone && g->state == GUEST_RUNNING && (j->free_source || j->stop_source)) {
		if (guest_remove(d, j->cfg.name, err, sizeof(err)))
			log_error("%s: %s", j->what, err);
	}
	if (!j->ok && j->cancel_why)   /* (the thread only saw itself cancelled) */
		snprintf(j->error, sizeof(j->error), "%s", j->cancel_why);
	json_t *r;
	if (j->ok) {
		r = json_pack("{s:b, s:f, s:f, s:I, s:I, s:I, s:{s:I, s:I}}", "ok", 1, "downtime_ms", j->downtime_ms,
		              "total_ms", j->total_ms, "bytes", (json_int_t)j->bytes, "rounds", (json_int_t)j->rounds,
		              "frames_lost", (json_int_t)j->frames_lost, "pages", "sent",
		              (json_int_t)(j->data_pages + j->zero_pages), "zero", (json_int_t)j->zero_pages);
		if (j->kind == JOB_RESTORE || j->kind == JOB_RECEIVE)
			json_object_set_new(r, "guest", json_string(j->in.cfg.name));
		log_event("%s done: downtime %.2f ms, total %.1f ms, %llu bytes, %llu rounds, %llu pages (%llu zero), "
		          "%llu frames lost", j->what, j->downtime_ms, j->total_ms, (unsigned long long)j->bytes,
		          (unsigned long long)j->rounds, (unsigned long long)(j->data_pages + j->zero_pages),
		          (unsigned long long)j->zero_pages, (unsigned long long)j->frames_lost);
	} else {
		bool source = j->kind == JOB_SEND || j->kind == JOB_SNAPSHOT;
		r = json_pack("{s:b, s:s, s:f}", "ok", 0, "error", j->error, "total_ms", j->total_ms);
		if (!r)   /* an error that is not UTF-8 (a file name) */
			r = json_pack("{s:b, s:s, s:f}", "ok", 0, "error", "failed (the reason is in the daemon's log)",
			              "total_ms", j->total_ms);
		log_warning("%s failed after %.1f ms: %s%s", j->what[0] ? j->what : kind_word(j->kind), j->total_ms,
		            j->error, source && !j->cancel_why ? "; the guest runs on here, unchanged" : "");
	}
	char *line = r ? json_dumps(r, JSON_COMPACT) : NULL;
	json_decref(r);
	if (line && j->client_fd >= 0) {
		size_t n = strlen(line);
		line[n] = '\n';
		/* the reply waits for room (SO_SNDTIMEO bounds it), progress did not */
		fcntl(j->client_fd, F_SETFL, fcntl(j->client_fd, F_GETFL) & ~O_NONBLOCK);
		if (send(j->client_fd, line, n + 1, MSG_NOSIGNAL) < 0) {
			/* the client went away: the log has it */
		}
	}
	free(line);
	mig_job_free(d, j);
}

/* ---- the listen socket ----------------------------------------------------------- */

int migrate_start(struct daemon *d, char *err, size_t errlen)
{
	struct migrate *m = calloc(1, sizeof(*m));
	if (!m || mig_init()) {
		free(m);
		snprintf(err, errlen, "cannot start migration support (libsodium)");
		return -1;
	}
	m->listen_fd = -1;
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->mig = m;
	if (m->wake_fd < 0) {
		snprintf(err, errlen, "cannot make an eventfd: %s", strerror(errno));
		return -1;
	}
	const char *l = d->cfg.mig_listen;
	if (!l)
		return 0;
	char host[64], port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE},
	                *res;
	if (mig_split_hostport(l, host, sizeof(host), port, sizeof(port)) || getaddrinfo(host, port, &hints, &res)) {
		snprintf(err, errlen, "migration \"listen\" %s is not an address", l);
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen for migrations on %s: %s", l, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	m->listen_fd = fd;
	log_event("migration: listening on %s (key %s)", l, d->cfg.mig_key_file);
	return 0;
}

void migrate_fds(const struct daemon *d, int fds[2])
{
	fds[0] = d->mig ? d->mig->wake_fd : -1;
	fds[1] = d->mig ? d->mig->listen_fd : -1;
}

unsigned mig_incoming_jobs(const struct migrate *m)
{
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_JOBS; i++)
		n += m->job[i] && (m->job[i]->kind == JOB_RECEIVE || m->job[i]->kind == JOB_RESTORE);
	return n;
}

static void peer_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage a;
	socklen_t al = sizeof(a);
	char host[INET6_ADDRSTRLEN + 8], serv[8];   /* numeric: no more than this */
	if (getpeername(fd, (struct sockaddr *)&a, &al) == 0 &&
	    getnameinfo((struct sockaddr *)&a, al, host, sizeof(host), serv, sizeof(serv),
	                NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, len, "%s%s%s:%s", a.ss_family == AF_INET6 ? "[" : "", host, a.ss_family == AF_INET6 ? "]" : "",
		         serv);
	else
		snprintf(out, len, "?");
}

static void accept_all(struct daemon *d)
{
	struct migrate *m = d->mig;
	int fd;
	while (m->listen_fd >= 0 && (fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		char peer[96];
		peer_name(fd, peer, sizeof(peer));
		struct mig_job *j = mig_incoming_jobs(m) < MIG_MAX_INCOMING ? mig_job_new(d, JOB_RECEIVE, -1) : NULL;
		if (!j) {
			log_warning("migration from %s refused: %u incoming migrations run already", peer, MIG_MAX_INCOMING);
			close(fd);
			continue;
		}
		j->conn_fd = fd;
		snprintf(j->target, sizeof(j->target), "%s", peer);
		snprintf(j->what, sizeof(j->what), "incoming migration from %s", peer);
		if (mig_job_start(d, j))
			log_error("migration from %s: cannot start a thread", peer);
	}
}

void migrate_poll(struct daemon *d)
{
	struct migrate *m = d->mig;
	if (!m)
		return;
	uint64_t v;
	if (read(m->wake_fd, &v, sizeof(v)) < 0) {
		/* nothing woke us: jobs are looked at anyway */
	}
	accept_all(d);
	for (unsigned i = 0; i < MAX_JOBS; i++) {
		struct mig_job *j = m->job[i];
		if (!j)
			continue;
		serve_call(d, j);
		if (__atomic_load_n(&j->finished, __ATOMIC_ACQUIRE))
			finish(d, j, false);
	}
}

void migrate_guest_ended(struct daemon *d, struct guest *g)
{
	struct mig_job *j = g->migrating;
	if (!j || !d->mig)
		return;
	cancel(j, j->kind == JOB_SEND ? "the guest's process ended during the migration: it runs nowhere now"
	                              : "the guest's process ended during the snapshot");
	finish(d, j, true);
	g->migrating = NULL;
}

void migrate_stop_all(struct daemon *d)
{
	struct migrate *m = d->mig;
	if (!m)
		return;
	for (unsigned i = 0; i < MAX_JOBS; i++)
		if (m->job[i])
			cancel(m->job[i], "the daemon stops");
	for (unsigned i = 0; i < MAX_JOBS; i++)
		if (m->job[i])
			finish(d, m->job[i], false);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	close(m->wake_fd);
	free(m);
	d->mig = NULL;
}

bool migrate_reserved(const struct daemon *d, const char *name, const unsigned char mac[6])
{
	if (!d->mig)
		return false;
	for (unsigned i = 0; i < MAX_JOBS; i++) {
		const struct mig_job *j = d->mig->job[i];
		if (j && j->reserved && ((name && !strcmp(j->in.cfg.name, name)) || (mac && !memcmp(j->in.cfg.mac, mac, 6))))
			return true;
	}
	return false;
}
