/* Guest lifecycle in the daemon: start, change, reap and reclaim. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/cpu_limit.h"
#include "daemon/daemon.h"
#include "daemon/migrate.h"
#include "gates/host.h"

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


struct guest *guest_find(struct daemon *d, const char *name)
{
	DAEMON_FOR_EACH_GUEST(d, g)
		if (g->state != GUEST_FREE && !strcmp(g->cfg.name, name))
			return g;
	return NULL;
}

unsigned guests_running(const struct daemon *d)
{
	unsigned n = 0;
	DAEMON_FOR_EACH_GUEST(d, g)
		n += g->state == GUEST_RUNNING;
	return n;
}

/* The lowest free slot of the table, the table grown (doubling) or a slot
 * allocated if need be; NULL with a reason when memory or the DMA windows
 * run out.  A guest, once allocated, stays where it is. */
static struct guest *free_slot(struct daemon *d, char *err, size_t errlen)
{
	DAEMON_FOR_EACH_GUEST(d, g)
		if (g->state == GUEST_FREE)
			return g;
	if (d->nslots >= DAEMON_MAX_GUESTS) {
		snprintf(err, errlen, "the daemon holds at most %u guests (each takes two of the NIC's %u DMA windows); "
		         "remove one first", (unsigned)DAEMON_MAX_GUESTS, NIC_MAX_WINDOWS);
		return NULL;
	}
	if (d->nslots == d->slot_cap) {
		unsigned cap = d->slot_cap ? d->slot_cap * 2 : 64;
		struct guest **more = realloc(d->guest, cap * sizeof(*more));
		if (!more) {
			snprintf(err, errlen, "cannot grow the guest table to %u guests: out of memory", cap);
			return NULL;
		}
		d->guest = more;
		d->slot_cap = cap;
	}
	struct guest *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "cannot make room for guest %u: out of memory", d->nslots + 1);
		return NULL;
	}
	g->state = GUEST_FREE;
	g->slot = d->nslots;
	d->guest[d->nslots++] = g;
	return g;
}

void guests_free(struct daemon *d)
{
	for (unsigned s = 0; s < d->nslots; s++) {
		if (d->guest[s]->state != GUEST_FREE)
			config_guest_free(&d->guest[s]->cfg);
		free(d->guest[s]);
	}
	free(d->guest);
	d->guest = NULL;
	d->nslots = d->slot_cap = 0;
	if (d->output_epoll > 0)
		close(d->output_epoll);
	d->output_epoll = 0;
}

/* Whether the guest's trusted driver writes NIC rings in the ring area
 * itself; in the other modes the guest process is not given it. */
static bool drives_ring_area(const struct guest_config *c)
{
	return c->io == OPSUB_IO_OPSUB || c->io == OPSUB_IO_EMULATED;
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
	char *argv[GUEST_MAX_ARGS + 16 + 2 * FS_MAX_VOLUMES];
	char tmp_size[24];
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
	/* its file system, checked by the config already; guest-proc checks
	 * again, as for `opsub run` */
	if (cfg->root) {
		argv[n++] = "--root";
		argv[n++] = cfg->root;
	}
	for (unsigned i = 0; i < cfg->nvolumes; i++) {
		argv[n++] = "--volume";
		argv[n++] = cfg->volume[i];
	}
	if (cfg->tmp_size) {
		snprintf(tmp_size, sizeof(tmp_size), "%llu", (unsigned long long)cfg->tmp_size);
		argv[n++] = "--tmp-size";
		argv[n++] = tmp_size;
	}
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

/* The tag of a descriptor in the daemon's epoll set: the guest's slot, and
 * what it is: an output pipe (its stream) or its process (GUEST_STREAMS). */
static uint64_t tag(const struct guest *g, uint64_t kind) { return kind << 32 | g->slot; }

/* The guest's output pipes join the daemon's epoll set (guests_poll reads
 * only those that have something). */
static int watch_output(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	if (d->output_epoll <= 0) {
		int fd = epoll_create1(EPOLL_CLOEXEC);
		if (fd == 0) {   /* 0 means "none yet": move it, and 0 is /dev/null again */
			fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
			close(0);
			open("/dev/null", O_RDWR);
		}
		if (fd < 0)
			FAIL("guest '%s': cannot watch its output: %s", g->cfg.name, strerror(errno));
		d->output_epoll = fd;
	}
	for (int s = 0; s < GUEST_STREAMS; s++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag(g, (uint64_t)s)};
		if (g->output.fd[s] >= 0 && epoll_ctl(d->output_epoll, EPOLL_CTL_ADD, g->output.fd[s], &ev))
			FAIL("guest '%s': cannot watch its output: %s", g->cfg.name, strerror(errno));
	}
	return 0;
}

