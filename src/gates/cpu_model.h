/*
 * The guest CPU model: one table (cpu_model.c) that every part reads.
 *
 * Guests see one CPU on every host ("opsub virtual CPU": an Intel family 6
 * x86-64-v3 CPU with AES and PCLMULQDQ, no AVX-512), which keeps them
 * migratable, plus the optional rows (SHA) where the host executes them.  Each row of the table is one feature of that CPU: the CPUID
 * bit that shows it to the guest, the instruction extensions (Zydis ISA
 * extensions) it brings, and what the host must do for it.  From the table:
 *
 *   - cpuid_guest() answers the guest's CPUID (the bits of every row);
 *   - cpu_model_allows() is the set of instruction extensions the policy
 *     passes (translator/policy.c) and the verifier accepts
 *     (translator/verifier.c): no other extension reaches translated code;
 *   - host.c probes each row's instruction on this host at start-up.
 *
 * A feature the host lacks is either emulated by the translator (rdtscp:
 * rdtsc, then ecx = 0), or, for an optional row, not shown to guests, or
 * makes opsub refuse the host with the feature named; it is never
 * advertised and then left to fault.  A guest keeps the optional rows it
 * was shown where it started: its state carries them (monitor/guest_state.h)
 * and restores only on a host that executes them all.
 */
#ifndef OPSUB_GATES_CPU_MODEL_H
#define OPSUB_GATES_CPU_MODEL_H

/* The x86-64 level the model is (its brand string names it): what to build
 * guest programs for. */
#define CPU_MODEL_LEVEL "x86-64-v3"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <Zydis/Zydis.h>

#include "gates/ctx.h"

/* What the host must provide for a row. */
enum cpu_host_need {
	HOST_EXECUTES,   /* the host must execute the row's instructions (probed) */
	HOST_EMULATED,   /* executed when the host has it, emulated otherwise */
	HOST_NOTHING,    /* a bit with no instruction of its own, or a gated one */
	HOST_OPTIONAL,   /* shown to a guest only where the host executes it (cpu_model_show) */
};

/* Where a CPUID bit is: leaf (subleaf 0), register (0 = eax .. 3 = edx), bit.
 * leaf 0 means the row has no bit of its own (the x86-64 base). */
struct cpuid_bit { uint32_t leaf; uint8_t reg, bit; };

struct cpu_feature {
	const char *name;              /* as in /proc/cpuinfo */
	struct cpuid_bit cpuid;
	ZydisISAExt isa[3];            /* extensions it brings (ZYDIS_ISA_EXT_INVALID ends) */
	enum cpu_host_need need;
	void (*probe)(void);           /* executes one of its instructions (host.c runs it) */
};

extern const struct cpu_feature cpu_model[];
extern const size_t cpu_model_count;

/* The optional rows shown to this process's guest: bit k for the k-th
 * HOST_OPTIONAL row in table order (rows are only appended: guest states
 * carry these bits).  0, the baseline, until set: a new guest is shown what
 * its host executes (host_optional_rows), a restored one what it was
 * shown where it started. */
void cpu_model_show(uint32_t optional);
uint32_t cpu_model_shown(void);
/* The optional bit of row i, or 0 when the row is not optional. */
uint32_t cpu_model_optional_bit(size_t i);
/* Whether a guest shown the optional rows `guest` can run on a host that
 * executes `host`: 0, or -1 with a one-line reason naming what is missing. */
int cpu_model_fits(uint32_t guest, uint32_t host, char *err, size_t errlen);

/* True when instructions of extension e belong to the guest CPU model
 * (an optional row's only while it is shown). */
bool cpu_model_allows(ZydisISAExt e);

/* CPUID for the guest: out = {eax, ebx, ecx, edx}. */
void cpuid_guest(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* XCR0 as the guest sees it through XGETBV (x87, SSE and AVX state): also
 * the XSAVE mask of the gates, since a guest can touch no other state. */
#define CPUID_GUEST_XCR0 CTX_XSAVE_MASK

/* The AT_HWCAP value of the model (CPUID.1:EDX). */
uint64_t cpuid_hwcap(void);

#endif
