/* Guest lifecycle in the daemon: start, change, reap and reclaim. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/migrate.h"

/* The descriptor of the report channel in a guest process (guest_output.h),
 * after 0-2 (the guest's) and 3 (the link socket). */
#define REPORT_FD 4

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned mem_window(const struct guest *g) { return 1 + 2 * g->slot; }
static unsigned ring_window(const struct guest *g) { return 2 + 2 * g->slot; }

struct guest *guest_find(struct daemon *d, const char *name)
{
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++)
		if (d->guest[i].state != GUEST_FREE && !strcmp(d->guest[i].cfg.name, name))
			return &d->guest[i];
	return NULL;
}

unsigned guests_running(const struct daemon *d)
{
	unsigned n = 0;
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++)
		n += d->guest[i].state == GUEST_RUNNING;
	return n;
}

/* A free queue, reset (so it has a page no one else holds). A queue whose
 * reset fails stays out of the pool for good: its old owner may still hold
 * its page. */
static int take_queue(struct daemon *d)
{
	for (unsigned q = 0; q < nic_num_queues(d->nic); q++) {
		if (d->queue_used[q])
			continue;
		d->queue_used[q] = true;
		char err[160];
		if (nic_queue_reset(d->nic, q, err, sizeof(err)) == 0)
			return (int)q;
		log_error("%s; queue %u is withdrawn", err, q);
	}
	return -1;
}

/* The NIC forgets everything of the queue and it goes back to the pool. */
static void release_queue(struct daemon *d, struct guest *g, unsigned q)
{
	struct nic_queue_stats_regs s;
	nic_queue_stats(d->nic, q, &s);
	g->retired.tx_packets += s.tx_packets;
	g->retired.tx_bytes += s.tx_bytes;
	g->retired.rx_packets += s.rx_packets;
	g->retired.rx_bytes += s.rx_bytes;
	g->retired.rx_dropped += s.rx_dropped;
	nic_queue_set_admin(d->nic, q, false, NULL, 0);
	char err[160];
	/* the reset gives the queue a new page: the guest process may keep
	 * the old one, which no longer reaches the NIC */
	if (nic_queue_reset(d->nic, q, err, sizeof(err)) == 0)
		d->queue_used[q] = false;
	else
		log_error("%s; queue %u is withdrawn", err, q);
}

/* Share i of n of a limit: the parts add up to it, and no part of a real
 * limit is 0, which would mean no limit (so below n, each gets 1). */
static uint64_t share(uint64_t limit, unsigned i, unsigned n)
{
	uint64_t part = limit / n + (i < limit % n);
	return limit && !part ? 1 : part;
}

/* The guest's TX limit is shared evenly by its queues. */
static void apply_sched(struct daemon *d, struct guest *g)
{
	for (unsigned i = 0; i < g->nqueues; i++) {
		struct nic_rate r = {.bps = share(g->cfg.rate_bps, i, g->nqueues),
		                     .pps = share(g->cfg.rate_pps, i, g->nqueues)};
		nic_queue_set_rate(d->nic, g->queue[i], &r, NULL, 0);
		nic_queue_set_weight(d->nic, g->queue[i], g->cfg.weight, NULL, 0);
	}
}

/* What the guest process gets of queue q: its interrupt eventfd and its
 * queue page, nothing else of the NIC.  Sent before the generation that
 * names q is published. */
static void send_queue(struct daemon *d, struct guest *g, unsigned q)
{
	struct link_msg msg = {.type = LINK_QUEUE, .queue = q};
	int page = nic_queue_page_fd(d->nic, q), read_only = -1;
	if (g->cfg.io == OPSUB_IO_PARAVIRT) {
		/* the backend drives the queue: the guest process only reads its
		 * counters, through a descriptor that cannot map it writable */
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", page);
		page = read_only = open(path, O_RDONLY | O_CLOEXEC);
	}
	int fds[LINK_QUEUE_FDS] = {nic_queue_irq_fd(d->nic, q), page, nic_queue_doorbell_fd(d->nic, q)};
	if (page >= 0)
		link_send(g->link_sock, &msg, fds, LINK_QUEUE_FDS);
	if (read_only >= 0)
		close(read_only);
}

