/*
 * The control socket: who may hold a path, and serving many clients at
 * once without any of them waiting for another (control.h).
 *
 * One epoll descriptor gathers the listening socket, every connection and
 * a timer armed at the earliest deadline, so the daemon's main loop polls
 * one descriptor and calls control_serve when it is readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"

/* When accept fails for lack of descriptors, listening pauses this long
 * (the pending connection would otherwise wake the main loop at once). */
#define ACCEPT_RETRY_MS 100

struct connection {
	int fd;                     /* -1: slot free */
	char *buf;                  /* the request so far (CONTROL_MAX_REQUEST + 1 bytes) */
	size_t len;
	uint64_t deadline_ns;       /* whole request by then; then whole reply sent by then */
	uint64_t quiet_ns;          /* 0, or when the request ends for lack of more data */
	char *reply;                /* non-NULL: replying */
	size_t reply_len, sent;
	bool drain;                 /* after the reply, read and drop the rest of a request
	                             * too long, so that the client is not cut off while it
	                             * still writes and can read why */
};

struct control {
	char *path, *lock_path;
	int listen_fd, lock_fd, epoll_fd, timer_fd;
	dev_t dev;                  /* of the socket we bound: removed only if still ours */
	ino_t ino;
	bool listening;             /* false while accepting is paused */
	uint64_t accept_retry_ns;
	struct connection conn[CONTROL_MAX_CLIENTS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link"
	       : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : S_ISFIFO(m) ? "a FIFO"
	       : "not a socket";
}

/* "pid N (COMM)" of a process, or "" when unknown. */
static void describe_pid(long pid, char *out, size_t outlen)
{
	out[0] = 0;
	if (pid <= 0)
		return;
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(out, outlen, comm[0] ? "pid %ld (%s)" : "pid %ld", pid, comm);
}

/* Takes PATH.lock, or says who holds it.  The file is locked, then checked
 * to be still the one at the path: a holder that was stopping may have
 * removed it between our open and our lock. */
static int take_lock(struct control *c, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		int fd = open(c->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			snprintf(err, errlen, "cannot create the lock file %s of the control socket: %s", c->lock_path,
			         strerror(errno));
			return -1;
		}
		struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fcntl(fd, F_OFD_SETLK, &l) < 0) {
			int e = errno;
			char text[32] = "", who[128];
			ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
			text[n > 0 ? n : 0] = 0;
			close(fd);
			if (e != EAGAIN && e != EACCES) {
				snprintf(err, errlen, "cannot lock %s: %s", c->lock_path, strerror(e));
				return -1;
			}
			describe_pid(strtol(text, NULL, 10), who, sizeof(who));
			snprintf(err, errlen,
			         "another opsub %s%s holds the control socket %s: stop it (opsub ctl --socket %s stop) "
			         "or give this one another \"control\" path",
			         who[0] ? "process, " : "process", who, c->path, c->path);
			return -1;
		}
		struct stat held, now;
		if (fstat(fd, &held) == 0 && stat(c->lock_path, &now) == 0 && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino) {
			char pid[32];
			int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
			if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
				/* the pid is only for the message of a refused daemon */
			}
			c->lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	snprintf(err, errlen, "cannot lock %s: it keeps being replaced", c->lock_path);
	return -1;
}

