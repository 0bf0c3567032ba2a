// Attack: read host memory with AVX2 gathers: vpgatherqq with 64-bit indices
// and no base (the index alone is the host address), vpgatherqq with the
// host address as base, and vpgatherdq (32-bit indices) with it as base.
// Natively: reads the secret page.
// Under opsub: gathers get a 32-bit address size; the effective address of
// each element is truncated to 32 bits.
// variants: qq_index qq_base dq_base
// stdin: hostaddr
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	uint64_t out[4] = {0}, idx[4];
	if (!strcmp(v, "qq_index")) {
		for (int i = 0; i < 4; i++)
			idx[i] = T.data + 8 * i;
		__asm__ volatile("vmovdqu (%1), %%ymm1\n"
		                 "vpcmpeqq %%ymm2, %%ymm2, %%ymm2\n"
		                 "vpxor %%ymm0, %%ymm0, %%ymm0\n"
		                 "vpgatherqq %%ymm2, 0(,%%ymm1,1), %%ymm0\n"
		                 "vmovdqu %%ymm0, (%0)\n"
		                 "vzeroupper\n" ::"r"(out), "r"(idx)
		                 : "memory", "xmm0", "xmm1", "xmm2");
	} else if (!strcmp(v, "qq_base")) {
		for (int i = 0; i < 4; i++)
			idx[i] = 8 * i;
		__asm__ volatile("vmovdqu (%1), %%ymm1\n"
		                 "vpcmpeqq %%ymm2, %%ymm2, %%ymm2\n"
		                 "vpxor %%ymm0, %%ymm0, %%ymm0\n"
		                 "vpgatherqq %%ymm2, (%2,%%ymm1,1), %%ymm0\n"
		                 "vmovdqu %%ymm0, (%0)\n"
		                 "vzeroupper\n" ::"r"(out), "r"(idx), "r"(T.data)
		                 : "memory", "xmm0", "xmm1", "xmm2");
	} else {
		uint32_t idx32[4] = {0, 8, 16, 24};
		__asm__ volatile("vmovdqu (%1), %%xmm1\n"
		                 "vpcmpeqq %%ymm2, %%ymm2, %%ymm2\n"
		                 "vpxor %%ymm0, %%ymm0, %%ymm0\n"
		                 "vpgatherdq %%ymm2, (%2,%%xmm1,1), %%ymm0\n"
		                 "vmovdqu %%ymm0, (%0)\n"
		                 "vzeroupper\n" ::"r"(out), "r"(idx32), "r"(T.data)
		                 : "memory", "xmm0", "xmm1", "xmm2");
	}
	report_read(v, out, sizeof(out));
	return 0;
}
