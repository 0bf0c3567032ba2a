// Handlers of the guest's own faults: SIGSEGV (a null write, a write to a
// read-only page: si_code and si_addr), SIGFPE (division by zero), SIGILL
// (ud2), each left with siglongjmp; a handler that makes the page writable
// and returns, so the store is made again; and a stack overflow caught on
// the alternate stack, which ends the program with its own status.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static sigjmp_buf jb;
static int *volatile null_int = (int *)16;
static volatile int got_code;
static void *volatile got_addr;
static void jump(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jb, sig);
}
static char *page;
static void unprotect(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_addr = si->si_addr;
	got_code = si->si_code;
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
}
static void overflowed(int sig)
{
	static const char msg[] = "stack overflow caught on the alternate stack\n";
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(40 + sig);
}

static volatile long depth_limit = 1L << 40;   /* never reached: the stack ends first */
static long recurse(long n)
{
	volatile char pad[4096];
	pad[0] = (char)n;
	return n < depth_limit ? recurse(n + 1) + pad[0] : n;
}

int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	struct sigaction sa = {.sa_sigaction = jump, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, 0);
	sigaction(SIGFPE, &sa, 0);
	sigaction(SIGILL, &sa, 0);
	int s = sigsetjmp(jb, 1);
	if (!s) {
		*null_int = 1;
	}
	printf("null write: sig %d code %s addr %p\n", s, got_code == SEGV_MAPERR ? "MAPERR" : "?", got_addr);
	volatile int zero = 0;
	s = sigsetjmp(jb, 1);
	if (!s) {
		volatile int q = 7 / zero;
		(void)q;
	}
	printf("divide by zero: sig %d code %s\n", s, got_code == FPE_INTDIV ? "INTDIV" : "?");
	s = sigsetjmp(jb, 1);
	if (!s) {
		__asm__ volatile("ud2");
	}
	printf("ud2: sig %d code %s\n", s, got_code == ILL_ILLOPN ? "ILLOPN" : "?");
	page = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s = sigsetjmp(jb, 1);
	if (!s) {
		page[100] = 5;
	}
	printf("read-only page: sig %d code %s at the page %d\n", s, got_code == SEGV_ACCERR ? "ACCERR" : "?",
	       got_addr == page + 100);
	struct sigaction fix = {.sa_sigaction = unprotect, .sa_flags = SA_SIGINFO};
	sigemptyset(&fix.sa_mask);
	sigaction(SIGSEGV, &fix, 0);
	page[200] = 9; /* the handler makes it writable: the store is made again and succeeds */
	printf("handler fixed the page and returned: %d\n", page[200]);
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)};
	sigaltstack(&ss, 0);
	struct sigaction ov = {.sa_handler = overflowed, .sa_flags = SA_ONSTACK};
	sigemptyset(&ov.sa_mask);
	sigaction(SIGSEGV, &ov, 0);
	printf("recursing until the stack runs out\n");
	return (int)recurse(1);
}
