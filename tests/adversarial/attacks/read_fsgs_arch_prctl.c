// Attack: point the FS or GS base at host memory with arch_prctl
// (ARCH_SET_FS / ARCH_SET_GS) and read fs:[0] / gs:[0].
// Natively: the segment base moves to the secret page and fs:/gs: reads it.
// Under opsub: arch_prctl refuses bases outside the guest (-EPERM), and
// fs:/gs: accesses are confined to 32-bit guest addresses anyway.
// variants: fs gs
// stdin: hostaddr
#include "attack.h"

int main(int argc, char **argv)
{
	int gs = !strcmp(variant(argc, argv), "gs");
	get_targets();
	uint64_t old = 0, buf[4] = {0};
	sc2(SYS_arch_prctl, gs ? 0x1004 : 0x1003, &old);          /* ARCH_GET_GS / ARCH_GET_FS */
	long r = sc2(SYS_arch_prctl, gs ? 0x1001 : 0x1002, T.data); /* ARCH_SET_GS / ARCH_SET_FS */
	/* no libc until the base is back: musl keeps its TLS behind fs */
	for (int i = 0; i < 4; i++) {
		uint64_t v;
		if (gs)
			__asm__ volatile("mov %%gs:(%1), %0" : "=r"(v) : "r"((uint64_t)(8 * i)) : "memory");
		else
			__asm__ volatile("mov %%fs:(%1), %0" : "=r"(v) : "r"((uint64_t)(8 * i)) : "memory");
		buf[i] = v;
	}
	sc2(SYS_arch_prctl, gs ? 0x1001 : 0x1002, old);
	note("arch_prctl(SET_%s, host) returned %ld", gs ? "GS" : "FS", r);
	report_read(gs ? "gs:[0] after arch_prctl" : "fs:[0] after arch_prctl", buf, sizeof(buf));
	return 0;
}
