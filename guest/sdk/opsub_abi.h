/*
 * The opsub hypercall ABI, shared by guests (through opsub.h) and opsub.
 *
 * A hypercall is the instruction `vmcall` with the call number in rax and
 * up to six arguments in rdi, rsi, rdx, r10, r8, r9 (the syscall order).
 * The result comes back in rax: >= 0 on success, -errno on failure.  Every
 * other register, the flags and the vector state are preserved.  Natively
 * (without opsub) vmcall raises SIGILL.
 *
 * Pointers are guest addresses; opsub checks every one against the guest's
 * memory and returns -EFAULT for anything outside it.
 */
#ifndef OPSUB_ABI_H
#define OPSUB_ABI_H

/* write(buf, len) to opsub's standard output; returns len. */
#define OPSUB_HC_CONSOLE      1
/* Monotonic clock in nanoseconds. */
#define OPSUB_HC_CLOCK        2
/* Blocks until the monotonic clock reaches deadline_ns or an event the
 * guest asked for (a network interrupt) arrives; returns 1 for an event,
 * 0 for the deadline. */
#define OPSUB_HC_WAIT         3

#endif
