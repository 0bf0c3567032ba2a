// Attack: read host memory through a plain 64-bit pointer (mov rax, [rdi]).
// Natively: reads the secret page above 4 GiB (ESCAPED with its bytes).
// Under opsub: the access is emitted with a 32-bit address size, so only the
// low 32 bits of the pointer count: guest memory or a guest fault.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	uint64_t buf[4];
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)T.data;
	for (int i = 0; i < 4; i++)
		buf[i] = p[i];
	report_read("64-bit pointer", buf, sizeof(buf));
	return 0;
}
