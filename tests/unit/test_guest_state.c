/*
 * test_guest_state.c: a saved guest state (monitor/guest_state.h) as
 * written by freeze_save and read back by gs_check.  A state comes from
 * the network or a file, so every field a forger could set is refused when
 * it would not describe a guest: each case below starts from a state the
 * checker accepts and changes one thing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gates/cpu_model.h"
#include "monitor/freeze.h"
#include "monitor/monitor.h"

#define MEM     (64ull << 20)
#define CODE    0x400000ull
#define DATA    0x600000ull
#define MXCSR_MASK 0xffbfu

static struct monitor mon;
static uint8_t *state;
static size_t state_len;
static struct gs_view view;
static char err[256];

/* An opsub-mode port with one buffer in each list (the driver's part). */
static size_t port_save(struct monitor *m, uint8_t *out, size_t room)
{
	(void)m;
	struct gs_driver d = {.mode = OPSUB_IO_OPSUB, .opened = 1, .mac = {2, 0, 0, 0, 0, 1},
	                      .info_mode = OPSUB_IO_OPSUB, .ports = 1, .ring_size = 256,
	                      .posted = 1, .received = 1, .returned = 1};
	uint64_t posted = DATA, returned = DATA + 8192;
	struct opsub_net_pkt received = {.addr = DATA + 4096, .len = 60};
	size_t size = sizeof(d) + 8 + sizeof(received) + 8;
	if (size > room)
		return 0;
	memcpy(out, &d, sizeof(d));
	memcpy(out + sizeof(d), &posted, 8);
	memcpy(out + sizeof(d) + 8, &received, sizeof(received));
	memcpy(out + sizeof(d) + 8 + sizeof(received), &returned, 8);
	return size;
}

static int setup(void **unused)
{
	(void)unused;
	memset(&mon, 0, sizeof(mon));
	mon.gm.size = MEM;
	mon.gm.page = calloc(MEM / GUEST_PAGE, 1);
	mon.ctx = aligned_alloc(4096, sizeof(struct rt_ctx));
	memset(mon.ctx, 0, sizeof(struct rt_ctx));
	for (uint64_t p = CODE / GUEST_PAGE; p < CODE / GUEST_PAGE + 4; p++)
		mon.gm.page[p] = GP_MAPPED | GP_R | GP_X | GP_WATCHED;   /* the watch bit is not saved */
	for (uint64_t p = DATA / GUEST_PAGE; p < DATA / GUEST_PAGE + 16; p++)
		mon.gm.page[p] = GP_MAPPED | GP_R | GP_W;
	mon.gm.brk_start = mon.gm.brk = DATA + 16 * GUEST_PAGE;
	mon.gm.mmap_top = mon.gm.mmap_low = gm_mmap_top(MEM);
	for (int i = 0; i < 16; i++)
		mon.ctx->gpr[i] = 0x1111111111111111ull * (uint64_t)i;
	mon.ctx->rflags = 0x202 | 0x100;   /* TF from a single step: dropped */
	mon.ctx->virt_flags = RFLAGS_AC | 1;   /* the guest's AC is in the state, a stray bit is not */
	uint32_t mxcsr = 0x1f80;
	memcpy(mon.ctx->xsave + XSAVE_MXCSR, &mxcsr, 4);
	mon.ctx->fs_base = 0x7000;
	mon.sigmask = 0x5;
	mon.sigactions[10][0] = 0x401000;
	mon.sig.pending = SIG_BIT(SIGUSR1);
	mon.sig.code[SIGUSR1] = SI_TKILL;
	mon.sig.altstack_sp = DATA;
	mon.sig.altstack_size = 8192;
	mon.port_save = port_save;
	strcpy(mon.fs.cwd, "/");   /* a guest as it starts: nothing of its files to carry */
	mon.umask = 022;
	int64_t n = freeze_save(&mon, CODE + 0x10, GS_CALL_NONE, &state);
	if (n <= 0)
		return -1;
	state_len = (size_t)n;
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	free(state);
	free(mon.gm.page);
	free(mon.ctx);
	return 0;
}

/* The optional CPU model rows of the checking host (cpu_model.h). */
static uint32_t host_rows = ~0u;

static int check(void)
{
	return gs_check(state, state_len, MEM, MXCSR_MASK, host_rows, &view, err, sizeof(err));
}

/* Refused, with a message naming `says`; then the state is put back. */
static void refused_after(size_t off, const void *bytes, size_t len, const char *says)
{
	uint8_t saved[64];
	assert_true(len <= sizeof(saved) && off + len <= state_len);
	memcpy(saved, state + off, len);
	memcpy(state + off, bytes, len);
	err[0] = 0;
	int rc = check();
	memcpy(state + off, saved, len);
	if (rc == 0 || !strstr(err, says))
		fail_msg("expected a refusal naming \"%s\", got rc %d: \"%s\"", says, rc, err);
}

