/*
 * The destination of a migration, and a restore (docs/migration.md, "The
 * destination"): a thread per incoming stream (migrate_job.h).  Every
 * record is checked (migrate_recv.c) before it is used; what only the
 * main loop may do (hold the name, create the guest, remove it again) is
 * asked of it with mig_call.
 *
 * HELLO is answered READY once the config is valid and the daemon can
 * take the guest (name and MAC free, memory, queues, a mode that migrates),
 * else REFUSE with the reason.  The guest is created on a new memory file
 * before READY, its process booting while the pages go straight into that
 * file (its start-up is no part of the downtime); after END the process is
 * given the state (and a paravirt guest its backend); its answer to LINK_MIG_STATE (0: restored, running) makes RESUMED, with
 * the time from END to then, and the MAC is announced; anything else makes
 * FAILED and the new guest goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/migrate_guest.h"
#include "daemon/migrate_job.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

#define HANDSHAKE_MS   5000u
#define RECORD_MS      30000u     /* the source sends something at least this often */
#define STATE_REPLY_MS 20000u     /* a new guest process restores its state within this */
#define MEM_MARGIN     (64ull << 20)

/* ---- on the main loop ------------------------------------------------------- */

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb ? (uint64_t)kb << 10 : UINT64_MAX;
}

/* Whether this daemon can take the guest; holds its name and MAC. */
static int reserve(struct daemon *d, struct mig_job *j, void *arg, char *err, size_t errlen)
{
	(void)arg;
	const struct guest_config *c = &j->in.cfg;
	static const char *const io[] = {"opsub", "passthrough", "paravirt", "emulated"};
	if (c->io != OPSUB_IO_OPSUB && c->io != OPSUB_IO_PARAVIRT)
		FAIL("guest '%s' is in I/O mode %s, which does not migrate", c->name, io[c->io]);
	if (guest_find(d, c->name) || migrate_reserved(d, c->name, NULL))
		FAIL("a guest named '%s' exists already here", c->name);
	if (migrate_reserved(d, NULL, c->mac))
		FAIL("MAC %02x:%02x:%02x:%02x:%02x:%02x is in use here", c->mac[0], c->mac[1], c->mac[2], c->mac[3],
		     c->mac[4], c->mac[5]);
	DAEMON_FOR_EACH_GUEST(d, g)
		if (g->state == GUEST_RUNNING && !memcmp(g->cfg.mac, c->mac, 6))
			FAIL("MAC %02x:%02x:%02x:%02x:%02x:%02x is in use here (guest '%s')", c->mac[0], c->mac[1],
			     c->mac[2], c->mac[3], c->mac[4], c->mac[5], g->cfg.name);
	unsigned free_queues = 0, free_slots = DAEMON_MAX_GUESTS - d->nslots;
	for (unsigned q = 0; q < nic_num_queues(d->nic); q++)
		free_queues += !d->queue_used[q];
	DAEMON_FOR_EACH_GUEST(d, g)
		free_slots += g->state == GUEST_FREE;
	if (free_queues < c->queues)
		FAIL("the NIC has %u free queue pairs, the guest needs %u", free_queues, c->queues);
	if (!free_slots)
		FAIL("the daemon already holds %u guests, its most", (unsigned)DAEMON_MAX_GUESTS);
	uint64_t need = j->in.resident_pages * MIG_PAGE_SIZE + MEM_MARGIN, have = mem_available();
	if (need > have)
		FAIL("not enough memory: the guest holds %llu MiB, %llu MiB are available",
		     (unsigned long long)(j->in.resident_pages * MIG_PAGE_SIZE >> 20), (unsigned long long)(have >> 20));
	j->reserved = true;
	return 0;
}

struct create_args {
	int mem_fd, state_fd;
	int link_fd;          /* out (give_state) */
	int pidfd;            /* out (create) */
	struct qref queue;    /* out (create): its first queue, on the NIC or the pool */
};

/* The guest and its process, started ahead of the state (guests.c:
 * guest_give_state): its start-up then overlaps the copy, not the downtime. */
