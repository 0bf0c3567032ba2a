// Attack: get memory mapped outside the sandbox with mmap: MAP_FIXED at
// 0x7f0000000000, MAP_FIXED_NOREPLACE there, a plain hint there, two pages
// MAP_FIXED at 0xfffff000 (straddling 4 GiB), MAP_FIXED at 4 GiB; then touch
// what was mapped (write, read back).
// Natively: all of them map and the touches work (ESCAPED).
// Under opsub: -ENOMEM (fixed) or an address inside the guest (hint); an
// address at or above 4 GiB returned to the guest is reported.
#include "attack.h"

static void try_map(const char *what, uint64_t addr, uint64_t len, int flags, uint64_t touch)
{
	long r = sc6(SYS_mmap, addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	note("%s: mmap(%#lx, %#lx) = %#lx", what, addr, len, (uint64_t)r);
	if (r < 0 && r > -4096)
		return;
	if ((uint64_t)r + len > FOUR_GIB) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(touch ? touch : (uint64_t)r);
		*p = 0x5eed5eed;
		escaped("%s: mapped %#lx-%#lx, outside [0, 4 GiB), and touched %p (%#lx)", what, (uint64_t)r,
		        (uint64_t)r + len, (void *)p, *p);
	}
}

int main(void)
{
	try_map("fixed-7f", SECRET_ADDR, 0x1000, MAP_FIXED, 0);
	try_map("noreplace-7f", SECRET_ADDR + 0x10000, 0x1000, MAP_FIXED_NOREPLACE, 0);
	try_map("hint-7f", SECRET_ADDR + 0x20000, 0x1000, 0, 0);
	try_map("fixed-straddle-4G", FOUR_GIB - 0x1000, 0x2000, MAP_FIXED, FOUR_GIB);
	try_map("fixed-4G", FOUR_GIB + 0x10000, 0x1000, MAP_FIXED, 0);
	try_map("fixed-huge-len", 0x10000000, 0xffffffffffff0000ull, MAP_FIXED, 0);
	return 0;
}
