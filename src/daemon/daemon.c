/* The daemon's main loop: start, serve, stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/capture.h"
#include "daemon/control.h"
#include "daemon/cpu_limit.h"
#include "daemon/metrics.h"
#include "daemon/daemon.h"
#include "daemon/migrate.h"
#include "daemon/pool.h"
#include "gates/host.h"
#include "nic/wire.h"
#include "util/lazy_libs.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The most a root daemon raises its hard limit to when
 * /proc/sys/fs/nr_open cannot be read (the kernel's default nr_open). */
#define FD_LIMIT_FALLBACK (1u << 20)

/* The NIC holds a page object, a doorbell and an interrupt eventfd per
 * queue, and each guest costs the daemon about ten descriptors (memory,
 * rings, link page and socket, output pipes, paravirt eventfds): the
 * default soft limit of 1024 holds about a hundred guests.  So the soft
 * limit goes to the hard one, and a daemon that may raise the hard limit
 * (root, CAP_SYS_RESOURCE) raises it to the kernel's nr_open first.  The
 * limit is logged; a guest that cannot get its descriptors says so. */
static void raise_fd_limit(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return;
	rlim_t ceiling = FD_LIMIT_FALLBACK;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	unsigned long long nr_open;
	if (f && fscanf(f, "%llu", &nr_open) == 1 && nr_open > 0)
		ceiling = (rlim_t)nr_open;
	if (f)
		fclose(f);
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < ceiling) {
		struct rlimit up = {.rlim_cur = ceiling, .rlim_max = ceiling};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)   /* fails without CAP_SYS_RESOURCE: fine */
			r = up;
	}
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	getrlimit(RLIMIT_NOFILE, &r);
	log_event("open files limit %llu (soft), %llu (hard): room for about %llu guests", (unsigned long long)r.rlim_cur,
	          (unsigned long long)r.rlim_max, (unsigned long long)(r.rlim_cur / 10));
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	/* refuse a host that cannot run guests before any guest tries */
	if (host_check(err, errlen))
		return -1;
	/* the service finds a missing library now, not at a capture request
	 * (and before its control socket appears: clients take that as a sign
	 * the daemon is nearly up) */
	if (d->config_path && lazy_libs_open_all(err, errlen))
		return -1;
	/* then: a second daemon on the same path must touch nothing */
	if (d->cfg.control && !(d->control = control_open(d->cfg.control, err, errlen)))
		return -1;
	raise_fd_limit();
	/* never a reason not to start: without it guests run as they always
	 * did (a warning for `opsub daemon`, a routine line for run and demo) */
	d->cpu = cpu_limit_open(d->config_path != NULL);
	d->nic = nic_create(&d->cfg.nic, err, errlen);
	if (!d->nic)
		return -1;
	/* The link comes up once every port has its filter, so that a source
	 * on the wire (a capture file) loses nothing to a port not yet there. */
	nic_set_link(d->nic, false);
	if (nic_start(d->nic, err, errlen))
		return -1;
	if (d->cfg.migration && migrate_start(d, err, errlen))
		return -1;
	if (d->cfg.host_tap) {
		/* the host port takes the last queue pair */
		unsigned q = nic_num_queues(d->nic) - 1;
		d->queue_used[q] = true;
		d->host = host_port_start(d->nic, q, d->cfg.host_tap, d->cfg.host_ip, d->cfg.ring_size, err, errlen);
		if (!d->host)
			return -1;
	}
	for (unsigned i = 0; i < d->cfg.nguests; i++) {
		if (guest_start(d, &d->cfg.guest[i], err, errlen))
			return -1;
		guest_find(d, d->cfg.guest[i].name)->from_config = true;   /* a reload may remove it */
	}
	if (d->cfg.metrics && !(d->metrics = metrics_start(d, d->cfg.metrics, err, errlen)))
		return -1;
	nic_set_link(d->nic, true);
	return 0;
}

static void stop(struct daemon *d)
{
	migrate_stop_all(d);   /* a guest on its way out stays (and goes with the rest) */
	capture_stop_all(d);   /* capture files complete before their guests go */
	metrics_stop(d->metrics);
	d->metrics = NULL;
	DAEMON_FOR_EACH_GUEST(d, g)
		if (g->state == GUEST_RUNNING) {
			g->stopped_by_daemon = true;
			kill(g->pid, SIGKILL);
		}
	while (guests_running(d)) {
		guests_poll(d);
		if (guests_running(d))
			usleep(1000);
	}
	cpu_limit_close(d->cpu);   /* every guest reaped: the groups are empty */
	d->cpu = NULL;
	host_port_stop(d->host);
	d->host = NULL;
	control_close(d->control);
	d->control = NULL;
	pool_stop(d->pool);   /* every guest is gone: no pool queue is in use */
	d->pool = NULL;
	uint64_t wire_errors = __atomic_load_n(&nic_wire(d->nic)->stats.errors, __ATOMIC_RELAXED);
	if (wire_errors)
		log_warning("the wire '%s' skipped %llu frames it could not carry (a capture's frame truncated or "
		            "outside %u..%u bytes, or a host interface error)", d->cfg.wire,
		            (unsigned long long)wire_errors, WIRE_MIN_FRAME, WIRE_MAX_FRAME);
	nic_destroy(d->nic);   /* closes the wire: capture files are complete */
	d->nic = NULL;
}

