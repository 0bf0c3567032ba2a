// Attack: point the FS or GS base at host memory with wrfsbase / wrgsbase
// and read fs:[0] / gs:[0]; then read the base back with rdfsbase/rdgsbase.
// Natively (FSGSBASE enabled): the reads return the secret page.
// Under opsub: the bases are emulated values that are added to the guest
// address and the sum is confined to 32 bits.
// variants: fs gs
// native-needs: fsgsbase
// stdin: hostaddr
#include "attack.h"

int main(int argc, char **argv)
{
	int gs = !strcmp(variant(argc, argv), "gs");
	get_targets();
	uint64_t old, buf[4] = {0}, back = T.data;
	if (gs)
		__asm__ volatile("rdgsbase %0" : "=r"(old));
	else
		__asm__ volatile("rdfsbase %0" : "=r"(old));
	for (int i = 0; i < 4; i++) {
		uint64_t v;
		if (gs)
			__asm__ volatile("wrgsbase %1\n mov %%gs:(%2), %0\n rdgsbase %1\n wrgsbase %3"
			                 : "=&r"(v), "+r"(back) : "r"((uint64_t)(8 * i)), "r"(old) : "memory");
		else
			__asm__ volatile("wrfsbase %1\n mov %%fs:(%2), %0\n rdfsbase %1\n wrfsbase %3"
			                 : "=&r"(v), "+r"(back) : "r"((uint64_t)(8 * i)), "r"(old) : "memory");
		buf[i] = v;
		back = T.data;
	}
	report_read(gs ? "wrgsbase + gs:[0]" : "wrfsbase + fs:[0]", buf, sizeof(buf));
	return 0;
}