/* Its process's pidfd joins the set too: guests_poll reaps the guests that
 * ended, instead of a waitpid(-1) per pass, which has the kernel look at
 * every child.  Without a pidfd (none to be had) the guest is reaped by
 * guests_poll's sweep, within a second. */
static void watch_process(struct daemon *d, struct guest *g)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag(g, GUEST_STREAMS)};
	g->pid_fd = (int)syscall(SYS_pidfd_open, g->pid, 0);
	if (g->pid_fd >= 0 && epoll_ctl(d->output_epoll, EPOLL_CTL_ADD, g->pid_fd, &ev)) {
		close(g->pid_fd);
		g->pid_fd = -1;
	}
}

/* Before its pipes and pidfd close: a copy of one in a process being
 * forked would otherwise keep it in the set. */
static void unwatch_output(struct daemon *d, struct guest *g)
{
	for (int s = 0; s < GUEST_STREAMS && d->output_epoll > 0; s++)
		if (g->output.fd[s] >= 0)
			epoll_ctl(d->output_epoll, EPOLL_CTL_DEL, g->output.fd[s], NULL);
	if (g->pid_fd >= 0 && d->output_epoll > 0)
		epoll_ctl(d->output_epoll, EPOLL_CTL_DEL, g->pid_fd, NULL);
}

/* Undoes what guest_start did, in reverse; safe on a partly started guest. */
static void teardown(struct daemon *d, struct guest *g)
{
	/* (its process is reaped, or was never started: the group is empty) */
	cpu_limit_leave(d->cpu, g->cfg.name, g->cfg.cpu_weight);
	vhost_stop(g->vhost);   /* before its queue and windows go */
	g->vhost = NULL;
	queues_unplace(d, g);
	if (g->mem_map) {
		nic_window_unmap(d->nic, guest_mem_window(g), NULL, 0);
		munmap(g->mem_map, g->cfg.mem);
	}
	if (g->ring_map) {
		nic_window_unmap(d->nic, guest_ring_window(g), NULL, 0);
		munmap(g->ring_map, LINK_RING_AREA);
	}
	if (g->page)
		munmap(g->page, 4096);
	g->mem_map = g->ring_map = NULL;
	g->page = NULL;
	int *fds[] = {&g->link_sock, &g->mem_fd, &g->ring_fd, &g->page_fd, &g->kick_fd, &g->call_fd, &g->pid_fd};
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	unwatch_output(d, g);
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
	if (nic_window_map(d->nic, guest_mem_window(g), g->mem_map, c->mem, err, errlen))
		return -1;
	g->ring_map = mmap(NULL, LINK_RING_AREA, PROT_READ | PROT_WRITE, MAP_SHARED, g->ring_fd, 0);
	if (g->ring_map == MAP_FAILED) {
		g->ring_map = NULL;
		FAIL("guest '%s': cannot map its ring area", c->name);
	}
	if (nic_window_map(d->nic, guest_ring_window(g), g->ring_map, LINK_RING_AREA, err, errlen))
		return -1;
	g->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g->page_fd, 0);
	if (g->page == MAP_FAILED) {
		g->page = NULL;
		FAIL("guest '%s': cannot map its link page", c->name);
	}
	if (queues_place(d, g, err, errlen))
		return -1;
	struct link_page *p = g->page;
	p->mode = c->io;
	memcpy(p->mac, c->mac, 6);
	p->ring_size = d->cfg.ring_size;
	p->mem_window = guest_mem_window(g);
	p->ring_window = guest_ring_window(g);
	queues_publish(g);
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

