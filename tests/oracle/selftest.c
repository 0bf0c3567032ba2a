/*
 * The self-test: the oracle must be able to fail.
 *
 * Escape cases are blocks the verifier refuses (each is checked to be
 * refused), run anyway with registers aimed at host memory: the oracle must
 * call every one a violation.  Control cases are blocks the verifier
 * accepts, run with the same kind of hostile registers: each must end the
 * way it should (a gate, a guest or guard fault, a timeout, a signal), and
 * never as a violation.  The blind-spot case shows one documented limit:
 * a store that lands on the handler's alternate stack goes unseen.
 */
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

#include "gates/ctx.h"
#include "gates/gate.h"
#include "translator/verifier.h"
#include "oracle.h"

enum expect { EXPECT_VIOLATION, EXPECT_GATE, EXPECT_IBL_MISS, EXPECT_CONFINED, EXPECT_GUARD, EXPECT_TIMEOUT,
              EXPECT_SIGILL, EXPECT_STACK_WRAP, EXPECT_UNSEEN };

struct selftest_case {
	const char *name;
	const char *bytes;          /* the instructions, before the final jmp gate_exit */
	size_t len;
	enum expect expect;
	void (*aim)(struct machine *m);
	bool amd_only;              /* the CPU disagrees with the decoder on AMD only */
};

/* ---- where the registers point ----------------------------------------------- */

static uint64_t libc_text(void) { return (uint64_t)(uintptr_t)&printf & ~7ull; }
static uint64_t heap(void) { static uint64_t *p; if (!p) p = malloc(256); return (uint64_t)(uintptr_t)p; }
static uint64_t host_named(const char *name)
{
	for (unsigned i = 0; i < env.nhost; i++)
		if (!strcmp(env.host_name[i], name))
			return env.host[i];
	abort();
}
static uint64_t stack(void) { return host_named("stack"); }
static uint64_t sandbox(void) { return 0x10000; }     /* a mapped, filled sandbox page */

static void lanes(struct machine *m, int reg, uint64_t v)
{
	for (int i = 0; i < 4; i++)
		memcpy(&m->ymm[reg][i * 8], &v, 8);
}

static void aim_rbx_libc(struct machine *m) { m->gpr[3] = libc_text(); }
static void aim_bt_gs(struct machine *m) { m->gpr[0] = (libc_text() - env.ctx) * 8; }
static void aim_rax_libc(struct machine *m) { m->gpr[0] = libc_text(); }
/* r11 indexes the first switch table past its end, into libc */
static void aim_r11_switch(struct machine *m) { m->gpr[11] = (libc_text() - env.ctx - CTX_SWITCH_CODE) / 8; }
static void aim_rsp_heap(struct machine *m) { m->gpr[3] = heap() + 64; }
static void aim_movs(struct machine *m)
{
	m->gpr[6] = sandbox();
	m->gpr[7] = stack();
	m->gpr[1] = 16;
	m->rflags &= ~(1ull << 10);
}
static void aim_gather(struct machine *m)
{
	m->gpr[3] = 0;
	lanes(m, 1, libc_text());
	lanes(m, 2, ~0ull);
}
static void aim_rbx_heap(struct machine *m) { m->gpr[3] = heap(); }
static void aim_bt32(struct machine *m)
{
	m->gpr[0] = libc_text();
	m->gpr[1] = (libc_text() - (libc_text() & 0xffffffff)) * 8;   /* 64-bit: libc; 32-bit: wraps */
}
static void aim_movs32(struct machine *m)
{
	m->gpr[6] = libc_text();
	m->gpr[7] = stack();
	m->gpr[1] = 16;
}
static void aim_gather32(struct machine *m) { aim_gather(m); m->gpr[3] = sandbox(); }
static void aim_guard(struct machine *m) { m->gpr[3] = 0xfffffffcull | (libc_text() & ~0xffffffffull); }
static void aim_altstack(struct machine *m) { m->gpr[3] = env.data_lo + LD_ALTSTACK + 256; }
static void aim_nothing(struct machine *m) { (void)m; }
static void aim_not_taken(struct machine *m) { aim_rax_libc(m); m->rflags = 0x202; }   /* ZF clear */
static void aim_rsp_zero(struct machine *m) { m->gpr[4] = 0; }

#define B(s) s, sizeof(s) - 1

