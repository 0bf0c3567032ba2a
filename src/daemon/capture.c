/* Capture of one guest's frames to a pcap file (capture.h). */
#include "daemon/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "util/json_keys.h"

/* Frames the ring holds: at a 5 ms nap of the writer and 64-byte frames,
 * ~1.6 Mpps without loss; the writer naps less while frames come. */
#define CAPTURE_SLOTS    8192u
#define NAP_IDLE_NS      5000000u
#define NAP_BUSY_NS      200000u
#define FLUSH_EVERY_NS   200000000u
#define CAPTURE_MAX_SECONDS (366.0 * 24 * 3600)

struct capture {
	char guest[GUEST_NAME_MAX];
	char *path;
	unsigned slot;
	struct nic_mirror *mirror;
	uint16_t queue[LINK_MAX_QUEUES];   /* the queues mirrored */
	unsigned nqueues;
	uint64_t end_ns;                   /* 0: until stopped */
	pcap_t *dead;
	pcap_dumper_t *dumper;
	pthread_t thread;
	int stop;                          /* atomic: main loop -> writer */
	uint64_t written;                  /* atomic: writer */
	int write_errno;                   /* atomic: writer, the first failure */
};

/* By guest slot. The daemon is one per process, and these are touched by
 * its main loop only (the writers have their own struct capture). */
static struct capture *active[DAEMON_MAX_GUESTS];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nap(uint64_t ns)
{
	struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	nanosleep(&t, NULL);
}

/* Writes every frame the ring holds; how many. */
static unsigned drain(struct capture *c)
{
	const struct nic_mirror_frame *f;
	unsigned n = 0;
	while ((f = nic_mirror_peek(c->mirror))) {
		struct pcap_pkthdr hdr = {
			.ts = {(time_t)(f->realtime_ns / 1000000000u), (suseconds_t)(f->realtime_ns % 1000000000u / 1000)},
			.caplen = f->len,
			.len = f->len,
		};
		pcap_dump((u_char *)c->dumper, &hdr, f->data);
		nic_mirror_next(c->mirror);
		n++;
	}
	__atomic_add_fetch(&c->written, n, __ATOMIC_RELAXED);
	return n;
}

static void flush(struct capture *c)
{
	if (pcap_dump_flush(c->dumper) != 0 && !__atomic_load_n(&c->write_errno, __ATOMIC_RELAXED))
		__atomic_store_n(&c->write_errno, errno ? errno : EIO, __ATOMIC_RELAXED);
}

/* The writer: drains the ring into the file until told to stop, then
 * drains what is left (the mirror is detached by then). */
static void *writer(void *arg)
{
	struct capture *c = arg;
	uint64_t last_flush = now_ns();
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		unsigned n = drain(c);
		uint64_t now = now_ns();
		if (now - last_flush >= FLUSH_EVERY_NS) {
			flush(c);
			last_flush = now;
		}
		nap(n ? NAP_BUSY_NS : NAP_IDLE_NS);
	}
	drain(c);
	flush(c);
	return NULL;
}

static bool in_list(const uint16_t *list, unsigned n, unsigned q)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == q)
			return true;
	return false;
}

/* The guest's queues a capture follows: those on the device of its
 * receiving queue (a mirror has one producer, the DMA engine of one
 * device; while the guest moves between the pool and a dedicated queue,
 * the capture follows the new one). */
static unsigned followed(const struct daemon *d, const struct guest *g, uint16_t *out)
{
	unsigned n = 0, ng = g && g->state == GUEST_RUNNING ? g->nqueues : 0;
	for (unsigned i = 0; i < ng; i++)
		if (queue_pooled(d, g->queue[i]) == queue_pooled(d, g->queue[0]))
			out[n++] = g->queue[i];
	return n;
}

/* Mirrors exactly the queues followed now (none once the guest has ended);
 * those it leaves first, so no two engines ever feed the mirror at once. */
static void follow_queues(struct daemon *d, struct capture *c, const struct guest *g)
{
	uint16_t want[LINK_MAX_QUEUES];
	unsigned nwant = followed(d, g, want);
	for (unsigned i = 0; i < c->nqueues;) {
		if (in_list(want, nwant, c->queue[i])) {
			i++;
			continue;
		}
		/* gone (a reset has detached it already) or going: only ours */
		struct qref r = queue_ref(d, c->queue[i]);
		nic_queue_unset_mirror(r.nic, r.q, c->mirror);
		c->queue[i] = c->queue[--c->nqueues];
	}
	for (unsigned i = 0; i < nwant; i++) {
		if (in_list(c->queue, c->nqueues, want[i]))
			continue;
		struct qref r = queue_ref(d, want[i]);
		if (nic_queue_set_mirror(r.nic, r.q, c->mirror, NULL, 0) == 0)
			c->queue[c->nqueues++] = want[i];
	}
}

/* Ends a capture: the NIC stops copying, the writer finishes the file. */
static struct capture_figures finish(struct daemon *d, struct capture *c, const char *why)
{
	follow_queues(d, c, NULL);
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	pthread_join(c->thread, NULL);
	pcap_dump_close(c->dumper);
	pcap_close(c->dead);
	uint64_t dropped = nic_mirror_dropped(c->mirror);
	int e = c->write_errno;
	if (e)
		log_warning("capture of guest '%s' to %s ended (%s): writing the file failed: %s; %llu frames written",
		            c->guest, c->path, why, strerror(e), (unsigned long long)c->written);
	else
		log_event("capture of guest '%s' to %s ended (%s): %llu frames written, %llu dropped (the capture "
		          "could not keep up)", c->guest, c->path, why, (unsigned long long)c->written,
		          (unsigned long long)dropped);
	struct capture_figures fig = {c->written, dropped};
	nic_mirror_destroy(c->mirror);
	active[c->slot] = NULL;
	free(c->path);
	free(c);
	return fig;
}

