// Attack: read host memory with the 64-bit absolute form `movabs rax,
// [imm64]` (moffs), JIT-compiled at run time with the host address as the
// immediate.
// Natively: reads the secret page.
// Under opsub: a moffs address at or above 4 GiB cannot be confined, so the
// instruction is replaced by a guest fault.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	uint8_t *p = rwx(4096, 0);
	for (int i = 0; i < 4; i++) {
		uint8_t *f = p + 16 * i;
		uint64_t a = T.data + 8 * i;
		f[0] = 0x48; f[1] = 0xa1;          /* movabs rax, [imm64] */
		memcpy(f + 2, &a, 8);
		f[10] = 0xc3;                      /* ret */
	}
	uint64_t buf[4];
	for (int i = 0; i < 4; i++)
		buf[i] = ((uint64_t (*)(void))(p + 16 * i))();
	report_read("movabs rax, [moffs64]", buf, sizeof(buf));
	return 0;
}
