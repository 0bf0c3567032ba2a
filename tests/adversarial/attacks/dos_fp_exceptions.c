// Attack (denial of service): leave the floating-point units in a hostile
// state before entering opsub's trusted code: x87 with all exceptions
// unmasked and a pending divide-by-zero, or MXCSR with all SSE exceptions
// unmasked, then make system calls (opsub's C code must not trip over the
// guest's FP state), then use the FPU again.
// Natively: SIGFPE at the next x87 instruction / the SSE division (native:
// faults).
// Under opsub: the same as a guest fault (SIGFPE), never an internal error.
// native: faults
// variants: x87 sse
#include "attack.h"

int main(int argc, char **argv)
{
	static double zero = 0.0, one = 1.0, out;
	if (!strcmp(variant(argc, argv), "x87")) {
		uint16_t cw = 0x0340;     /* all exceptions unmasked */
		__asm__ volatile("fninit\n fldcw %0\n fldl %1\n fldl %2\n fdivrp" : : "m"(cw), "m"(one), "m"(zero));
		/* pending #MF; into trusted code with it */
		sc0(SYS_getpid);
		sc3(SYS_write, 1, "note: x87 exception pending\n", 28);
		__asm__ volatile("fwait\n fstpl %0" : "=m"(out));
	} else {
		uint32_t mx = 0x0000;     /* all SSE exceptions unmasked */
		__asm__ volatile("ldmxcsr %0" : : "m"(mx));
		sc0(SYS_getpid);
		sc3(SYS_write, 1, "note: SSE exceptions unmasked\n", 30);
		__asm__ volatile("movsd %1, %%xmm0\n divsd %2, %%xmm0\n movsd %%xmm0, %0" : "=m"(out) : "m"(one), "m"(zero) : "xmm0");
	}
	note("no FP exception: %f", out);
	return 0;
}
