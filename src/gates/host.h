/*
 * What this host executes, found by executing it.
 *
 * Hypervisors hide CPUID bits of instructions that run (RDTSCP, FSGSBASE
 * under some KVM set-ups) and kernels differ in what they allow user space,
 * so opsub decides nothing from CPUID bits or AT_HWCAP alone: at start-up
 * each feature of the guest CPU model (cpu_model.h) and each property the
 * runtime itself relies on is executed once under a SIGILL/SIGSEGV guard.
 *
 * The runtime's own needs, beyond the guest model:
 *   xsave        XSAVEOPT/XRSTOR of the x87, SSE and AVX state (the gates);
 *   addr32-bt    a bit test with a register bit offset, under a 32-bit
 *                address size, wraps its final address at 4 GiB;
 *   addr32-gather the same for the elements of an AVX2 gather.
 * Optional: xinuse, XGETBV with ECX = 1, for the gates' light form.
 * Translated code's confinement depends on the last two: they are the
 * forms whose effective address has a register part the ModRM does not
 * show (docs/threat-model.md lists them all), so they are proven on this
 * CPU rather than assumed.
 *
 * Not needed, on purpose: user-space FSGSBASE (the runtime context's GS
 * base is set with arch_prctl), 32-bit compatibility mode, TSX, SYSENTER.
 *
 * Test-only: OPSUB_HOST_HIDE=name,name makes the named probes fail, so a
 * test can show what opsub does on a host without them (emulation, or a
 * refusal that names the feature).  Names: the rows of cpu_model.c, the
 * three above, xinuse, loop (the IBL entry's jrcxz form, as on Intel: see
 * host_prefers_loop), and the host properties opsub never uses but the
 * tests' native-side probe knows (fsgsbase, compat, sysenter, tsx, ...:
 * host.c).
 */
#ifndef OPSUB_GATES_HOST_H
#define OPSUB_GATES_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Probes the host (once; later calls return the first answer).  0, or -1
 * with a one-line message naming what the host lacks and why opsub needs it. */
int host_check(char *err, size_t errlen);

/* After host_check: true when the host executes rdtscp (otherwise the
 * translator emulates it). */
bool host_has_rdtscp(void);

/* Whether the IBL entry should test with `loop` (one op on AMD's cores, where
 * the hit then falls through without a taken branch) rather than `jrcxz`
 * (LOOP is several micro-ops on Intel's).  A speed choice only: both forms
 * run anywhere.  From the CPUID vendor string (OPSUB_HOST_HIDE=loop: no). */
bool host_prefers_loop(void);

/* After host_check: the optional rows of the guest CPU model this host
 * executes, as cpu_model_show takes them. */
uint32_t host_optional_rows(void);

/* True when the host reports which state components are in use (XGETBV
 * with ECX = 1): the full gates then take their light form (ctx.h). */
bool host_has_xinuse(void);

/* The MXCSR bits this host's CPU accepts (FXSAVE's MXCSR_MASK). */
uint32_t host_mxcsr_mask(void);

/* Prints the guest CPU model, what this host does for each feature and the
 * runtime's own needs (opsub cpu).  Returns host_check's result. */
int host_report(FILE *f);

#endif