/* Whether the guest's trusted driver writes NIC rings in the ring area
 * itself; in the other modes the guest process is not given it. */
static bool drives_ring_area(const struct guest_config *c)
{
	return c->io == OPSUB_IO_OPSUB || c->io == OPSUB_IO_EMULATED;
}

/* Publishes the guest's queue set in its link page. */
static void publish(struct guest *g)
{
	link_publish(g->page, &g->generation, g->nqueues, g->queue);
}

/* Writes a decimal number into out (async-signal-safe); its length. */
static size_t decimal(char *out, unsigned v)
{
	char digits[12];
	size_t n = 0, len = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		out[len++] = digits[--n];
	return len;
}

/* Forks and execs `opsub guest-proc` with its stdout, stderr and report
 * channel from child[] (-1: the daemon's) and the link socket as fd 3;
 * `restore`: with --restore instead of the program (its state comes by
 * LINK_MIG_STATE). */
static pid_t spawn(const struct guest_config *cfg, bool restore, int link_child, const int child[GUEST_STREAMS])
{
	char *argv[GUEST_MAX_ARGS + 10];
	int n = 0;
	argv[n++] = "opsub";
	argv[n++] = "guest-proc";
	if (child[GUEST_REPORT] >= 0) {
		argv[n++] = "--report-fd";
		argv[n++] = "4";
	}
	if (cfg->stats)
		argv[n++] = "--stats";
	if (cfg->trace_syscalls)
		argv[n++] = "--trace-syscalls";
	if (cfg->no_verify)
		argv[n++] = "--no-verify";
	if (restore)
		argv[n++] = "--restore";
	else {
		argv[n++] = "--";
		for (int i = 0; cfg->argv[i]; i++)
			argv[n++] = cfg->argv[i];
	}
	argv[n] = NULL;
	/* made now: after the fork only async-signal-safe calls (the daemon
	 * has threads) */
	char failed[128];
	size_t failed_len = (size_t)snprintf(failed, sizeof(failed) - 16,
	                                     "opsub: cannot start the guest process: exec of /proc/self/exe failed, errno ");
	pid_t daemon_pid = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* The guest process dies with the daemon, even killed with SIGKILL.
	 * If the daemon died before this line, the process has been given to
	 * another parent already and no death signal will come: stop now. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon_pid)
		_exit(127);
	/* A process group of its own: Ctrl-C on the daemon's terminal is for
	 * the daemon, which stops its guests itself.  (Not a session of its
	 * own: with scheduler autogroups that would give each guest a CPU
	 * share of its own, away from the paravirt backends.)  Out of the
	 * foreground, a read of the daemon's terminal fails (EIO) instead of
	 * stopping the process.  Not for a guest that shares the terminal as
	 * the foreground program (run --net). */
	if (!cfg->share_stdio) {
		setpgid(0, 0);
		signal(SIGTTIN, SIG_IGN);
	}
	/* Each source first to a number above every target, so that no dup2
	 * overwrites a source that is still to be moved. */
	int from[4] = {child[GUEST_STDOUT], child[GUEST_STDERR], link_child, child[GUEST_REPORT]};
	const int to[4] = {1, 2, 3, REPORT_FD};
	for (int i = 0; i < 4; i++)
		if (from[i] >= 0)
			from[i] = fcntl(from[i], F_DUPFD, 16);
	for (int i = 0; i < 4; i++)
		if (from[i] >= 0)
			dup2(from[i], to[i]);
	close_range(child[GUEST_REPORT] >= 0 ? REPORT_FD + 1 : REPORT_FD, ~0u, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execv("/proc/self/exe", argv);
	failed_len += decimal(failed + failed_len, (unsigned)errno);
	failed[failed_len++] = '\n';
	if (write(child[GUEST_REPORT] >= 0 ? REPORT_FD : 2, failed, failed_len) < 0) {
		/* nowhere to say it: the exit status 127 tells */
	}
	_exit(127);
}

