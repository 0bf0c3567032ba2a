// Attack: learn where the code really runs: lea rax,[rip]; call + pop of the
// pushed return address; and the x87 last-instruction pointer (FIP) that
// fxsave64 / fnstenv / fnsave store after an x87 instruction.
// Natively (static PIE): all of them give the program's own address above
// 4 GiB (ESCAPED).
// Under opsub: they must give the guest address of the instruction, or for
// FIP nothing at all (0: opsub clears the field, as AMD CPUs do when no x87
// exception is pending); any other FIP is the address of the translated copy
// in opsub's code cache (or its low half), i.e. a host address.
// variants: lea_rip call_pop fxsave64_fip fnstenv_fip fnsave_fip
// build: static-pie
#include "attack.h"

static double one = 1.0;

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint64_t got = 0, expect = 0;
	if (!strcmp(v, "lea_rip")) {
		__asm__ volatile("lea (%%rip), %0" : "=r"(got));
		expect = got;
	} else if (!strcmp(v, "call_pop")) {
		__asm__ volatile("call 1f\n 1: pop %0" : "=r"(got));
		expect = got;
	} else if (!strcmp(v, "fxsave64_fip")) {
		static uint8_t fx[512] __attribute__((aligned(16)));
		__asm__ volatile("lea 1f(%%rip), %0\n 1: fldl %2\n fstp %%st(0)\n fxsave64 %1"
		                 : "=&r"(expect), "=m"(fx) : "m"(one) : "memory");
		memcpy(&got, fx + 8, 8);
	} else {
		uint8_t env[108];
		if (!strcmp(v, "fnstenv_fip"))
			__asm__ volatile("lea 1f(%%rip), %0\n 1: fldl %2\n fnstenv %1\n fldenv %1\n fstp %%st(0)"
			                 : "=&r"(expect), "=m"(env) : "m"(one) : "memory");
		else
			__asm__ volatile("lea 1f(%%rip), %0\n 1: fldl %2\n fnsave %1\n frstor %1\n fstp %%st(0)"
			                 : "=&r"(expect), "=m"(env) : "m"(one) : "memory");
		uint32_t ip;
		memcpy(&ip, env + 12, 4);
		got = ip;
	}
	note("%s: got %#lx, instruction at %#lx", v, got, expect);
	if (host_pointer(got) || host_pointer(expect))
		escaped("%s shows a host-looking code address %#lx", v, host_pointer(got) ? got : expect);
	else if (got != expect && !(got == 0 && strstr(v, "fip")))
		escaped("%s shows %#lx, not the guest address %#lx of the instruction: the address it really runs at",
		        v, got, expect);
	return 0;
}
