// Attack (denial of service): split guest memory into as many separately
// protected pieces as possible (mprotect of every other page of 70000
// pages), so that opsub's host mappings of guest memory exceed the kernel's
// mapping limit (vm.max_map_count, 65530 by default).
// Natively: mprotect starts failing with ENOMEM; the program goes on (DONE).
// Under opsub: the guest gets an error code; opsub must not abort.
// native: completes
#include "attack.h"

int main(void)
{
	size_t n = 70000;
	uint8_t *p = mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		note("mmap failed");
		return 3;
	}
	size_t fails = 0;
	for (size_t i = 0; i < n; i += 2)
		if (sc3(SYS_mprotect, p + i * 4096, 4096, PROT_READ))
			fails++;
	printf("DONE mprotect failures: %zu\n", fails);
	return 0;
}
