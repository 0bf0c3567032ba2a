// Attack: read host memory RIP-relatively: JIT code `mov rax, [rip+disp32]`
// placed as close to the target as the guest can get it (natively: right
// next to the secret page; under opsub the displacement cannot reach 4 GiB
// from guest code, so the attack uses the truncated displacement and the
// largest one, +2 GiB, as well).
// Natively: reads the secret page.
// Under opsub: RIP-relative operands become absolute 32-bit guest addresses
// (or a guest fault when the target is outside [0, 4 GiB)).
// stdin: hostaddr
#include "attack.h"

static uint64_t rip_load(uint8_t *f, uint64_t target)
{
	int64_t d = (int64_t)(target - (uint64_t)(uintptr_t)(f + 7));
	int32_t d32 = (int32_t)d;
	f[0] = 0x48; f[1] = 0x8b; f[2] = 0x05;  /* mov rax, [rip+disp32] */
	memcpy(f + 3, &d32, 4);
	f[7] = 0xc3;
	if (d != d32)
		note("displacement %#lx does not fit 32 bits; using %#x", (uint64_t)d, (uint32_t)d32);
	return ((uint64_t (*)(void))f)();
}

int main(void)
{
	get_targets();
	uint8_t *p = rwx(4096, T.native ? T.data + 0x10000 : 0);
	uint64_t buf[4];
	for (int i = 0; i < 4; i++)
		buf[i] = rip_load(p + 16 * i, T.data + 8 * i);
	report_read("mov rax, [rip+disp32]", buf, sizeof(buf));
	return 0;
}