/* Undoes what guest_start did, in reverse; safe on a partly started guest. */
static void teardown(struct daemon *d, struct guest *g)
{
	vhost_stop(g->vhost);   /* before its queue and windows go */
	g->vhost = NULL;
	for (unsigned i = 0; i < g->nqueues; i++)
		release_queue(d, g, g->queue[i]);
	for (unsigned i = 0; i < g->nretiring; i++)
		release_queue(d, g, g->retiring[i]);
	g->nqueues = g->nretiring = 0;
	if (g->filter >= 0)
		nic_filter_clear(d->nic, (unsigned)g->filter, NULL, 0);
	g->filter = -1;
	if (g->mem_map) {
		nic_window_unmap(d->nic, mem_window(g), NULL, 0);
		munmap(g->mem_map, g->cfg.mem);
	}
	if (g->ring_map) {
		nic_window_unmap(d->nic, ring_window(g), NULL, 0);
		munmap(g->ring_map, LINK_RING_AREA);
	}
	if (g->page)
		munmap(g->page, 4096);
	g->mem_map = g->ring_map = NULL;
	g->page = NULL;
	int *fds[] = {&g->link_sock, &g->mem_fd, &g->ring_fd, &g->page_fd, &g->kick_fd, &g->call_fd};
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	guest_output_close(&g->output);
}

/* A memory file shared with the guest process, sealed against resizing:
 * a process that shrank one would make the daemon (the NIC's DMA, the
 * paravirt backend, the link page reader) fault on its mapping. */
static int memfd_of(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && (ftruncate(fd, (off_t)size) != 0 ||
	                fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A restored guest's memory: the file the migration filled (the daemon's
 * own, sealed as memfd_of seals), of the guest's size. */
static int restored_memory(int fd, uint64_t size)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	if (fstat(fd, &st) || (uint64_t)st.st_size != size || seals < 0 || (seals & want) != want)
		return -1;
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static int setup(struct daemon *d, struct guest *g, const struct guest_restore *r, char *err, size_t errlen)
{
	const struct guest_config *c = &g->cfg;
	g->mem_fd = r ? restored_memory(r->mem_fd, c->mem) : memfd_of("opsub-guest", c->mem);
	g->ring_fd = memfd_of("opsub-rings", LINK_RING_AREA);
	g->page_fd = memfd_of("opsub-link", 4096);
	if (g->mem_fd < 0 || g->ring_fd < 0 || g->page_fd < 0)
		FAIL("guest '%s': cannot create its memory: %s", c->name, strerror(errno));
	g->mem_map = mmap(NULL, c->mem, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, g->mem_fd, 0);
	if (g->mem_map == MAP_FAILED) {
		g->mem_map = NULL;
		FAIL("guest '%s': cannot map its memory: %s", c->name, strerror(errno));
	}
	if (nic_window_map(d->nic, mem_window(g), g->mem_map, c->mem, err, errlen))
		return -1;
	g->ring_map = mmap(NULL, LINK_RING_AREA, PROT_READ | PROT_WRITE, MAP_SHARED, g->ring_fd, 0);
	if (g->ring_map == MAP_FAILED) {
		g->ring_map = NULL;
		FAIL("guest '%s': cannot map its ring area", c->name);
	}
	if (nic_window_map(d->nic, ring_window(g), g->ring_map, LINK_RING_AREA, err, errlen))
		return -1;
	g->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g->page_fd, 0);
	if (g->page == MAP_FAILED) {
		g->page = NULL;
		FAIL("guest '%s': cannot map its link page", c->name);
	}
	for (unsigned i = 0; i < c->queues; i++) {
		int q = take_queue(d);
		if (q < 0)
			FAIL("guest '%s': the NIC has no free queue pair left (all %u are in use); give the NIC "
			     "more \"queues\" or this guest fewer", c->name, nic_num_queues(d->nic));
		g->queue[g->nqueues++] = (uint16_t)q;
		nic_queue_set_admin(d->nic, (unsigned)q, true, NULL, 0);
	}
	apply_sched(d, g);
	struct nic_filter f = {.vlan = NIC_VLAN_ANY, .queue = g->queue[0],
	                       .flags = NIC_FILTER_BROADCAST | (c->promiscuous ? NIC_FILTER_PROMISC : 0)};
	memcpy(f.mac, c->mac, 6);
	g->filter = nic_filter_add(d->nic, &f, err, errlen);
	if (g->filter < 0)
		return -1;
	struct link_page *p = g->page;
	p->mode = c->io;
	memcpy(p->mac, c->mac, 6);
	p->ring_size = d->cfg.ring_size;
	p->mem_window = mem_window(g);
	p->ring_window = ring_window(g);
	publish(g);
	return 0;
}

