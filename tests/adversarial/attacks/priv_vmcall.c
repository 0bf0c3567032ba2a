// Attack: opsub's hypercall instruction with garbage: unknown numbers (0,
// huge, negative), the console call with a host pointer / a range running
// off the guest / a wrapping length, and vmcall forms opsub does not use
// (vmmcall, vmlaunch, vmfunc).
// Natively: vmcall is #UD on bare metal or is refused by the hypervisor
// (KVM returns -KVM_EPERM to user mode); the program ends on its own
// (native: runs).
// Under opsub: unknown numbers return -ENOSYS, bad pointers -EFAULT, other
// forms fault; ESCAPED if any call succeeds on a host address.
// native: runs
// variants: numbers console vmmcall vmlaunch vmfunc
// stdin: hostaddr
#include "attack.h"

static long vmcall(long nr, long a, long b)
{
	long r;
	__asm__ volatile("vmcall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "memory");
	return r;
}

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	if (!strcmp(v, "numbers")) {
		static const long nrs[] = {0, 4, 5, 0x100, 0x7fffffff, -1, (long)0x8000000000000000ull, 0xdeadbeef};
		for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
			long r = vmcall(nrs[i], (long)T.data, 4096);
			note("vmcall(%#lx) = %ld", nrs[i], r);
			if (r != -ENOSYS && r != -1 /* KVM_EPERM natively */)
				escaped("vmcall %#lx returned %ld instead of -ENOSYS", nrs[i], r);
		}
	} else if (!strcmp(v, "console")) {
		struct { uint64_t p, n; } cases[] = {{T.data, 20}, {FOUR_GIB - 0x1000, 0x2000}, {0x1000, 0xffffffffffff0000ull}};
		for (size_t i = 0; i < 3; i++) {
			long r = vmcall(1, (long)cases[i].p, (long)cases[i].n);
			note("console(%#lx, %#lx) = %ld", cases[i].p, cases[i].n, r);
			if (r > 0)
				escaped("console hypercall wrote %ld bytes from %#lx", r, cases[i].p);
		}
	} else if (!strcmp(v, "vmmcall"))
		__asm__ volatile("vmmcall");
	else if (!strcmp(v, "vmlaunch"))
		__asm__ volatile("vmlaunch");
	else
		__asm__ volatile("vmfunc" : : "a"(0), "c"(0));
	printf("DONE\n");
	return 0;
}
