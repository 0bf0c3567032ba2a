// Attack: read host memory with xlat (al = [rbx + al]), rbx = host address.
// Natively: reads the secret page byte by byte.
// Under opsub: xlat gets a 32-bit address size ([ebx + al]).
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	uint8_t buf[32];
	for (int i = 0; i < 32; i++) {
		uint64_t a = (uint64_t)i;
		__asm__ volatile("xlat" : "+a"(a) : "b"(T.data) : "memory");
		buf[i] = (uint8_t)a;
	}
	report_read("xlat", buf, sizeof(buf));
	return 0;
}
