/*
 * The source of a migration, and a snapshot's writer (docs/migration.md,
 * "Pre-copy"): a thread of its own (migrate_job.h), working on duplicates
 * of the guest's descriptors and its own mapping of the guest's memory.
 *
 * Migration: HELLO, READY; the guest's memory write-protected for
 * tracking (migrate_dirty.h) and the NIC's DMA log of its window on; round
 * 0 sends every page that holds data (the memory file's data ranges, zero
 * pages skipped: the destination starts zeroed); each later round harvests
 * both logs and sends those pages (zero ones as markers), until the rest
 * would go within the downtime target at the measured rate,
 * MIG_MAX_ROUNDS, or the dirty set stops shrinking.  Switch-over: PAUSE,
 * quiesce the queues, park the paravirt backend, the last harvest, those
 * pages, the memory file's holes, SAVE, STATE, END; then RESUMED (the main
 * loop frees the guest) or anything else: the DMA log stops, the queues
 * and the backend go on, RESUME: the guest never noticed.
 *
 * Snapshot: PAUSE first, then the same records into the file, then RESUME
 * (or, with --stop, the main loop removes the guest).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/migrate_dirty.h"
#include "daemon/migrate_guest.h"
#include "daemon/migrate_job.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

#define PAUSE_MS         2000u      /* a guest process pauses or resumes within this */
#define CONNECT_MS       5000u
#define REPLY_MS         10000u     /* the destination answers HELLO within this */
#define RESUMED_MS       30000u     /* and starts the guest within this */
#define QUIESCE_NS       50000000u  /* a queue's transmit ring drains within this */
#define PARK_NS          1000000000u /* and a paravirt backend stops within this */

struct sender {
	struct mig_job *j;
	struct mig_guest gp;
	struct mig_stream *s;
	uint8_t *mem;                   /* our own mapping of guest memory (read only) */
	uint64_t pages, words;          /* pages, and 64-bit words of a bitmap */
	struct mig_dirty dirty;         /* the guest process's writes */
	uint64_t *dma_bits;             /* the NIC's DMA log */
	uint64_t *want;                 /* pages to send next */
	bool dma_on, paused, quiesced, parked;
	struct vhost_state vring;       /* paravirt: the parked backend's */
	/* a PAGES record being built */
	uint8_t *batch;
	size_t batch_len;
	uint32_t batch_count;
	uint64_t data_pages, zero_pages;
	uint64_t resident;              /* resident_pages's count */
};

/* ---- pages ------------------------------------------------------------------ */

static bool page_is_zero(const uint8_t *p)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < MIG_PAGE_SIZE; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		any |= w;
	}
	return any == 0;
}

static int flush_batch(struct sender *x, char *err, size_t errlen)
{
	if (!x->batch_count)
		return 0;
	if (mig_cancelled(x->j))
		FAIL("cancelled");
	struct mig_pages_head h = {.count = x->batch_count};
	memcpy(x->batch, &h, sizeof(h));
	if (mig_send(x->s, MIG_PAGES, x->batch, x->batch_len, NULL, 0, false, err, errlen))
		return -1;
	x->batch_len = sizeof(h);
	x->batch_count = 0;
	return 0;
}

/* Adds page p: its bytes copied now (the guest may be writing it: a page
 * changed after the copy is dirty again and goes in a later round), or a
 * zero marker when zero_marker and it reads as zeros. */
static int add_page(struct sender *x, uint64_t p, bool zero_marker, char *err, size_t errlen)
{
	uint8_t *entry = x->batch + x->batch_len, *data = entry + sizeof(struct mig_page_entry);
	memcpy(data, x->mem + p * MIG_PAGE_SIZE, MIG_PAGE_SIZE);
	bool zero = page_is_zero(data);
	if (zero && !zero_marker)
		return 0;
	struct mig_page_entry e = {.page = (uint32_t)p, .kind = zero ? MIG_PAGE_ZERO : MIG_PAGE_DATA};
	memcpy(entry, &e, sizeof(e));
	x->batch_len += sizeof(e) + (zero ? 0 : MIG_PAGE_SIZE);
	++*(zero ? &x->zero_pages : &x->data_pages);
	if (++x->batch_count == MIG_PAGES_PER_RECORD)
		return flush_batch(x, err, errlen);
	return 0;
}