/* Removes a stale socket at the path; refuses anything else there. */
static int clear_path(struct control *c, const struct sockaddr_un *a, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(c->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot look at the control socket path %s: %s", c->path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "the control socket path %s is %s, not a socket: opsub removes only a stale socket; "
		         "give another \"control\" path or move that file away",
		         c->path, file_kind(st.st_mode));
		return -1;
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		snprintf(err, errlen, "cannot probe the control socket %s: %s", c->path, strerror(errno));
		return -1;
	}
	if (connect(probe, (const struct sockaddr *)a, sizeof(*a)) == 0) {
		/* A live listener that does not take the lock (an older opsub,
		 * another program): the kernel names the process that listens. */
		struct ucred cred = {0};
		socklen_t cl = sizeof(cred);
		char who[128] = "";
		if (getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			describe_pid(cred.pid, who, sizeof(who));
		close(probe);
		snprintf(err, errlen, "a process%s%s listens on the control socket %s: stop it or give this one "
		         "another \"control\" path", who[0] ? ", " : "", who, c->path);
		return -1;
	}
	int e = errno;
	close(probe);
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "cannot probe the control socket %s: %s", c->path, strerror(e));
		return -1;
	}
	if (unlink(c->path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the stale control socket %s: %s", c->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void watch(struct control *c, int fd, uint32_t events, uint64_t tag, int op)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	epoll_ctl(c->epoll_fd, op, fd, &ev);
}

/* Tags of the epoll set: connection slots are 0..MAX-1. */
#define TAG_LISTEN ((uint64_t)CONTROL_MAX_CLIENTS)
#define TAG_TIMER  ((uint64_t)CONTROL_MAX_CLIENTS + 1)

struct control *control_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (!path || !*path) {
		snprintf(err, errlen, "the control socket path is empty");
		return NULL;
	}
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "the control socket path %s is too long (at most %zu bytes)", path,
		         sizeof(a.sun_path) - 1);
		return NULL;
	}
	strcpy(a.sun_path, path);
	/* the default for root lives in /run/opsub, which the first daemon
	 * after a boot makes (systemd's RuntimeDirectory= does it too) */
	if (!strncmp(path, CONTROL_ROOT_DIR "/", sizeof(CONTROL_ROOT_DIR)) && mkdir(CONTROL_ROOT_DIR, 0755) &&
	    errno != EEXIST) {
		snprintf(err, errlen, "cannot make %s for the control socket: %s", CONTROL_ROOT_DIR, strerror(errno));
		return NULL;
	}
	struct control *c = calloc(1, sizeof(*c));
	if (!c || asprintf(&c->lock_path, "%s.lock", path) < 0) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->path = strdup(path);
	c->listen_fd = c->lock_fd = c->epoll_fd = c->timer_fd = -1;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->conn[i].fd = -1;
	if (!c->path || take_lock(c, err, errlen)) {
		free(c->path);
		free(c->lock_path);
		free(c);
		return NULL;
	}
	if (clear_path(c, &a, err, errlen))
		goto fail;
	struct stat st;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(c->listen_fd, SOMAXCONN) || lstat(path, &st)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->epoll_fd < 0 || c->timer_fd < 0) {
		snprintf(err, errlen, "cannot set up the control socket service: %s", strerror(errno));
		goto fail;
	}
	watch(c, c->listen_fd, EPOLLIN, TAG_LISTEN, EPOLL_CTL_ADD);
	watch(c, c->timer_fd, EPOLLIN, TAG_TIMER, EPOLL_CTL_ADD);
	c->listening = true;
	return c;
fail:
	control_close(c);
	return NULL;
}

int control_fd(const struct control *c)
{
	return c->epoll_fd;
}

static void drop(struct control *c, struct connection *k)
{
	if (k->fd < 0)
		return;
	epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k->buf);
	free(k->reply);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* Sends what the socket takes now; drops the connection once all is sent
 * (or the client is gone). */
