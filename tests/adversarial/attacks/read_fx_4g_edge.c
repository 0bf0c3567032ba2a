// Attack: a 512-byte fxrstor / fxsave that starts just below 4 GiB
// (0xffffff80), so that most of it lies above 4 GiB, where the host lives
// when the guest's own accesses are confined to [0, 4 GiB).
// Natively: pages at 0xfffff000 and 0x100000000 are mapped; fxrstor loads
// xmm0 from 0x100000020 (the secret), fxsave writes xmm0 there (ESCAPED).
// Under opsub: the access runs into the inaccessible space at the top of the
// sandbox and the guard above it: guest fault.
// variants: fxrstor fxsave
#include "attack.h"

int main(int argc, char **argv)
{
	int save = !strcmp(variant(argc, argv), "fxsave");
	int native = map_4g_edge();
	uint8_t *area = (uint8_t *)(uintptr_t)0xffffff80ull;
	if (native) {
		uint32_t mxcsr = 0x1f80;
		memcpy(area + 24, &mxcsr, 4);               /* a valid MXCSR for fxrstor */
		memcpy(area + 160, secret_hdr, 16);         /* xmm0 slot: 0x100000020 */
	}
	uint8_t x[16];
	if (save) {
		__asm__ volatile("movdqu (%1), %%xmm0\n fxsave64 (%0)" ::"r"(area), "r"(native_secret) : "memory", "xmm0");
		memcpy(x, area + 160, 16);                   /* natively: above 4 GiB */
		if (!memcmp(x, native_secret, 16))
			escaped("fxsave at %p wrote xmm0 above 4 GiB: %s", (void *)area, hex(x, 16));
	} else {
		__asm__ volatile("fxrstor64 (%1)\n movdqu %%xmm0, (%0)" ::"r"(x), "r"(area) : "memory", "xmm0");
		if (!memcmp(x, secret_hdr, 16))
			escaped("fxrstor at %p loaded xmm0 from above 4 GiB: %s", (void *)area, hex(x, 16));
	}
	note("fx%s at %p did not cross 4 GiB", save ? "save" : "rstor", (void *)area);
	return 0;
}
