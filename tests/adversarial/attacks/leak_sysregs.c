// Attack: read host system state with the descriptor-table and machine-status
// instructions that user mode may execute: sgdt, sidt, sldt, str, smsw.
// Natively: they run (with UMIP the kernel answers with spoofed values) and
// return the host's GDT/IDT bases, selectors and CR0 bits (ESCAPED).
// Under opsub: "system state read" class: guest fault.
// variants: sgdt sidt sldt str smsw
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint8_t d[10];
	uint64_t r = 0;
	memset(d, 0, sizeof(d));
	if (!strcmp(v, "sgdt"))
		__asm__ volatile("sgdt %0" : "=m"(d));
	else if (!strcmp(v, "sidt"))
		__asm__ volatile("sidt %0" : "=m"(d));
	else if (!strcmp(v, "sldt"))
		__asm__ volatile("sldt %0" : "=r"(r));
	else if (!strcmp(v, "str"))
		__asm__ volatile("str %0" : "=r"(r));
	else
		__asm__ volatile("smsw %0" : "=r"(r));
	uint64_t base;
	memcpy(&base, d + 2, 8);
	escaped("%s executed: %s", v, d[0] || base ? hex(d, 10) : hex(&r, 8));
	return 0;
}
