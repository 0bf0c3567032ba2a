// Attack: load segment registers: mov to ds/es/ss/fs/gs, pop fs/gs, and
// lfs/lgs/lss from a far pointer.  (Each loads the selector the register
// already holds, so natively nothing else changes.)  A guest that can load
// FS/GS selectors can reset or pick segment bases behind the translator's
// emulated ones; SS/DS/ES loads are the first step to other segments.
// Natively: all of them execute (ESCAPED); lss only where REX.W far pointers
// are m16:64 (Intel: AMD reads m16:32, so the selector comes from bytes 4-5
// of rsp and the load faults), the fs/gs forms only with user FSGSBASE.
// Under opsub: "segment register load" class: guest fault.
// variants: mov_ds mov_es mov_ss mov_fs mov_gs pop_fs pop_gs lfs lgs lss
// native-needs: lss=farptr64 mov_fs=fsgsbase mov_gs=fsgsbase pop_fs=fsgsbase pop_gs=fsgsbase lfs=fsgsbase lgs=fsgsbase
#include "attack.h"

struct __attribute__((packed)) { uint64_t off; uint16_t sel; } sl_far;

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint16_t sel = 0;
	uint64_t scratch = 0;
	if (!strcmp(v, "mov_ds"))
		__asm__ volatile("mov %%ds, %0\n mov %0, %%ds" : "+r"(sel));
	else if (!strcmp(v, "mov_es"))
		__asm__ volatile("mov %%es, %0\n mov %0, %%es" : "+r"(sel));
	else if (!strcmp(v, "mov_ss"))
		__asm__ volatile("mov %%ss, %0\n mov %0, %%ss" : "+r"(sel));
	else if (!strcmp(v, "mov_fs"))
		/* keep the FS base: rdfsbase around the load */
		__asm__ volatile("rdfsbase %1\n mov %%fs, %0\n mov %0, %%fs\n wrfsbase %1" : "+r"(sel), "+r"(scratch));
	else if (!strcmp(v, "mov_gs"))
		__asm__ volatile("rdgsbase %1\n mov %%gs, %0\n mov %0, %%gs\n wrgsbase %1" : "+r"(sel), "+r"(scratch));
	else if (!strcmp(v, "pop_fs"))
		__asm__ volatile("rdfsbase %0\n push %%fs\n pop %%fs\n wrfsbase %0" : "+r"(scratch) : : "memory");
	else if (!strcmp(v, "pop_gs"))
		__asm__ volatile("rdgsbase %0\n push %%gs\n pop %%gs\n wrgsbase %0" : "+r"(scratch) : : "memory");
	else {
		uint64_t reg = 0;
		if (!strcmp(v, "lss"))
			__asm__ volatile("mov %%ss, %%ax\n mov %%ax, sl_far+8(%%rip)\n mov %%rsp, sl_far(%%rip)\n"
			                 "lea sl_far(%%rip), %%rax\n .byte 0x48, 0x0f, 0xb2, 0x20"   /* lss rsp, [rax] */ ::: "rax", "memory");
		else if (!strcmp(v, "lfs"))
			__asm__ volatile("rdfsbase %1\n mov %%fs, %%ax\n mov %%ax, sl_far+8(%%rip)\n"
			                 "lea sl_far(%%rip), %%rax\n .byte 0x48, 0x0f, 0xb4, 0x08\n wrfsbase %1"   /* lfs rcx, [rax] */
			                 : "=c"(reg), "+r"(scratch) : : "rax", "memory");
		else
			__asm__ volatile("rdgsbase %1\n mov %%gs, %%ax\n mov %%ax, sl_far+8(%%rip)\n"
			                 "lea sl_far(%%rip), %%rax\n .byte 0x48, 0x0f, 0xb5, 0x08\n wrgsbase %1"   /* lgs rcx, [rax] */
			                 : "=c"(reg), "+r"(scratch) : : "rax", "memory");
	}
	escaped("%s executed (selector %#x)", v, sel);
	return 0;
}