/* Walks the memory file's data ranges (holes read as zeros and hold
 * nothing): fn(x, first byte, end) for each; 0, or -1 with a reason. */
static int each_data_range(struct sender *x, int (*fn)(struct sender *, uint64_t, uint64_t, char *, size_t),
                           char *err, size_t errlen)
{
	uint64_t at = 0, size = x->j->mem_size;
	while (at < size) {
		if (mig_cancelled(x->j))
			FAIL("cancelled");
		off_t data = lseek(x->j->mem_fd, (off_t)at, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;   /* no data after at */
		if (data < 0)
			FAIL("cannot look for data in the guest's memory: %s", strerror(errno));
		off_t hole = lseek(x->j->mem_fd, data, SEEK_HOLE);
		uint64_t end = hole < 0 || (uint64_t)hole > size ? size : (uint64_t)hole;
		if (fn(x, (uint64_t)data, end, err, errlen))
			return -1;
		at = end > (uint64_t)data ? end : size;
	}
	return 0;
}

static int count_range(struct sender *x, uint64_t from, uint64_t to, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	x->resident += (to + MIG_PAGE_SIZE - 1) / MIG_PAGE_SIZE - from / MIG_PAGE_SIZE;
	return 0;
}

static int send_range(struct sender *x, uint64_t from, uint64_t to, char *err, size_t errlen)
{
	for (uint64_t p = from / MIG_PAGE_SIZE; p * MIG_PAGE_SIZE < to; p++)
		if (add_page(x, p, false, err, errlen))
			return -1;
	return 0;
}

/* Pages that hold data now: for the destination's memory check. */
static uint64_t resident_pages(struct sender *x)
{
	char e[160];
	x->resident = 0;
	if (each_data_range(x, count_range, e, sizeof(e)))
		log_warning("%s: %s; the destination's memory check is a guess", x->j->what, e);
	return x->resident;
}

/* Round 0 (and a snapshot): every page of the data ranges that holds
 * anything. */
static int send_resident(struct sender *x, char *err, size_t errlen)
{
	if (each_data_range(x, send_range, err, errlen))
		return -1;
	return flush_batch(x, err, errlen);
}

/* The dirty set: the guest's writes and the DMA log, harvested and added
 * to the pages still to send; *count gets the number of those. */
static int harvest(struct sender *x, uint64_t *count, char *err, size_t errlen)
{
	if (mig_dirty_harvest(&x->dirty, x->want, err, errlen))
		return -1;
	uint64_t n = 0;
	for (uint64_t w = 0; w < x->words; w++) {
		x->want[w] |= __atomic_exchange_n(&x->dma_bits[w], 0, __ATOMIC_ACQ_REL);
		n += (uint64_t)__builtin_popcountll(x->want[w]);
	}
	*count = n;
	return 0;
}

static int send_wanted(struct sender *x, char *err, size_t errlen)
{
	for (uint64_t w = 0; w < x->words; w++) {
		for (uint64_t bits = x->want[w]; bits; bits &= bits - 1)
			if (add_page(x, w * 64 + (uint64_t)__builtin_ctzll(bits), true, err, errlen))
				return -1;
		x->want[w] = 0;
	}
	return flush_batch(x, err, errlen);
}

/* The memory file's holes at the switch-over (pages the guest freed since
 * they were sent): whole pages, in order, in as few records as fit. */
static int send_holes(struct sender *x, char *err, size_t errlen)
{
	struct mig_hole *r = (struct mig_hole *)(x->batch + sizeof(struct mig_holes_head));
	uint32_t n = 0;
	uint64_t at = 0, size = x->j->mem_size;
	while (at < size) {
		off_t hole = lseek(x->j->mem_fd, (off_t)at, SEEK_HOLE);
		if (hole < 0)
			FAIL("cannot look for holes in the guest's memory: %s", strerror(errno));
		if ((uint64_t)hole >= size)
			break;
		off_t data = lseek(x->j->mem_fd, hole, SEEK_DATA);
		uint64_t end = data < 0 || (uint64_t)data > size ? size : (uint64_t)data;
		uint64_t first = ((uint64_t)hole + MIG_PAGE_SIZE - 1) / MIG_PAGE_SIZE, last = end / MIG_PAGE_SIZE;
		if (last > first)
			r[n++] = (struct mig_hole){.page = first, .pages = last - first};
		if (n == MIG_HOLES_PER_RECORD || (n && end >= size)) {
			struct mig_holes_head h = {.count = n};
			if (mig_send(x->s, MIG_HOLES, &h, sizeof(h), r, n * sizeof(*r), false, err, errlen))
				return -1;
			n = 0;
		}
		at = end > (uint64_t)hole ? end : size;
	}
	if (n) {
		struct mig_holes_head h = {.count = n};
		return mig_send(x->s, MIG_HOLES, &h, sizeof(h), r, n * sizeof(*r), false, err, errlen);
	}
	return 0;
}

/* ---- set-up and undo ----------------------------------------------------- */

static int map_memory(struct sender *x, char *err, size_t errlen)
{
	struct mig_job *j = x->j;
	x->pages = j->mem_size / MIG_PAGE_SIZE;
	x->words = (x->pages + 63) / 64;
	x->mem = mmap(NULL, j->mem_size, PROT_READ, MAP_SHARED | MAP_NORESERVE, j->mem_fd, 0);
	x->want = calloc(x->words, 8);
	x->dma_bits = calloc(x->words, 8);
	/* the largest record: a full PAGES or HOLES one */
	x->batch = malloc(MIG_PAYLOAD_MAX);
	x->batch_len = sizeof(struct mig_pages_head);
	if (x->mem == MAP_FAILED) {
		x->mem = NULL;
		FAIL("cannot map the guest's memory: %s", strerror(errno));
	}
	if (!x->want || !x->dma_bits || !x->batch)
		FAIL("out of memory");
	return 0;
}

/* Both logs on: the guest's memory protected (the start of tracking),
 * the NIC's DMA into it logged.  Before round 0 reads anything. */
static int start_logs(struct sender *x, char *err, size_t errlen)
{
	struct mig_job *j = x->j;
	if (mig_dirty_start(&x->dirty, j->pid, j->pidfd, j->mem_size, err, errlen))
		return -1;
	if (nic_dirty_log_start(j->nic, j->window, x->dma_bits, x->pages, err, errlen))
		return -1;
	x->dma_on = true;
	return 0;
}

static int request(struct sender *x, uint32_t type, char *err, size_t errlen)
{
	int64_t r;
	if (mig_guest_call(&x->gp, type, -1, PAUSE_MS, &r, err, errlen))
		return -1;
	if (r < 0)
		FAIL("the guest process could not %s: %s", type == LINK_MIG_PAUSE ? "pause" : "resume", mig_guest_error(r));
	x->paused = type == LINK_MIG_PAUSE;
	return 0;
}

/* Quiesces the queues and parks the paravirt backend: 0, or -1 with a
 * reason when the backend would not stop (it would go on writing guest
 * memory). */
static int quiesce(struct sender *x, char *err, size_t errlen)
{
	struct mig_job *j = x->j;
	x->quiesced = true;
	for (unsigned i = 0; i < j->nqueues; i++)
		if (nic_queue_quiesce(j->nic, j->queue[i], QUIESCE_NS))
			log_warning("%s: queue %u did not finish sending within %u ms; its last frames may be lost",
			            j->what, j->queue[i], QUIESCE_NS / 1000000u);
	if (!j->vhost)
		return 0;
	if (vhost_park(j->vhost, PARK_NS))
		FAIL("the paravirt backend did not stop within %u ms", PARK_NS / 1000000u);
	x->parked = true;
	if (vhost_export(j->vhost, &x->vring))
		FAIL("internal error: the parked paravirt backend has no state to export");
	return 0;
}

static uint64_t frames_lost(struct sender *x)
{
	uint64_t n = 0;
	for (unsigned i = 0; x->quiesced && i < x->j->nqueues; i++)
		n += nic_queue_quiesced_frames(x->j->nic, x->j->queue[i]);
	return n + (x->parked ? vhost_stranded_frames(x->j->vhost) : 0);
}

static void stop_dma_log(struct sender *x)
{
	if (x->dma_on)
		nic_dirty_log_stop(x->j->nic, x->j->window);
	x->dma_on = false;
}

/* Everything back as it was: the guest never noticed. */
static void undo(struct sender *x)
{
	struct mig_job *j = x->j;
	stop_dma_log(x);
	mig_dirty_close(&x->dirty);
	if (x->quiesced)
		for (unsigned i = 0; i < j->nqueues; i++)
			nic_queue_unquiesce(j->nic, j->queue[i]);
	x->quiesced = false;
	if (x->parked)
		vhost_unpark(j->vhost);
	x->parked = false;
	char e[256];
	if (x->paused && request(x, LINK_MIG_RESUME, e, sizeof(e)))
		log_error("%s: the guest could not be resumed: %s", j->what, e);
}

static void release(struct sender *x)
{
	stop_dma_log(x);
	mig_dirty_close(&x->dirty);
	if (x->mem)
		munmap(x->mem, x->j->mem_size);
	free(x->dma_bits);
	free(x->want);
	free(x->batch);
	mig_close(x->s);
}

/* ---- the records ----------------------------------------------------------- */

static int send_hello(struct sender *x, uint64_t resident, char *err, size_t errlen)
{
	const struct guest_config *c = &x->j->cfg;
	static const char *const io[] = {"opsub", "passthrough", "paravirt", "emulated"};
	char mac[18], mem[32];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1], c->mac[2], c->mac[3],
	         c->mac[4], c->mac[5]);
	snprintf(mem, sizeof(mem), "%lluK", (unsigned long long)(c->mem >> 10));
	json_t *args = json_array();
	for (unsigned i = 1; c->argv[i]; i++)
		json_array_append_new(args, json_string(c->argv[i]));
	json_t *queues = c->queues ? json_integer(c->queues) : json_string("auto");
	json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:I, s:I, s:i, s:s, s:b, s:b}", "name", c->name,
	                      "program", c->argv[0], "args", args, "mem", mem, "mac", mac, "queues", queues,
	                      "rate", (json_int_t)c->rate_bps, "pps", (json_int_t)c->rate_pps, "weight",
	                      (int)c->weight, "io", io[c->io], "promiscuous", c->promiscuous, "stats", c->stats);
	/* its CPU share and cap go with it (cpu_limit.h); the default weight
	 * is sent as such */
	if (o && c->cpu_weight)
		json_object_set_new(o, "cpu_weight", json_integer(c->cpu_weight));
	if (o && c->cpu_max > 0)
		json_object_set_new(o, "cpu_max", json_real(c->cpu_max));
	/* its write budget goes with it; "root" and "volumes" are this host's
	 * paths and do not (config_guest_from_stream refuses them) */
	if (o && c->tmp_size) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)c->tmp_size);   /* bytes */
		json_object_set_new(o, "tmp_size", json_string(tmp));
	}
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		FAIL("cannot describe the guest's config (not UTF-8?)");
	struct mig_hello h = {.version = MIG_VERSION, .config_len = (uint32_t)strlen(text), .mem_size = x->j->mem_size,
	                      .resident_pages = resident, .cpu_optional = x->j->cpu_rows};
	int rc = mig_send(x->s, MIG_HELLO, &h, sizeof(h), text, strlen(text), false, err, errlen);
	free(text);
	return rc;
}

