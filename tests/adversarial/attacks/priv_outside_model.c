// Attack: instructions outside opsub's guest CPU model (x86-64-v3): AVX-512,
// RTM (xbegin), rdrand, rdseed, rdpid, the xsave family (xsave, xsaveopt,
// xsavec, xrstor), clflushopt, clwb, GFNI, VAES, pconfig-free others
// (SHA is an optional row of the model now: shown where the host has it,
// refused where it is not shown: tests/unit test_policy, test_verifier).
// A translator must never pass an instruction its policy does not
// understand (deny by default): unknown forms may carry memory operands or
// state it cannot confine (xsave writes the whole register file, AVX-512
// has masks and scatters, RTM aborts jump anywhere).
// Natively: they execute (ESCAPED: executed) where the host has them; each
// variant that not every host has names its host property (native-needs).
// Under opsub: "anything else" class: guest fault (SIGILL), whose report
// names the extension and says to build for the guest CPU model.
// variants: avx512 avx512_scatter xbegin xtest rdrand rdseed rdpid xsave xsaveopt xsavec xrstor clflushopt clwb gfni vaes
// opsub: faults is not in the guest CPU model x86-64-v3 (opsub cpu): build for it
// native-needs: avx512=avx512 avx512_scatter=avx512 xbegin=tsx xtest=tsx rdpid=rdpid gfni=gfni vaes=vaes
#include "attack.h"

static uint8_t area[4096] __attribute__((aligned(64)));

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint64_t r = 0;
	if (!strcmp(v, "avx512"))
		__asm__ volatile("vpxord %%zmm1, %%zmm1, %%zmm1\n vmovdqu64 %%zmm1, (%0)" : : "r"(area) : "memory", "xmm1");
	else if (!strcmp(v, "avx512_scatter")) {
		uint64_t idx[8] = {0, 8, 16, 24, 32, 40, 48, 56};
		__asm__ volatile("vmovdqu64 (%1), %%zmm1\n kxnorw %%k1, %%k1, %%k1\n vpxord %%zmm2, %%zmm2, %%zmm2\n"
		                 "vpscatterqq %%zmm2, (%0,%%zmm1,1)%{%%k1%}" : : "r"(area), "r"(idx) : "memory", "xmm1", "xmm2");
	} else if (!strcmp(v, "xbegin"))
		__asm__ volatile("mov $-1, %%eax\n xbegin 1f\n xend\n 1:" : "=a"(r) : : "memory");
	else if (!strcmp(v, "xtest"))
		__asm__ volatile("xtest\n setz %b0" : "=r"(r) : : "cc");
	else if (!strcmp(v, "rdrand"))
		__asm__ volatile("rdrand %0" : "=r"(r) : : "cc");
	else if (!strcmp(v, "rdseed"))
		__asm__ volatile("rdseed %0" : "=r"(r) : : "cc");
	else if (!strcmp(v, "rdpid"))
		__asm__ volatile("rdpid %0" : "=r"(r));
	else if (!strcmp(v, "xsave"))
		__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(-1), "d"(-1) : "memory");
	else if (!strcmp(v, "xsaveopt"))
		__asm__ volatile("xsaveopt64 (%0)" : : "r"(area), "a"(-1), "d"(-1) : "memory");
	else if (!strcmp(v, "xsavec"))
		__asm__ volatile("xsavec64 (%0)" : : "r"(area), "a"(-1), "d"(-1) : "memory");
	else if (!strcmp(v, "xrstor"))
		__asm__ volatile("xsave64 (%0)\n xrstor64 (%0)" : : "r"(area), "a"(3), "d"(0) : "memory");
	else if (!strcmp(v, "clflushopt"))
		__asm__ volatile("clflushopt (%0)" : : "r"(area) : "memory");
	else if (!strcmp(v, "clwb"))
		__asm__ volatile("clwb (%0)" : : "r"(area) : "memory");
	else if (!strcmp(v, "gfni"))
		__asm__ volatile("gf2p8mulb %%xmm1, %%xmm2" : : : "xmm2");
	else
		__asm__ volatile("vaesenc %%ymm1, %%ymm2, %%ymm3\n vzeroupper" : : : "xmm3");
	escaped("%s executed (%#lx)", v, r);
	return 0;
}