static void send_reply(struct control *c, struct connection *k)
{
	while (k->sent < k->reply_len) {
		ssize_t n = send(k->fd, k->reply + k->sent, k->reply_len - k->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			k->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;   /* EPOLLOUT brings us back */
		k->drain = false;   /* the client is gone */
		break;
	}
	if (k->drain && k->sent == k->reply_len) {
		shutdown(k->fd, SHUT_WR);
		watch(c, k->fd, EPOLLIN | EPOLLRDHUP, (uint64_t)(k - c->conn), EPOLL_CTL_MOD);
		return;
	}
	drop(c, k);
}

/* Reads and drops what the client still sends; closes at its end. */
static void drain(struct control *c, struct connection *k)
{
	char sink[65536];
	ssize_t n;
	while ((n = recv(k->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0 || (n < 0 && errno == EINTR))
		;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		drop(c, k);
}

/* Starts replying with a reply (malloc'ed, without the newline). */
static void reply_with(struct control *c, struct connection *k, char *reply)
{
	size_t n = strlen(reply);
	char *line = realloc(reply, n + 2);
	if (!line) {
		free(reply);
		drop(c, k);
		return;
	}
	line[n] = '\n';
	line[n + 1] = 0;
	free(k->buf);
	k->buf = NULL;
	k->reply = line;
	k->reply_len = n + 1;
	k->sent = 0;
	k->quiet_ns = 0;
	k->deadline_ns = now_ns() + (uint64_t)CONTROL_REQUEST_MS * 1000000u;
	watch(c, k->fd, EPOLLOUT, (uint64_t)(k - c->conn), EPOLL_CTL_MOD);
	send_reply(c, k);
}

static char *error_reply(const char *msg)
{
	/* msg is made here: plain ASCII, no quote or backslash to escape */
	char *s;
	return asprintf(&s, "{\"ok\":false,\"error\":\"%s\"}", msg) < 0 ? NULL : s;
}

static void answer(struct control *c, struct connection *k, struct daemon *d, size_t len)
{
	char *reply = control_handle_client(d, k->buf, len, k->fd);
	if (reply)
		reply_with(c, k, reply);
	else
		drop(c, k);   /* a job answers on its own duplicate (migrate.h) */
}

static void refuse(struct control *c, struct connection *k, const char *msg)
{
	char *r = error_reply(msg);
	if (r)
		reply_with(c, k, r);
	else
		drop(c, k);
}

static void receive(struct control *c, struct connection *k, struct daemon *d)
{
	for (;;) {
		/* one byte more than a request may have, to tell "too long" */
		ssize_t n = recv(k->fd, k->buf + k->len, CONTROL_MAX_REQUEST + 1 - k->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			drop(c, k);
			return;
		}
		if (n == 0) {   /* end of stream: what came is the request */
			if (k->len == 0)
				drop(c, k);   /* a probe, or a client that changed its mind */
			else
				answer(c, k, d, k->len);
			return;
		}
		char *nl = memchr(k->buf + k->len, '\n', (size_t)n);
		k->len += (size_t)n;
		if (nl && (size_t)(nl - k->buf) <= CONTROL_MAX_REQUEST) {
			answer(c, k, d, (size_t)(nl - k->buf));
			return;
		}
		if (k->len > CONTROL_MAX_REQUEST) {
			char msg[96];
			snprintf(msg, sizeof(msg), "request too long: at most %d bytes and a newline", CONTROL_MAX_REQUEST);
			k->drain = true;
			refuse(c, k, msg);
			return;
		}
	}
	if (k->len)
		k->quiet_ns = now_ns() + (uint64_t)CONTROL_QUIET_MS * 1000000u;
}

static void accept_all(struct control *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* out of descriptors: pause rather than spin */
				watch(c, c->listen_fd, 0, TAG_LISTEN, EPOLL_CTL_MOD);
				c->listening = false;
				c->accept_retry_ns = now_ns() + (uint64_t)ACCEPT_RETRY_MS * 1000000u;
			}
			return;
		}
		struct connection *k = NULL;
		for (unsigned i = 0; i < CONTROL_MAX_CLIENTS && !k; i++)
			if (c->conn[i].fd < 0)
				k = &c->conn[i];
		if (!k) {
			/* small enough for any socket buffer: one try, then close */
			char msg[160];
			int n = snprintf(msg, sizeof(msg),
			                 "{\"ok\":false,\"error\":\"too many control connections: the daemon serves "
			                 "at most %d at a time; try again\"}\n", CONTROL_MAX_CLIENTS);
			if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* the client went away */
			}
			close(fd);
			continue;
		}
		k->fd = fd;
		k->buf = malloc(CONTROL_MAX_REQUEST + 1);
		k->len = 0;
		k->deadline_ns = now_ns() + (uint64_t)CONTROL_REQUEST_MS * 1000000u;
		k->quiet_ns = 0;
		if (!k->buf) {
			close(fd);
			k->fd = -1;
			continue;
		}
		watch(c, fd, EPOLLIN | EPOLLRDHUP, (uint64_t)(k - c->conn), EPOLL_CTL_ADD);
	}
}

/* Deadlines passed: a quiet request is answered, a late one refused, a
 * reply nobody reads dropped.  Then the timer is set to the next one. */
