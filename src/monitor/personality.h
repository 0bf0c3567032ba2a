/*
 * Gate handlers for guest system calls (a Linux subset) and opsub
 * hypercalls.  Arguments and results live in the saved guest registers in
 * the runtime context; every pointer argument is a guest address and is
 * checked against the sandbox (and its page protections) before use.
 * Both return true when the guest must stop (exit, or a fatal signal it
 * sent itself); the exit status is then in the monitor.
 */
#ifndef OPSUB_GATES_PERSONALITY_H
#define OPSUB_GATES_PERSONALITY_H

#include <stdbool.h>

#include "gates/ctx.h"

struct monitor;

bool personality_syscall(struct monitor *m, struct rt_ctx *c);
bool personality_hypercall(struct monitor *m, struct rt_ctx *c);

#endif
