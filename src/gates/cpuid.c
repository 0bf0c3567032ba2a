#include "gates/cpuid.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>

/* CPUID.1 */
#define L1_ECX (1u << 0 /* SSE3 */ | 1u << 1 /* PCLMULQDQ */ | 1u << 9 /* SSSE3 */ | \
                1u << 12 /* FMA */ | 1u << 13 /* CX16 */ | 1u << 19 /* SSE4.1 */ |     \
                1u << 20 /* SSE4.2 */ | 1u << 22 /* MOVBE */ | 1u << 23 /* POPCNT */ |  \
                1u << 25 /* AES */ | 1u << 27 /* OSXSAVE */ | 1u << 28 /* AVX */ |      \
                1u << 29 /* F16C */)
#define L1_EDX (1u << 0 /* FPU */ | 1u << 4 /* TSC */ | 1u << 8 /* CX8 */ |             \
                1u << 15 /* CMOV */ | 1u << 19 /* CLFSH */ | 1u << 23 /* MMX */ |       \
                1u << 24 /* FXSR */ | 1u << 25 /* SSE */ | 1u << 26 /* SSE2 */)
/* CPUID.(7,0).EBX */
#define L7_EBX (1u << 3 /* BMI1 */ | 1u << 5 /* AVX2 */ | 1u << 8 /* BMI2 */ | 1u << 9 /* ERMS */ | \
                1u << 19 /* ADX */)
/* CPUID.80000001 */
#define LX1_ECX (1u << 0 /* LAHF */ | 1u << 5 /* LZCNT */ | 1u << 8 /* PREFETCHW */)
#define LX1_EDX (1u << 11 /* SYSCALL */ | 1u << 20 /* NX */ | 1u << 27 /* RDTSCP */ | 1u << 29 /* LM */)

/* Intel's vendor string: runtimes (libgcc's __builtin_cpu_supports among them)
 * only read feature bits for vendors they know. */
static const char vendor[12] = "GenuineIntel";
static const char brand[48] = "opsub virtual CPU (x86-64-v3)";

void cpuid_guest(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	memset(out, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		out[0] = 0xd;
		memcpy(&out[1], vendor, 4);
		memcpy(&out[3], vendor + 4, 4);
		memcpy(&out[2], vendor + 8, 4);
		break;
	case 1:
		out[0] = 0x000306f2;               /* family 6, model 0x3f, stepping 2 */
		out[1] = 8u << 8 | 1u << 16;       /* 64-byte clflush line, 1 logical CPU */
		out[2] = L1_ECX | 1u << 31;        /* plus "running under a hypervisor" */
		out[3] = L1_EDX;
		break;
	case 7:
		if (subleaf == 0)
			out[1] = L7_EBX;
		break;
	case 0xd:
		if (subleaf == 0) {
			out[0] = CPUID_GUEST_XCR0;
			out[1] = out[2] = 576 + 256;   /* legacy area + header + AVX */
		} else if (subleaf == 2) {
			out[0] = 256;                  /* AVX state: size, offset */
			out[1] = 576;
		}
		break;
	case 0x80000000:
		out[0] = 0x80000008;
		break;
	case 0x80000001:
		out[2] = LX1_ECX;
		out[3] = LX1_EDX;
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
		memcpy(out, brand + 16 * (leaf - 0x80000002), 16);
		break;
	case 0x80000007:
		out[3] = 1u << 8;                  /* invariant TSC */
		break;
	case 0x80000008:
		out[0] = 48u << 8 | 39u;           /* 48-bit virtual, 39-bit physical */
		break;
	default:
		break;
	}
}

uint64_t cpuid_hwcap(void)
{
	return L1_EDX;
}

bool cpuid_host_ok(char *err, size_t errlen)
{
	static const struct { uint32_t leaf, reg, bits; const char *what; } need[] = {
		{1, 2, L1_ECX, "CPUID.1:ECX"},
		{1, 3, L1_EDX, "CPUID.1:EDX"},
		{7, 1, L7_EBX, "CPUID.7:EBX"},
		{0x80000001, 2, LX1_ECX, "CPUID.80000001:ECX"},
		{0x80000001, 3, LX1_EDX, "CPUID.80000001:EDX"},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		uint32_t r[4];
		__cpuid_count(need[i].leaf, 0, r[0], r[1], r[2], r[3]);
		uint32_t missing = need[i].bits & ~r[need[i].reg];
		if (missing) {
			snprintf(err, errlen, "this host CPU lacks features of the guest CPU model "
			         "(%s bits 0x%x): opsub needs an x86-64-v3 host", need[i].what, missing);
			return false;
		}
	}
	/* Translated code relies on these, beyond what the guest sees. */
	uint32_t a, b, c, d;
	__cpuid_count(7, 0, a, b, c, d);
	if (!(b & 1u)) {
		snprintf(err, errlen, "this host CPU lacks FSGSBASE, which opsub's runtime needs");
		return false;
	}
	__cpuid_count(0xd, 1, a, b, c, d);
	if (!(a & 1u)) {
		snprintf(err, errlen, "this host CPU lacks XSAVEOPT, which opsub's gates need");
		return false;
	}
	return true;
}
