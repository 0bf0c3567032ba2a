// Attack (denial of service): run a block of 10000 nops (single-byte and
// multi-byte forms), several times, from a JIT page and from a function
// written at run time; a translator with per-block limits has to split it.
// Natively: completes (DONE).
// Under opsub: completes.
// native: completes
#include "attack.h"

int main(void)
{
	uint8_t *p = rwx(65536, 0);
	static const uint8_t nop9[] = {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00};
	size_t n = 0;
	for (int i = 0; i < 5000; i++)
		p[n++] = 0x90;
	for (int i = 0; i < 5000 / 9; i++, n += 9)
		memcpy(p + n, nop9, 9);
	for (int i = 0; i < 4; i++)
		p[n++] = 0x90;
	p[n++] = 0xb8;
	memcpy(p + n, &(uint32_t){42}, 4);
	n += 4;
	p[n++] = 0xc3;
	uint32_t r = 0;
	for (int i = 0; i < 20; i++)
		r += ((uint32_t (*)(void))p)();
	printf("DONE %u\n", r);
	return 0;
}
