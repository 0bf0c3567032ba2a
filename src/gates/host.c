#include "gates/host.h"
#include "gates/xsave_layout.h"

#include <assert.h>
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "gates/cpu_model.h"

/* ---- running one probe ---------------------------------------------------- */

static sigjmp_buf probe_jmp;
static void probe_trap(int sig) { siglongjmp(probe_jmp, sig); }

/* Runs fn with SIGILL, SIGSEGV and SIGBUS caught: true when it completed. */
static bool executes(void (*fn)(void))
{
	static const int sigs[] = {SIGILL, SIGSEGV, SIGBUS};
	struct sigaction sa = {.sa_handler = probe_trap}, old[3];
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	volatile bool ok = false;
	if (sigsetjmp(probe_jmp, 1) == 0) {
		fn();
		ok = true;
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return ok;
}

/* OPSUB_HOST_HIDE: a comma-separated list (test only, see host.h). */
static bool hidden(const char *name)
{
	const char *list = getenv("OPSUB_HOST_HIDE");
	size_t n = strlen(name);
	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
			return true;
	}
	return false;
}

/* ---- the runtime's own needs ---------------------------------------------- */

static uint8_t xsave_area[4096] __attribute__((aligned(64)));
static void p_xsave(void)
{
	__asm__ volatile("xsaveopt64 %0; xrstor64 %0" : "+m"(xsave_area) : "a"(CPUID_GUEST_XCR0), "d"(0));
}

/* A page below 4 GiB for the address-size probes.  An offset that puts
 * the unwrapped address at page + 2^47 (non-canonical, a sure fault)
 * leaves the wrapped one on the page itself. */
static uint64_t low_page;
#define NONCANONICAL (1ull << 47)

static void p_addr32_bt(void)
{
	uint64_t bits = NONCANONICAL * 8;   /* bt adds (offset >> 6) * 8 bytes */
	__asm__ volatile(".byte 0x67; btq %0, (%1)\n\t.byte 0x67; btsq %0, (%1)"
	                 :: "r"(bits), "r"(low_page) : "cc", "memory");
}

static void p_addr32_gather(void)
{
	static const uint64_t index[4] = {NONCANONICAL, NONCANONICAL, NONCANONICAL, NONCANONICAL};
	__asm__ volatile("vmovdqu %0, %%ymm1\n\t"
	                 "vpcmpeqd %%ymm2, %%ymm2, %%ymm2\n\t"
	                 ".byte 0x67; vpgatherqq %%ymm2, (%1, %%ymm1, 1), %%ymm0\n\t"
	                 "vzeroupper"
	                 :: "m"(index), "r"(low_page) : "xmm0", "xmm1", "xmm2", "memory");
}

struct need {
	const char *name;
	void (*probe)(void);
	bool low_page;         /* the probe needs low_page */
	const char *why;       /* what opsub uses it for */
};

static const struct need needs[] = {
	{"xsave", p_xsave, false, "the gates save and restore the guest's x87, SSE and AVX state with "
	                          "XSAVEOPT/XRSTOR"},
	{"addr32-bt", p_addr32_bt, true, "translated code's confinement relies on a bit test with a register "
	                                 "offset wrapping at 4 GiB under a 32-bit address size"},
	{"addr32-gather", p_addr32_gather, true, "translated code's confinement relies on AVX2 gather elements "
	                                         "wrapping at 4 GiB under a 32-bit address size"},
};
#define NEEDS (sizeof(needs) / sizeof(needs[0]))

/* ---- results ---------------------------------------------------------------- */

static bool probed;
static int check_rc;
static char check_err[256];
static bool model_ok[64], need_ok[NEEDS];
static_assert(sizeof(model_ok) / sizeof(model_ok[0]) >= 40, "room for the model's rows");

static bool probe_model_row(size_t i)
{
	const struct cpu_feature *f = &cpu_model[i];
	return !hidden(f->name) && (!f->probe || executes(f->probe));
}

static bool map_low_page(void)
{
	for (uint64_t at = 1ull << 30; at < (4ull << 30); at += 1ull << 28) {
		void *p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		               -1, 0);
		if (p == (void *)at) {
			low_page = at;
			return true;
		}
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	return false;
}

/* Optional: full gates keep only ymm0-15 and MXCSR while the guest's x87
 * state is unused, which they learn from XINUSE (XGETBV with ECX = 1). */
