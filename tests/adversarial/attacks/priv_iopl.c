// Attack: ask the kernel for port I/O rights (iopl(3), ioperm) and then use
// them (in al, 0x80).
// Natively (in this environment): iopl/ioperm are refused (no CAP_SYS_RAWIO
// in a VM/container) and `in` faults (native: faults); as a privileged host
// process it would succeed.
// Under opsub: iopl/ioperm are unknown (-ENOSYS), `in` is a guest fault.
// native: faults
#include "attack.h"

int main(void)
{
	long r1 = sc1(SYS_iopl, 3), r2 = sc3(SYS_ioperm, 0x80, 1, 1);
	note("iopl(3) = %ld, ioperm = %ld", r1, r2);
	uint8_t v;
	__asm__ volatile("inb $0x80, %0" : "=a"(v));
	escaped("port 0x80 read %#x", v);
	return 0;
}
