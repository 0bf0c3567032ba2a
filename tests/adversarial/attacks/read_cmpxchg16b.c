// Attack: read host memory with lock cmpxchg16b: with rdx:rax = 0 the
// comparison fails and the CPU loads the 16 memory bytes into rdx:rax.
// Natively: reads the secret page (which is writable, as cmpxchg16b needs).
// Under opsub: the memory operand gets a 32-bit address size.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	uint64_t buf[4];
	for (int i = 0; i < 2; i++) {
		uint64_t lo = 0, hi = 0;
		__asm__ volatile("lock cmpxchg16b (%2)"
		                 : "+a"(lo), "+d"(hi)
		                 : "r"(T.data + 16 * i), "b"(0L), "c"(0L)
		                 : "memory", "cc");
		buf[2 * i] = lo;
		buf[2 * i + 1] = hi;
	}
	report_read("cmpxchg16b", buf, sizeof(buf));
	return 0;
}
