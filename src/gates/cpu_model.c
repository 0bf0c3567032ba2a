#include "gates/cpu_model.h"
#include "gates/xsave_layout.h"

#include <stdio.h>
#include <string.h>

/* ---- probes: one instruction of each feature, run once by host.c ------- */

#define PROBE(name, insn, ...) \
	static void name(void) { __asm__ volatile(insn ::: __VA_ARGS__); }

PROBE(p_x87, "fninit; fld1; fstp %%st(0)", "st")
static uint64_t probe_word[2] __attribute__((aligned(16), used));
static uint8_t probe_area[512] __attribute__((aligned(16), used));
PROBE(p_cx8, "lock cmpxchg8b probe_word(%%rip)", "rax", "rdx", "memory", "cc")
PROBE(p_tsc, "rdtsc", "rax", "rdx")
PROBE(p_fxsr, "fxsave probe_area(%%rip)", "memory")
PROBE(p_cmov, "cmove %%eax, %%eax", "rax")
PROBE(p_clflush, "clflush (%%rsp)", "memory")
PROBE(p_mmx, "pxor %%mm0, %%mm0; emms", "mm0")
PROBE(p_sse, "xorps %%xmm0, %%xmm0", "xmm0")
PROBE(p_sse2, "paddq %%xmm0, %%xmm0", "xmm0")
PROBE(p_sse3, "haddps %%xmm0, %%xmm0", "xmm0")
PROBE(p_pclmul, "pclmulqdq $0, %%xmm0, %%xmm0", "xmm0")
PROBE(p_ssse3, "pshufb %%xmm0, %%xmm0", "xmm0")
PROBE(p_fma, "vfmadd132ps %%ymm0, %%ymm0, %%ymm0", "xmm0")
PROBE(p_cx16, "lock cmpxchg16b probe_word(%%rip)", "rax", "rdx", "memory", "cc")
PROBE(p_sse41, "ptest %%xmm0, %%xmm0", "xmm0", "cc")
PROBE(p_sse42, "crc32 %%eax, %%eax", "rax")
PROBE(p_movbe, "movbe (%%rsp), %%eax", "rax")
PROBE(p_popcnt, "popcnt %%eax, %%eax", "rax", "cc")
PROBE(p_aes, "aesenc %%xmm0, %%xmm0; vaesenc %%xmm0, %%xmm0, %%xmm0", "xmm0")
PROBE(p_avx, "vxorps %%ymm0, %%ymm0, %%ymm0; vzeroupper", "xmm0")
PROBE(p_f16c, "vcvtph2ps %%xmm0, %%ymm0", "xmm0")
PROBE(p_bmi1, "andn %%eax, %%eax, %%eax; tzcnt %%eax, %%eax", "rax", "cc")
PROBE(p_avx2, "vpaddd %%ymm0, %%ymm0, %%ymm0; vzeroupper", "xmm0")
PROBE(p_bmi2, "shlx %%eax, %%eax, %%eax; pdep %%eax, %%eax, %%eax", "rax")
PROBE(p_adx, "adcx %%eax, %%eax; adox %%eax, %%eax", "rax", "cc")
PROBE(p_lahf, "lahf", "rax")
PROBE(p_lzcnt, "lzcnt %%eax, %%eax", "rax", "cc")
PROBE(p_prefetchw, "prefetchw (%%rsp)", "memory")
PROBE(p_rdtscp, "rdtscp", "rax", "rcx", "rdx")
PROBE(p_sha, "sha256rnds2 %%xmm0, %%xmm1, %%xmm2; sha1rnds4 $0, %%xmm1, %%xmm2", "xmm2")

/* ---- the table ---------------------------------------------------------- */

enum { EAX, EBX, ECX, EDX };
#define NONE {ZYDIS_ISA_EXT_INVALID}
#define EXT(...) {__VA_ARGS__, ZYDIS_ISA_EXT_INVALID}

