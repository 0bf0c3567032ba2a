/*
 * The guest CPU model: the fixed answers a guest gets from CPUID.
 *
 * Guests see one CPU model on every host ("opsub virtual CPU", an Intel
 * family 6 CPU with x86-64-v3 plus
 * AES and PCLMULQDQ, no AVX-512), which keeps them migratable and matches
 * exactly what the translator lets through.  The table is in cpuid.c and in
 * docs/guest-abi.md.  A host that lacks a feature of the model cannot run
 * guests.
 */
#ifndef OPSUB_GATES_CPUID_H
#define OPSUB_GATES_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPUID for the guest: out = {eax, ebx, ecx, edx}. */
void cpuid_guest(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* XCR0 as the guest sees it through XGETBV (x87, SSE and AVX state). */
#define CPUID_GUEST_XCR0 7u

/* The AT_HWCAP value of the model (CPUID.1:EDX). */
uint64_t cpuid_hwcap(void);

/* True when this host implements every feature of the model; otherwise
 * false with the missing feature named in err. */
bool cpuid_host_ok(char *err, size_t errlen);

#endif