/* SAVE, then STATE with the backend's indices. */
static int send_state(struct sender *x, char *err, size_t errlen)
{
	size_t len;
	uint8_t *state = mig_guest_save(&x->gp, x->j->mem_size, x->j->cfg.io, &len, err, errlen);
	if (!state)
		return -1;
	struct mig_state_head h = {.state_len = (uint32_t)len, .has_vring = x->parked, .vring = x->vring};
	int rc = mig_send(x->s, MIG_STATE, &h, sizeof(h), state, len, false, err, errlen);
	free(state);
	return rc;
}

static int send_end(struct sender *x, uint64_t rounds, uint64_t pause_ns, char *err, size_t errlen)
{
	struct mig_end e = {.data_pages = x->data_pages, .zero_pages = x->zero_pages, .rounds = rounds,
	                    .source_downtime_ns = mig_now_ns() - pause_ns, .frames_lost = frames_lost(x)};
	return mig_send(x->s, MIG_END, &e, sizeof(e), NULL, 0, true, err, errlen);
}

/* ---- migration ------------------------------------------------------------ */

/* The destination's words, printable and short. */
static void text_of(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t n = len < outlen - 1 ? len : outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[n] = 0;
}

/* HELLO and the destination's answer; *rtt_ns the time it took. */
static int greet(struct sender *x, uint64_t *rtt_ns, char *err, size_t errlen)
{
	uint64_t t = mig_now_ns();
	if (send_hello(x, resident_pages(x), err, errlen))
		return -1;
	uint8_t type;
	const uint8_t *p;
	size_t len;
	bool final;
	if (mig_recv(x->s, &type, &p, &len, &final, REPLY_MS, err, errlen))
		return -1;
	*rtt_ns = mig_now_ns() - t;
	char why[400];
	text_of(p, len, why, sizeof(why));
	if (type == MIG_REFUSE)
		FAIL("the destination refused the guest: %s", why);
	if (type != MIG_READY || final)
		FAIL("the destination answered HELLO with record %u, not READY", type);
	return 0;
}