/* "0,1,4" (the NIC's), "pool 3" (the pool's), or "none" */
static void format_queues(const struct daemon *d, const uint16_t *q, unsigned n, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (unsigned i = 0; i < n && used < len; i++) {
		bool pooled = queue_pooled(d, q[i]);
		used += (size_t)snprintf(out + used, len - used, "%s%s%u", i ? "," : "", pooled ? "pool " : "",
		                         q[i] - (pooled ? nic_num_queues(d->nic) : 0));
	}
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

static void log_started(const struct daemon *d, const struct guest *g)
{
	const struct guest_config *c = &g->cfg;
	char queues[LINK_MAX_QUEUES * 11 + 8], rate[24], pps[24], cpu_max[24];
	format_queues(d, g->queue, g->nqueues, queues, sizeof(queues));
	format_rate(c->rate_bps, rate);
	format_rate(c->rate_pps, pps);
	cpu_max_format(c->cpu_max, cpu_max, sizeof(cpu_max));
	log_event("guest '%s' started: pid %d, io %s, queues %s, mac %02x:%02x:%02x:%02x:%02x:%02x, rate %s bit/s, "
	          "pps %s, weight %u, cpu weight %u, cpu max %s, mem %lluM, program %s, output %s", c->name, (int)g->pid,
	          io_name(c->io), queues, c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5], rate, pps,
	          c->weight, c->cpu_weight, cpu_max, (unsigned long long)(c->mem >> 20), c->argv[0],
	          c->output ? c->output : c->share_stdio ? "shared" : "log");
}

/* Its CPU group (cpu_limit.h).  A guest whose settings cannot be applied
 * runs without them, as it would where CPU control is unavailable, and
 * its config says so from then on. */
static void join_cpu_group(struct daemon *d, struct guest *g)
{
	char err[1280];
	if (cpu_limit_join(d->cpu, g->cfg.name, g->pid, g->cfg.cpu_weight, g->cfg.cpu_max, err, sizeof(err)) == 0)
		return;
	log_warning("guest '%s': its CPU weight and cap are not applied: %s", g->cfg.name, err);
	g->cfg.cpu_weight = CPU_WEIGHT_DEFAULT;
	g->cfg.cpu_max = 0;
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

/* A start that failed for want of descriptors says what to do (each guest
 * costs the daemon about ten; daemon_run raised the soft limit to the hard
 * one at start). */
static void fd_hint(int e, char *err, size_t errlen)
{
	size_t n = strlen(err);
	if ((e == EMFILE || e == ENFILE) && n < errlen)
		snprintf(err + n, errlen - n, "; raise the open files limit (ulimit -n%s)",
		         e == ENFILE ? ", or the system's: fs.file-max" : "");
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
	DAEMON_FOR_EACH_GUEST(d, other)
		if (other->state == GUEST_RUNNING && !memcmp(other->cfg.mac, cfg->mac, 6))
			FAIL("guest '%s' already has MAC %02x:%02x:%02x:%02x:%02x:%02x", other->cfg.name,
			     cfg->mac[0], cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	struct guest *g = free_slot(d, err, errlen);
	if (!g)
		return -1;
	unsigned slot = g->slot;
	int child[GUEST_STREAMS];
	memset(g, 0, sizeof(*g));
	g->slot = slot;
	g->filter = g->old_filter = -1;
	g->link_sock = g->mem_fd = g->ring_fd = g->page_fd = g->kick_fd = g->call_fd = g->pid_fd = -1;
	/* first, so that teardown finds its descriptors set (or -1) */
	if (guest_output_open(&g->output, cfg->name, cfg->output, cfg->share_stdio, child, err, errlen)) {
		fd_hint(errno, err, errlen);
		return -1;
	}
	g->cfg = *cfg;
	g->cpu_rows = host_optional_rows();   /* its process probes the same CPU (monitor.c) */
	if (!g->cfg.cpu_weight)   /* a config made in code (run --net, bench) */
		g->cfg.cpu_weight = CPU_WEIGHT_DEFAULT;
	for (unsigned i = 0; cfg->argv[i]; i++)
		g->cfg.argv[i] = strdup(cfg->argv[i]);
	g->cfg.output = cfg->output ? strdup(cfg->output) : NULL;
	g->cfg.root = cfg->root ? strdup(cfg->root) : NULL;
	for (unsigned i = 0; i < cfg->nvolumes; i++)
		g->cfg.volume[i] = strdup(cfg->volume[i]);
	int sv[2];
	if (watch_output(d, g, err, errlen) || setup(d, g, r, err, errlen) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		int e = errno;
		if (!err[0])
			snprintf(err, errlen, "guest '%s': cannot create its link socket: %s", cfg->name, strerror(e));
		fd_hint(e, err, errlen);
		guest_output_close_child_ends(child);
		teardown(d, g);
		config_guest_free(&g->cfg);
		g->state = GUEST_FREE;
		return -1;
	}
	g->link_sock = sv[0];
	g->pid = spawn(&g->cfg, r != NULL, sv[1], child);
	if (g->pid > 0)
		watch_process(d, g);
	close(sv[1]);
	/* into its CPU group before LINK_BOOT: no guest code runs outside it */
	if (g->pid > 0)
		join_cpu_group(d, g);
	guest_output_close_child_ends(child);
	/* the queues first: the generation the process boots into names them */
	for (unsigned i = 0; i < g->nqueues; i++)
		queue_send(d, g, g->queue[i]);
	struct link_msg boot = {.type = LINK_BOOT, .mem_size = cfg->mem};
	int fds[LINK_BOOT_FDS] = {g->mem_fd, g->page_fd, g->ring_fd};
	int nfds = drives_ring_area(cfg) ? 3 : 2;
	if (g->pid < 0 || link_send(g->link_sock, &boot, fds, nfds)) {
		snprintf(err, errlen, "guest '%s': cannot start its process: %s", cfg->name, strerror(errno));
		fd_hint(errno, err, errlen);
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
	log_started(d, g);
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
	unsigned cpu_weight;
	double cpu_max;
};

static void settings_of(const struct guest *g, struct settings *s)
{
	s->rate_bps = g->cfg.rate_bps;
	s->rate_pps = g->cfg.rate_pps;
	s->weight = g->cfg.weight;
	s->cpu_weight = g->cfg.cpu_weight;
	s->cpu_max = g->cfg.cpu_max;
	s->nqueues = g->nqueues;
	memcpy(s->queue, g->queue, sizeof(s->queue));
}

static void log_changes(const struct daemon *d, const struct guest *g, const struct settings *was, const char *note)
{
	struct settings now;
	settings_of(g, &now);
	char text[512] = "", a[LINK_MAX_QUEUES * 11 + 8], b[sizeof(a)];
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
		format_queues(d, was->queue, was->nqueues, a, sizeof(a));
		format_queues(d, now.queue, now.nqueues, b, sizeof(b));
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", queues %s -> %s", a, b);
	}
	if (was->cpu_weight != now.cpu_weight && n < sizeof(text))
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", cpu weight %u -> %u", was->cpu_weight, now.cpu_weight);
	if (was->cpu_max != now.cpu_max && n < sizeof(text)) {
		cpu_max_format(was->cpu_max, a, sizeof(a));
		cpu_max_format(now.cpu_max, b, sizeof(b));
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", cpu max %s -> %s", a, b);
	}
	if (n)
		log_event("guest '%s' changed: %s%s", g->cfg.name, text + 2, note);
}

