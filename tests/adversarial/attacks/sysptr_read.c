// Attack: make read() write guest-supplied bytes (stdin padding) into memory
// outside the sandbox: a writable host address (opsub's .data), a range
// straddling 4 GiB, a range running off the top of guest memory, a wrapping
// length.
// Natively: the host page and the straddling range are filled (ESCAPED).
// Under opsub: -EFAULT, nothing written.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	map_4g_edge();
	uint64_t top = stack_top();
	sys_case("read host", T.rw, 64, sc3(SYS_read, 0, T.rw, 64), 64);
	sys_case("read straddle-4G", FOUR_GIB - 0x1000, 0x2000, sc3(SYS_read, 0, FOUR_GIB - 0x1000, 0x2000), 0x2000);
	sys_case("read off-top", top - 0x1000, 0x2000, sc3(SYS_read, 0, top - 0x1000, 0x2000), 0x2000);
	sys_case("read wrap", 0x1000, 0xffffffffffff0000ull, sc3(SYS_read, 0, 0x1000, 0xffffffffffff0000ull), 0x10000);
	return 0;
}
