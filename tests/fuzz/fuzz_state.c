/*
 * libFuzzer target for the guest-state checker gs_check() (a migrated or
 * snapshot guest's state comes from the network or a file).  Random bytes
 * would rarely pass the header, so the input is a list of patches applied
 * to a valid state built here: each patch is {u16 offset (modulo the
 * state's size), u8 length (1..16), bytes}; a final u8, if present, cuts
 * that many 8-byte words off the end.  gs_check must never crash or read
 * outside the state, and every state it accepts must keep the promises
 * freeze_load and netdrv_state_restore rely on when they apply it:
 *
 *   - rip on a page the state maps executable; rflags within
 *     GUEST_RFLAGS_ALLOWED with GUEST_RFLAGS_ALWAYS set;
 *   - the XSAVE header holds only x87/SSE/AVX and is otherwise zero, and
 *     MXCSR has no bit the host reserves;
 *   - every page byte is R/W/X/MAPPED only; brk inside guest memory;
 *   - the alternate signal stack disabled (all zero but SS_DISABLE) or set
 *     with a size sigaltstack accepts; every timer value below 2^62 ns (a
 *     timespec timer_settime takes);
 *   - every posted or received buffer 64-byte aligned with a whole buffer
 *     inside guest memory, every received length a frame's, every buffer
 *     to hand back inside guest memory.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gates/ctx.h"
#include "monitor/freeze_check.h"
#include "sandbox/guest_mem.h"

#define MEM        GUEST_MEM_MIN
#define PAGES      (MEM / GUEST_PAGE)
#define CODE       0x400000ull
#define DATA       0x800000ull
#define MXCSR_MASK 0xffbfu

static uint8_t base[GUEST_STATE_MAX];
static size_t base_len;

static uint8_t *put_section(uint8_t *at, uint32_t tag, const void *body, uint32_t size)
{
	struct guest_state_section s = {tag, size};
	memcpy(at, &s, sizeof(s));
	memcpy(at + sizeof(s), body, size);
	return at + sizeof(s) + size;
}

/* A valid state: a paused opsub-mode guest with buffers in every list. */
static void build_base(void)
{
	uint8_t *at = base + sizeof(struct guest_state_header);
	static struct gs_cpu cpu;
	cpu.rflags = 0x246;
	cpu.rip = CODE + 0x20;
	cpu.gpr[4] = DATA + 0x1000;
	uint32_t mxcsr = 0x1f80;
	memcpy(cpu.xsave + XSAVE_MXCSR, &mxcsr, 4);
	cpu.xsave[XSAVE_HEADER] = 3;
	at = put_section(at, GS_CPU, &cpu, sizeof(cpu));
	struct gs_clock clock = {{1700000000000000000ll, 5000000000ll, 5000000000ll, 1000, 0, 0, 0, 5000000000ll}};
	at = put_section(at, GS_CLOCK, &clock, sizeof(clock));
	static uint8_t mem[sizeof(struct gs_memory) + PAGES];
	struct gs_memory gm = {.brk_start = DATA + 0x10000, .brk = DATA + 0x20000, .mmap_top = gm_mmap_top(MEM),
	                       .mmap_low = gm_mmap_top(MEM) - 0x10000, .pages = PAGES};
	memcpy(mem, &gm, sizeof(gm));
	for (uint64_t p = CODE / GUEST_PAGE; p < CODE / GUEST_PAGE + 8; p++)
		mem[sizeof(gm) + p] = GP_MAPPED | GP_R | GP_X;
	for (uint64_t p = DATA / GUEST_PAGE; p < DATA / GUEST_PAGE + 32; p++)
		mem[sizeof(gm) + p] = GP_MAPPED | GP_R | GP_W;
	at = put_section(at, GS_MEMORY, mem, sizeof(mem));
	static struct gs_personality pers = {.tid_address = DATA, .sigmask = 1, .altstack_flags = 2};
	pers.sigactions[2][0] = CODE;
	at = put_section(at, GS_PERSONALITY, &pers, sizeof(pers));
	struct gs_syscall call = {.kind = GS_CALL_NONE};
	at = put_section(at, GS_SYSCALL, &call, sizeof(call));
	struct {
		struct gs_driver d;
		uint64_t posted[2];
		struct opsub_net_pkt received[1];
		uint64_t returned[2];
	} drv = {.d = {.mode = OPSUB_IO_OPSUB, .opened = 1, .mac = {2, 0, 0, 0, 0, 7}, .info_mode = OPSUB_IO_OPSUB,
	               .ports = 1, .ring_size = 256, .posted = 2, .received = 1, .returned = 2},
	         .posted = {DATA + 0x2000, DATA + 0x2800},
	         .received = {{.addr = DATA + 0x3000, .len = 60}},
	         .returned = {DATA + 0x4000, DATA + 0x4800}};
	at = put_section(at, GS_DRIVER, &drv, sizeof(drv));
	base_len = (size_t)(at - base);
	struct guest_state_header h = {.version = GUEST_STATE_VERSION, .size = (uint32_t)base_len, .mem_size = MEM,
	                               .io_mode = OPSUB_IO_OPSUB, .sections = GS_SECTIONS};
	memcpy(h.magic, GUEST_STATE_MAGIC, 8);
	memcpy(base, &h, sizeof(h));
}