/* A daemon started with 0, 1 or 2 closed would hand the first descriptors
 * it makes (a guest's pipe, the NIC's) to whatever writes "to stderr". */
static void hold_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			open("/dev/null", O_RDWR);   /* takes the lowest free number: fd */
}

static void log_starting(const struct daemon *d)
{
	const struct daemon_config *c = &d->cfg;
	char host[128] = "none";
	if (c->host_tap)
		snprintf(host, sizeof(host), "%s%s%s", c->host_tap, c->host_ip ? " " : "", c->host_ip ? c->host_ip : "");
	log_event("daemon starting: opsub %s, pid %d, config %s, nic %u queues of %u descriptors, wire %s, control %s, "
	          "host port %s, %u guests", d->version ? d->version : "(version unknown)", (int)getpid(),
	          d->config_path ? d->config_path : "(built in)", c->nic.num_queues, c->ring_size, c->wire,
	          c->control ? c->control : "none", host, c->nguests);
}

/* One signal from the signalfd: stop, reload, or tell. */
static void on_signal(struct daemon *d, int sig)
{
	switch (sig) {
	case SIGINT:
	case SIGTERM:
	case SIGQUIT:
		if (!d->stopping)
			d->stop_reason = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGQUIT";
		d->stopping = true;
		break;
	case SIGHUP:
		daemon_reload(d);
		break;
	case SIGUSR1:
		daemon_log_stats(d);
		break;
	case SIGUSR2:
		log_event("SIGUSR2 ignored (SIGHUP reloads, SIGUSR1 logs the counters, SIGTERM stops)");
		break;
	}
}

int daemon_run(struct daemon *d, void (*tick)(struct daemon *d, void *arg), unsigned tick_ms, void *arg)
{
	char err[512] = "";
	hold_standard_fds();
	if (log_open(d->log_override ? d->log_override : d->cfg.log, d->cfg.log_level, err, sizeof(err))) {
		fprintf(stderr, "opsub: %s\n", err);
		return 1;
	}
	/* every signal that would end the process is taken in the main loop,
	 * which cleans up; SIGHUP and SIGUSR1/2 no longer end it */
	sigset_t sigs;
	sigemptyset(&sigs);
	static const int taken[] = {SIGCHLD, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		sigaddset(&sigs, taken[i]);
	/* (blocked, a signal reaches the signalfd even if it was ignored since
	 * exec, as SIGINT and SIGQUIT are in a script's background job) */
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	d->start_ns = now_ns();
	log_starting(d);
	if (sfd < 0 || start(d, err, sizeof(err))) {
		fprintf(stderr, "opsub: %s\n", err[0] ? err : "cannot start");
		if (!log_is_stderr())
			log_error("daemon could not start: %s", err[0] ? err : "cannot start");
		if (d->nic)
			stop(d);
		control_close(d->control);   /* also when the NIC never started */
		d->control = NULL;
		cpu_limit_close(d->cpu);
		d->cpu = NULL;
		if (sfd >= 0)
			close(sfd);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		log_close();
		return 1;
	}
	d->started = true;
	log_event("daemon started: %u guests running, link up", guests_running(d));
	uint64_t next_tick = d->start_ns + (uint64_t)tick_ms * 1000000u;
	uint64_t end = d->cfg.seconds > 0 ? d->start_ns + (uint64_t)(d->cfg.seconds * 1e9) : 0;
	bool timed_out = false;
	while (!d->stopping) {
		int mig[2];
		migrate_fds(d, mig);
		struct pollfd p[4] = {{.fd = sfd, .events = POLLIN},
		                      {.fd = d->control ? control_fd(d->control) : -1, .events = POLLIN},
		                      {.fd = mig[0], .events = POLLIN}, {.fd = mig[1], .events = POLLIN}};
		poll(p, 4, d->pool ? QUEUES_DEMAND_TICK_MS : 20);   /* moves between the pool and queues go on */
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			on_signal(d, (int)si.ssi_signo);
		if (d->control && (p[1].revents & POLLIN))
			control_serve(d->control, d);
		guests_poll(d);
		queues_demand(d);
		migrate_poll(d);
		capture_poll(d);
		metrics_poll(d->metrics, d);
		uint64_t now = now_ns();
		if (tick && now >= next_tick) {
			tick(d, arg);
			next_tick += (uint64_t)tick_ms * 1000000u;
		}
		if (end && now >= end) {
			timed_out = true;
			break;
		}
		if (d->cfg.exit_with_guests && !guests_running(d))
			break;
	}
	char why[96];
	if (d->stopping)
		snprintf(why, sizeof(why), "%s", d->stop_reason ? d->stop_reason : "a stop request on the control socket");
	else if (timed_out)
		snprintf(why, sizeof(why), "its %g seconds are over", d->cfg.seconds);
	else
		snprintf(why, sizeof(why), "its last guest ended");
	log_event("daemon stopping: %s", why);
	d->run_seconds = (double)(now_ns() - d->start_ns) / 1e9;
	stop(d);
	/* what came during the stop is answered by the stop itself: taken
	 * here, so that unblocking does not deliver it to the default action */
	struct signalfd_siginfo late;
	while (read(sfd, &late, sizeof(late)) == sizeof(late))
		continue;
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	int rc = timed_out || d->stopping ? 0 : d->exit_status;
	log_event("daemon stopped after %.3f s (%s), exit status %d", (double)(now_ns() - d->start_ns) / 1e9, why, rc);
	log_close();
	return rc;
}
