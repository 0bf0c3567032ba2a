// Attack (denial of service / host memory corruption): set DF (std) and then
// enter opsub's trusted code with it set -- system calls that copy memory
// (write, read, uname, clock_gettime, getrandom), cpuid, an indirect-branch
// miss, a self-modifying write -- so that any string operation or memcpy in
// opsub that assumes DF=0 would run backwards over host memory.
// Natively: the kernel clears DF for itself; completes (DONE).
// Under opsub: must complete with correct results; DF must be set again when
// the guest resumes (checked).
// native: completes
#include "attack.h"
#include <sys/utsname.h>
#include <time.h>

uint8_t df_code[64] __attribute__((aligned(4096))) = {0xc3};

static int df_set(void)
{
	uint64_t f;
	__asm__ volatile("pushfq\n pop %0" : "=r"(f));
	return (f >> 10) & 1;
}

int main(void)
{
	struct utsname u;
	struct timespec ts;
	uint8_t rnd[64];
	int bad = 0;
	sc3(SYS_mprotect, (uintptr_t)df_code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	void (*volatile f)(void) = (void (*)(void))df_code;
	f();
	__asm__ volatile("std");
	long w = sc3(SYS_write, 1, "note: written with DF=1\n", 24);
	bad += !df_set();
	long un = sc1(SYS_uname, &u);
	bad += !df_set();
	long cg = sc2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	long gr = sc3(SYS_getrandom, rnd, sizeof(rnd), 0);
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	bad += !df_set();
	df_code[1] = 0x90;        /* fault handler with DF=1 */
	bad += !df_set();
	f();                      /* retranslation and an indirect call with DF=1 */
	bad += !df_set();
	__asm__ volatile("cld");
	printf("write %ld uname %ld (%s) clock %ld getrandom %ld, DF lost %d times\n", w, un, u.sysname, cg, gr, bad);
	if (w == 24 && un == 0 && cg == 0 && gr == 64)
		printf("DONE\n");
	return 0;
}
