// Attack: read host memory through [base + index*8] with a small base and a
// huge index register (index = (addr - base) / 8), so that no single
// register holds the host address.
// Natively: reads the secret page.
// Under opsub: the whole address computation is 32-bit: it wraps below 4 GiB.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	uint64_t buf[4], base = 0x1000, idx = (T.data - base) / 8;
	for (long i = 0; i < 4; i++) {
		uint64_t v;
		__asm__ volatile("mov (%1,%2,8), %0" : "=r"(v) : "r"(base), "r"(idx + i) : "memory");
		buf[i] = v;
	}
	report_read("[base+index*8]", buf, sizeof(buf));
	return 0;
}
