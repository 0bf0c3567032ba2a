/*
 * Waiting: pipes, eventfds, timerfds, network port descriptors, and the
 * calls that wait on several descriptors (poll, ppoll, select, pselect6,
 * epoll).  The guest has one thread, so an object that lives in the
 * monitor (a pipe, an eventfd) cannot change while the guest waits; what
 * can is a host descriptor (the inherited stdin, a port's receive
 * interrupt) and time (a timer).  One loop (wait_loop) probes the
 * descriptors, and when none is ready sleeps in the host's ppoll on the
 * host descriptors until the nearest timer, serving the daemon's requests
 * on the way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "monitor/freeze.h"
#include "monitor/guest_clock.h"
#include "monitor/syscalls.h"

#define WAIT_HOST_MAX 64
#define EPOLL_DEPTH_MAX 4
#define EPOLL_WATCHES_MAX 65536    /* all sets together (Linux: max_user_watches, ENOSPC) */
#define FOREVER UINT64_MAX

struct waitctx {
	struct pollfd host[WAIT_HOST_MAX];
	bool drain[WAIT_HOST_MAX];      /* an interrupt eventfd: read it after a wake-up */
	unsigned nhost;
	uint64_t next_ns;               /* host monotonic time a timer expires */
};

static uint64_t clock_ns(int clock)
{
	struct timespec ts;
	if (guest_clock_gettime(clock, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- timers --------------------------------------------------------------------- */

/* Counts the expirations up to now. */
static void timer_update(struct ofile *of)
{
	uint64_t now = clock_ns(of->timer.clock), next = of->timer.next_ns;
	if (!next || now < next)
		return;
	if (of->timer.interval_ns) {
		uint64_t n = (now - next) / of->timer.interval_ns + 1;
		of->timer.expired += n;
		of->timer.next_ns = next + n * of->timer.interval_ns;
	} else {
		of->timer.expired++;
		of->timer.next_ns = 0;
	}
	of->timer.gen++;
}

/* ---- readiness -------------------------------------------------------------------- */

static void add_host(struct waitctx *wc, int fd, short events, bool drain)
{
	if (wc->nhost < WAIT_HOST_MAX) {
		wc->host[wc->nhost] = (struct pollfd){.fd = fd, .events = events};
		wc->drain[wc->nhost++] = drain;
	}
}

static short probe_epoll(struct monitor *m, struct ofile *ep, struct waitctx *wc, int depth);

/* What of is ready for now (POLLIN, POLLOUT, POLLHUP, POLLERR); what could
 * make it ready later goes into wc. */
static short probe(struct monitor *m, struct ofile *of, short events, struct waitctx *wc, int depth)
{
	short r = 0;
	switch (of->kind) {
	case OF_STD: {
		struct pollfd p = {.fd = of->host_fd, .events = events};
		if (poll(&p, 1, 0) > 0)
			r = p.revents;
		add_host(wc, of->host_fd, events, false);
		break;
	}
	case OF_PIPE_R:
		r = (short)((of->pipe->len ? POLLIN | POLLRDNORM : 0) | (of->pipe->writers ? 0 : POLLHUP));
		break;
	case OF_PIPE_W:
		r = (short)((PIPE_CAPACITY - of->pipe->len >= PIPE_BUF ? POLLOUT | POLLWRNORM : 0) |
		            (of->pipe->readers ? 0 : POLLERR));
		break;
	case OF_EVENT:
		r = (short)((of->event.count ? POLLIN : 0) | (of->event.count < UINT64_MAX - 1 ? POLLOUT : 0));
		break;
	case OF_TIMER:
		timer_update(of);
		if (of->timer.expired) {
			r = POLLIN;
		} else if (of->timer.next_ns && wc) {
			uint64_t now = clock_ns(of->timer.clock), host = monitor_now_ns() + (of->timer.next_ns - now);
			if (host < wc->next_ns)
				wc->next_ns = host;
		}
		break;
	case OF_EPOLL:
		r = depth < EPOLL_DEPTH_MAX ? probe_epoll(m, of, wc, depth + 1) : 0;
		break;
	case OF_PORT: {
		unsigned before = wc->nhost;
		if (m->port_arm(m, of->port, wc->host + wc->nhost, &wc->nhost, WAIT_HOST_MAX - wc->nhost))
			r = POLLIN;
		for (unsigned i = before; i < wc->nhost; i++)
			wc->drain[i] = true;
		break;
	}
	default:   /* files and directories never wait: Linux's DEFAULT_POLLMASK */
		r = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
		break;
	}
	return (short)(r & (events | POLLHUP | POLLERR | POLLNVAL));
}

/* What an edge-triggered item compares: changes when something arrives
 * that makes the object readable (or, for a pipe's write end, writable);
 * 0 for objects without one (reported level-triggered). */
static uint64_t object_gen(const struct ofile *of)
{
	switch (of->kind) {
	case OF_PIPE_R: return of->pipe->in_gen;
	case OF_PIPE_W: return of->pipe->out_gen;
	case OF_EVENT: return of->event.gen;
	case OF_TIMER: return of->timer.gen;
	default: return 0;
	}
}

/* One epoll item's events now, 0 when not to be reported (disabled, or
 * edge-triggered with nothing new since the last report). */
static uint32_t item_events(struct monitor *m, struct epoll_item *it, struct waitctx *wc, int depth)
{
	if (it->disabled)
		return 0;
	uint32_t r = (uint32_t)(uint16_t)probe(m, it->of, (short)(it->events & 0xffff), wc, depth);
	if (r && (it->events & EPOLLET) && object_gen(it->of) == it->gen_seen && object_gen(it->of))
		return 0;
	return r;
}

static short probe_epoll(struct monitor *m, struct ofile *ep, struct waitctx *wc, int depth)
{
	for (unsigned i = 0; i < ep->ep.n; i++)
		if (item_events(m, &ep->ep.item[i], wc, depth))
			return POLLIN;
	return 0;
}

/* ---- the wait loop ----------------------------------------------------------------- */

typedef int (*probe_all_fn)(struct monitor *m, void *arg, struct waitctx *wc);

/* Probes until something is ready (the probe's count or error) or the
 * host monotonic deadline passes (0). */
static int wait_loop(struct monitor *m, probe_all_fn probe_all, void *arg, uint64_t deadline)
{
	static struct waitctx wc;
	/* with other threads: the deadline kept across retries, at most a
	 * slice in the host, then the others' turn (threads.h) */
	bool many = threads_many(m);
	if (many)
		deadline = threads_wait_deadline(m, deadline);
	for (unsigned round = 0;; round++) {
		wc.nhost = 0;
		wc.next_ns = deadline;
		int n = probe_all(m, arg, &wc);
		if (n)
			return n;
		uint64_t now = monitor_now_ns();
		if (now >= deadline)
			return 0;
		if (many && (round || threads_others_runnable(m)))
			return (int)threads_retry(m);
		wc.next_ns = threads_wait_bound(m, now, wc.next_ns);
		struct timespec ts, *tp = NULL;
		if (wc.next_ns != FOREVER) {
			uint64_t left = wc.next_ns > now ? wc.next_ns - now : 0;
			ts = (struct timespec){(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
			tp = &ts;
		}
		if (signals_waiting(m))
			return -EINTR;   /* a handler runs first */
		int r = ppoll(wc.host, wc.nhost, tp, NULL);
		if (r < 0 && errno == EINTR && freeze_pending)
			freeze_serve(m, m->ctx->rip, GS_CALL_SYSCALL);
		for (unsigned i = 0; r > 0 && i < wc.nhost; i++) {
			uint64_t v;
			if (wc.drain[i] && (wc.host[i].revents & POLLIN) && read(wc.host[i].fd, &v, sizeof(v)) < 0)
				continue;   /* drained by someone else: nothing to do */
		}
	}
}

struct one { struct ofile *of; short events; };

static int probe_one(struct monitor *m, void *arg, struct waitctx *wc)
{
	struct one *o = arg;
	return probe(m, o->of, o->events, wc, 0) ? 1 : 0;
}

int64_t wait_for(struct monitor *m, struct ofile *of, short events)
{
	struct one o = {of, events};
	int r = wait_loop(m, probe_one, &o, FOREVER);
	return r == THREAD_BLOCKED ? r : r < 0 ? -EINTR : 0;
}

/* A relative timeout in ns from now as a host deadline. */
static uint64_t deadline_after(uint64_t ns)
{
	uint64_t now = monitor_now_ns();
	return ns >= FOREVER - now ? FOREVER : now + ns;
}

/* A guest timespec (NULL: forever) as a deadline, or -errno. */
static int64_t timespec_deadline(struct monitor *m, uint64_t addr, uint64_t *deadline)
{
	struct timespec ts;
	if (!addr) {
		*deadline = FOREVER;
		return 0;
	}
	if (gm_read(&m->gm, &ts, addr, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	*deadline = (uint64_t)ts.tv_sec > FOREVER / 2000000000u ? FOREVER
	            : deadline_after((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	return 0;
}

/* ---- reading and writing the objects -------------------------------------------------- */

int64_t waitobj_read(struct ofile *of, void *buf, uint64_t len)
{
	switch (of->kind) {
	case OF_PIPE_R: {
		struct pipe_buf *p = of->pipe;
		if (!len)
			return 0;
		if (!p->len)
			return p->writers ? -EAGAIN : 0;
		uint64_t n = len < p->len ? len : p->len;
		for (uint64_t done = 0; done < n;) {
			uint64_t chunk = PIPE_CAPACITY - p->head < n - done ? PIPE_CAPACITY - p->head : n - done;
			memcpy((uint8_t *)buf + done, p->data + p->head, chunk);
			p->head = (uint32_t)((p->head + chunk) % PIPE_CAPACITY);
			done += chunk;
		}
		p->len -= (uint32_t)n;
		p->out_gen++;
		return (int64_t)n;
	}
	case OF_EVENT: {
		if (len < 8)
			return -EINVAL;
		if (!of->event.count)
			return -EAGAIN;
		uint64_t v = of->event.semaphore ? 1 : of->event.count;
		of->event.count -= v;
		memcpy(buf, &v, 8);
		return 8;
	}
	case OF_TIMER:
		if (len < 8)
			return -EINVAL;
		timer_update(of);
		if (!of->timer.expired)
			return -EAGAIN;
		memcpy(buf, &of->timer.expired, 8);
		of->timer.expired = 0;
		return 8;
	default:
		return -EINVAL;
	}
}

int64_t waitobj_write(struct ofile *of, const void *buf, uint64_t len)
{
	switch (of->kind) {
	case OF_PIPE_W: {
		struct pipe_buf *p = of->pipe;
		if (!p->readers) {
			signals_send_self(the_monitor, SIGPIPE, SI_USER);
			return -EPIPE;
		}
		if (!len)
			return 0;
		uint64_t room = PIPE_CAPACITY - p->len;
		if (!room || (len <= PIPE_BUF && room < len))
			return -EAGAIN;   /* small writes are atomic */
		uint64_t n = len < room ? len : room;
		for (uint64_t done = 0; done < n;) {
			uint32_t tail = (p->head + p->len) % PIPE_CAPACITY;
			uint64_t chunk = PIPE_CAPACITY - tail < n - done ? PIPE_CAPACITY - tail : n - done;
			memcpy(p->data + tail, (const uint8_t *)buf + done, chunk);
			p->len += (uint32_t)chunk;
			done += chunk;
		}
		p->in_gen++;
		return (int64_t)n;
	}
	case OF_EVENT: {
		uint64_t v;
		if (len < 8)
			return -EINVAL;
		memcpy(&v, buf, 8);
		if (v == UINT64_MAX)
			return -EINVAL;
		if (v > UINT64_MAX - 1 - of->event.count)
			return -EAGAIN;
		of->event.count += v;
		of->event.gen++;
		return 8;
	}
	default:
		return -EINVAL;
	}
}

/* ---- creating them ----------------------------------------------------------------------- */

int64_t sys_pipe2(struct monitor *m, ARGS)
{
	if (a[1] & ~(uint64_t)(O_NONBLOCK | O_CLOEXEC | O_DIRECT))
		return -EINVAL;
	if (!gm_access_ok(&m->gm, a[0], 8, GP_W))
		return -EFAULT;
	/* the buffer counts against the guest's tmp_size, as its files do */
	if (memfs_charge(&m->fs.mem, PIPE_CAPACITY))
		return -ENFILE;
	struct pipe_buf *p = calloc(1, sizeof(*p));
	uint8_t *data = p ? malloc(PIPE_CAPACITY) : NULL;
	struct ofile *r = data ? of_new(OF_PIPE_R, O_RDONLY | (int)(a[1] & O_NONBLOCK)) : NULL;
	struct ofile *w = r ? of_new(OF_PIPE_W, O_WRONLY | (int)(a[1] & O_NONBLOCK)) : NULL;
	if (!w) {
		free(data);
		free(p);
		free(r);
		memfs_uncharge(&m->fs.mem, PIPE_CAPACITY);
		return -ENFILE;
	}
	p->data = data;
	p->readers = p->writers = 1;
	p->in_gen = p->out_gen = 1;   /* 0 is "no generation": level-triggered (object_gen) */
	r->pipe = w->pipe = p;
	int fds[2];
	fds[0] = fd_install(r, 0, a[1] & O_CLOEXEC);
	if (fds[0] < 0) {
		of_put(w);
		return fds[0];
	}
	fds[1] = fd_install(w, 0, a[1] & O_CLOEXEC);
	if (fds[1] < 0) {
		fd_close(fds[0]);
		return fds[1];
	}
	return gm_write(&m->gm, a[0], fds, sizeof(fds));
}

int64_t sys_pipe(struct monitor *m, ARGS)
{
	const uint64_t b[6] = {a[0], 0};
	return sys_pipe2(m, b);
}

static int64_t make_event(uint64_t init, uint64_t flags)
{
	if (flags & ~(uint64_t)(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	struct ofile *of = of_new(OF_EVENT, O_RDWR | (int)(flags & EFD_NONBLOCK));
	if (!of)
		return -ENFILE;
	of->event.count = (uint32_t)init;
	of->event.semaphore = flags & EFD_SEMAPHORE;
	of->event.gen = 1;
	return fd_install(of, 0, flags & EFD_CLOEXEC);
}

int64_t sys_eventfd(struct monitor *m, ARGS) { (void)m; return make_event(a[0], 0); }
int64_t sys_eventfd2(struct monitor *m, ARGS) { (void)m; return make_event(a[0], a[1]); }

int64_t sys_timerfd_create(struct monitor *m, ARGS)
{
	(void)m;
	int clock = (int)a[0];
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
		return clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM ? -EPERM : -EINVAL;
	if (a[1] & ~(uint64_t)(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	struct ofile *of = of_new(OF_TIMER, O_RDWR | (int)(a[1] & TFD_NONBLOCK));
	if (!of)
		return -ENFILE;
	of->timer.clock = clock;
	of->timer.gen = 1;
	return fd_install(of, 0, a[1] & TFD_CLOEXEC);
}

static struct ofile *timer_of(uint64_t fd, int64_t *err)
{
	struct ofile *of = fd_get((int)fd);
	*err = !of ? -EBADF : of->kind != OF_TIMER ? -EINVAL : 0;
	return *err ? NULL : of;
}

static uint64_t ts_ns(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }
static struct timespec ns_ts(uint64_t ns) { return (struct timespec){(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)}; }

/* The timer's setting as timerfd_gettime reports it. */
static void timer_get(struct ofile *of, struct itimerspec *cur)
{
	timer_update(of);
	uint64_t now = clock_ns(of->timer.clock);
	cur->it_interval = ns_ts(of->timer.interval_ns);
	cur->it_value = ns_ts(of->timer.next_ns ? (of->timer.next_ns > now ? of->timer.next_ns - now : 1) : 0);
}

int64_t sys_timerfd_settime(struct monitor *m, ARGS)
{
	int64_t err;
	struct ofile *of = timer_of(a[0], &err);
	if (!of)
		return err;
	if (a[1] & ~(uint64_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -EINVAL;
	struct itimerspec its, old;
	if (gm_read(&m->gm, &its, a[2], sizeof(its)))
		return -EFAULT;
	for (int i = 0; i < 2; i++) {
		struct timespec t = i ? its.it_value : its.it_interval;
		if (t.tv_sec < 0 || t.tv_nsec < 0 || t.tv_nsec >= 1000000000 || t.tv_sec > (time_t)(INT64_MAX / 4000000000))
			return -EINVAL;
	}
	timer_get(of, &old);
	uint64_t value = ts_ns(its.it_value);
	of->timer.interval_ns = ts_ns(its.it_interval);
	of->timer.expired = 0;
	of->timer.next_ns = !value ? 0 : (a[1] & TFD_TIMER_ABSTIME) ? (value ? value : 1)
	                    : clock_ns(of->timer.clock) + value;
	of->timer.gen++;
	return a[3] ? gm_write(&m->gm, a[3], &old, sizeof(old)) : 0;
}

int64_t sys_timerfd_gettime(struct monitor *m, ARGS)
{
	int64_t err;
	struct ofile *of = timer_of(a[0], &err);
	if (!of)
		return err;
	struct itimerspec cur;
	timer_get(of, &cur);
	return gm_write(&m->gm, a[1], &cur, sizeof(cur));
}

int64_t port_fd_open(struct monitor *m, uint64_t port)
{
	if (!m->port_arm || port != 0)
		return -ENODEV;
	struct ofile *of = of_new(OF_PORT, O_RDONLY);
	if (!of)
		return -ENFILE;
	of->port = (unsigned)port;
	return fd_install(of, 0, true);
}

/* ---- poll and select ---------------------------------------------------------------------- */

struct poll_req {
	struct pollfd *p;
	uint64_t n;
};

static int probe_poll(struct monitor *m, void *arg, struct waitctx *wc)
{
	struct poll_req *q = arg;
	int ready = 0;
	for (uint64_t i = 0; i < q->n; i++) {
		struct pollfd *p = &q->p[i];
		p->revents = 0;
		if (p->fd < 0)
			continue;
		struct ofile *of = fd_get(p->fd);
		p->revents = of ? probe(m, of, p->events, wc, 0) : POLLNVAL;
		ready += p->revents != 0;
	}
	return ready;
}

static int64_t do_poll(struct monitor *m, uint64_t addr, uint64_t n, uint64_t deadline)
{
	static struct pollfd p[FD_MAX];
	if (n > fd_limit())
		return -EINVAL;   /* Linux: nfds over RLIMIT_NOFILE */
	if (gm_read(&m->gm, p, addr, n * sizeof(*p)) || !gm_access_ok(&m->gm, addr, n * sizeof(*p), GP_W))
		return -EFAULT;
	struct poll_req q = {p, n};
	int r = wait_loop(m, probe_poll, &q, deadline);
	for (uint64_t i = 0; i < n; i++)   /* only revents changes, as Linux writes it */
		if (gm_write(&m->gm, addr + i * sizeof(*p) + 6, &p[i].revents, 2))
			return -EFAULT;
	return r;
}

int64_t sys_poll(struct monitor *m, ARGS)
{
	int ms = (int)a[2];
	return do_poll(m, a[0], a[1], ms < 0 ? FOREVER : deadline_after((uint64_t)ms * 1000000u));
}

int64_t sys_ppoll(struct monitor *m, ARGS)
{
	uint64_t deadline;
	int64_t r = timespec_deadline(m, a[2], &deadline);
	return r ? r : do_poll(m, a[0], a[1], deadline);
}

struct select_req {
	unsigned nfds;
	uint64_t in[3][FD_MAX / 64];      /* read, write, except: what was asked */
	uint64_t out[3][FD_MAX / 64];
};

static int probe_select(struct monitor *m, void *arg, struct waitctx *wc)
{
	static const short want[3] = {POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI};
	struct select_req *q = arg;
	int ready = 0;
	memset(q->out, 0, sizeof(q->out));
	for (unsigned fd = 0; fd < q->nfds; fd++) {
		uint64_t bit = 1ull << (fd % 64);
		short events = 0;
		for (int k = 0; k < 3; k++)
			if (q->in[k][fd / 64] & bit)
				events |= want[k];
		if (!events)
			continue;
		struct ofile *of = fd_get((int)fd);
		if (!of)
			return -EBADF;
		short r = probe(m, of, events, wc, 0);
		for (int k = 0; k < 3; k++)
			if ((q->in[k][fd / 64] & bit) && (r & want[k])) {
				q->out[k][fd / 64] |= bit;
				ready++;
			}
	}
	return ready;
}

static int64_t do_select(struct monitor *m, uint64_t nfds, const uint64_t sets[3], uint64_t deadline)
{
	static struct select_req q;
	if ((int)nfds < 0)
		return -EINVAL;
	q.nfds = nfds > FD_MAX ? FD_MAX : (unsigned)nfds;
	size_t bytes = (q.nfds + 63) / 64 * 8;
	memset(q.in, 0, sizeof(q.in));
	for (int k = 0; k < 3; k++)
		if (sets[k] && (gm_read(&m->gm, q.in[k], sets[k], bytes) || !gm_access_ok(&m->gm, sets[k], bytes, GP_W)))
			return -EFAULT;
	/* bits past nfds are not looked at */
	if (q.nfds % 64)
		for (int k = 0; k < 3; k++)
			q.in[k][q.nfds / 64] &= (1ull << (q.nfds % 64)) - 1;
	int r = wait_loop(m, probe_select, &q, deadline);
	if (r < 0)
		return r;
	for (int k = 0; k < 3; k++)
		if (sets[k] && gm_write(&m->gm, sets[k], r ? q.out[k] : (uint64_t[FD_MAX / 64]){0}, bytes))
			return -EFAULT;
	return r;
}

int64_t sys_select(struct monitor *m, ARGS)
{
	uint64_t deadline = FOREVER, tv[2];
	if (a[4]) {
		if (gm_read(&m->gm, tv, a[4], sizeof(tv)))
			return -EFAULT;
		if ((int64_t)tv[0] < 0 || (int64_t)tv[1] < 0 || tv[1] >= 1000000)
			return -EINVAL;
		deadline = tv[0] > FOREVER / 2000000000u ? FOREVER : deadline_after(tv[0] * 1000000000u + tv[1] * 1000u);
	}
	const uint64_t sets[3] = {a[1], a[2], a[3]};
	int64_t r = do_select(m, a[0], sets, deadline);
	if (r >= 0 && a[4] && deadline != FOREVER) {
		/* Linux writes back the time left */
		uint64_t now = monitor_now_ns(), left = deadline > now ? deadline - now : 0;
		uint64_t out[2] = {left / 1000000000u, left % 1000000000u / 1000u};
		if (gm_write(&m->gm, a[4], out, sizeof(out)))
			return -EFAULT;
	}
	return r;
}

int64_t sys_pselect6(struct monitor *m, ARGS)
{
	uint64_t deadline;
	int64_t r = timespec_deadline(m, a[4], &deadline);
	const uint64_t sets[3] = {a[1], a[2], a[3]};
	return r ? r : do_select(m, a[0], sets, deadline);
}

/* ---- epoll ---------------------------------------------------------------------------------- */

struct epoll_event_abi {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));

static int64_t make_epoll(uint64_t flags)
{
	if (flags & ~(uint64_t)EPOLL_CLOEXEC)
		return -EINVAL;
	struct ofile *of = of_new(OF_EPOLL, O_RDWR);
	return of ? fd_install(of, 0, flags & EPOLL_CLOEXEC) : -ENFILE;
}

int64_t sys_epoll_create(struct monitor *m, ARGS) { (void)m; return (int)a[0] <= 0 ? -EINVAL : make_epoll(0); }
int64_t sys_epoll_create1(struct monitor *m, ARGS) { (void)m; return make_epoll(a[0]); }

static struct epoll_item *find_item(struct ofile *ep, int fd, struct ofile *of)
{
	for (unsigned i = 0; i < ep->ep.n; i++)
		if (ep->ep.item[i].fd == fd && ep->ep.item[i].of == of)
			return &ep->ep.item[i];
	return NULL;
}

/* Would adding `of` to ep close a loop of epoll sets? */
static bool epoll_reaches(struct ofile *from, struct ofile *target, int depth)
{
	if (from == target)
		return true;
	if (depth > EPOLL_DEPTH_MAX)
		return true;
	for (unsigned i = 0; i < from->ep.n; i++)
		if (from->ep.item[i].of->kind == OF_EPOLL && epoll_reaches(from->ep.item[i].of, target, depth + 1))
			return true;
	return false;
}

int64_t sys_epoll_ctl(struct monitor *m, ARGS)
{
	struct ofile *ep = fd_get((int)a[0]), *of = fd_get((int)a[2]);
	int op = (int)a[1], fd = (int)a[2];
	if (!ep || !of)
		return -EBADF;
	if (ep->kind != OF_EPOLL || ep == of)
		return -EINVAL;
	if (of->kind == OF_MEM || of->kind == OF_MEMDIR || of->kind == OF_HOST || of->kind == OF_LINK)
		return -EPERM;   /* Linux: regular files and directories cannot be watched */
	struct epoll_event_abi ev = {0, 0};
	if (op != EPOLL_CTL_DEL && gm_read(&m->gm, &ev, a[3], sizeof(ev)))
		return -EFAULT;
	struct epoll_item *it = find_item(ep, fd, of);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		if (of->kind == OF_EPOLL && epoll_reaches(of, ep, 0))
			return -ELOOP;
		if (epoll_watches >= EPOLL_WATCHES_MAX)
			return -ENOSPC;
		if (ep->ep.n == ep->ep.cap) {
			unsigned cap = ep->ep.cap ? 2 * ep->ep.cap : 8;
			struct epoll_item *n = realloc(ep->ep.item, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			ep->ep.item = n;
			ep->ep.cap = cap;
		}
		ep->ep.item[ep->ep.n++] = (struct epoll_item){fd, of, ev.events, ev.data, object_gen(of) - 1, false};
		epoll_watches++;
		return 0;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		it->events = ev.events;
		it->data = ev.data;
		it->disabled = false;
		it->gen_seen = object_gen(of) - 1;
		return 0;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		memmove(it, it + 1, (size_t)(&ep->ep.item[--ep->ep.n] - it) * sizeof(*it));
		epoll_watches--;
		return 0;
	default:
		return -EINVAL;
	}
}

struct epoll_req {
	struct ofile *ep;
	struct epoll_event_abi *out;
	unsigned max;
};

static int probe_epoll_wait(struct monitor *m, void *arg, struct waitctx *wc)
{
	struct epoll_req *q = arg;
	struct ofile *ep = q->ep;
	unsigned n = 0, count = ep->ep.n, moved = 0;
	for (unsigned i = 0; i < count - moved && n < q->max;) {
		struct epoll_item *it = &ep->ep.item[i];
		uint32_t r = item_events(m, it, wc, 1);
		if (!r) {
			i++;
			continue;
		}
		q->out[n++] = (struct epoll_event_abi){r, it->data};
		it->gen_seen = object_gen(it->of);
		if (it->events & EPOLLONESHOT)
			it->disabled = true;
		/* to the end, as Linux's ready list puts a reported item, so that
		 * a small maxevents still serves every ready item in turn */
		struct epoll_item done = *it;
		memmove(it, it + 1, (count - i - 1) * sizeof(*it));
		ep->ep.item[count - 1] = done;
		moved++;
	}
	return (int)n;
}

static int64_t do_epoll_wait(struct monitor *m, uint64_t epfd, uint64_t events, uint64_t max, uint64_t deadline)
{
	static struct epoll_event_abi out[FD_MAX];
	struct ofile *ep = fd_get((int)epfd);
	if (!ep)
		return -EBADF;
	if (ep->kind != OF_EPOLL || (int)max <= 0)
		return -EINVAL;
	if ((int)max > FD_MAX)
		max = FD_MAX;
	if (!gm_access_ok(&m->gm, events, max * sizeof(*out), GP_W))
		return -EFAULT;
	struct epoll_req q = {ep, out, (unsigned)max};
	int n = wait_loop(m, probe_epoll_wait, &q, deadline);
	if (n > 0 && gm_write(&m->gm, events, out, (uint64_t)n * sizeof(*out)))
		return -EFAULT;
	return n;
}

int64_t sys_epoll_wait(struct monitor *m, ARGS)
{
	int ms = (int)a[3];
	return do_epoll_wait(m, a[0], a[1], a[2], ms < 0 ? FOREVER : deadline_after((uint64_t)ms * 1000000u));
}

int64_t sys_epoll_pwait(struct monitor *m, ARGS) { return sys_epoll_wait(m, a); }

int64_t sys_epoll_pwait2(struct monitor *m, ARGS)
{
	uint64_t deadline;
	int64_t r = timespec_deadline(m, a[3], &deadline);
	return r ? r : do_epoll_wait(m, a[0], a[1], a[2], deadline);
}