static void deadlines(struct control *c, struct daemon *d)
{
	uint64_t now = now_ns(), next = 0;
	if (!c->listening && now >= c->accept_retry_ns) {
		watch(c, c->listen_fd, EPOLLIN, TAG_LISTEN, EPOLL_CTL_MOD);
		c->listening = true;
	}
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct connection *k = &c->conn[i];
		if (k->fd >= 0 && !k->reply && k->quiet_ns && now >= k->quiet_ns)
			answer(c, k, d, k->len);
		if (k->fd >= 0 && now >= k->deadline_ns) {
			if (k->reply) {
				drop(c, k);
			} else {
				char msg[96];
				snprintf(msg, sizeof(msg), "no complete request within %d s (end it with a newline)",
				         CONTROL_REQUEST_MS / 1000);
				refuse(c, k, msg);
				if (k->fd >= 0)
					drop(c, k);   /* no second chance to read it */
			}
		}
		if (k->fd < 0)
			continue;
		uint64_t t = k->quiet_ns && !k->reply && k->quiet_ns < k->deadline_ns ? k->quiet_ns : k->deadline_ns;
		if (!next || t < next)
			next = t;
	}
	if (!c->listening && (!next || c->accept_retry_ns < next))
		next = c->accept_retry_ns;
	struct itimerspec its = {0};
	if (next) {
		uint64_t delta = next > now ? next - now : 1;
		its.it_value.tv_sec = (time_t)(delta / 1000000000u);
		its.it_value.tv_nsec = (long)(delta % 1000000000u);
	}
	timerfd_settime(c->timer_fd, 0, &its, NULL);
}

void control_serve(struct control *c, struct daemon *d)
{
	struct epoll_event ev[CONTROL_MAX_CLIENTS + 2];
	int n = epoll_wait(c->epoll_fd, ev, CONTROL_MAX_CLIENTS + 2, 0);
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag == TAG_LISTEN) {
			accept_all(c);
		} else if (tag == TAG_TIMER) {
			uint64_t expirations;
			if (read(c->timer_fd, &expirations, sizeof(expirations)) < 0) {
				/* nothing to read: the deadlines are checked below anyway */
			}
		} else if (tag < CONTROL_MAX_CLIENTS && c->conn[tag].fd >= 0) {
			struct connection *k = &c->conn[tag];
			if (k->reply && k->sent == k->reply_len)
				drain(c, k);
			else if (k->reply)
				send_reply(c, k);
			else
				receive(c, k, d);
		}
	}
	deadlines(c, d);
}

void control_close(struct control *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		drop(c, &c->conn[i]);
	if (c->listen_fd >= 0) {
		/* only the socket we made: never a file someone put there since */
		struct stat st;
		if (lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == c->dev && st.st_ino == c->ino)
			unlink(c->path);
		close(c->listen_fd);
	}
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	if (c->timer_fd >= 0)
		close(c->timer_fd);
	if (c->lock_fd >= 0) {
		/* removed while still held: whoever opened it meanwhile sees it
		 * is no longer at the path once it gets the lock, and retries */
		unlink(c->lock_path);
		close(c->lock_fd);
	}
	free(c->path);
	free(c->lock_path);
	free(c);
}

char *control_default_path(void)
{
	const char *env = getenv("OPSUB_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");
	char *path = NULL;
	struct stat st;
	if (env && *env)
		return strdup(env);
	if (geteuid() == 0)
		return strdup(CONTROL_ROOT_DIR "/opsub.sock");
	if (xdg && *xdg == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	    asprintf(&path, "%s/opsub.sock", xdg) > 0)
		return path;
	/* /tmp is shared: a name of this user's own */
	return asprintf(&path, "/tmp/opsub-%ld.sock", (long)geteuid()) > 0 ? path : NULL;
}

char *control_private_path(const char *what)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	struct sockaddr_un a;
	char *path = NULL;
	if (dir && *dir == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    asprintf(&path, "%s/opsub-%s-%ld.sock", dir, what, (long)getpid()) > 0 && strlen(path) < sizeof(a.sun_path))
		return path;
	free(path);
	if (asprintf(&path, "/tmp/opsub-%s-%ld.sock", what, (long)getpid()) < 0)
		return NULL;
	return path;
}
