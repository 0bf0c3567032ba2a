// Attack: look for host addresses left in guest memory below rsp (the red
// zone and the dead stack) after operations that enter opsub's trusted code
// or are rewritten by it: direct and indirect calls and returns, system
// calls, cpuid, an indirect-branch miss, a self-modifying write (the fault
// handler), a guest that reads it all back.
// Natively: the stack itself is a host address, and a called function
// leaves a pointer to its own frame below rsp (ESCAPED).
// Under opsub: only guest values can be found there.
#include "attack.h"

#define SPAN 16384

__attribute__((noinline)) static void plant(void)
{
	/* leaves the address of its own frame below the caller's rsp */
	volatile uint64_t here;
	volatile uint64_t *volatile p = &here;
	here = (uint64_t)(uintptr_t)p;
}

__attribute__((noinline)) static int leaf(int x) { return x * 3 + 1; }

__attribute__((noinline)) static void clear_below(void)
{
	volatile uint8_t big[SPAN];
	for (size_t i = 0; i < SPAN; i++)
		big[i] = 0;
}

__attribute__((noinline)) static int scan(uint64_t top)
{
	int hits = 0;
	for (uint64_t a = top - SPAN; a < top; a += 8) {
		uint64_t v = *(volatile uint64_t *)(uintptr_t)a;
		if (host_pointer(v) && hits++ < 8)
			escaped("word at rsp-%#lx below the stack holds %#lx", top - a, v);
	}
	return hits;
}

uint8_t smc_code[64] __attribute__((aligned(4096))) = {0xc3};

int main(void)
{
	uint64_t rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	clear_below();
	plant();
	int (*volatile fp)(int) = leaf;
	int s = leaf(1) + fp(2);
	sc0(SYS_getpid);
	sc3(SYS_write, 1, "", 0);
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	sc3(SYS_mprotect, (uintptr_t)smc_code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	((void (*)(void))smc_code)();
	smc_code[1] = 0x90;                  /* write to translated code */
	((void (*)(void))smc_code)();
	int hits = scan(rsp);
	note("%d host-looking words below rsp (s=%d)", hits, s);
	return 0;
}
