// Attack: privileged and I/O instructions: hlt, cli, sti, in, out, ins, outs,
// rdmsr, wrmsr, mov cr3, mov from cr0, mov dr7, invlpg, lgdt, lidt, ltr,
// lldt, clts, wbinvd, invd, sysret, sysexit, rdpmc.
// Natively: each raises a fault in user mode (native: faults) -- the host
// CPU would obey them in kernel mode, which is what a guest must never get.
// Under opsub: privileged / port I/O / system classes: guest fault.
// native: faults
// variants: hlt cli sti in out insb outsb rdmsr wrmsr mov_cr3 mov_cr0 mov_dr7 invlpg lgdt lidt ltr lldt clts wbinvd invd sysret sysexit rdpmc
#include "attack.h"

static uint8_t mem[64];

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint64_t r = 0;
	if (!strcmp(v, "hlt")) __asm__ volatile("hlt");
	else if (!strcmp(v, "cli")) __asm__ volatile("cli");
	else if (!strcmp(v, "sti")) __asm__ volatile("sti");
	else if (!strcmp(v, "in")) __asm__ volatile("inb $0x80, %%al" : "=a"(r));
	else if (!strcmp(v, "out")) __asm__ volatile("outb %%al, $0x80" : : "a"(0));
	else if (!strcmp(v, "insb")) __asm__ volatile("insb" : : "D"(mem), "d"(0x80) : "memory");
	else if (!strcmp(v, "outsb")) __asm__ volatile("outsb" : : "S"(mem), "d"(0x80));
	else if (!strcmp(v, "rdmsr")) __asm__ volatile("rdmsr" : "=A"(r) : "c"(0xc0000100));
	else if (!strcmp(v, "wrmsr")) __asm__ volatile("wrmsr" : : "c"(0xc0000101), "a"(0), "d"(0));
	else if (!strcmp(v, "mov_cr3")) __asm__ volatile("mov %0, %%cr3" : : "r"(0ul));
	else if (!strcmp(v, "mov_cr0")) __asm__ volatile("mov %%cr0, %0" : "=r"(r));
	else if (!strcmp(v, "mov_dr7")) __asm__ volatile("mov %0, %%dr7" : : "r"(0x3ul));
	else if (!strcmp(v, "invlpg")) __asm__ volatile("invlpg (%0)" : : "r"(mem));
	else if (!strcmp(v, "lgdt")) __asm__ volatile("lgdt (%0)" : : "r"(mem));
	else if (!strcmp(v, "lidt")) __asm__ volatile("lidt (%0)" : : "r"(mem));
	else if (!strcmp(v, "ltr")) __asm__ volatile("ltr %0" : : "r"((uint16_t)0x40));
	else if (!strcmp(v, "lldt")) __asm__ volatile("lldt %0" : : "r"((uint16_t)0));
	else if (!strcmp(v, "clts")) __asm__ volatile("clts");
	else if (!strcmp(v, "wbinvd")) __asm__ volatile("wbinvd");
	else if (!strcmp(v, "invd")) __asm__ volatile("invd");
	else if (!strcmp(v, "sysret")) __asm__ volatile("sysretq");
	else if (!strcmp(v, "sysexit")) __asm__ volatile("sysexitq");
	else __asm__ volatile("rdpmc" : "=A"(r) : "c"(0));
	escaped("%s executed (%#lx)", v, r);
	return 0;
}
