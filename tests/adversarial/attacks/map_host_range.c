// Attack: change the mapping of memory outside the sandbox: mprotect a host
// page (opsub's .data) to RWX, madvise(MADV_DONTNEED) it (which would zero
// it), munmap opsub's code.
// Natively (on the attack's own page above 4 GiB): all three succeed
// (ESCAPED).
// Under opsub: -ENOMEM / -EINVAL; opsub keeps running.
// stdin: hostaddr
#include "attack.h"

int main(void)
{
	get_targets();
	uint64_t rw = T.rw & ~0xfffull, code = T.code & ~0xfffull;
	sys_case("mprotect rwx", rw, 0x1000, sc3(SYS_mprotect, rw, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	sys_case("madvise dontneed", rw, 0x1000, sc3(SYS_madvise, rw, 0x1000, MADV_DONTNEED), 0);
	sys_case("munmap", code, 0x1000, sc2(SYS_munmap, code, 0x1000), 0);
	sys_case("mprotect wrap", 0x10000, 0xffffffffffff0000ull, sc3(SYS_mprotect, 0x10000, 0xffffffffffff0000ull, PROT_READ), 0);
	return 0;
}