const struct cpu_feature cpu_model[] = {
/*  name          CPUID bit                 extensions it brings                          host needs      probe */
{ "x86-64",       {0, 0, 0},                EXT(ZYDIS_ISA_EXT_BASE, ZYDIS_ISA_EXT_LONGMODE), HOST_EXECUTES, NULL },
{ "pause",        {0, 0, 0},                EXT(ZYDIS_ISA_EXT_PAUSE),                      HOST_EXECUTES, NULL },
{ "fpu",          {1, EDX, 0},              EXT(ZYDIS_ISA_EXT_X87),                        HOST_EXECUTES, p_x87 },
{ "tsc",          {1, EDX, 4},              NONE,                                          HOST_EXECUTES, p_tsc },
{ "cx8",          {1, EDX, 8},              NONE,                                          HOST_EXECUTES, p_cx8 },
{ "cmov",         {1, EDX, 15},             NONE,                                          HOST_EXECUTES, p_cmov },
{ "clflush",      {1, EDX, 19},             EXT(ZYDIS_ISA_EXT_CLFSH),                      HOST_EXECUTES, p_clflush },
{ "mmx",          {1, EDX, 23},             EXT(ZYDIS_ISA_EXT_MMX),                        HOST_EXECUTES, p_mmx },
{ "fxsr",         {1, EDX, 24},             NONE,                                          HOST_EXECUTES, p_fxsr },
{ "sse",          {1, EDX, 25},             EXT(ZYDIS_ISA_EXT_SSE),                        HOST_EXECUTES, p_sse },
{ "sse2",         {1, EDX, 26},             EXT(ZYDIS_ISA_EXT_SSE2),                       HOST_EXECUTES, p_sse2 },
{ "pni",          {1, ECX, 0},              EXT(ZYDIS_ISA_EXT_SSE3),                       HOST_EXECUTES, p_sse3 },
{ "pclmulqdq",    {1, ECX, 1},              EXT(ZYDIS_ISA_EXT_PCLMULQDQ),                  HOST_EXECUTES, p_pclmul },
{ "ssse3",        {1, ECX, 9},              EXT(ZYDIS_ISA_EXT_SSSE3),                      HOST_EXECUTES, p_ssse3 },
{ "fma",          {1, ECX, 12},             EXT(ZYDIS_ISA_EXT_FMA),                        HOST_EXECUTES, p_fma },
{ "cx16",         {1, ECX, 13},             NONE,                                          HOST_EXECUTES, p_cx16 },
{ "sse4_1",       {1, ECX, 19},             EXT(ZYDIS_ISA_EXT_SSE4),                       HOST_EXECUTES, p_sse41 },
{ "sse4_2",       {1, ECX, 20},             NONE,                                          HOST_EXECUTES, p_sse42 },
{ "movbe",        {1, ECX, 22},             EXT(ZYDIS_ISA_EXT_MOVBE),                      HOST_EXECUTES, p_movbe },
{ "popcnt",       {1, ECX, 23},             NONE,                                          HOST_EXECUTES, p_popcnt },
{ "aes",          {1, ECX, 25},             EXT(ZYDIS_ISA_EXT_AES, ZYDIS_ISA_EXT_AVXAES),  HOST_EXECUTES, p_aes },
{ "osxsave",      {1, ECX, 27},             NONE,                                          HOST_NOTHING,  NULL },
{ "avx",          {1, ECX, 28},             EXT(ZYDIS_ISA_EXT_AVX),                        HOST_EXECUTES, p_avx },
{ "f16c",         {1, ECX, 29},             EXT(ZYDIS_ISA_EXT_F16C),                       HOST_EXECUTES, p_f16c },
{ "hypervisor",   {1, ECX, 31},             NONE,                                          HOST_NOTHING,  NULL },
{ "bmi1",         {7, EBX, 3},              EXT(ZYDIS_ISA_EXT_BMI1),                       HOST_EXECUTES, p_bmi1 },
{ "avx2",         {7, EBX, 5},              EXT(ZYDIS_ISA_EXT_AVX2, ZYDIS_ISA_EXT_AVX2GATHER), HOST_EXECUTES, p_avx2 },
{ "bmi2",         {7, EBX, 8},              EXT(ZYDIS_ISA_EXT_BMI2),                       HOST_EXECUTES, p_bmi2 },
{ "erms",         {7, EBX, 9},              NONE,                                          HOST_NOTHING,  NULL },
{ "adx",          {7, EBX, 19},             EXT(ZYDIS_ISA_EXT_ADOX_ADCX),                  HOST_EXECUTES, p_adx },
{ "lahf_lm",      {0x80000001, ECX, 0},     NONE,                                          HOST_EXECUTES, p_lahf },
{ "abm",          {0x80000001, ECX, 5},     EXT(ZYDIS_ISA_EXT_LZCNT),                      HOST_EXECUTES, p_lzcnt },
{ "3dnowprefetch",{0x80000001, ECX, 8},     EXT(ZYDIS_ISA_EXT_AMD3DNOW_PREFETCH),          HOST_EXECUTES, p_prefetchw },
{ "syscall",      {0x80000001, EDX, 11},    NONE,                                          HOST_NOTHING,  NULL },
{ "nx",           {0x80000001, EDX, 20},    NONE,                                          HOST_NOTHING,  NULL },
{ "rdtscp",       {0x80000001, EDX, 27},    EXT(ZYDIS_ISA_EXT_RDTSCP),                     HOST_EMULATED, p_rdtscp },
{ "lm",           {0x80000001, EDX, 29},    NONE,                                          HOST_NOTHING,  NULL },
{ "constant_tsc", {0x80000007, EDX, 8},     NONE,                                          HOST_NOTHING,  NULL },
/* optional rows: append only (guest states carry their bits) */
{ "sha_ni",       {7, EBX, 29},             EXT(ZYDIS_ISA_EXT_SHA),                        HOST_OPTIONAL, p_sha },
};
const size_t cpu_model_count = sizeof(cpu_model) / sizeof(cpu_model[0]);

