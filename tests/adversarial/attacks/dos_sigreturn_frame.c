// Attack (denial of service / state the gates must never load): a signal
// handler edits its frame so that rt_sigreturn would restore what a user
// program may not hold: the trap flag (tf), the alignment-check flag (ac,
// which a user program may hold, but opsub's own code must never run
// with: its unaligned accesses would trap), an MXCSR with reserved bits
// (mxcsr), an XSAVE header with a feature outside the CPU's (xfeatures) or
// a reserved byte set (xheader), a pc outside guest memory (rip), a stack
// pointer above 4 GiB (rsp); or it installs a handler with no SA_RESTORER
// (no_restorer).  Natively the kernel refuses the frame (SIGSEGV), traps
// (SIGTRAP) or faults on the bad pc or stack.  Under opsub the trusted code
// reads the frame once into its own copy and restores only what a user
// program may hold: the guest goes on (tf: TF is dropped) or ends with
// SIGSEGV as a guest (ac: the guest's pushf shows AC, but the CPU runs
// without it); an FXRSTOR/XRSTOR or popf of the forged state in the gate
// would be an internal error.  Natively the ac variant dies of SIGBUS at
// an unaligned load after the handler.
// native: faults
// variants: tf ac mxcsr xfeatures xheader rip rsp no_restorer
#include "attack.h"

#include <signal.h>
#include <ucontext.h>

static const char *which;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	if (!strcmp(which, "tf"))
		uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
	else if (!strcmp(which, "ac"))
		uc->uc_mcontext.gregs[REG_EFL] |= 0x40000;
	else if (!strcmp(which, "mxcsr"))
		*(uint32_t *)(fp + 24) |= 0x80000000u;
	else if (!strcmp(which, "xfeatures"))
		*(uint64_t *)(fp + 512) |= 1ull << 62;
	else if (!strcmp(which, "xheader"))
		fp[512 + 20] = 1;
	else if (!strcmp(which, "rip"))
		uc->uc_mcontext.gregs[REG_RIP] = 0x7f1234560000;
	else if (!strcmp(which, "rsp"))
		uc->uc_mcontext.gregs[REG_RSP] = 0x7ffffffff000;
}

int main(int argc, char **argv)
{
	which = variant(argc, argv);
	if (!strcmp(which, "no_restorer")) {
		/* the kernel's struct sigaction: handler, flags, restorer, mask */
		uint64_t act[4] = {(uint64_t)(uintptr_t)handler, SA_SIGINFO, 0, 0};
		note("rt_sigaction without SA_RESTORER: %ld", sc4(SYS_rt_sigaction, SIGUSR1, act, 0, 8));
	} else {
		struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}
	sc2(SYS_kill, sc0(SYS_getpid), SIGUSR1);
	/* after the handler: an unaligned load, a system call and an indirect call */
	static uint8_t bytes[16];
	uint64_t unaligned;
	__asm__ volatile("mov 3(%1), %0" : "=r"(unaligned) : "r"(bytes) : "memory");
	sc0(SYS_getpid);
	int (*volatile f)(const char *) = puts;
	f("note: still running after the handler returned");
	uint64_t fl;
	__asm__ volatile("pushfq\n pop %0" : "=r"(fl));
	note("rflags now %#lx, unaligned load %#lx", fl, unaligned);
	/* with the rsp variant main's frame and return address are whatever
	 * lies where the confined stack pointer points: leave without them */
	fflush(NULL);
	sc1(SYS_exit_group, 0);
	return 0;
}
