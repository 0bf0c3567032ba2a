/* The daemon's main loop: start, serve, stop. */
#include <errno.h>
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

#include "daemon/daemon.h"
#include "gates/host.h"
#include "nic/wire.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The NIC holds a page object and an eventfd per queue (513 descriptors
 * for 256 queues), each guest half a dozen more: the default soft limit of
 * 1024 is not enough for a full set-up, so take what the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	d->control_fd = -1;
	/* refuse a host that cannot run guests before any guest tries */
	if (host_check(err, errlen))
		return -1;
	raise_fd_limit();
	d->nic = nic_create(&d->cfg.nic, err, errlen);
	if (!d->nic)
		return -1;
	/* The link comes up once every port has its filter, so that a source
	 * on the wire (a capture file) loses nothing to a port not yet there. */
	nic_set_link(d->nic, false);
	if (nic_start(d->nic, err, errlen))
		return -1;
	if (d->cfg.host_tap) {
		/* the host port takes the last queue pair */
		unsigned q = nic_num_queues(d->nic) - 1;
		d->queue_used[q] = true;
		d->host = host_port_start(d->nic, q, d->cfg.host_tap, d->cfg.host_ip, d->cfg.ring_size, err, errlen);
		if (!d->host)
			return -1;
	}
	if (d->cfg.control && (d->control_fd = control_listen(d->cfg.control, err, errlen)) < 0)
		return -1;
	for (unsigned i = 0; i < d->cfg.nguests; i++)
		if (guest_start(d, &d->cfg.guest[i], err, errlen))
			return -1;
	nic_set_link(d->nic, true);
	return 0;
}

static void stop(struct daemon *d)
{
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++)
		if (d->guest[i].state == GUEST_RUNNING)
			kill(d->guest[i].pid, SIGKILL);
	while (guests_running(d)) {
		guests_poll(d);
		if (guests_running(d))
			usleep(1000);
	}
	host_port_stop(d->host);
	d->host = NULL;
	if (d->control_fd >= 0) {
		close(d->control_fd);
		unlink(d->cfg.control);
	}
	uint64_t wire_errors = __atomic_load_n(&nic_wire(d->nic)->stats.errors, __ATOMIC_RELAXED);
	if (wire_errors)
		fprintf(stderr, "opsub: the wire '%s' skipped %llu frames it could not carry (a capture's frame "
		        "truncated or outside %u..%u bytes, or a host interface error)\n", d->cfg.wire,
		        (unsigned long long)wire_errors, WIRE_MIN_FRAME, WIRE_MAX_FRAME);
	nic_destroy(d->nic);   /* closes the wire: capture files are complete */
	d->nic = NULL;
}

int daemon_run(struct daemon *d, void (*tick)(struct daemon *d, void *arg), unsigned tick_ms, void *arg)
{
	char err[512] = "";
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	d->start_ns = now_ns();
	if (sfd < 0 || start(d, err, sizeof(err))) {
		fprintf(stderr, "opsub: %s\n", err[0] ? err : "cannot start");
		if (d->nic)
			stop(d);
		return 1;
	}
	uint64_t next_tick = d->start_ns + (uint64_t)tick_ms * 1000000u;
	uint64_t end = d->cfg.seconds > 0 ? d->start_ns + (uint64_t)(d->cfg.seconds * 1e9) : 0;
	bool timed_out = false;
	while (!d->stopping) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = d->control_fd, .events = POLLIN}};
		poll(p, d->control_fd >= 0 ? 2 : 1, 20);
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
				d->stopping = true;
		if (d->control_fd >= 0 && (p[1].revents & POLLIN))
			control_accept(d);
		guests_poll(d);
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
	stop(d);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	return timed_out || d->stopping ? 0 : d->exit_status;
}
