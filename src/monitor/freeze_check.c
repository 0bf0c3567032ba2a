/*
 * freeze_check.c: gs_check, the checks of a guest state read back from
 * elsewhere (freeze_check.h).  Every check says in its message which
 * section and field it refused.
 */
#include "monitor/freeze_check.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gates/cpu_model.h"
#include "gates/ctx.h"
#include "nic_regs.h"
#include "sandbox/guest_mem.h"

/* The largest state this process can write fits the limit the daemons
 * carry: the header, every section at its largest. */
static_assert(sizeof(struct guest_state_header) + GS_SECTIONS * sizeof(struct guest_state_section) +
              sizeof(struct gs_cpu) + sizeof(struct gs_clock) + sizeof(struct gs_memory) + GUEST_SPACE / GUEST_PAGE +
              sizeof(struct gs_personality) + sizeof(struct gs_syscall) + sizeof(struct gs_driver) +
              8 * GS_DRIVER_MAX_POSTED + sizeof(struct opsub_net_pkt) * GS_DRIVER_MAX_RECEIVED +
              8 * GS_DRIVER_MAX_RETURNED <= GUEST_STATE_MAX, "GUEST_STATE_MAX holds the largest state");
static_assert(sizeof(struct gs_cpu) % 8 == 0 && sizeof(struct gs_personality) % 8 == 0 &&
              sizeof(struct gs_driver) % 8 == 0 && sizeof(struct guest_state_header) % 8 == 0,
              "sections keep 8-byte alignment");
static_assert(NIC_RING_MAX <= GS_DRIVER_MAX_POSTED, "a whole receive ring fits a state");

struct checker {
	char *err;
	size_t errlen;
	uint64_t mem_size;
	struct gs_view *v;
};