/* Paravirt: the notification eventfds, then the backend worker (going on
 * from a migrated guest's backend state `at`, NULL: from the start). */
static int start_backend(struct daemon *d, struct guest *g, const struct vhost_state *at, char *err, size_t errlen)
{
	g->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct link_msg msg = {.type = LINK_VIRTIO};
	int fds[2] = {g->kick_fd, g->call_fd};
	if (g->kick_fd < 0 || g->call_fd < 0 || link_send(g->link_sock, &msg, fds, 2))
		FAIL("guest '%s': cannot set up its paravirt notifications: %s", g->cfg.name, strerror(errno));
	g->vhost = vhost_start_at(d->nic, g, g->kick_fd, g->call_fd, d->cfg.ring_size, at, err, errlen);
	return g->vhost ? 0 : -1;
}

static const char *io_name(enum opsub_net_mode m)
{
	static const char *const names[] = {"opsub", "passthrough", "paravirt", "emulated"};
	return (unsigned)m < 4 ? names[m] : "?";
}

/* "0,1,4", or "none" */
static void format_queues(const uint16_t *q, unsigned n, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (unsigned i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%u", i ? "," : "", q[i]);
	if (!n)
		snprintf(out, len, "none");
}

/* 200000000 -> "200M", 0 -> "none" (the units of the config: powers of 1000) */
static void format_rate(uint64_t v, char out[24])
{
	static const struct { uint64_t scale; const char *unit; } units[] = {{1000000000, "G"}, {1000000, "M"}, {1000, "k"}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (v && v % units[i].scale == 0) {
			snprintf(out, 24, "%llu%s", (unsigned long long)(v / units[i].scale), units[i].unit);
			return;
		}
	snprintf(out, 24, v ? "%llu" : "none", (unsigned long long)v);
}

static void log_started(const struct guest *g)
{
	const struct guest_config *c = &g->cfg;
	char queues[LINK_MAX_QUEUES * 6 + 8], rate[24], pps[24];
	format_queues(g->queue, g->nqueues, queues, sizeof(queues));
	format_rate(c->rate_bps, rate);
	format_rate(c->rate_pps, pps);
	log_event("guest '%s' started: pid %d, io %s, queues %s, mac %02x:%02x:%02x:%02x:%02x:%02x, rate %s bit/s, "
	          "pps %s, weight %u, mem %lluM, program %s, output %s", c->name, (int)g->pid, io_name(c->io), queues,
	          c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5], rate, pps, c->weight,
	          (unsigned long long)(c->mem >> 20), c->argv[0], c->output ? c->output : c->share_stdio ? "shared" : "log");
}

/* Kills a guest process that did not get going, and undoes its set-up. */
static void abandon(struct daemon *d, struct guest *g)
{
	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
	}
	teardown(d, g);
	config_guest_free(&g->cfg);
	g->state = GUEST_FREE;
}

/* A restored guest's process gets its state after its boot messages;
 * the caller gets a duplicate of its link socket for the answer. */
static int send_state(struct guest *g, const struct guest_restore *r, int *link_out, char *err, size_t errlen)
{
	struct link_msg m = {.type = LINK_MIG_STATE};
	*link_out = fcntl(g->link_sock, F_DUPFD_CLOEXEC, 3);
	if (*link_out < 0 || link_send(g->link_sock, &m, &r->state_fd, 1)) {
		if (*link_out >= 0)
			close(*link_out);
		*link_out = -1;
		FAIL("guest '%s': cannot give its process the state: %s", g->cfg.name, strerror(errno));
	}
	return 0;
}