/* Opens the file (new, never an existing one) for pcap_dump. */
static pcap_dumper_t *open_file(struct capture *c, char *err, size_t errlen)
{
	int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "capture: cannot create %s: %s%s", c->path, strerror(errno),
		         errno == EEXIST ? " (the daemon never overwrites a file: remove it or name another)" : "");
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	c->dead = pcap_open_dead(DLT_EN10MB, NIC_MAX_FRAME);
	pcap_dumper_t *p = f && c->dead ? pcap_dump_fopen(c->dead, f) : NULL;
	if (!p) {
		snprintf(err, errlen, "capture: cannot write %s: %s", c->path,
		         c->dead ? pcap_geterr(c->dead) : "out of memory");
		if (f)
			fclose(f);
		else
			close(fd);
		unlink(c->path);
		if (c->dead)
			pcap_close(c->dead);
		c->dead = NULL;
	}
	return p;
}

static json_t *start(struct daemon *d, struct guest *g, const char *path, double seconds)
{
	if (active[g->slot])
		return control_error("guest '%s' is being captured already (to %s); stop that first: {\"cmd\":\"capture\","
		             "\"guest\":\"%s\",\"stop\":true}", g->cfg.name, active[g->slot]->path, g->cfg.name);
	struct capture *c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path)) || !(c->mirror = nic_mirror_create(CAPTURE_SLOTS))) {
		if (c)
			free(c->path);
		free(c);
		return control_error("capture: out of memory");
	}
	snprintf(c->guest, sizeof(c->guest), "%s", g->cfg.name);
	c->slot = g->slot;
	c->end_ns = seconds > 0 ? now_ns() + (uint64_t)(seconds * 1e9) : 0;
	char err[512];
	if (!(c->dumper = open_file(c, err, sizeof(err))) || pthread_create(&c->thread, NULL, writer, c)) {
		if (c->dumper) {
			snprintf(err, sizeof(err), "capture: cannot start its thread");
			pcap_dump_close(c->dumper);
			pcap_close(c->dead);
			unlink(c->path);
		}
		nic_mirror_destroy(c->mirror);
		free(c->path);
		free(c);
		return control_error("%s", err);
	}
	active[g->slot] = c;
	follow_queues(d, c, g);
	if (seconds > 0)
		log_event("capture of guest '%s' to %s started, for %g s", c->guest, c->path, seconds);
	else
		log_event("capture of guest '%s' to %s started", c->guest, c->path);
	return json_pack("{s:b, s:s}", "ok", 1, "file", c->path);
}

json_t *capture_request(struct daemon *d, json_t *req)
{
	static const char *const keys[] = {"cmd", "guest", "file", "seconds", "stop", NULL};
	const char *unknown = json_unknown_key(req, keys);
	if (unknown)
		return control_error("capture: unknown field '%s' (use guest, file, seconds, stop)", unknown);
	const char *name = json_string_value(json_object_get(req, "guest"));
	if (!name)
		return control_error("capture needs \"guest\"");
	struct guest *g = guest_find(d, name);
	json_t *stop = json_object_get(req, "stop");
	if (stop && !json_is_boolean(stop))
		return control_error("capture: \"stop\" must be true or false");
	if (json_is_true(stop)) {
		struct capture *c = g ? active[g->slot] : NULL;
		if (!c)
			return control_error("guest '%s' is not being captured", name);
		char *path = strdup(c->path);
		struct capture_figures fig = finish(d, c, "stopped by request");
		json_t *r = json_pack("{s:b, s:s, s:I, s:I}", "ok", 1, "file", path ? path : "", "frames",
		                      (json_int_t)fig.written, "dropped", (json_int_t)fig.dropped);
		free(path);
		return r;
	}
	if (!g || g->state != GUEST_RUNNING)
		return control_error("no running guest named '%s'", name);
	const char *path = json_string_value(json_object_get(req, "file"));
	if (!path || path[0] != '/')
		return control_error("capture needs \"file\": an absolute path for the new pcap file");
	json_t *s = json_object_get(req, "seconds");
	if (s && (!json_is_number(s) || !(json_number_value(s) > 0) || json_number_value(s) > CAPTURE_MAX_SECONDS))
		return control_error("capture: \"seconds\" must be a number above 0 (at most a year)");
	return start(d, g, path, s ? json_number_value(s) : 0);
}

void capture_poll(struct daemon *d)
{
	uint64_t now = 0;
	for (unsigned s = 0; s < d->nslots; s++) {   /* no slot above has been used */
		struct capture *c = active[s];
		if (!c)
			continue;
		struct guest *g = d->guest[s];
		bool same = g->state == GUEST_RUNNING && !strcmp(g->cfg.name, c->guest);
		if (!now)
			now = now_ns();
		if (!same)
			finish(d, c, "the guest ended");
		else if (c->end_ns && now >= c->end_ns)
			finish(d, c, "its time was up");
		else
			follow_queues(d, c, g);
	}
}

void capture_stop_all(struct daemon *d)
{
	for (unsigned s = 0; s < d->nslots; s++)
		if (active[s])
			finish(d, active[s], "the daemon stopped");
}

bool capture_figures(const struct daemon *d, unsigned slot, struct capture_figures *out)
{
	(void)d;
	const struct capture *c = slot < DAEMON_MAX_GUESTS ? active[slot] : NULL;
	if (!c)
		return false;
	out->written = __atomic_load_n(&c->written, __ATOMIC_RELAXED);
	out->dropped = nic_mirror_dropped(c->mirror);
	return true;
}
