// Attack: make write() read memory outside the sandbox for the guest: a host
// address (opsub's ELF header), a range that starts in the last page below
// 4 GiB and runs 4 KiB past it, a range running off the top of guest memory,
// and a length that wraps around the address space.
// Natively: the host address and the 4 GiB-straddling range are written out
// in full (ESCAPED).
// Under opsub: -EFAULT for every one of them.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	map_4g_edge();
	uint64_t top = stack_top();
	sys_case("write host", T.data, 32, sc3(SYS_write, 2, T.data, 32), 32);
	sys_case("write straddle-4G", FOUR_GIB - 0x1000, 0x2000, sc3(SYS_write, 2, FOUR_GIB - 0x1000, 0x2000), 0x2000);
	sys_case("write off-top", top - 0x1000, 0x2000, sc3(SYS_write, 2, top - 0x1000, 0x2000), 0x2000);
	sys_case("write wrap", 0x1000, 0xffffffffffff0000ull, sc3(SYS_write, 2, 0x1000, 0xffffffffffff0000ull), 0x10000);
	sys_case("write wrap2", T.data, (uint64_t)-T.data + 0x1000, sc3(SYS_write, 2, T.data, -T.data + 0x1000), 0x1000);
	return 0;
}