static const struct selftest_case cases[] = {
	/* escapes: refused by the verifier; the oracle must see each */
	{"escape:mov-rax-[rbx]-64bit-address", B("\x48\x8b\x03"), EXPECT_VIOLATION, aim_rbx_libc, false},
	{"escape:bt-gs:[0]-rax-huge-offset", B("\x65\x48\x0f\xa3\x04\x25\x00\x00\x00\x00"), EXPECT_VIOLATION, aim_bt_gs, false},
	{"escape:write-ibl-table", B("\x65\x48\x89\x04\x25\x00\x20\x00\x00"), EXPECT_VIOLATION, aim_nothing, false},
	{"escape:read-xsave-page", B("\x65\x48\x8b\x04\x25\x00\x10\x00\x00"), EXPECT_VIOLATION, aim_nothing, false},
	{"escape:read-fs-tls", B("\x64\x48\x8b\x04\x25\x00\x00\x00\x00"), EXPECT_VIOLATION, aim_nothing, false},
	{"escape:jmp-rax-to-host-code", B("\xff\xe0"), EXPECT_VIOLATION, aim_rax_libc, false},
	{"escape:switch-jump-without-movzx", B("\x65\x42\xff\x24\xdd\x00\x20\x08\x00"), EXPECT_VIOLATION,
	 aim_r11_switch, false},
	{"escape:rsp-write-without-mov-esp-esp", B("\x48\x89\xdc\x50"), EXPECT_VIOLATION, aim_rsp_heap, false},
	{"escape:rep-movsb-64bit-address", B("\xf3\xa4"), EXPECT_VIOLATION, aim_movs, false},
	{"escape:vpgatherqq-64bit-address", B("\xc4\xe2\xed\x91\x04\x0b"), EXPECT_VIOLATION, aim_gather, false},
	{"escape:xlat-64bit-address", B("\xd7"), EXPECT_VIOLATION, aim_rbx_libc, false},
	{"escape:cmpxchg16b-64bit-address", B("\x48\x0f\xc7\x0b"), EXPECT_VIOLATION, aim_rbx_heap, false},
	/* found by this oracle: on AMD CPUs an operand-size prefix makes a near
	 * jcc take a rel16 (5 bytes, and a target truncated to 16 bits), where
	 * the decoder (Intel behaviour) reads a rel32 (7 bytes).  Not taken,
	 * the CPU then runs the rel32's two high bytes, 00 00: add [rax], al,
	 * with a 64-bit address the verifier never saw. */
	{"escape:amd-66-jcc-hides-add-[rax]", B("\x66\x0f\x84\x00\x00\x00\x00"), EXPECT_VIOLATION, aim_not_taken, true},
	/* controls: accepted by the verifier; never a violation */
	{"control:mov-eax-[ebx]", B("\x67\x8b\x03"), EXPECT_CONFINED, aim_rbx_libc, false},
	{"control:bt-[eax]-rcx-huge-offset", B("\x67\x48\x0f\xa3\x08"), EXPECT_CONFINED, aim_bt32, false},
	{"control:rep-movsb-32bit-address", B("\x67\xf3\xa4"), EXPECT_CONFINED, aim_movs32, false},
	{"control:vpgatherqq-32bit-address", B("\x67\xc4\xe2\xed\x91\x04\x0b"), EXPECT_CONFINED, aim_gather32, false},
	{"control:access-across-4GiB", B("\x67\x48\x8b\x03"), EXPECT_GUARD, aim_guard, false},
	{"control:ibl-lookup-template", B("\x45\x0f\xb7\xdb\x65\x42\xff\x24\xdd\x00\x20\x00\x00"), EXPECT_IBL_MISS, aim_nothing, false},
	{"control:switch-lookup-template", B("\x44\x0f\xb6\xd9\x65\x42\xff\x24\xdd\x00\x20\x08\x00"), EXPECT_IBL_MISS,
	 aim_nothing, false},
	{"control:exit-stub", B("\x65\xc7\x04\x25\xa0\x00\x00\x00\x07\x00\x00\x00"), EXPECT_GATE, aim_nothing, false},
	{"control:jmp-self-loop", B("\xeb\xfe"), EXPECT_TIMEOUT, aim_nothing, false},
	{"control:ud2", B("\x0f\x0b"), EXPECT_SIGILL, aim_nothing, false},
	{"control:push-at-rsp-0-wraps-to-kernel-half", B("\x50"), EXPECT_STACK_WRAP, aim_rsp_zero, false},
	/* a documented blind spot: the handler's alternate stack stays writable */
	{"blind-spot:store-to-alternate-stack", B("\x48\x89\x03"), EXPECT_UNSEEN, aim_altstack, false},
};