/* guest_start, and with r, guest_start_restored. */
static int start_guest(struct daemon *d, const struct guest_config *cfg, const struct guest_restore *r,
                       int *link_out, char *err, size_t errlen)
{
	/* the death signal of a guest process follows the thread that forked
	 * it: a thread that ends would take its guests with it */
	if (gettid() != getpid())
		FAIL("guest '%s': internal error: guests are started from the daemon's main thread only", cfg->name);
	if (guest_find(d, cfg->name))
		FAIL("a guest named '%s' exists already", cfg->name);
	if (migrate_reserved(d, cfg->name, cfg->mac))
		FAIL("guest '%s': its name or MAC is held for a guest arriving by migration; try again later",
		     cfg->name);
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++)
		if (d->guest[i].state == GUEST_RUNNING && !memcmp(d->guest[i].cfg.mac, cfg->mac, 6))
			FAIL("guest '%s' already has MAC %02x:%02x:%02x:%02x:%02x:%02x", d->guest[i].cfg.name,
			     cfg->mac[0], cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	struct guest *g = NULL;
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS && !g; i++)
		if (d->guest[i].state == GUEST_FREE)
			g = &d->guest[i];
	if (!g)
		FAIL("the daemon already runs %d guests", DAEMON_MAX_GUESTS);
	unsigned slot = (unsigned)(g - d->guest);
	int child[GUEST_STREAMS];
	memset(g, 0, sizeof(*g));
	g->slot = slot;
	g->filter = -1;
	g->link_sock = g->mem_fd = g->ring_fd = g->page_fd = g->kick_fd = g->call_fd = -1;
	/* first, so that teardown finds its descriptors set (or -1) */
	if (guest_output_open(&g->output, cfg->name, cfg->output, cfg->share_stdio, child, err, errlen))
		return -1;
	g->cfg = *cfg;
	for (unsigned i = 0; cfg->argv[i]; i++)
		g->cfg.argv[i] = strdup(cfg->argv[i]);
	g->cfg.output = cfg->output ? strdup(cfg->output) : NULL;
	int sv[2];
	if (setup(d, g, r, err, errlen) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		if (!err[0])
			snprintf(err, errlen, "guest '%s': cannot create its link socket", cfg->name);
		guest_output_close_child_ends(child);
		teardown(d, g);
		config_guest_free(&g->cfg);
		g->state = GUEST_FREE;
		return -1;
	}
	g->link_sock = sv[0];
	g->pid = spawn(&g->cfg, r != NULL, sv[1], child);
	close(sv[1]);
	guest_output_close_child_ends(child);
	/* the queues first: the generation the process boots into names them */
	for (unsigned i = 0; i < g->nqueues; i++)
		send_queue(d, g, g->queue[i]);
	struct link_msg boot = {.type = LINK_BOOT, .mem_size = cfg->mem};
	int fds[LINK_BOOT_FDS] = {g->mem_fd, g->page_fd, g->ring_fd};
	int nfds = drives_ring_area(cfg) ? 3 : 2;
	if (g->pid < 0 || link_send(g->link_sock, &boot, fds, nfds)) {
		snprintf(err, errlen, "guest '%s': cannot start its process: %s", cfg->name, strerror(errno));
		abandon(d, g);
		return -1;
	}
	/* a restored guest started ahead of its state (state_fd -1) gets its
	 * backend and state later: guest_give_state */
	bool waiting = r && r->state_fd < 0;
	const struct vhost_state *at = r && r->has_vring ? &r->vring : NULL;
	if ((cfg->io == OPSUB_IO_PARAVIRT && !waiting && start_backend(d, g, at, err, errlen)) ||
	    (r && !waiting && send_state(g, r, link_out, err, errlen))) {
		abandon(d, g);
		return -1;
	}
	g->state = GUEST_RUNNING;
	g->started_ns = g->last_ns = now_ns();
	log_started(g);
	return 0;
}

int guest_start(struct daemon *d, const struct guest_config *cfg, char *err, size_t errlen)
{
	return start_guest(d, cfg, NULL, NULL, err, errlen);
}

int guest_start_restored(struct daemon *d, const struct guest_config *cfg, const struct guest_restore *r,
                         int *link_out, char *err, size_t errlen)
{
	*link_out = -1;
	return start_guest(d, cfg, r, link_out, err, errlen);
}

int guest_give_state(struct daemon *d, const char *name, const struct guest_restore *r, int *link_out, char *err,
                     size_t errlen)
{
	*link_out = -1;
	struct guest *g = guest_find(d, name);
	if (!g || g->state != GUEST_RUNNING)
		FAIL("guest '%s' ended before its state came", name);
	const struct vhost_state *at = r->has_vring ? &r->vring : NULL;
	if (g->cfg.io == OPSUB_IO_PARAVIRT && start_backend(d, g, at, err, errlen))
		return -1;
	return send_state(g, r, link_out, err, errlen);
}