/* Offset of a section's body in the state. */
static size_t body_of(uint32_t tag)
{
	size_t off = sizeof(struct guest_state_header);
	for (;;) {
		struct guest_state_section s;
		memcpy(&s, state + off, sizeof(s));
		if (s.tag == tag)
			return off + sizeof(s);
		off += sizeof(s) + s.size;
	}
}

static void round_trip(void **unused)
{
	(void)unused;
	assert_int_equal(check(), 0);
	assert_int_equal(view.cpu->rip, CODE + 0x10);
	assert_int_equal(view.cpu->gpr[15], 0x1111111111111111ull * 15);
	assert_int_equal(view.cpu->rflags, 0x202 | RFLAGS_AC);
	assert_int_equal(view.cpu->fs_base, 0x7000);
	assert_int_equal(view.memory->brk, DATA + 16 * GUEST_PAGE);
	assert_int_equal(view.prot[CODE / GUEST_PAGE], GP_MAPPED | GP_R | GP_X);
	assert_int_equal(view.personality->sigmask, 0x5);
	assert_int_equal(view.personality->sigactions[10][0], 0x401000);
	assert_int_equal(view.personality->sigpending, SIG_BIT(SIGUSR1));
	assert_int_equal(view.personality->sigcode[SIGUSR1 - 1], SI_TKILL);
	assert_int_equal(view.personality->altstack_size, 8192);
	assert_int_equal(view.personality->altstack_flags, 0);
	assert_int_equal(view.driver->posted, 1);
	assert_int_equal(view.posted[0], DATA);
	assert_int_equal(view.received[0].addr, DATA + 4096);
	assert_int_equal(view.returned[0], DATA + 8192);
	assert_int_equal(view.header->io_mode, OPSUB_IO_OPSUB);
}

static void header_forgeries(void **unused)
{
	(void)unused;
	refused_after(0, "OPSUBGS2", 8, "not a guest state");
	uint32_t v = GUEST_STATE_VERSION + 1;
	refused_after(offsetof(struct guest_state_header, version), &v, 4, "version");
	uint32_t sections = 5;
	refused_after(offsetof(struct guest_state_header, sections), &sections, 4, "sections");
	uint32_t one = 1;
	refused_after(offsetof(struct guest_state_header, reserved), &one, 4, "reserved");
	/* truncated, or for another memory size */
	assert_int_not_equal(gs_check(state, state_len - 8, MEM, MXCSR_MASK, host_rows, &view, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "header says"));
	assert_int_not_equal(gs_check(state, state_len, MEM * 2, MXCSR_MASK, host_rows, &view, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "memory"));
}

/* A guest shown an optional CPU feature restores only on a host that
 * executes it; the refusal names the feature. */
static void optional_cpu_rows(void **unused)
{
	(void)unused;
	uint32_t sha = 0;
	for (size_t i = 0; i < cpu_model_count; i++)
		if (!strcmp(cpu_model[i].name, "sha_ni"))
			sha = cpu_model_optional_bit(i);
	assert_int_not_equal(sha, 0);
	size_t at = offsetof(struct guest_state_header, cpu_optional);
	memcpy(state + at, &sha, 4);
	host_rows = sha;
	assert_int_equal(check(), 0);
	host_rows = 0;
	refused_after(at, &sha, 4, "sha_ni");
	uint32_t unknown = 1u << 31;
	host_rows = ~0u & ~unknown;
	refused_after(at, &unknown, 4, "does not know");
	host_rows = ~0u;
	uint32_t none = 0;
	memcpy(state + at, &none, 4);
	assert_int_equal(check(), 0);
}

static void section_forgeries(void **unused)
{
	(void)unused;
	uint32_t cpu = GS_CPU, huge = 0x7ffffff8, unknown = 99;
	size_t pers = body_of(GS_PERSONALITY) - sizeof(struct guest_state_section);
	refused_after(pers, &cpu, 4, "twice");
	refused_after(pers, &unknown, 4, "unknown tag");
	refused_after(pers + 4, &huge, 4, "past the end");
}

static void cpu_forgeries(void **unused)
{
	(void)unused;
	size_t c = body_of(GS_CPU);
	uint64_t tf = 0x302, iopl = 0x3202, data = DATA, nowhere = MEM + 0x1000;
	refused_after(c + offsetof(struct gs_cpu, rflags), &tf, 8, "rflags");
	refused_after(c + offsetof(struct gs_cpu, rflags), &iopl, 8, "rflags");
	refused_after(c + offsetof(struct gs_cpu, rip), &data, 8, "rip");
	refused_after(c + offsetof(struct gs_cpu, rip), &nowhere, 8, "rip");
	uint32_t mxcsr = 0xffff;   /* bit 6 reserved here */
	refused_after(c + offsetof(struct gs_cpu, xsave) + XSAVE_MXCSR, &mxcsr, 4, "MXCSR");
	uint64_t avx512 = 0xe7;
	refused_after(c + offsetof(struct gs_cpu, xsave) + XSAVE_HEADER, &avx512, 8, "XSAVE header");
	uint8_t compacted = 0x80;   /* XCOMP_BV's top bit: the compacted format */
	refused_after(c + offsetof(struct gs_cpu, xsave) + XSAVE_HEADER + 15, &compacted, 1, "standard format");
}