/* A new CPU weight or cap, into its group first: refused there, nothing
 * of the change is made. */
static int change_cpu(struct daemon *d, struct guest *g, const struct guest_change *c, char *err, size_t errlen)
{
	if (c->has_cpu_weight && (c->cpu_weight < CPU_WEIGHT_MIN || c->cpu_weight > CPU_WEIGHT_MAX))
		FAIL("cpu_weight must be from %d to %d", CPU_WEIGHT_MIN, CPU_WEIGHT_MAX);
	if (c->has_cpu_max && c->cpu_max != 0 && !cpu_max_valid(c->cpu_max))
		FAIL("cpu_max must be from %g to %g cores, or 0 for no cap", CPU_MAX_MIN, CPU_MAX_MAX);
	unsigned weight = c->has_cpu_weight ? (unsigned)c->cpu_weight : g->cfg.cpu_weight;
	double max = c->has_cpu_max ? c->cpu_max : g->cfg.cpu_max;
	if (cpu_limit_apply(d->cpu, g->cfg.name, g->pid, g->cfg.cpu_weight, g->cfg.cpu_max, weight, max, err, errlen))
		return -1;
	g->cfg.cpu_weight = weight;
	g->cfg.cpu_max = max;
	return 0;
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
	if (c->has_queues && (g->nretiring || g->move.active))
		FAIL("guest '%s' has not let go of the queues it lost yet (its driver does at its next network "
		     "call); try again then", name);
	if (c->has_queues && g->nqueues && queue_pooled(d, g->queue[0]))
		FAIL("guest '%s' shares the pool (its config leaves \"queues\" out): it gets a dedicated queue "
		     "when it is busy; to pin it to dedicated queues, give it \"queues\" in its config", name);
	struct settings was;
	settings_of(g, &was);
	if ((c->has_cpu_weight || c->has_cpu_max) && change_cpu(d, g, c, err, errlen))
		return -1;
	if (c->has_rate_bps)
		g->cfg.rate_bps = c->rate_bps;
	if (c->has_rate_pps)
		g->cfg.rate_pps = c->rate_pps;
	if (c->has_weight)
		g->cfg.weight = (unsigned)c->weight;
	if (c->has_queues && (unsigned)c->queues != g->nqueues) {
		/* pinned from now on: placement by demand leaves it alone */
		g->on_demand = false;
		while (g->nqueues < (unsigned)c->queues) {
			char why[200];
			int q = queue_take(d, false, why, sizeof(why));
			if (q < 0) {
				queues_apply_sched(d, g);
				queues_publish(g);
				log_changes(d, g, &was, " (short of the queues asked for: the NIC has no free queue pair left)");
				FAIL("%s; guest '%s' now has %u", why, name, g->nqueues);
			}
			queue_send(d, g, (unsigned)q);
			g->queue[g->nqueues++] = (uint16_t)q;
		}
		/* A queue taken away stops at once; it goes back to the pool only
		 * when the guest's driver has let go of it (acknowledged the new
		 * queue set), never earlier: until then that driver may still
		 * touch the queue's registers, which would disturb a new owner. */
		while (g->nqueues > (unsigned)c->queues) {
			unsigned q = g->queue[--g->nqueues];
			struct qref r = queue_ref(d, q);
			nic_queue_set_admin(r.nic, r.q, false, NULL, 0);
			g->retiring[g->nretiring++] = (uint16_t)q;
		}
		g->cfg.queues = g->nqueues;
		queues_publish(g);
	}
	queues_apply_sched(d, g);
	log_changes(d, g, &was, g->nretiring ? " (the queues taken away return to the pool once its driver lets go)" : "");
	return 0;
}