int guest_remove(struct daemon *d, const char *name, char *err, size_t errlen)
{
	struct guest *g = guest_find(d, name);
	if (!g)
		FAIL("no guest named '%s'", name);
	if (g->migrating)
		FAIL("guest '%s' is being migrated or snapshotted; wait for that to end", name);
	if (g->state == GUEST_RUNNING) {
		g->stopped_by_daemon = true;
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		guest_output_forward(&g->output, g->cfg.name, true);
		teardown(d, g);
		log_event("guest '%s' removed: its process (pid %d) killed after %.3f s", name, (int)g->pid,
		          (double)(now_ns() - g->started_ns) / 1e9);
	} else
		log_event("guest '%s' removed (it had ended: %s)", name, g->end_reason);
	config_guest_free(&g->cfg);
	g->state = GUEST_FREE;
	return 0;
}

/* What a change did to a guest, before -> after, as one log line. */
struct settings {
	uint64_t rate_bps, rate_pps;
	unsigned weight, nqueues;
	uint16_t queue[LINK_MAX_QUEUES];
};

static void settings_of(const struct guest *g, struct settings *s)
{
	s->rate_bps = g->cfg.rate_bps;
	s->rate_pps = g->cfg.rate_pps;
	s->weight = g->cfg.weight;
	s->nqueues = g->nqueues;
	memcpy(s->queue, g->queue, sizeof(s->queue));
}

static void log_changes(const struct guest *g, const struct settings *was, const char *note)
{
	struct settings now;
	settings_of(g, &now);
	char text[512] = "", a[LINK_MAX_QUEUES * 6 + 8], b[sizeof(a)];
	size_t n = 0;
	if (was->rate_bps != now.rate_bps) {
		format_rate(was->rate_bps, a);
		format_rate(now.rate_bps, b);
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", rate %s -> %s bit/s", a, b);
	}
	if (was->rate_pps != now.rate_pps && n < sizeof(text)) {
		format_rate(was->rate_pps, a);
		format_rate(now.rate_pps, b);
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", pps %s -> %s", a, b);
	}
	if (was->weight != now.weight && n < sizeof(text))
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", weight %u -> %u", was->weight, now.weight);
	if ((was->nqueues != now.nqueues || memcmp(was->queue, now.queue, sizeof(now.queue))) && n < sizeof(text)) {
		format_queues(was->queue, was->nqueues, a, sizeof(a));
		format_queues(now.queue, now.nqueues, b, sizeof(b));
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", queues %s -> %s", a, b);
	}
	if (n)
		log_event("guest '%s' changed: %s%s", g->cfg.name, text + 2, note);
}

int guest_change(struct daemon *d, const char *name, const struct guest_change *c, char *err, size_t errlen)
{
	struct guest *g = guest_find(d, name);
	if (!g || g->state != GUEST_RUNNING)
		FAIL("no running guest named '%s'", name);
	if (g->migrating)
		FAIL("guest '%s' is being migrated or snapshotted; change it after that", name);
	if (c->has_weight && (c->weight < 1 || c->weight > NIC_MAX_WEIGHT_API))
		FAIL("weight must be from 1 to %d", NIC_MAX_WEIGHT_API);
	if (c->has_queues && (c->queues < 1 || c->queues > LINK_MAX_QUEUES))
		FAIL("queues must be from 1 to %d", LINK_MAX_QUEUES);
	if (c->has_queues && g->nretiring)
		FAIL("guest '%s' has not let go of the queues it lost yet (its driver does at its next network "
		     "call); try again then", name);
	struct settings was;
	settings_of(g, &was);
	if (c->has_rate_bps)
		g->cfg.rate_bps = c->rate_bps;
	if (c->has_rate_pps)
		g->cfg.rate_pps = c->rate_pps;
	if (c->has_weight)
		g->cfg.weight = (unsigned)c->weight;
	if (c->has_queues && (unsigned)c->queues != g->nqueues) {
		while (g->nqueues < (unsigned)c->queues) {
			int q = take_queue(d);
			if (q < 0) {
				apply_sched(d, g);
				publish(g);
				log_changes(g, &was, " (short of the queues asked for: the NIC has no free queue pair left)");
				FAIL("the NIC has no free queue pair left; guest '%s' now has %u", name, g->nqueues);
			}
			nic_queue_set_admin(d->nic, (unsigned)q, true, NULL, 0);
			send_queue(d, g, (unsigned)q);
			g->queue[g->nqueues++] = (uint16_t)q;
		}
		/* A queue taken away stops at once; it goes back to the pool only
		 * when the guest's driver has let go of it (acknowledged the new
		 * queue set), never earlier: until then that driver may still
		 * touch the queue's registers, which would disturb a new owner. */
		while (g->nqueues > (unsigned)c->queues) {
			unsigned q = g->queue[--g->nqueues];
			nic_queue_set_admin(d->nic, q, false, NULL, 0);
			g->retiring[g->nretiring++] = (uint16_t)q;
		}
		g->cfg.queues = g->nqueues;
		publish(g);
	}
	apply_sched(d, g);
	log_changes(g, &was, g->nretiring ? " (the queues taken away return to the pool once its driver lets go)" : "");
	return 0;
}