static void memory_forgeries(void **unused)
{
	(void)unused;
	size_t m = body_of(GS_MEMORY);
	uint8_t watched = GP_MAPPED | GP_R | GP_WATCHED, write_only = GP_MAPPED | GP_W, unmapped_r = GP_R;
	size_t prot = m + sizeof(struct gs_memory);
	refused_after(prot + DATA / GUEST_PAGE, &watched, 1, "protection bits");
	refused_after(prot + DATA / GUEST_PAGE, &write_only, 1, "not readable");
	refused_after(prot + DATA / GUEST_PAGE, &unmapped_r, 1, "not mapped");
	uint8_t low = GP_MAPPED | GP_R;
	refused_after(prot + 1, &low, 1, "lowest guest address");
	uint64_t past = MEM + GUEST_PAGE, top = MEM / 2;
	refused_after(m + offsetof(struct gs_memory, brk), &past, 8, "break");
	refused_after(m + offsetof(struct gs_memory, mmap_top), &top, 8, "mmap area");
	uint64_t pages = 1;
	refused_after(m + offsetof(struct gs_memory, pages), &pages, 8, "one byte per page");
}

static void other_forgeries(void **unused)
{
	(void)unused;
	int64_t negative = -1;
	refused_after(body_of(GS_CLOCK) + 8, &negative, 8, "CLOCK");
	uint32_t closed = 8;
	refused_after(body_of(GS_PERSONALITY) + offsetof(struct gs_personality, closed_fds), &closed, 4, "closed");
	uint64_t kill_handler = 0x401000;
	refused_after(body_of(GS_PERSONALITY) + offsetof(struct gs_personality, sigactions) + 9 * 32, &kill_handler, 8,
	              "SIGKILL");
	size_t pers = body_of(GS_PERSONALITY);
	uint32_t onstack = 1, disabled = 2;
	uint64_t tiny = 100, forever = 1ull << 62;
	refused_after(pers + offsetof(struct gs_personality, altstack_flags), &onstack, 4, "alternate signal stack");
	refused_after(pers + offsetof(struct gs_personality, altstack_flags), &disabled, 4, "alternate signal stack");
	refused_after(pers + offsetof(struct gs_personality, altstack_size), &tiny, 8, "alternate signal stack");
	refused_after(pers + offsetof(struct gs_personality, itimer_ns) + 8, &forever, 8, "interval timer");
	uint32_t kind = GS_CALL_SYSCALL;   /* rax is 0: not the call's number 0 ... */
	uint64_t nr = 35;
	size_t s = body_of(GS_SYSCALL);
	memcpy(state + s + offsetof(struct gs_syscall, nr), &nr, 8);
	refused_after(s, &kind, 4, "rax");
	memset(state + s + offsetof(struct gs_syscall, nr), 0, 8);
	uint32_t bogus = 7;
	refused_after(s, &bogus, 4, "kind");
}

static void driver_forgeries(void **unused)
{
	(void)unused;
	size_t d = body_of(GS_DRIVER), arrays = d + sizeof(struct gs_driver);
	uint64_t misaligned = DATA + 8, outside = MEM, low = 0x100;
	refused_after(arrays, &misaligned, 8, "64-byte aligned");
	refused_after(arrays, &outside, 8, "inside guest memory");
	uint16_t tiny = 3;
	refused_after(arrays + 8 + offsetof(struct opsub_net_pkt, len), &tiny, 2, "received frame");
	refused_after(arrays + 8 + sizeof(struct opsub_net_pkt), &low, 8, "hand back");
	uint32_t many = GS_DRIVER_MAX_POSTED + 1;
	refused_after(d + offsetof(struct gs_driver, posted), &many, 4, "more than a port holds");
	uint32_t passthrough = OPSUB_IO_PASSTHROUGH;
	refused_after(d + offsetof(struct gs_driver, mode), &passthrough, 4, "mode");
	uint32_t ring = 100;
	refused_after(d + offsetof(struct gs_driver, ring_size), &ring, 4, "ring size");
	uint8_t multicast = 1;
	refused_after(d + offsetof(struct gs_driver, mac), &multicast, 1, "multicast");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),       cmocka_unit_test(header_forgeries), cmocka_unit_test(section_forgeries),
		cmocka_unit_test(cpu_forgeries),    cmocka_unit_test(memory_forgeries), cmocka_unit_test(other_forgeries),
		cmocka_unit_test(driver_forgeries), cmocka_unit_test(optional_cpu_rows),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