static void p_xinuse(void)
{
	unsigned a, d;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(1));
}
#define XINUSE_WHY "full gates save only ymm0-15 and MXCSR while the guest's x87 state is unused (otherwise " \
                   "XSAVEOPT/XRSTOR, slower)"

bool host_has_xinuse(void)
{
	static int known = -1;
	if (known < 0) {
		unsigned a, b, c, d;
		__cpuid_count(0xd, 1, a, b, c, d);
		known = (a >> 2 & 1) && !hidden("xinuse") && executes(p_xinuse);
	}
	return known == 1;
}

/* Host properties opsub never uses; OPSUB_HOST_HIDE accepts them so that one
 * list serves the tests' native-side probe (tests/hostprops.c) too. */
static const char *const not_used[] = {"fsgsbase", "compat", "sysenter", "tsx", "farptr64", "x2apic-id",
                                       "rdpid", "avx512", "gfni", "vaes"};

/* Every name in OPSUB_HOST_HIDE must mean something: a typo would make a
 * test prove nothing. */
static bool hide_list_ok(void)
{
	const char *list = getenv("OPSUB_HOST_HIDE");
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		bool known = (n == strlen("xinuse") && !strncmp(p, "xinuse", n)) ||
		             (n == strlen("loop") && !strncmp(p, "loop", n));
		for (size_t i = 0; i < sizeof(not_used) / sizeof(not_used[0]); i++)
			known |= strlen(not_used[i]) == n && !strncmp(p, not_used[i], n);
		for (size_t i = 0; i < cpu_model_count; i++)
			known |= strlen(cpu_model[i].name) == n && !strncmp(p, cpu_model[i].name, n);
		for (size_t i = 0; i < NEEDS; i++)
			known |= strlen(needs[i].name) == n && !strncmp(p, needs[i].name, n);
		if (!known && n) {
			snprintf(check_err, sizeof(check_err), "OPSUB_HOST_HIDE names '%.*s', which is no feature opsub "
			         "probes (see opsub cpu)", (int)n, p);
			return false;
		}
		p += n + (p[n] == ',');
	}
	return true;
}

static int probe_all(void)
{
	if (!hide_list_ok())
		return check_rc = -1;
	for (size_t i = 0; i < cpu_model_count; i++) {
		model_ok[i] = probe_model_row(i);
		if (!model_ok[i] && cpu_model[i].need == HOST_EXECUTES && !check_rc) {
			snprintf(check_err, sizeof(check_err),
			         "this host cannot run guests: its CPU does not execute %s, a feature of the guest "
			         "CPU model (x86-64-v3); see opsub cpu", cpu_model[i].name);
			check_rc = -1;
		}
	}
	/* the gates' area holds the standard-format AVX state at XSAVE_YMM_HI */
	unsigned a, b, c, d;
	__cpuid_count(0xd, 2, a, b, c, d);
	bool layout = a == 256 && b == XSAVE_YMM_HI;
	bool have_low = map_low_page();
	for (size_t i = 0; i < NEEDS; i++) {
		need_ok[i] = !hidden(needs[i].name) && (!needs[i].low_page || have_low) &&
		             (needs[i].probe != p_xsave || layout) && executes(needs[i].probe);
		if (!need_ok[i] && !check_rc) {
			snprintf(check_err, sizeof(check_err), "this host cannot run guests: %s fails here (%s%s); see opsub cpu",
			         needs[i].name, needs[i].low_page && !have_low ? "no page below 4 GiB to probe it; " : "",
			         needs[i].why);
			check_rc = -1;
		}
	}
	if (have_low)
		munmap((void *)low_page, 4096);
	return check_rc;
}

int host_check(char *err, size_t errlen)
{
	if (!probed) {
		probe_all();
		probed = true;
	}
	if (check_rc)
		snprintf(err, errlen, "%s", check_err);
	return check_rc;
}

uint32_t host_optional_rows(void)
{
	uint32_t rows = 0;
	for (size_t i = 0; i < cpu_model_count; i++)
		if (model_ok[i])
			rows |= cpu_model_optional_bit(i);
	return rows;
}

bool host_has_rdtscp(void)
{
	static int known = -1;
	if (known < 0) {
		for (size_t i = 0; i < cpu_model_count; i++)
			if (!strcmp(cpu_model[i].name, "rdtscp"))
				known = probe_model_row(i);
	}
	return known == 1;
}