static uint32_t shown;

void cpu_model_show(uint32_t optional) { shown = optional; }
uint32_t cpu_model_shown(void) { return shown; }

uint32_t cpu_model_optional_bit(size_t i)
{
	if (cpu_model[i].need != HOST_OPTIONAL)
		return 0;
	unsigned k = 0;
	for (size_t j = 0; j < i; j++)
		k += cpu_model[j].need == HOST_OPTIONAL;
	return 1u << k;
}

int cpu_model_fits(uint32_t guest, uint32_t host, char *err, size_t errlen)
{
	uint32_t missing = guest & ~host;
	if (!missing)
		return 0;
	char names[128] = "";
	size_t used = 0;
	for (size_t i = 0; i < cpu_model_count && used < sizeof(names); i++)
		if (missing & cpu_model_optional_bit(i))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", cpu_model[i].name);
	snprintf(err, errlen, "the guest was shown CPU features this host does not execute (%s): run it on a host "
	         "that has them (opsub cpu)", names[0] ? names : "rows this opsub does not know");
	return -1;
}

/* Whether row i is part of this guest's model. */
static bool in_model(size_t i)
{
	return cpu_model[i].need != HOST_OPTIONAL || (shown & cpu_model_optional_bit(i));
}

bool cpu_model_allows(ZydisISAExt e)
{
	for (size_t i = 0; i < cpu_model_count; i++)
		for (const ZydisISAExt *x = cpu_model[i].isa; *x != ZYDIS_ISA_EXT_INVALID; x++)
			if (*x == e && in_model(i))
				return true;
	return false;
}

/* The register of leaf/subleaf 0 made of the bits of every row there. */
static uint32_t model_bits(uint32_t leaf, uint8_t reg)
{
	uint32_t v = 0;
	for (size_t i = 0; i < cpu_model_count; i++)
		if (cpu_model[i].cpuid.leaf == leaf && leaf != 0 && cpu_model[i].cpuid.reg == reg && in_model(i))
			v |= 1u << cpu_model[i].cpuid.bit;
	return v;
}

/* Intel's vendor string: runtimes (libgcc's __builtin_cpu_supports among them)
 * only read feature bits for vendors they know. */
static const char vendor[12] = "GenuineIntel";
static const char brand[48] = "opsub virtual CPU (" CPU_MODEL_LEVEL ")";

void cpuid_guest(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	memset(out, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		out[EAX] = 0xd;
		memcpy(&out[EBX], vendor, 4);
		memcpy(&out[EDX], vendor + 4, 4);
		memcpy(&out[ECX], vendor + 8, 4);
		return;
	case 1:
		out[EAX] = 0x000306f2;               /* family 6, model 0x3f, stepping 2 */
		out[EBX] = 8u << 8 | 1u << 16;       /* 64-byte clflush line, 1 logical CPU */
		break;
	case 7:
		if (subleaf != 0)
			return;
		break;
	case 0xd:
		/* The state components XCR0 enables, but no XSAVE area size:
		 * the guest CPU has no XSAVE (the policy refuses it), and a
		 * size makes glibc's lazy-binding trampoline save registers
		 * with xsave; without one it uses fxsave. */
		if (subleaf == 0) {
			out[EAX] = CPUID_GUEST_XCR0;
		} else if (subleaf == 2) {
			out[EAX] = 256;                    /* AVX state: size, offset */
			out[EBX] = XSAVE_YMM_HI;
		}
		return;
	case 0x80000000:
		out[EAX] = 0x80000008;
		return;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
		memcpy(out, brand + 16 * (leaf - 0x80000002), 16);
		return;
	case 0x80000008:
		out[EAX] = 48u << 8 | 39u;           /* 48-bit virtual, 39-bit physical */
		return;
	}
	for (uint8_t r = EAX; r <= EDX; r++)
		out[r] |= model_bits(leaf, r);
}

uint64_t cpuid_hwcap(void)
{
	return model_bits(1, EDX);
}