__attribute__((format(printf, 2, 3))) static int refuse(struct checker *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->err, k->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* True when [addr, addr+len) (len > 0) lies in guest memory and every page
 * of it is mapped with at least `need` in the state's own page table. */
static bool state_pages_allow(const struct checker *k, uint64_t addr, uint64_t len, uint8_t need)
{
	if (len == 0 || addr < GUEST_LOWEST || addr > k->mem_size || len > k->mem_size - addr)
		return false;
	for (uint64_t p = addr / GUEST_PAGE; p <= (addr + len - 1) / GUEST_PAGE; p++)
		if ((k->v->prot[p] & (GP_MAPPED | need)) != (GP_MAPPED | need))
			return false;
	return true;
}

/* ---- one check per section ---------------------------------------------- */

static int check_memory(struct checker *k, const uint8_t *body, uint32_t size)
{
	const struct gs_memory *m = (const void *)body;
	uint64_t pages = k->mem_size / GUEST_PAGE;
	if (size < sizeof(*m) || m->pages != pages || size != sizeof(*m) + pages)
		return refuse(k, "MEMORY: the page table is not one byte per page of the %lu bytes of guest memory",
		              k->mem_size);
	const uint8_t *prot = body + sizeof(*m);
	for (uint64_t p = 0; p < pages; p++) {
		uint8_t b = prot[p];
		bool mapped = b & GP_MAPPED;
		if (b & ~(GP_R | GP_W | GP_X | GP_MAPPED))
			return refuse(k, "MEMORY: page 0x%lx has protection bits 0x%x outside R, W, X and mapped",
			              (uint64_t)(p * GUEST_PAGE), b);
		if (!mapped && b)
			return refuse(k, "MEMORY: page 0x%lx has a protection but is not mapped", (uint64_t)(p * GUEST_PAGE));
		if ((b & (GP_W | GP_X)) && !(b & GP_R))
			return refuse(k, "MEMORY: page 0x%lx is writable or executable but not readable", (uint64_t)(p * GUEST_PAGE));
		if (mapped && (uint64_t)(p * GUEST_PAGE) < GUEST_LOWEST)
			return refuse(k, "MEMORY: page 0x%lx lies below the lowest guest address 0x%llx", (uint64_t)(p * GUEST_PAGE),
			              GUEST_LOWEST);
	}
	if (m->brk_start < GUEST_LOWEST || m->brk_start > m->brk || m->brk > k->mem_size)
		return refuse(k, "MEMORY: the break 0x%lx (from 0x%lx) is not inside guest memory", m->brk, m->brk_start);
	if (m->mmap_top != gm_mmap_top(k->mem_size))
		return refuse(k, "MEMORY: the top of the mmap area 0x%lx is not 0x%lx, where guest memory of this size "
		              "has it", m->mmap_top, gm_mmap_top(k->mem_size));
	if (m->mmap_low < GUEST_LOWEST || m->mmap_low > m->mmap_top || m->mmap_low % GUEST_PAGE)
		return refuse(k, "MEMORY: the low mark of the mmap area 0x%lx is not a page inside it", m->mmap_low);
	k->v->memory = m;
	k->v->prot = prot;
	return 0;
}

static int check_xsave(struct checker *k, const uint8_t *x, uint32_t mxcsr_mask)
{
	char why[160];
	return ctx_xsave_check(x, mxcsr_mask, why, sizeof(why)) ? refuse(k, "CPU: %s", why) : 0;
}

/* Needs MEMORY (for rip). */
static int check_cpu(struct checker *k, const uint8_t *body, uint32_t size, uint32_t mxcsr_mask)
{
	const struct gs_cpu *c = (const void *)body;
	if (size != sizeof(*c))
		return refuse(k, "CPU: section of %u bytes, not %zu", size, sizeof(*c));
	if ((c->rflags & ~GUEST_RFLAGS_ALLOWED) || (c->rflags & GUEST_RFLAGS_ALWAYS) != GUEST_RFLAGS_ALWAYS)
		return refuse(k, "CPU: rflags 0x%lx is not a user program's (allowed 0x%llx, always 0x%llx)", c->rflags,
		              GUEST_RFLAGS_ALLOWED, GUEST_RFLAGS_ALWAYS);
	if (!state_pages_allow(k, c->rip, 1, GP_X))
		return refuse(k, "CPU: rip 0x%lx is not in executable guest memory", c->rip);
	if (check_xsave(k, c->xsave, mxcsr_mask))
		return -1;
	k->v->cpu = c;
	return 0;
}

static int check_clock(struct checker *k, const uint8_t *body, uint32_t size)
{
	const struct gs_clock *c = (const void *)body;
	if (size != sizeof(*c))
		return refuse(k, "CLOCK: section of %u bytes, not %zu", size, sizeof(*c));
	for (unsigned i = 0; i < 8; i++)
		if (c->ns[i] < 0 || c->ns[i] >= (1ll << 62))
			return refuse(k, "CLOCK: clock %u reads %ld ns, outside [0, 2^62)", i, c->ns[i]);
	k->v->clock = c;
	return 0;
}

static int check_personality(struct checker *k, const uint8_t *body, uint32_t size)
{
	const struct gs_personality *p = (const void *)body;
	static const uint64_t none[4];
	if (size != sizeof(*p))
		return refuse(k, "PERSONALITY: section of %u bytes, not %zu", size, sizeof(*p));
	if (p->closed_fds & ~7u || p->reserved)
		return refuse(k, "PERSONALITY: closed descriptors 0x%x name one above 2", p->closed_fds);
	/* what the personality never records: signal 0, actions for SIGKILL
	 * and SIGSTOP */
	if (memcmp(p->sigactions[0], none, sizeof(none)) || memcmp(p->sigactions[9], none, sizeof(none)) ||
	    memcmp(p->sigactions[19], none, sizeof(none)))
		return refuse(k, "PERSONALITY: an action for signal 0, SIGKILL or SIGSTOP");
	uint32_t stack_mode = p->altstack_flags & ~(1u << 31);   /* without SS_AUTODISARM */
	if ((stack_mode != 0 && stack_mode != 2) || p->reserved2 ||
	    (stack_mode == 2 && (p->altstack_sp || p->altstack_size || p->altstack_flags != 2)) ||
	    (stack_mode == 0 && (p->altstack_size < 2048 || p->altstack_size > k->mem_size)))
		return refuse(k, "PERSONALITY: alternate signal stack flags 0x%x, size %lu: not one sigaltstack sets",
		              p->altstack_flags, p->altstack_size);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			if (p->itimer_ns[i][j] >= (1ull << 62))
				return refuse(k, "PERSONALITY: interval timer %d holds %lu ns, not below 2^62", i, p->itimer_ns[i][j]);
	k->v->personality = p;
	return 0;
}

/* Needs CPU. */
static int check_syscall(struct checker *k, const uint8_t *body, uint32_t size)
{
	const struct gs_syscall *s = (const void *)body;
	if (size != sizeof(*s))
		return refuse(k, "SYSCALL: section of %u bytes, not %zu", size, sizeof(*s));
	if (s->kind > GS_CALL_HYPERCALL || s->reserved || (s->kind == GS_CALL_NONE && s->nr))
		return refuse(k, "SYSCALL: kind %u is none of none, system call, hypercall", s->kind);
	if (s->kind != GS_CALL_NONE && k->v->cpu->gpr[0] != s->nr)
		return refuse(k, "SYSCALL: rax 0x%lx is not the number %lu of the call to make again", k->v->cpu->gpr[0],
		              s->nr);
	k->v->syscall = s;
	return 0;
}

static int check_posted(struct checker *k, const char *what, uint64_t addr)
{
	if (addr % 64 || !(addr >= GUEST_LOWEST && addr <= k->mem_size && OPSUB_NET_BUF_SIZE <= k->mem_size - addr))
		return refuse(k, "DRIVER: %s buffer 0x%lx is not a 64-byte aligned buffer inside guest memory", what, addr);
	return 0;
}

/* Needs MEMORY. */
static int check_driver(struct checker *k, const uint8_t *body, uint32_t size)
{
	const struct gs_driver *d = (const void *)body;
	if (size < sizeof(*d))
		return refuse(k, "DRIVER: section of %u bytes, shorter than %zu", size, sizeof(*d));
	if (d->mode != k->v->header->io_mode)
		return refuse(k, "DRIVER: mode %u is not the header's I/O mode %u", d->mode, k->v->header->io_mode);
	if (d->opened > 1 || d->reserved || d->reserved2)
		return refuse(k, "DRIVER: opened is %u, not 0 or 1", d->opened);
	if (d->posted > GS_DRIVER_MAX_POSTED || d->received > GS_DRIVER_MAX_RECEIVED ||
	    d->returned > GS_DRIVER_MAX_RETURNED)
		return refuse(k, "DRIVER: %u posted, %u received, %u returned buffers: more than a port holds", d->posted,
		              d->received, d->returned);
	uint64_t arrays = 8ull * d->posted + sizeof(struct opsub_net_pkt) * d->received + 8ull * d->returned;
	if (size != sizeof(*d) + arrays)
		return refuse(k, "DRIVER: section of %u bytes does not hold its %u + %u + %u buffers", size, d->posted,
		              d->received, d->returned);
	if (d->mode != OPSUB_IO_OPSUB && arrays)
		return refuse(k, "DRIVER: buffers carried in a mode other than opsub");
	if (d->mode == GUEST_STATE_NO_PORT && d->opened)
		return refuse(k, "DRIVER: a port opened by a guest without one");
	if (d->mode != GUEST_STATE_NO_PORT && d->mode != OPSUB_IO_OPSUB && d->mode != OPSUB_IO_PARAVIRT)
		return refuse(k, "DRIVER: I/O mode %u cannot be restored (only opsub and paravirt migrate)", d->mode);
	if (d->opened && (d->info_mode != d->mode || d->ports != 1 || d->ring_size < NIC_RING_MIN ||
	                  d->ring_size > NIC_RING_MAX || (d->ring_size & (d->ring_size - 1))))
		return refuse(k, "DRIVER: what NET_OPEN answered (mode %u, %u ports, ring size %u) is not a port of "
		              "this mode", d->info_mode, d->ports, d->ring_size);
	if (d->opened && (d->mac[0] & 1))
		return refuse(k, "DRIVER: the port's MAC is a multicast address");
	if (!d->opened && (arrays || d->ring_size || d->shared || d->shared_size))
		return refuse(k, "DRIVER: a port never opened has driver state");
	if (d->regs || d->dev_base)
		return refuse(k, "DRIVER: passthrough fields set");
	if (d->mode == OPSUB_IO_PARAVIRT && d->opened &&
	    (d->shared % GUEST_PAGE || d->shared_size != 2 * OPSUB_VRING_SIZE(d->ring_size) ||
	     !state_pages_allow(k, d->shared, d->shared_size, GP_R | GP_W)))
		return refuse(k, "DRIVER: the virtqueues at 0x%lx (%lu bytes) are not readable and writable guest "
		              "memory of their size", d->shared, d->shared_size);
	if (d->mode == OPSUB_IO_OPSUB && (d->shared || d->shared_size))
		return refuse(k, "DRIVER: paravirt fields set in opsub mode");
	const uint8_t *at = body + sizeof(*d);
	k->v->posted = (const void *)at;
	k->v->received = (const void *)(at + 8ull * d->posted);
	k->v->returned = (const void *)(at + 8ull * d->posted + sizeof(struct opsub_net_pkt) * d->received);
	for (uint32_t i = 0; i < d->posted; i++)
		if (check_posted(k, "posted", k->v->posted[i]))
			return -1;
	for (uint32_t i = 0; i < d->received; i++) {
		const struct opsub_net_pkt *p = &k->v->received[i];
		if (check_posted(k, "received", p->addr))
			return -1;
		if (p->len < OPSUB_NET_MIN_FRAME || p->len > OPSUB_NET_MAX_FRAME || p->reserved)
			return refuse(k, "DRIVER: received frame of %u bytes at 0x%lx", p->len, p->addr);
	}
	for (uint32_t i = 0; i < d->returned; i++) {
		uint64_t a = k->v->returned[i];
		if (a < GUEST_LOWEST || a >= k->mem_size)
			return refuse(k, "DRIVER: buffer 0x%lx to hand back is not in guest memory", a);
	}
	k->v->driver = d;
	return 0;
}

/* ---- the whole state ---------------------------------------------------- */

static int check_header(struct checker *k, const uint8_t *buf, size_t len, uint32_t cpu_rows)
{
	const struct guest_state_header *h = (const void *)buf;
	if (len < sizeof(*h) || memcmp(h->magic, GUEST_STATE_MAGIC, 8))
		return refuse(k, "not a guest state (no %s header)", GUEST_STATE_MAGIC);
	if (h->version != GUEST_STATE_VERSION)
		return refuse(k, "guest state version %u, this opsub reads version %u", h->version, GUEST_STATE_VERSION);
	if (h->size != len || len > GUEST_STATE_MAX)
		return refuse(k, "the header says %u bytes, the state has %zu (at most %u)", h->size, len, GUEST_STATE_MAX);
	if (h->mem_size != k->mem_size)
		return refuse(k, "the guest had %lu bytes of memory, this process was given %lu", h->mem_size, k->mem_size);
	if (h->io_mode > OPSUB_IO_EMULATED && h->io_mode != GUEST_STATE_NO_PORT)
		return refuse(k, "I/O mode %u is unknown", h->io_mode);
	if (h->sections != GS_SECTIONS)
		return refuse(k, "%u sections, a state has %u", h->sections, GS_SECTIONS);
	if (h->reserved)
		return refuse(k, "the header's reserved field is %u, not 0", h->reserved);
	char why[256];
	if (cpu_model_fits(h->cpu_optional, cpu_rows, why, sizeof(why)))
		return refuse(k, "%s", why);
	k->v->header = h;
	return 0;
}

static const char *const section_names[] = {
	[GS_CPU] = "CPU", [GS_CLOCK] = "CLOCK", [GS_MEMORY] = "MEMORY",
	[GS_PERSONALITY] = "PERSONALITY", [GS_SYSCALL] = "SYSCALL", [GS_DRIVER] = "DRIVER",
};

int gs_check(const uint8_t *buf, size_t len, uint64_t mem_size, uint32_t mxcsr_mask, uint32_t cpu_rows,
             struct gs_view *v, char *err, size_t errlen)
{
	struct checker k = {err, errlen, mem_size, v};
	memset(v, 0, sizeof(*v));
	if (mem_size < GUEST_MEM_MIN || mem_size > GUEST_SPACE || mem_size % GUEST_PAGE)
		return refuse(&k, "guest memory of %lu bytes is not a guest's", mem_size);
	if (check_header(&k, buf, len, cpu_rows))
		return -1;
	/* Find every section first: some checks need another section. */
	const uint8_t *body[GS_SECTIONS + 1] = {0};
	uint32_t size[GS_SECTIONS + 1] = {0};
	size_t off = sizeof(struct guest_state_header);
	for (unsigned i = 0; i < GS_SECTIONS; i++) {
		struct guest_state_section s;
		if (len - off < sizeof(s))
			return refuse(&k, "the state ends inside section %u's header", i + 1);
		memcpy(&s, buf + off, sizeof(s));
		off += sizeof(s);
		if (s.tag < GS_CPU || s.tag > GS_DRIVER)
			return refuse(&k, "section %u has the unknown tag %u", i + 1, s.tag);
		if (body[s.tag])
			return refuse(&k, "section %s appears twice", section_names[s.tag]);
		if (s.size % 8 || s.size > len - off)
			return refuse(&k, "section %s of %u bytes runs past the end of the state or breaks alignment",
			              section_names[s.tag], s.size);
		body[s.tag] = buf + off;
		size[s.tag] = s.size;
		off += s.size;
	}
	if (off != len)
		return refuse(&k, "%zu bytes follow the last section", len - off);
	if (check_memory(&k, body[GS_MEMORY], size[GS_MEMORY]) ||
	    check_cpu(&k, body[GS_CPU], size[GS_CPU], mxcsr_mask) || check_clock(&k, body[GS_CLOCK], size[GS_CLOCK]) ||
	    check_personality(&k, body[GS_PERSONALITY], size[GS_PERSONALITY]) ||
	    check_syscall(&k, body[GS_SYSCALL], size[GS_SYSCALL]) || check_driver(&k, body[GS_DRIVER], size[GS_DRIVER]))
		return -1;
	return 0;
}
