#include "sandbox/fault.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "sandbox/monitor.h"

#define ALT_STACK_SIZE (256u << 10)

const char *fault_kind(int sig)
{
	switch (sig) {
	case SIGSEGV: return "segmentation fault";
	case SIGBUS: return "bus error";
	case SIGILL: return "illegal instruction";
	case SIGFPE: return "arithmetic exception";
	case SIGTRAP: return "trace trap";
	default: return strsignal(sig);
	}
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t host_pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr, pc;
	struct monitor *m = the_monitor;
	if (m && tr_guest_pc(&m->tr, host_pc, &pc)) {
		if (sig == SIGSEGV && si->si_code == SEGV_ACCERR && gm_watched(&m->gm, addr) &&
		    gm_access_ok(&m->gm, addr, 1, GP_W)) {
			/* self-modifying code: drop the translations, retry the write */
			if (gm_prepare_write(&m->gm, addr, 1))
				return;
			monitor_guest_fault(sig, pc, addr, true, "no host mapping slot left to let the write through");
		}
		bool known = (sig == SIGSEGV || sig == SIGBUS) && si->si_code != SI_KERNEL;
		monitor_guest_fault(sig, pc, addr, known, NULL);
	}
	fprintf(stderr, "opsub: internal error: %s at host pc 0x%lx, address 0x%lx\n", fault_kind(sig),
	        host_pc, addr);
	signal(sig, SIG_DFL);
	raise(sig);
}

int fault_on_signal(int sig, void (*handler)(int))
{
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int fault_install(char *err, size_t errlen)
{
	stack_t ss = {.ss_sp = malloc(ALT_STACK_SIZE), .ss_size = ALT_STACK_SIZE};
	if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0) {
		snprintf(err, errlen, "cannot set up the signal stack");
		return -1;
	}
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK};
		sigemptyset(&sa.sa_mask);
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			snprintf(err, errlen, "cannot install the fault handlers");
			return -1;
		}
	}
	return 0;
}
