// Attack: look for host addresses in the vector and x87 registers after
// trusted code has run (system calls, cpuid, an indirect-branch miss, mmap
// and munmap, a self-modifying write that goes through the fault handler):
// xmm0-15 and the upper halves of ymm0-15, st0-7.  The attack plants the
// value of its own rsp in xmm15 first, and checks it survives.
// Natively: the planted rsp is a host address (ESCAPED); nothing else.
// Under opsub: the gates save and restore the guest's vector state; the
// planted value is a guest address and the rest must still be zero.
#include "attack.h"

uint8_t vr_code[64] __attribute__((aligned(4096))) = {0xc3};
uint8_t vr_x[16][32] __attribute__((aligned(32)));
uint8_t vr_fx[512] __attribute__((aligned(16)));

int main(void)
{
	sc3(SYS_mprotect, (uintptr_t)vr_code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	void (*volatile f)(void) = (void (*)(void))vr_code;
	__asm__ volatile("vzeroall\n fninit\n vmovq %%rsp, %%xmm15" ::: "memory");
	/* nothing below may touch vector registers until they are stored */
	sc0(SYS_getpid);
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000002), "c"(0));
	long m = sc6(SYS_mmap, 0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sc2(SYS_munmap, m, 65536);
	f();
	vr_code[1] = 0x90;
	f();
	__asm__ volatile("vmovdqa %%ymm0, vr_x+0(%%rip)\n vmovdqa %%ymm1, vr_x+32(%%rip)\n"
	                 "vmovdqa %%ymm2, vr_x+64(%%rip)\n vmovdqa %%ymm3, vr_x+96(%%rip)\n"
	                 "vmovdqa %%ymm4, vr_x+128(%%rip)\n vmovdqa %%ymm5, vr_x+160(%%rip)\n"
	                 "vmovdqa %%ymm6, vr_x+192(%%rip)\n vmovdqa %%ymm7, vr_x+224(%%rip)\n"
	                 "vmovdqa %%ymm8, vr_x+256(%%rip)\n vmovdqa %%ymm9, vr_x+288(%%rip)\n"
	                 "vmovdqa %%ymm10, vr_x+320(%%rip)\n vmovdqa %%ymm11, vr_x+352(%%rip)\n"
	                 "vmovdqa %%ymm12, vr_x+384(%%rip)\n vmovdqa %%ymm13, vr_x+416(%%rip)\n"
	                 "vmovdqa %%ymm14, vr_x+448(%%rip)\n vmovdqa %%ymm15, vr_x+480(%%rip)\n"
	                 "fxsave64 vr_fx(%%rip)\n vzeroupper" ::: "memory");
	int hits = 0, dirty = 0;
	for (int r = 0; r < 16; r++)
		for (int w = 0; w < 4; w++) {
			uint64_t v;
			memcpy(&v, vr_x[r] + 8 * w, 8);
			if (host_pointer(v)) {
				escaped("ymm%d word %d holds %#lx", r, w, v);
				hits++;
			}
			if (v && !(r == 15 && w == 0))
				dirty++;
		}
	for (int i = 4; i < 20; i++) {   /* st0-7 */
		uint64_t v;
		memcpy(&v, vr_fx + 8 * i, 8);
		if (host_pointer(v)) {
			escaped("x87 register word %d holds %#lx", i - 4, v);
			hits++;
		}
	}
	note("%d host-looking values, %d changed vector words (xmm15 = %s)", hits, dirty, hex(vr_x[15], 8));
	return 0;
}