static int create(struct daemon *d, struct mig_job *j, void *arg, char *err, size_t errlen)
{
	struct create_args *a = arg;
	struct guest_restore r = {.mem_fd = a->mem_fd, .state_fd = -1};
	int unused;
	j->reserved = false;   /* guest_start_restored checks the name against the others */
	if (guest_start_restored(d, &j->in.cfg, &r, &unused, err, errlen))
		return -1;
	snprintf(j->created, sizeof(j->created), "%s", j->in.cfg.name);
	struct guest *g = guest_find(d, j->created);
	g->cpu_rows = j->in.cpu_rows;   /* what it was shown, for its next move */
	a->pidfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
	a->queue = queue_ref(d, g->queue[0]);
	return 0;
}

static int give_state(struct daemon *d, struct mig_job *j, void *arg, char *err, size_t errlen)
{
	struct create_args *a = arg;
	struct guest_restore r = {.mem_fd = a->mem_fd, .state_fd = a->state_fd, .has_vring = j->in.has_vring,
	                          .vring = j->in.vring};
	return guest_give_state(d, j->created, &r, &a->link_fd, err, errlen);
}

static int remove_created(struct daemon *d, struct mig_job *j, void *arg, char *err, size_t errlen)
{
	(void)arg;
	struct guest *g = guest_find(d, j->created);
	if (g && guest_remove(d, j->created, err, errlen))
		return -1;
	j->created[0] = 0;
	return 0;
}

/* ---- on the job's thread ---------------------------------------------------- */