/* Pre-copy rounds until the rest is small; the number of rounds. */
static int precopy(struct sender *x, uint64_t *rounds_out, char *err, size_t errlen)
{
	struct mig_job *j = x->j;
	uint64_t t0 = mig_now_ns(), bytes0 = mig_bytes_sent(x->s);
	if (send_resident(x, err, errlen))
		return -1;
	double took = (double)(mig_now_ns() - t0) / 1e9;
	double rate = (double)(mig_bytes_sent(x->s) - bytes0) / (took > 1e-6 ? took : 1e-6);
	rate = rate > 1e6 ? rate : 1e6;   /* a memory with next to nothing in it says little of the link */
	mig_progress(j, true, "round 0: %llu pages with data in %.1f ms, %.0f MB/s", (unsigned long long)x->data_pages,
	             took * 1e3, rate / 1e6);
	uint64_t rounds = 1, previous = UINT64_MAX, dirty;
	for (;;) {
		if (harvest(x, &dirty, err, errlen))
			return -1;
		double eta_ns = (double)dirty * (MIG_PAGE_SIZE + sizeof(struct mig_page_entry)) / rate * 1e9;
		if (eta_ns < MIG_DOWNTIME_TARGET_NS || rounds >= MIG_MAX_ROUNDS || dirty >= previous)
			break;
		t0 = mig_now_ns();
		bytes0 = mig_bytes_sent(x->s);
		if (send_wanted(x, err, errlen))
			return -1;
		took = (double)(mig_now_ns() - t0) / 1e9;
		if (took > 1e-6 && dirty > 16 && mig_bytes_sent(x->s) > bytes0)
			rate = (double)(mig_bytes_sent(x->s) - bytes0) / took;
		mig_progress(j, true, "round %llu: %llu pages written meanwhile, sent in %.1f ms, %.0f MB/s",
		             (unsigned long long)rounds, (unsigned long long)dirty, took * 1e3, rate / 1e6);
		previous = dirty;
		rounds++;
	}
	*rounds_out = rounds;
	return 0;
}