bool host_prefers_loop(void)
{
	static int known = -1;
	if (known < 0) {
		unsigned a = 0, b = 0, c = 0, d = 0;
		char v[13] = {0};
		__get_cpuid(0, &a, &b, &c, &d);
		memcpy(v, &b, 4);
		memcpy(v + 4, &d, 4);
		memcpy(v + 8, &c, 4);
		known = !hidden("loop") && (!strcmp(v, "AuthenticAMD") || !strcmp(v, "HygonGenuine"));
	}
	return known == 1;
}

/* ---- opsub cpu -------------------------------------------------------------- */

static const char *const reg_name[4] = {"eax", "ebx", "ecx", "edx"};

static bool host_cpuid_bit(struct cpuid_bit b)
{
	unsigned r[4], max = __get_cpuid_max(b.leaf & 0x80000000u, NULL);
	if (b.leaf > max)
		return false;
	__cpuid_count(b.leaf, 0, r[0], r[1], r[2], r[3]);
	return r[b.reg] >> b.bit & 1;
}

int host_report(FILE *f)
{
	char err[256];
	int rc = host_check(err, sizeof(err));
	char brand[49] = "";
	unsigned r[4];
	/* unsigned: clang's cpuid.h returns int, gcc's unsigned */
	for (unsigned i = 0; i < 3 && (unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u; i++) {
		__cpuid(0x80000002u + i, r[0], r[1], r[2], r[3]);
		memcpy(brand + 16 * i, r, 16);
	}
	fprintf(f, "host CPU: %s\n", brand[0] ? brand : "(no brand string)");
	fprintf(f, "guest CPU model: opsub virtual CPU (x86-64-v3), GenuineIntel family 6 model 0x3f\n\n");
	fprintf(f, "%-14s %-18s %s\n", "feature", "guest CPUID", "this host");
	for (size_t i = 0; i < cpu_model_count; i++) {
		const struct cpu_feature *c = &cpu_model[i];
		char where[32] = "-";
		if (c->cpuid.leaf)
			snprintf(where, sizeof(where), "%x:%s.%u", c->cpuid.leaf, reg_name[c->cpuid.reg], c->cpuid.bit);
		const char *state;
		if (c->need == HOST_NOTHING)
			state = "not needed (no instruction of its own, or answered by opsub)";
		else if (model_ok[i] && c->need == HOST_OPTIONAL)
			state = "executes: shown to guests started here (optional)";
		else if (model_ok[i])
			state = c->cpuid.leaf && !host_cpuid_bit(c->cpuid) ? "executes (its CPUID bit is hidden)" : "executes";
		else if (c->need == HOST_OPTIONAL)
			state = "missing: not shown to guests (optional)";
		else
			state = c->need == HOST_EMULATED ? "missing: emulated by the translator" : "MISSING";
		fprintf(f, "%-14s %-18s %s\n", c->name, where, state);
	}
	fprintf(f, "\nwhat opsub itself relies on:\n");
	for (size_t i = 0; i < NEEDS; i++)
		fprintf(f, "%-14s %-9s %s\n", needs[i].name, need_ok[i] ? "holds" : "FAILS", needs[i].why);
	fprintf(f, "%-14s %-9s %s\n", "xinuse", host_has_xinuse() ? "holds" : "absent", XINUSE_WHY);
	fprintf(f, "%-14s %-9s %s\n", "loop", host_prefers_loop() ? "used" : "not used",
	        "the IBL entry's compare ends in loop, so that a hit takes no branch (AMD: one op); "
	        "else jrcxz (LOOP is several micro-ops on Intel)");
	unsigned xa, xb, xc, xd;
	__cpuid_count(0xd, 0, xa, xb, xc, xd);
	fprintf(f, "\nXSAVE area: %u bytes on this host; the gates save %u (x87, SSE, AVX: all a guest can touch)\n",
	        xb, XSAVE_SIZE_AVX);
	fprintf(f, "not used: user-space FSGSBASE (%s here; the GS base is set with arch_prctl), 32-bit "
	        "compatibility mode, TSX, SYSENTER\n",
	        !hidden("fsgsbase") && (getauxval(AT_HWCAP2) & 2) ? "allowed" : "not allowed");
	fprintf(f, "\n%s\n", rc ? err : "this host can run guests");
	return rc;
}

uint32_t host_mxcsr_mask(void)
{
	uint8_t area[512] __attribute__((aligned(16))) = {0};
	uint32_t mask;
	__builtin_ia32_fxsave64(area);
	memcpy(&mask, area + 28, 4);
	return mask ? mask : 0xffbf;   /* 0 there means the architectural default */
}
