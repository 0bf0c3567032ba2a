/*
 * freeze.c: requests from the daemon at safe points, and the guest state
 * they save and restore (freeze.h, docs/migration.md).
 */
#include "monitor/freeze.h"
#include "monitor/fdtab.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gates/cpu_model.h"
#include "gates/host.h"
#include "monitor/fault.h"
#include "monitor/guest_clock.h"
#include "monitor/monitor.h"

volatile sig_atomic_t freeze_pending;

static int link_fd = -1;
static int (*pull_link)(void);

/* Requests read but not yet served; the daemon sends one at a time and
 * waits for its reply, so a few slots are plenty (more are refused). */
#define QUEUED_MAX 4
static struct { uint32_t type; int fd; } queued[QUEUED_MAX];
static unsigned nqueued;

/* The state freeze_load read, until freeze_loaded applied its last part. */
static uint8_t *loaded;
static struct gs_view loaded_view;

static void reply(uint32_t request, int64_t result)
{
	struct link_msg r = {.type = LINK_MIG_REPLY, .queue = request, .mem_size = (uint64_t)result};
	/* the daemon reads replies with recvmsg; a plain write needs no new
	 * system call in the jail */
	if (write(link_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		fprintf(stderr, "opsub: cannot answer the daemon: %s\n", strerror(errno));
}

static bool on_request(int sig, const siginfo_t *si)
{
	(void)sig;
	(void)si;
	freeze_pending = 1;
	return true;
}

int freeze_install(int link_sock, int (*pull)(void), char *err, size_t errlen)
{
	link_fd = link_sock;
	pull_link = pull;
	/* SA_RESTART: reads and writes of the guest's descriptors go on
	 * unseen; sleeps and polls come back with EINTR, and their callers
	 * serve the request and sleep on (freeze_serve).  The stepping to a
	 * safe point is fault.c's, which wraps this handler. */
	if (fault_on_request(FAULT_REQUEST_SIGNAL, on_request)) {
		snprintf(err, errlen, "cannot install the migration request handler");
		return -1;
	}
	return 0;
}

void freeze_take(const struct link_msg *msg, int fd)
{
	if (nqueued == QUEUED_MAX) {
		if (fd >= 0)
			close(fd);
		reply(msg->type, -EBUSY);
		return;
	}
	queued[nqueued].type = msg->type;
	queued[nqueued].fd = fd;
	nqueued++;
	freeze_pending = 1;
}

/* ---- saving ---------------------------------------------------------------- */

struct writer {
	uint8_t *buf;
	size_t len, cap;
	uint32_t sections;
};

/* Appends a section of `size` bytes (a multiple of 8) and returns its body. */
static uint8_t *section(struct writer *w, uint32_t tag, uint32_t size)
{
	struct guest_state_section s = {tag, size};
	uint8_t *at = w->buf + w->len + sizeof(s);
	memcpy(w->buf + w->len, &s, sizeof(s));
	w->len += sizeof(s) + size;
	w->sections++;
	return at;
}

static void save_cpu(struct monitor *m, struct writer *w, uint64_t pc)
{
	struct gs_cpu *c = (void *)section(w, GS_CPU, sizeof(struct gs_cpu));
	memcpy(c->gpr, m->ctx->gpr, sizeof(c->gpr));
	/* what the gate saved, without what single-stepping may have added */
	c->rflags = (ctx_guest_rflags(m->ctx) & GUEST_RFLAGS_ALLOWED) | GUEST_RFLAGS_ALWAYS;
	c->rip = pc;
	c->fs_base = m->ctx->fs_base;
	c->gs_base = m->ctx->gs_base;
	memcpy(c->xsave, ctx_xsave_image(m->ctx), XSAVE_SIZE_AVX);
	/* the standard format's header beyond XSTATE_BV is zero */
	memset(c->xsave + XSAVE_HEADER + 8, 0, 56);
}

static void save_memory(struct monitor *m, struct writer *w)
{
	uint64_t pages = m->gm.size / GUEST_PAGE;
	struct gs_memory *g = (void *)section(w, GS_MEMORY, (uint32_t)(sizeof(struct gs_memory) + pages));
	g->brk_start = m->gm.brk_start;
	g->brk = m->gm.brk;
	g->mmap_top = m->gm.mmap_top;
	g->mmap_low = m->gm.mmap_low;
	g->pages = pages;
	uint8_t *prot = (uint8_t *)(g + 1);
	for (uint64_t p = 0; p < pages; p++)
		prot[p] = m->gm.page[p] & (GP_R | GP_W | GP_X | GP_MAPPED);
}

static void save_personality(struct monitor *m, struct writer *w)
{
	struct gs_personality *p = (void *)section(w, GS_PERSONALITY, sizeof(struct gs_personality));
	p->tid_address = m->tid_address;
	p->sigmask = m->sigmask;
	p->closed_fds = m->closed_fds;
	memcpy(p->sigactions, m->sigactions, sizeof(p->sigactions));
	signals_save(m, p);
	timers_save(m, p);
}

int64_t freeze_save(struct monitor *m, uint64_t pc, uint32_t call, uint8_t **out)
{
	uint64_t pages = m->gm.size / GUEST_PAGE;
	struct writer w = {.cap = GUEST_STATE_MAX};
	/* a saved state carries memory, registers and descriptors 0-2 only:
	 * a guest with other descriptors or a changed file system stays */
	for (int fd = 0; fd < FD_MAX; fd++)
		if (fd_get(fd) && !fd_is_std(fd))
			return -ENOTSUP;
	if (m->fs.mem.changes != m->fs_changes_at_start || strcmp(m->fs.cwd, "/") || m->umask != 022 ||
	    fd_limit() != FD_MAX)
		return -ENOTSUP;   /* nor the working directory, umask or descriptor limit */
	if (threads_live(m) > 1 || timers_posix_used(m))
		return -ENOTSUP;   /* nor more than one thread, nor POSIX timers */
	if (pages % 8)
		return -EINVAL;   /* the page table would break alignment: no daemon gives such a size */
	w.buf = calloc(1, w.cap);
	if (!w.buf)
		return -ENOMEM;
	struct guest_state_header *h = (void *)w.buf;
	w.len = sizeof(*h);
	save_cpu(m, &w, pc);
	int64_t clocks[GUEST_CLOCKS];
	guest_clock_save(clocks);
	memcpy(section(&w, GS_CLOCK, sizeof(struct gs_clock)), clocks, sizeof(struct gs_clock));
	save_memory(m, &w);
	save_personality(m, &w);
	struct gs_syscall *s = (void *)section(&w, GS_SYSCALL, sizeof(struct gs_syscall));
	s->kind = call;
	s->nr = call == GS_CALL_NONE ? 0 : m->ctx->gpr[GPR_RAX];
	/* the port's part last: its size depends on what is in flight */
	size_t room = w.cap - w.len - sizeof(struct guest_state_section);
	uint8_t *drv = w.buf + w.len + sizeof(struct guest_state_section);
	size_t n = 0;
	if (m->port_save)
		n = m->port_save(m, drv, room);
	else if (room >= sizeof(struct gs_driver)) {
		struct gs_driver none = {.mode = GUEST_STATE_NO_PORT};
		memcpy(drv, &none, sizeof(none));
		n = sizeof(none);
	}
	if (n == 0 || n % 8) {
		free(w.buf);
		return -ENOSPC;
	}
	section(&w, GS_DRIVER, (uint32_t)n);
	memcpy(h->magic, GUEST_STATE_MAGIC, 8);
	h->version = GUEST_STATE_VERSION;
	h->size = (uint32_t)w.len;
	h->mem_size = m->gm.size;
	memcpy(&h->io_mode, drv, sizeof(h->io_mode));   /* gs_driver.mode */
	h->sections = w.sections;
	h->cpu_optional = cpu_model_shown();
	h->reserved = 0;
	*out = w.buf;
	return (int64_t)w.len;
}

static int64_t save_to(struct monitor *m, uint64_t pc, uint32_t call, int fd)
{
	uint8_t *buf;
	int64_t len = freeze_save(m, pc, call, &buf);
	if (len < 0)
		return len;
	for (int64_t done = 0; done < len;) {
		ssize_t n = write(fd, buf + done, (size_t)(len - done));
		if (n <= 0) {
			len = n < 0 ? -errno : -EIO;
			break;
		}
		done += n;
	}
	free(buf);
	return len;
}

/* ---- serving --------------------------------------------------------------- */

/* Pulls what waits on the link socket (the driver's messages go to it);
 * with wait, first blocks until something comes.  The daemon gone while
 * the guest is paused ends the process: nobody can resume it. */
static void pull(bool wait)
{
	if (wait) {
		struct pollfd p = {.fd = link_fd, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			monitor_finish(1);
	}
	if (pull_link() < 0 && wait) {
		fprintf(stderr, "opsub: the daemon closed the link while the guest was paused\n");
		monitor_finish(1);
	}
}

void freeze_serve(struct monitor *m, uint64_t pc, uint32_t call)
{
	bool paused = false;
	for (;;) {
		freeze_pending = 0;
		pull(paused && nqueued == 0);
		if (nqueued == 0) {
			if (paused)
				continue;
			return;
		}
		uint32_t type = queued[0].type;
		int fd = queued[0].fd;
		memmove(queued, queued + 1, --nqueued * sizeof(queued[0]));
		int64_t r = 0;
		switch (type) {
		case LINK_MIG_PAUSE:
			paused = true;
			break;
		case LINK_MIG_RESUME:
			paused = false;
			break;
		case LINK_MIG_SAVE:
			r = !paused ? -EBUSY : fd < 0 ? -EBADF : save_to(m, pc, call, fd);
			break;
		default:
			r = -EINVAL;   /* LINK_MIG_STATE is for a process starting */
			break;
		}
		if (fd >= 0)
			close(fd);
		reply(type, r);
	}
}

/* ---- restoring --------------------------------------------------------------- */

/* Reads the state sent with LINK_MIG_STATE into a buffer of our own. */
static int read_state(uint8_t **out, size_t *len, char *err, size_t errlen)
{
	int fd = -1;
	while (fd < 0) {
		struct pollfd p = {.fd = link_fd, .events = POLLIN};
		/* the daemon may start this process long before the state
		 * exists (while a migration copies memory) */
		if (nqueued == 0 && poll(&p, 1, -1) < 0 && errno != EINTR) {
			snprintf(err, errlen, "cannot wait for the guest state: %s", strerror(errno));
			return -1;
		}
		if (pull_link() < 0 && nqueued == 0) {
			snprintf(err, errlen, "the daemon closed the link before sending the guest state");
			return -1;
		}
		if (nqueued) {
			bool state = queued[0].type == LINK_MIG_STATE;
			fd = state ? queued[0].fd : -1;
			if (!state && queued[0].fd >= 0)
				close(queued[0].fd);
			memmove(queued, queued + 1, --nqueued * sizeof(queued[0]));
			if (state && fd < 0) {
				snprintf(err, errlen, "the guest state came without its descriptor");
				return -1;
			}
		}
	}
	uint8_t *buf = aligned_alloc(8, GUEST_STATE_MAX);
	size_t got = 0;
	ssize_t r = 1;
	while (buf && got < GUEST_STATE_MAX && (r = pread(fd, buf + got, GUEST_STATE_MAX - got, (off_t)got)) > 0)
		got += (size_t)r;
	int e = errno;
	close(fd);
	if (!buf || r < 0) {
		free(buf);
		snprintf(err, errlen, "cannot read the guest state: %s", strerror(buf ? e : ENOMEM));
		return -1;
	}
	*out = buf;
	*len = got;
	return 0;
}

static void restore_cpu(struct monitor *m, const struct gs_cpu *c)
{
	memcpy(m->ctx->gpr, c->gpr, sizeof(c->gpr));
	ctx_set_guest_rflags(m->ctx, c->rflags);
	m->ctx->fs_base = c->fs_base;
	m->ctx->gs_base = c->gs_base;
	uint8_t *xsave = ctx_xsave_image(m->ctx);
	memset(xsave, 0, CTX_XSAVE_SIZE);
	memcpy(xsave, c->xsave, XSAVE_SIZE_AVX);
}

static void restore_personality(struct monitor *m, const struct gs_personality *p)
{
	m->tid_address = p->tid_address;
	m->sigmask = p->sigmask;
	m->closed_fds = (uint8_t)p->closed_fds;
	memcpy(m->sigactions, p->sigactions, sizeof(m->sigactions));
	signals_restore(m, p);
	timers_restore(m, p);
}

int freeze_load(struct monitor *m, uint64_t *pc, char *err, size_t errlen)
{
	size_t len;
	if (read_state(&loaded, &len, err, errlen))
		return -1;
	const struct gs_view *v = &loaded_view;
	if (gs_check(loaded, len, m->gm.size, host_mxcsr_mask(), host_optional_rows(), &loaded_view, err, errlen))
		return -1;
	cpu_model_show(v->header->cpu_optional);   /* the guest's model, before anything is translated */
	const struct gs_memory *mem = v->memory;
	int rc = gm_restore(&m->gm, v->prot, mem->brk_start, mem->brk, mem->mmap_low);
	if (rc) {
		snprintf(err, errlen, "cannot restore the guest's page protections: %s", strerror(-rc));
		return -1;
	}
	restore_cpu(m, v->cpu);
	guest_clock_restore(v->clock->ns);
	restore_personality(m, v->personality);
	*pc = v->cpu->rip;
	return 0;
}

int freeze_loaded(struct monitor *m, char *err, size_t errlen)
{
	const struct gs_view *v = &loaded_view;
	int rc = 0;
	if (v->driver->mode == GUEST_STATE_NO_PORT) {
		if (m->port_restore) {
			snprintf(err, errlen, "the guest had no port, this one has");
			rc = -1;
		}
	} else if (!m->port_restore) {
		snprintf(err, errlen, "the guest had a port, this process has none");
		rc = -1;
	} else {
		rc = m->port_restore(m, v, err, errlen);
	}
	free(loaded);
	loaded = NULL;
	reply(LINK_MIG_STATE, rc ? -EINVAL : 0);
	return rc;
}
