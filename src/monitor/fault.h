/*
 * Host signals while a guest runs.  Every handler runs on an alternate
 * stack: while translated code runs, rsp holds the guest's stack pointer.
 *
 * A hardware fault in translated code is either a guest write to a page
 * that holds translated code (the translations are dropped and the write
 * retried) or a guest fault (reported with the guest pc; the guest ends with
 * 128 + signal, as a native process would).  A fault anywhere else is an
 * opsub bug and is reported as such.
 */
#ifndef OPSUB_SANDBOX_FAULT_H
#define OPSUB_SANDBOX_FAULT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* The host signals that interrupt a running guest (fault_on_request): the
 * daemon's requests (monitor/freeze.h) and the guest's interval timers
 * (monitor/signals.h). */
#define FAULT_REQUEST_SIGNAL SIGUSR2
#define FAULT_TIMER_SIGNAL   (SIGRTMIN + 1)

/* Installs the handlers and the alternate stack; 0 or -1 with a reason. */
int fault_install(char *err, size_t errlen);

/* Installs handler for signal sig on the alternate stack. */
int fault_on_signal(int sig, void (*handler)(int));

/* Installs the handler of a request to interrupt the guest on sig (one
 * of the two above): noted(sig, si) runs first; if it returns true, a
 * guest in translated code is stepped to its next instruction boundary
 * and into the gates, where requests are served.  Interrupted reads and
 * writes restart (SA_RESTART). */
int fault_on_request(int sig, bool (*noted)(int sig, const siginfo_t *si));

/* "segmentation fault", "illegal instruction", ... */
const char *fault_kind(int sig);

#endif