void guest_counters(const struct daemon *d, const struct guest *g, struct guest_counters *c)
{
	*c = g->retired;
	for (unsigned i = 0; i < g->nqueues; i++) {
		struct nic_queue_stats_regs s;
		struct qref r = queue_ref(d, g->queue[i]);
		nic_queue_stats(r.nic, r.q, &s);
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
	/* only the guests whose pipes have something or whose process
	 * ended: one epoll_wait, not a system call per guest */
	int status;
	if (d->output_epoll > 0) {
		/* (level-triggered: what is left for want of room comes next pass) */
		struct epoll_event ev[512];
		int n = epoll_wait(d->output_epoll, ev, 512, 0);
		for (int i = 0; i < n; i++) {
			uint64_t slot = ev[i].data.u64 & 0xffffffffu, kind = ev[i].data.u64 >> 32;
			struct guest *g = slot < d->nslots ? d->guest[slot] : NULL;
			if (!g || g->state != GUEST_RUNNING)
				continue;
			if (kind == GUEST_STREAMS) {
				if (waitpid(g->pid, &status, WNOHANG) == g->pid)
					ended(d, g, status);
			} else if (ev[i].events & EPOLLIN)
				guest_output_forward(&g->output, g->cfg.name, false);
			else if (kind < GUEST_STREAMS && g->output.fd[kind] >= 0)
				/* its writer is gone and nothing is left: it would be
				 * reported every pass until the guest is reaped */
				epoll_ctl(d->output_epoll, EPOLL_CTL_DEL, g->output.fd[kind], NULL);
		}
	}
	/* the rest (a guest without a pidfd, a child that is no guest) once
	 * a second */
	uint64_t now = now_ns();
	if (now - d->swept_ns >= 1000000000u) {
		d->swept_ns = now;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			DAEMON_FOR_EACH_GUEST(d, g)
				if (g->state == GUEST_RUNNING && g->pid == pid) {
					ended(d, g, status);
					break;
				}
		}
	}
	DAEMON_FOR_EACH_GUEST(d, g) {
		if (g->state != GUEST_RUNNING || !g->nretiring)
			continue;
		/* ack is the guest process's word, read once and compared with
		 * the daemon's own generation; a false ack only frees the queues
		 * early, and each gets a new page before anyone else has it */
		if (__atomic_load_n(&g->page->ack, __ATOMIC_ACQUIRE) == g->generation) {
			char list[LINK_MAX_QUEUES * 11 + 8];
			format_queues(d, g->retiring, g->nretiring, list, sizeof(list));
			for (unsigned j = 0; j < g->nretiring; j++)
				queue_release(d, g, g->retiring[j]);
			g->nretiring = 0;
			log_event("guest '%s' let go of queue%s %s: free again", g->cfg.name, strchr(list, ',') ? "s" : "",
			          list);
		}
	}
}