__attribute__((format(printf, 1, 2))) static void violated(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\nFUZZ FAILURE: gs_check ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static bool buffer_inside(uint64_t a) { return a % 64 == 0 && a >= GUEST_LOWEST && a + OPSUB_NET_BUF_SIZE <= MEM; }

static void check_promises(const struct gs_view *v)
{
	const struct gs_cpu *c = v->cpu;
	uint8_t rip_page = v->prot[c->rip / GUEST_PAGE];
	if (c->rip >= MEM || (rip_page & (GP_MAPPED | GP_X)) != (GP_MAPPED | GP_X))
		violated("accepted a state that has rip 0x%lx outside executable memory", c->rip);
	if ((c->rflags & ~GUEST_RFLAGS_ALLOWED) || (c->rflags & GUEST_RFLAGS_ALWAYS) != GUEST_RFLAGS_ALWAYS)
		violated("accepted a state that has rflags 0x%lx", c->rflags);
	uint64_t bv;
	uint32_t mxcsr;
	memcpy(&bv, c->xsave + XSAVE_HEADER, 8);
	memcpy(&mxcsr, c->xsave + XSAVE_MXCSR, 4);
	if (bv & ~7ull || (mxcsr & ~MXCSR_MASK))
		violated("accepted a state that has XSTATE_BV 0x%lx, MXCSR 0x%x", bv, mxcsr);
	for (unsigned i = 8; i < 64; i++)
		if (c->xsave[XSAVE_HEADER + i])
			violated("accepted a state that has a non-standard XSAVE header");
	for (uint64_t p = 0; p < PAGES; p++)
		if (v->prot[p] & ~(GP_R | GP_W | GP_X | GP_MAPPED))
			violated("accepted a state that gives page %lu the bits 0x%x", p, v->prot[p]);
	if (v->memory->brk > MEM || v->memory->brk < v->memory->brk_start)
		violated("accepted a state that has the break at 0x%lx", v->memory->brk);
	const struct gs_personality *p = v->personality;
	uint32_t stack_mode = p->altstack_flags & ~(1u << 31);
	if (stack_mode == 2 ? p->altstack_sp || p->altstack_size || p->altstack_flags != 2
	                    : stack_mode != 0 || p->altstack_size < 2048)
		violated("accepted a state that has the alternate stack flags 0x%x size %lu", p->altstack_flags,
		         p->altstack_size);
	for (int i = 0; i < 3; i++)
		if (p->itimer_ns[i][0] >= (1ull << 62) || p->itimer_ns[i][1] >= (1ull << 62))
			violated("accepted a state that has timer %d at %lu/%lu ns", i, p->itimer_ns[i][0], p->itimer_ns[i][1]);
	const struct gs_driver *d = v->driver;
	for (uint32_t i = 0; i < d->posted; i++)
		if (!buffer_inside(v->posted[i]))
			violated("accepted a state that posts buffer 0x%lx", v->posted[i]);
	for (uint32_t i = 0; i < d->received; i++)
		if (!buffer_inside(v->received[i].addr) || v->received[i].len < OPSUB_NET_MIN_FRAME ||
		    v->received[i].len > OPSUB_NET_MAX_FRAME)
			violated("accepted a state that holds a received frame of %u bytes at 0x%lx", v->received[i].len, v->received[i].addr);
	for (uint32_t i = 0; i < d->returned; i++)
		if (v->returned[i] < GUEST_LOWEST || v->returned[i] >= MEM)
			violated("accepted a state that hands back buffer 0x%lx", v->returned[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base_len)
		build_base();
	uint8_t *state = malloc(base_len);
	memcpy(state, base, base_len);
	size_t len = base_len, i = 0;
	while (i + 3 < size) {
		size_t off = (data[i] | (size_t)data[i + 1] << 8) % len, n = (size_t)(data[i + 2] % 16) + 1;
		i += 3;
		for (size_t k = 0; k < n && i < size; k++, i++)
			state[(off + k) % len] = data[i];
	}
	if (i < size)
		len -= 8 * (size_t)(data[i] % 16) < len ? 8 * (size_t)(data[i] % 16) : 0;
	/* exactly len bytes, so ASan sees a read past the end */
	uint8_t *exact = malloc(len);
	memcpy(exact, state, len);
	free(state);
	struct gs_view v;
	char err[256];
	if (gs_check(exact, len, MEM, MXCSR_MASK, 0, &v, err, sizeof(err)) == 0)
		check_promises(&v);
	else if (!err[0])
		violated("refused a state without saying why");
	free(exact);
	return 0;
}