static int migrate(struct sender *x, char *err, size_t errlen)
{
	struct mig_job *j = x->j;
	mig_progress(j, false, "connecting to %s", j->target);
	x->s = mig_connect(j->target, j->d->cfg.mig_key, j->abort_fd, CONNECT_MS, err, errlen);
	uint64_t rtt, rounds;
	if (!x->s || greet(x, &rtt, err, errlen) || start_logs(x, err, errlen) || precopy(x, &rounds, err, errlen))
		return -1;
	/* switch-over: the pages of the last harvest go with the rest */
	uint64_t t_pause = mig_now_ns(), dirty;
	if (request(x, LINK_MIG_PAUSE, err, errlen) || quiesce(x, err, errlen))
		return -1;
	if (harvest(x, &dirty, err, errlen) || send_wanted(x, err, errlen) || send_holes(x, err, errlen) ||
	    send_state(x, err, errlen) || send_end(x, rounds, t_pause, err, errlen))
		return -1;
	uint64_t t_end = mig_now_ns();
	uint8_t type;
	const uint8_t *p;
	size_t len;
	bool final;
	if (mig_recv(x->s, &type, &p, &len, &final, RESUMED_MS, err, errlen))
		return -1;
	char why[400];
	text_of(p, len, why, sizeof(why));
	if (type == MIG_FAILED)
		FAIL("the destination could not start the guest: %s", why);
	struct mig_resumed r;
	if (type != MIG_RESUMED || len != sizeof(r))
		FAIL("the destination answered END with record %u, not RESUMED", type);
	memcpy(&r, p, sizeof(r));
	/* the destination's own figures, bounded: a minute is not a downtime */
	uint64_t dest_ns = r.dest_downtime_ns < 60000000000ull ? r.dest_downtime_ns : 60000000000ull;
	j->downtime_ms = ((double)(t_end - t_pause) + (double)dest_ns + (double)rtt / 2) / 1e6;
	j->frames_lost = frames_lost(x) + (r.frames_lost < (1ull << 40) ? r.frames_lost : 0);
	j->rounds = rounds;
	j->free_source = true;
	mig_progress(j, true, "switch-over: %llu last pages, downtime %.2f ms (source %.2f, destination %.2f, "
	             "half round trip %.2f), %llu frames lost", (unsigned long long)dirty, j->downtime_ms,
	             (double)(t_end - t_pause) / 1e6, (double)dest_ns / 1e6, (double)rtt / 2e6,
	             (unsigned long long)j->frames_lost);
	return 0;
}

