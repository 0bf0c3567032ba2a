// Attack: read the FS and GS bases (rdfsbase/rdgsbase, 64 and 32 bit) and
// fs:[0] (musl's TLS self pointer), looking for host addresses.
// Natively (static PIE): the FS base is the TLS block of the program, far
// above 4 GiB (ESCAPED).
// Under opsub: the bases are emulated guest values.
// build: static-pie
// native-needs: fsgsbase
#include "attack.h"

int main(void)
{
	uint64_t fs, gs, self;
	uint32_t fs32, gs32;
	__asm__ volatile("rdfsbase %0" : "=r"(fs));
	__asm__ volatile("rdgsbase %0" : "=r"(gs));
	__asm__ volatile("rdfsbase %0" : "=r"(fs32));
	__asm__ volatile("rdgsbase %0" : "=r"(gs32));
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	note("fsbase %#lx gsbase %#lx (32-bit %#x %#x) fs:[0] %#lx", fs, gs, fs32, gs32, self);
	if (host_pointer(fs) || host_pointer(gs) || host_pointer(self))
		escaped("segment bases show a host address: fs %#lx gs %#lx fs:[0] %#lx", fs, gs, self);
	return 0;
}