void guest_counters(const struct daemon *d, const struct guest *g, struct guest_counters *c)
{
	*c = g->retired;
	for (unsigned i = 0; i < g->nqueues; i++) {
		struct nic_queue_stats_regs s;
		nic_queue_stats(d->nic, g->queue[i], &s);
		c->tx_packets += s.tx_packets;
		c->tx_bytes += s.tx_bytes;
		c->rx_packets += s.rx_packets;
		c->rx_bytes += s.rx_bytes;
		c->rx_dropped += s.rx_dropped;
	}
}

/* A guest process has ended (wait status ws): what it wrote last is passed
 * on, its end logged with the reason, its resources reclaimed. */
static void ended(struct daemon *d, struct guest *g, int ws)
{
	migrate_guest_ended(d, g);   /* its job lets go of it first */
	guest_output_forward(&g->output, g->cfg.name, true);
	g->wait_status = ws;
	g->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	g->ended_ns = now_ns();
	guest_end_reason(ws, g->stopped_by_daemon, g->output.last_words, g->end_reason, sizeof(g->end_reason));
	teardown(d, g);              /* its final figures stay in g->retired */
	g->state = GUEST_EXITED;
	d->exit_status = g->status;
	/* an exit status is news, except from a guest that shares the daemon's
	 * stdio (run --net): its status is opsub's own, and the monitor has
	 * said why on the same stderr */
	bool routine = g->stopped_by_daemon || (WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || g->cfg.share_stdio));
	(routine ? log_event : log_warning)("guest '%s' ended after %.3f s (pid %d, status %d): %s", g->cfg.name,
	                                    (double)(g->ended_ns - g->started_ns) / 1e9, (int)g->pid, g->status,
	                                    g->end_reason);
}

void guests_poll(struct daemon *d)
{
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++)
		if (d->guest[i].state == GUEST_RUNNING)
			guest_output_forward(&d->guest[i].output, d->guest[i].cfg.name, false);
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++)
			if (d->guest[i].state == GUEST_RUNNING && d->guest[i].pid == pid)
				ended(d, &d->guest[i], status);
	}
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
		struct guest *g = &d->guest[i];
		if (g->state != GUEST_RUNNING || !g->nretiring)
			continue;
		/* ack is the guest process's word, read once and compared with
		 * the daemon's own generation; a false ack only frees the queues
		 * early, and each gets a new page before anyone else has it */
		if (__atomic_load_n(&g->page->ack, __ATOMIC_ACQUIRE) == g->generation) {
			char list[LINK_MAX_QUEUES * 6 + 8];
			format_queues(g->retiring, g->nretiring, list, sizeof(list));
			for (unsigned j = 0; j < g->nretiring; j++)
				release_queue(d, g, g->retiring[j]);
			g->nretiring = 0;
			log_event("guest '%s' let go of queue%s %s: back in the pool", g->cfg.name, strchr(list, ',') ? "s" : "",
			          list);
		}
	}
}
