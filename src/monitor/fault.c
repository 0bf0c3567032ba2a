#include "monitor/fault.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "gates/gate.h"
#include "monitor/monitor.h"

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

#define EFLAGS_TF 0x100ull

/*
 * Stepping to the next guest instruction boundary, for two reasons.
 *
 * Self-modifying code: a guest write to a page holding translated code
 * faults; the translations of the page are dropped and the write retried.
 * The block doing the write is still running its old translation, and the
 * write may have changed its own next instructions (x86 runs the new ones),
 * so the write is retried alone under the trap flag, and step() then steps
 * to the end of the current guest instruction and leaves the block there:
 * the guest continues from a fresh translation of the next one.
 *
 * A request from the daemon (freeze.h) that finds the guest in translated
 * code: the same stepping brings it to a boundary and into the gates, where
 * the request is served.
 */
/* Leaves translated code at an instruction start (host pc of the guest
 * instruction at pc) for the gates, which then go on at pc as after an
 * indirect jump that missed (gate.S: gate_ibl_miss takes the target and
 * the guest's r11 from the context, where some blocks keep r11 anyway). */
static void to_gates(struct monitor *m, greg_t *r, uint64_t pc, bool r11_in_slot)
{
	m->ctx->ibl_target = pc;
	if (!r11_in_slot)
		m->ctx->ibl_r11 = (uint64_t)r[REG_R11];
	r[REG_RIP] = (greg_t)(uintptr_t)gate_ibl_miss;
}

static void step(struct monitor *m, ucontext_t *uc)
{
	greg_t *r = uc->uc_mcontext.gregs;
	uint64_t host_pc = (uint64_t)r[REG_RIP], pc;
	bool r11_in_slot;
	if (tr_insn_start(&m->tr, host_pc, &pc, &r11_in_slot)) {
		to_gates(m, r, pc, r11_in_slot);
	} else if (tr_guest_pc(&m->tr, host_pc, &pc)) {
		/* inside the instruction's translation: step on (a popf in it
		 * may have cleared the flag) */
		r[REG_EFL] |= (greg_t)EFLAGS_TF;
		return;
	}
	/* at an instruction boundary, or out of translated code (a gate, or
	 * the IBL entry of the next block: a request then waits for the next
	 * gate or the daemon's next signal) */
	r[REG_EFL] &= (greg_t)~EFLAGS_TF;
	m->stepping = false;
}

static bool (*request_noted[65])(int sig, const siginfo_t *si);

/* The signals that interrupt the guest wait while any of these handlers
 * runs: one step at a time. */
static void block_requests(sigset_t *set)
{
	sigaddset(set, FAULT_REQUEST_SIGNAL);
	sigaddset(set, FAULT_TIMER_SIGNAL);
}

static void on_request(int sig, siginfo_t *si, void *ucv)
{
	struct monitor *m = the_monitor;
	ucontext_t *uc = ucv;
	uint64_t pc;
	if (request_noted[sig](sig, si) && m &&
	    tr_guest_pc(&m->tr, (uint64_t)uc->uc_mcontext.gregs[REG_RIP], &pc)) {
		m->stepping = true;
		step(m, uc);
	}
}

int fault_on_request(int sig, bool (*noted)(int sig, const siginfo_t *si))
{
	struct sigaction sa = {.sa_sigaction = on_request, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};
	sigemptyset(&sa.sa_mask);
	request_noted[sig] = noted;
	block_requests(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t host_pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr, pc;
	struct monitor *m = the_monitor;
	if (m && sig == SIGTRAP && m->stepping) {
		step(m, uc);
		return;
	}
	if (m && tr_guest_pc(&m->tr, host_pc, &pc)) {
		if (sig == SIGSEGV && si->si_code == SEGV_ACCERR && gm_watched(&m->gm, addr) &&
		    gm_access_ok(&m->gm, addr, 1, GP_W)) {
			if (gm_prepare_write(&m->gm, addr, 1)) {
				uc->uc_mcontext.gregs[REG_EFL] |= (greg_t)EFLAGS_TF;
				m->stepping = true;
				return;
			}
			monitor_guest_fault(sig, pc, addr, true, "no host mapping slot left to let the write through");
		}
		bool known = (sig == SIGSEGV || sig == SIGBUS) && si->si_code != SI_KERNEL;
		/* at the start of the faulting instruction's translation the guest's
		 * state is its own: a handler of the guest's may take the fault there */
		uint64_t start;
		bool r11_in_slot;
		if (tr_insn_start(&m->tr, host_pc, &start, &r11_in_slot) && start == pc &&
		    signals_fault(m, sig, sig == SIGSEGV && known ? signals_access_code(m, addr) : si->si_code,
		                  known ? addr : pc)) {
			uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)EFLAGS_TF;
			m->stepping = false;
			to_gates(m, uc->uc_mcontext.gregs, pc, r11_in_slot);
			return;
		}
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
		block_requests(&sa.sa_mask);   /* a request waits until the step is taken */
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			snprintf(err, errlen, "cannot install the fault handlers");
			return -1;
		}
	}
	return 0;
}