static bool build(const struct selftest_case *t, struct oracle_block *b)
{
	static struct code c;
	c.n = 0;
	c.entry = -1;
	b->kind = KIND_SELFTEST;
	b->origin = t->name;
	b->rx = env.code_rx;
	b->guest_pc = 0;
	if (!code_add(&c, t->bytes, t->len) || !code_add_branch(&c, -1, -1, (uint64_t)(uintptr_t)gate_exit))
		return false;
	/* several instructions in one string: the layout only concatenates */
	b->len = code_layout(&c, b->rx, b->bytes, sizeof(b->bytes), &b->entry);
	return b->len != 0;
}

static bool met(enum expect e, enum outcome_kind k)
{
	switch (e) {
	case EXPECT_VIOLATION: return k == OUT_VIOLATION;
	case EXPECT_GATE: return k == OUT_GATE;
	case EXPECT_IBL_MISS: return k == OUT_IBL_MISS;
	case EXPECT_CONFINED: return k == OUT_GATE || k == OUT_GUEST_FAULT || k == OUT_GUARD_FAULT;
	case EXPECT_GUARD: return k == OUT_GUARD_FAULT;
	case EXPECT_TIMEOUT: return k == OUT_TIMEOUT;
	case EXPECT_SIGILL: return k == OUT_SIGILL;
	case EXPECT_STACK_WRAP: return k == OUT_STACK_WRAP;
	case EXPECT_UNSEEN: return k == OUT_GATE;
	}
	return false;
}

static const char *expected_name(enum expect e)
{
	static const char *const names[] = {"a violation", "gate_exit", "gate_ibl_miss", "a confined end",
	                                    "a guard fault", "a timeout", "SIGILL", "a stack wrap",
	                                    "no detection (gate_exit)"};
	return names[e];
}

/* AMD (and Hygon, its licensee) decode a few forms differently from Intel. */
static bool amd_cpu(void)
{
	unsigned a, b, c, d;
	char vendor[13] = "";
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return false;
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	return !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
}

int selftest(FILE *out)
{
	int failures = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct selftest_case *t = &cases[i];
		struct oracle_block b;
		struct machine m;
		struct outcome o;
		struct rng r;
		rng_seed(&r, 0x5e1f7e57, i);
		if (!build(t, &b)) {
			fprintf(out, "FAIL oracle/selftest:%s: cannot lay the block out\n", t->name);
			failures++;
			continue;
		}
		char err[256] = "";
		bool accepted = verify_block(b.bytes, b.len, b.rx, NULL, err, sizeof(err));
		bool escape = t->expect == EXPECT_VIOLATION || t->expect == EXPECT_UNSEEN;
		env_random_machine(&r, &b, &m);
		m.gpr[4] = 0x10000 + 0x800;            /* a mapped stack: only the case's access matters */
		m.ibl_self = -1;
		t->aim(&m);
		run_block(&b, &m, &o);
		if (escape && accepted) {
			fprintf(out, "FAIL oracle/selftest:%s: the verifier accepts this escape (the run: %s%s%s)\n", t->name,
			        outcome_name[o.kind], o.why[0] ? ": " : "", o.why);
			report_run(out, "verifier accepts an escape", &b, &m, &o);
			failures++;
		} else if (t->amd_only && !amd_cpu()) {
			fprintf(out, "PASS oracle/selftest:%s (verifier refuses; not an AMD CPU: the run shows nothing "
			        "here)\n", t->name);
		} else if (!escape && !accepted) {
			fprintf(out, "FAIL oracle/selftest:%s: the verifier refuses a control block: %s\n", t->name, err);
			failures++;
		} else if (!met(t->expect, o.kind)) {
			fprintf(out, "FAIL oracle/selftest:%s: expected %s, got %s%s%s\n", t->name, expected_name(t->expect),
			        outcome_name[o.kind], o.why[0] ? ": " : "", o.why);
			report_run(out, "self-test case", &b, &m, &o);
			failures++;
		} else {
			fprintf(out, "PASS oracle/selftest:%s (verifier %s; %s%s%s)\n", t->name,
			        accepted ? "accepts" : "refuses", outcome_name[o.kind], o.why[0] ? ": " : "", o.why);
		}
		fflush(out);
	}
	return failures;
}
