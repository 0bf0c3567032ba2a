// Attack (denial of service): rep movsb / rep stosb with rcx = -1 from a
// page-aligned buffer, so the copy runs until it hits unmapped memory; with
// rsi/rdi close to the top of the 32-bit space it would wrap.
// Natively: SIGSEGV at the end of the mapping (native: faults).
// Under opsub: a guest fault, nothing written outside guest memory.
// native: faults
// variants: movsb stosb movsb_top
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint8_t *buf = rwx(1 << 20, 0);
	void *d = buf, *s = buf + 4096;
	size_t n = (size_t)-1;
	if (!strcmp(v, "movsb"))
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	else if (!strcmp(v, "stosb"))
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0x41) : "memory");
	else {
		d = (void *)(uintptr_t)(FOUR_GIB - 16);
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	}
	escaped("rep %s with rcx=-1 finished", v);
	return 0;
}
