// Attack: move or grow a guest mapping outside the sandbox with mremap:
// MREMAP_FIXED to 0x7f0000000000 and to 4 GiB, growing a mapping in place
// across 4 GiB, and MREMAP_MAYMOVE with a huge size; then touch it.
// Natively: the mapping moves/grows (ESCAPED).
// Under opsub: -EINVAL / -ENOMEM, or a new address inside the guest.
#include "attack.h"

static void check(const char *what, long r, uint64_t len, uint64_t touch)
{
	note("%s: mremap = %#lx", what, (uint64_t)r);
	if (r < 0 && r > -4096)
		return;
	if ((uint64_t)r + len > FOUR_GIB) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(touch ? touch : (uint64_t)r);
		*p = 0x5eed;
		escaped("%s: mapping now at %#lx-%#lx, outside [0, 4 GiB)", what, (uint64_t)r, (uint64_t)r + len);
	}
}

int main(void)
{
	long a = sc6(SYS_mmap, 0, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*(volatile char *)a = 1;
	check("fixed-7f", sc5(SYS_mremap, a, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED, SECRET_ADDR), 0x1000, 0);
	long b = sc6(SYS_mmap, 0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("fixed-4G", sc5(SYS_mremap, b, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED, FOUR_GIB + 0x20000), 0x1000, 0);
	/* a page just below 4 GiB (natively), grown in place across it */
	long c = sc6(SYS_mmap, FOUR_GIB - 0x1000, 0x1000, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	note("page below 4 GiB: %#lx", (uint64_t)c);
	if (c > 0)
		check("grow-across-4G", sc4(SYS_mremap, c, 0x1000, 0x3000, 0), 0x3000, FOUR_GIB + 0x1000);
	long d = sc6(SYS_mmap, 0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("maymove-8G", sc4(SYS_mremap, d, 0x1000, 0x200000000ull, MREMAP_MAYMOVE), 0x200000000ull, 0);
	return 0;
}
