// Attack: far control transfers through a far pointer (selector 0x33, the
// 64-bit user code segment, and the host code address): jmp far m16:64,
// call far m16:64, and lretq.
// Natively: they reach the stub in the secret page, which returns
// STUB_MAGIC (ESCAPED).  jmp_far and call_far only where REX.W makes them
// m16:64 (Intel): AMD reads m16:32, a truncated offset and a selector made
// of the address's bytes 4-5, and faults.
// Under opsub: far transfers are subtracted: guest fault.
// variants: jmp_far call_far lretq
// native-needs: jmp_far=farptr64 call_far=farptr64
// stdin: hostaddr
#include "attack.h"

struct __attribute__((packed)) { uint64_t off; uint16_t sel; } fp_ptr;

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	fp_ptr.off = T.code;
	fp_ptr.sel = cs;
	uint32_t r = 0;
	if (!strcmp(v, "jmp_far"))
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n lea fp_ptr(%%rip), %%rax\n"
		                 ".byte 0x48, 0xff, 0x28\n 1:"            /* rex.w jmp far [rax] */
		                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else if (!strcmp(v, "call_far"))
		__asm__ volatile("lea fp_ptr(%%rip), %%rax\n .byte 0x48, 0xff, 0x18\n"  /* rex.w call far [rax] */
		                 "add $8, %%rsp\n"                                    /* the stub's near ret left cs */
		                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n push %1\n"
		                 "push %2\n lretq\n 1:"
		                 : "=&a"(r) : "r"((uint64_t)cs), "r"(T.code) : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	if (r == STUB_MAGIC)
		escaped("%s to %#x:%#lx ran host code", v, cs, T.code);
	else
		note("%s returned %#x", v, r);
	return 0;
}