/* ---- snapshot --------------------------------------------------------------- */

static int snapshot(struct sender *x, char *err, size_t errlen)
{
	struct mig_job *j = x->j;
	x->s = mig_file_writer(j->out_fd, j->d->cfg.mig_key, err, errlen);
	j->out_fd = -1;
	if (!x->s)
		return -1;
	uint64_t t_pause = mig_now_ns();
	if (request(x, LINK_MIG_PAUSE, err, errlen) || quiesce(x, err, errlen))
		return -1;
	if (send_hello(x, resident_pages(x), err, errlen) || send_resident(x, err, errlen) ||
	    send_state(x, err, errlen) || send_end(x, 1, t_pause, err, errlen))
		return -1;
	if (mig_sync(x->s))
		FAIL("cannot write the snapshot file to the disk: %s", strerror(errno));
	j->rounds = 1;
	j->frames_lost = frames_lost(x);
	j->downtime_ms = (double)(mig_now_ns() - t_pause) / 1e6;
	return 0;
}

void *mig_send_thread(void *arg)
{
	struct mig_job *j = arg;
	struct sender x = {.j = j, .gp = {.link_sock = j->link_sock, .pidfd = j->pidfd, .abort_fd = j->abort_fd},
	                   .dirty = {.pagemap_fd = -1}};
	char err[512] = "";
	int rc = map_memory(&x, err, sizeof(err));
	if (!rc)
		rc = j->kind == JOB_SEND ? migrate(&x, err, sizeof(err)) : snapshot(&x, err, sizeof(err));
	if (rc) {
		snprintf(j->error, sizeof(j->error), "%s", err);
		undo(&x);
		if (j->kind == JOB_SNAPSHOT)
			unlink(j->target);     /* no half snapshot is left to restore */
	} else if (j->kind == JOB_SNAPSHOT && j->stop_after)
		j->stop_source = true;     /* stays paused; the main loop removes it */
	else if (j->kind == JOB_SNAPSHOT)
		undo(&x);                  /* written: the guest goes on */
	/* a guest that left stays paused until the main loop frees it */
	j->ok = rc == 0;
	j->bytes = x.s ? mig_bytes_sent(x.s) : 0;
	j->data_pages = x.data_pages;
	j->zero_pages = x.zero_pages;
	release(&x);
	j->total_ms = (double)(mig_now_ns() - j->started_ns) / 1e6;
	mig_finished(j);
	return NULL;
}