static int new_memory(struct mig_job *j, int *fd, char *err, size_t errlen)
{
	*fd = memfd_create("opsub-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*fd < 0 || ftruncate(*fd, (off_t)j->in.mem_size) ||
	    fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		FAIL("cannot create the guest's memory: %s", strerror(errno));
	void *m = mmap(NULL, j->in.mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, *fd, 0);
	if (m == MAP_FAILED)
		FAIL("cannot map the guest's memory: %s", strerror(errno));
	j->in.mem = m;
	return 0;
}

static int state_file(struct mig_job *j, int *fd, char *err, size_t errlen)
{
	*fd = memfd_create("opsub-state", MFD_CLOEXEC);
	if (*fd < 0 || pwrite(*fd, j->in.state, j->in.state_len, 0) != (ssize_t)j->in.state_len)
		FAIL("cannot hand the guest state on: %s", strerror(errno));
	return 0;
}

/* The new guest process's answer to LINK_MIG_STATE: 0 once it runs. */
static int state_reply(struct mig_job *j, int link_fd, int pidfd, char *err, size_t errlen)
{
	struct mig_guest gp = {.link_sock = link_fd, .pidfd = pidfd, .abort_fd = j->abort_fd};
	int64_t r;
	if (mig_guest_reply(&gp, LINK_MIG_STATE, STATE_REPLY_MS, &r, err, errlen))
		return -1;
	if (r < 0)
		FAIL("the guest process refused the state: %s (its reason is in the daemon's log)", mig_guest_error(r));
	return 0;
}

static void send_text(struct mig_job *j, struct mig_stream *s, uint8_t type, const char *text)
{
	char e[128];
	if (s && j->kind == JOB_RECEIVE)
		mig_send(s, type, text, strlen(text), NULL, 0, true, e, sizeof(e));
}

static int receive(struct mig_job *j, struct mig_stream **sp, char *err, size_t errlen)
{
	struct mig_stream *s;
	if (j->kind == JOB_RECEIVE)
		s = mig_accept(j->conn_fd, j->d->cfg.mig_key, j->abort_fd, HANDSHAKE_MS, err, errlen);
	else
		s = mig_file_reader(j->conn_fd, j->d->cfg.mig_key, err, errlen);
	j->conn_fd = -1;
	*sp = s;
	if (!s)
		return -1;
	uint8_t type;
	const uint8_t *p;
	size_t len;
	bool final;
	if (mig_recv(s, &type, &p, &len, &final, RECORD_MS, err, errlen))
		return -1;
	if (mig_take(&j->in, type, p, len, final, err, errlen)) {
		send_text(j, s, MIG_REFUSE, err);
		return -1;
	}
	if (j->rename[0])
		snprintf(j->in.cfg.name, sizeof(j->in.cfg.name), "%s", j->rename);
	snprintf(j->what, sizeof(j->what), "guest '%s' %s %s", j->in.cfg.name,
	         j->kind == JOB_RECEIVE ? "arriving from" : "restored from", j->target);
	char session[17];
	mig_session_id(s, session);
	log_event("%s: %llu MiB of memory, io %s, session %s", j->what, (unsigned long long)(j->in.mem_size >> 20),
	          j->in.cfg.io == OPSUB_IO_PARAVIRT ? "paravirt" : j->in.cfg.io == OPSUB_IO_OPSUB ? "opsub" : "other",
	          session);
	if (mig_call(j, reserve, NULL, err, errlen)) {
		send_text(j, s, MIG_REFUSE, err);
		return -1;
	}
	int mem_fd = -1, state_fd = -1;
	int rc = new_memory(j, &mem_fd, err, errlen);
	j->in.mem_fd = mem_fd;
	struct create_args a = {.mem_fd = mem_fd, .state_fd = -1, .link_fd = -1, .pidfd = -1};
	if (!rc)
		rc = mig_call(j, create, &a, err, errlen);
	if (!rc && j->kind == JOB_RECEIVE)
		rc = mig_send(s, MIG_READY, NULL, 0, NULL, 0, false, err, errlen);
	while (!rc && j->in.phase != MIG_DONE) {
		rc = mig_recv(s, &type, &p, &len, &final, RECORD_MS, err, errlen) ||
		     mig_take(&j->in, type, p, len, final, err, errlen) ? -1 : 0;
	}
	uint64_t t_end = mig_now_ns();
	/* frames for the guest that reach its queue before it runs again
	 * find no buffer there: the destination's part of the loss */
	struct nic_queue_stats_regs st0 = {0}, st1 = {0};
	if (a.pidfd >= 0)
		nic_queue_stats(a.queue.nic, a.queue.q, &st0);
	if (!rc)
		rc = state_file(j, &state_fd, err, errlen);
	if (j->in.mem) {
		munmap(j->in.mem, j->in.mem_size);
		j->in.mem = NULL;
	}
	j->in.mem_fd = -1;
	a.state_fd = state_fd;
	if (!rc)
		rc = mig_call(j, give_state, &a, err, errlen);
	if (mem_fd >= 0)
		close(mem_fd);
	if (state_fd >= 0)
		close(state_fd);
	if (!rc)
		rc = state_reply(j, a.link_fd, a.pidfd, err, errlen);
	if (a.pidfd >= 0)
		nic_queue_stats(a.queue.nic, a.queue.q, &st1);
	if (a.link_fd >= 0)
		close(a.link_fd);
	if (a.pidfd >= 0)
		close(a.pidfd);
	struct mig_resumed r = {.dest_downtime_ns = mig_now_ns() - t_end,
	                        .frames_lost = st1.rx_dropped - st0.rx_dropped};
	/* a source that does not hear RESUMED resumes its guest: then this
	 * one must not run too */
	if (!rc && j->kind == JOB_RECEIVE && mig_send(s, MIG_RESUMED, &r, sizeof(r), NULL, 0, true, err, errlen))
		rc = -1;
	if (rc) {
		char e[256];
		if (j->created[0] && mig_call(j, remove_created, NULL, e, sizeof(e)))
			log_warning("%s: %s", j->what, e);
		send_text(j, s, MIG_FAILED, err);
		return -1;
	}
	nic_announce(j->d->nic, j->in.cfg.mac);
	j->downtime_ms = (double)r.dest_downtime_ns / 1e6;
	j->frames_lost = r.frames_lost + j->in.end.frames_lost;
	j->rounds = j->in.end.rounds;
	j->data_pages = j->in.data_pages;
	j->zero_pages = j->in.zero_pages;
	return 0;
}

void *mig_dest_thread(void *arg)
{
	struct mig_job *j = arg;
	struct mig_stream *s = NULL;
	char err[512] = "";
	int rc = receive(j, &s, err, sizeof(err));
	if (rc)
		snprintf(j->error, sizeof(j->error), "%s", err);
	j->ok = rc == 0;
	j->bytes = s ? mig_bytes_received(s) : 0;
	mig_close(s);
	j->total_ms = (double)(mig_now_ns() - j->started_ns) / 1e6;
	mig_finished(j);
	return NULL;
}
