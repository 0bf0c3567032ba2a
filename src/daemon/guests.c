/* Guest lifecycle in the daemon: start, change, reap and reclaim. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"

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
		fprintf(stderr, "opsub: %s; queue %u is withdrawn\n", err, q);
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
		fprintf(stderr, "opsub: %s; queue %u is withdrawn\n", err, q);
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
	int fds[LINK_QUEUE_FDS] = {nic_queue_irq_fd(d->nic, q), page};
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

/* Forks and execs `opsub guest-proc` with the link socket as fd 3. */
static pid_t spawn(const struct guest_config *cfg, int link_child)
{
	char *argv[GUEST_MAX_ARGS + 8];
	int n = 0;
	argv[n++] = "opsub";
	argv[n++] = "guest-proc";
	if (cfg->stats)
		argv[n++] = "--stats";
	if (cfg->trace_syscalls)
		argv[n++] = "--trace-syscalls";
	if (cfg->no_verify)
		argv[n++] = "--no-verify";
	argv[n++] = "--";
	for (int i = 0; cfg->argv[i]; i++)
		argv[n++] = cfg->argv[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* child: only async-signal-safe calls until exec */
	if (cfg->output) {
		int fd = open(cfg->output, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	dup2(link_child, 3);
	fcntl(3, F_SETFD, 0);
	close_range(4, ~0u, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execv("/proc/self/exe", argv);
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

static int setup(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	const struct guest_config *c = &g->cfg;
	g->mem_fd = memfd_of("opsub-guest", c->mem);
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

/* Paravirt: the notification eventfds, then the backend worker. */
static int start_backend(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	g->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct link_msg msg = {.type = LINK_VIRTIO};
	int fds[2] = {g->kick_fd, g->call_fd};
	if (g->kick_fd < 0 || g->call_fd < 0 || link_send(g->link_sock, &msg, fds, 2))
		FAIL("guest '%s': cannot set up its paravirt notifications: %s", g->cfg.name, strerror(errno));
	g->vhost = vhost_start(d->nic, g, g->kick_fd, g->call_fd, d->cfg.ring_size, err, errlen);
	return g->vhost ? 0 : -1;
}

int guest_start(struct daemon *d, const struct guest_config *cfg, char *err, size_t errlen)
{
	if (guest_find(d, cfg->name))
		FAIL("a guest named '%s' exists already", cfg->name);
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
	memset(g, 0, sizeof(*g));
	g->slot = slot;
	g->filter = -1;
	g->link_sock = g->mem_fd = g->ring_fd = g->page_fd = g->kick_fd = g->call_fd = -1;
	g->cfg = *cfg;
	for (unsigned i = 0; cfg->argv[i]; i++)
		g->cfg.argv[i] = strdup(cfg->argv[i]);
	g->cfg.output = cfg->output ? strdup(cfg->output) : NULL;
	int sv[2];
	if (setup(d, g, err, errlen) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		if (!err[0])
			snprintf(err, errlen, "guest '%s': cannot create its link socket", cfg->name);
		teardown(d, g);
		config_guest_free(&g->cfg);
		g->state = GUEST_FREE;
		return -1;
	}
	g->link_sock = sv[0];
	g->pid = spawn(&g->cfg, sv[1]);
	close(sv[1]);
	/* the queues first: the generation the process boots into names them */
	for (unsigned i = 0; i < g->nqueues; i++)
		send_queue(d, g, g->queue[i]);
	struct link_msg boot = {.type = LINK_BOOT, .mem_size = cfg->mem};
	int fds[LINK_BOOT_FDS] = {g->mem_fd, g->page_fd, g->ring_fd};
	int nfds = drives_ring_area(cfg) ? 3 : 2;
	if (g->pid < 0 || link_send(g->link_sock, &boot, fds, nfds)) {
		snprintf(err, errlen, "guest '%s': cannot start its process: %s", cfg->name, strerror(errno));
		if (g->pid > 0)
			kill(g->pid, SIGKILL);
		teardown(d, g);
		config_guest_free(&g->cfg);
		g->state = GUEST_FREE;
		return -1;
	}
	if (cfg->io == OPSUB_IO_PARAVIRT && start_backend(d, g, err, errlen)) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		teardown(d, g);
		config_guest_free(&g->cfg);
		g->state = GUEST_FREE;
		return -1;
	}
	g->state = GUEST_RUNNING;
	g->started_ns = g->last_ns = now_ns();
	return 0;
}

int guest_remove(struct daemon *d, const char *name, char *err, size_t errlen)
{
	struct guest *g = guest_find(d, name);
	if (!g)
		FAIL("no guest named '%s'", name);
	if (g->state == GUEST_RUNNING) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		teardown(d, g);
	}
	config_guest_free(&g->cfg);
	g->state = GUEST_FREE;
	return 0;
}

int guest_change(struct daemon *d, const char *name, const struct guest_change *c, char *err, size_t errlen)
{
	struct guest *g = guest_find(d, name);
	if (!g || g->state != GUEST_RUNNING)
		FAIL("no running guest named '%s'", name);
	if (c->has_weight && (c->weight < 1 || c->weight > NIC_MAX_WEIGHT_API))
		FAIL("weight must be from 1 to %d", NIC_MAX_WEIGHT_API);
	if (c->has_queues && (c->queues < 1 || c->queues > LINK_MAX_QUEUES))
		FAIL("queues must be from 1 to %d", LINK_MAX_QUEUES);
	if (c->has_queues && g->nretiring)
		FAIL("guest '%s' has not let go of the queues it lost yet (its driver does at its next network "
		     "call); try again then", name);
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

void guests_poll(struct daemon *d)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
			struct guest *g = &d->guest[i];
			if (g->state != GUEST_RUNNING || g->pid != pid)
				continue;
			teardown(d, g);              /* its final figures stay in g->retired */
			g->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			g->state = GUEST_EXITED;
			d->exit_status = g->status;
		}
	}
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
		struct guest *g = &d->guest[i];
		if (g->state != GUEST_RUNNING || !g->nretiring)
			continue;
		/* ack is the guest process's word, read once and compared with
		 * the daemon's own generation; a false ack only frees the queues
		 * early, and each gets a new page before anyone else has it */
		if (__atomic_load_n(&g->page->ack, __ATOMIC_ACQUIRE) == g->generation) {
			for (unsigned j = 0; j < g->nretiring; j++)
				release_queue(d, g, g->retiring[j]);
			g->nretiring = 0;
		}
	}
}
