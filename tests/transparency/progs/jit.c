// Exercises a JIT: x86-64 machine code written into RWX and W^X (RW->RX) mmap regions, called, rewritten in place (many times on one page), linked stubs, code straddling a page boundary, code that patches itself, munmap+remap at the same address.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn0)(void);
typedef int (*fn1)(int);
typedef int (*fn2)(int, int);
typedef long (*fnl)(void);

#define PG 4096

static unsigned char *emit_mov_eax_ret(unsigned char *p, uint32_t imm)
{
	*p++ = 0xb8; /* mov eax, imm32 */
	memcpy(p, &imm, 4);
	p += 4;
	*p++ = 0xc3; /* ret */
	return p;
}
static void flush(void *p, size_t n) { __builtin___clear_cache((char *)p, (char *)p + n); }

static int callback_hits;
static int callback(int x)
{
	callback_hits++;
	return x * 10 + 1;
}

int main(void)
{
	unsigned char *rwx = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rwx == MAP_FAILED) {
		printf("RWX mmap failed\n");
		return 1;
	}
	/* 1. one stub rewritten several times in place */
	fn0 f = (fn0)(void *)rwx;
	for (uint32_t v = 1; v <= 5; v++) {
		emit_mov_eax_ret(rwx, v * 1111);
		flush(rwx, 6);
		printf("stub v%u -> %d\n", v, f());
	}
	/* 2. another function on the same page, replaced by different code */
	static const unsigned char add_code[] = {0x8d, 0x04, 0x37, 0xc3};                   /* lea eax,[rdi+rsi]; ret */
	static const unsigned char mul_code[] = {0x0f, 0xaf, 0xfe, 0x89, 0xf8, 0xc3};       /* imul edi,esi; mov eax,edi; ret */
	fn2 g = (fn2)(void *)(rwx + 64);
	memcpy(rwx + 64, add_code, sizeof add_code);
	flush(rwx + 64, sizeof add_code);
	printf("add(6,7) = %d\n", g(6, 7));
	memcpy(rwx + 64, mul_code, sizeof mul_code);
	flush(rwx + 64, sizeof mul_code);
	printf("mul(6,7) = %d\n", g(6, 7));
	printf("stub still -> %d\n", f());
	/* 3. a loop: eax = sum 1..edi */
	static const unsigned char loop_code[] = {0x31, 0xc0, 0x85, 0xff, 0x74, 0x06, 0x01, 0xf8, 0xff, 0xcf, 0x75, 0xfa, 0xc3};
	memcpy(rwx + 128, loop_code, sizeof loop_code);
	flush(rwx + 128, sizeof loop_code);
	fn1 sum = (fn1)(void *)(rwx + 128);
	printf("sum(10)=%d sum(1000)=%d sum(0)=%d\n", sum(10), sum(1000), sum(0));
	/* 4. tail call out of JIT code into C: lea edi,[rdi+rdi*2]; movabs rax, callback; jmp rax */
	unsigned char *p = rwx + 192;
	*p++ = 0x8d; *p++ = 0x3c; *p++ = 0x7f;
	*p++ = 0x48; *p++ = 0xb8;
	uint64_t cb = (uint64_t)(uintptr_t)callback;
	memcpy(p, &cb, 8);
	p += 8;
	*p++ = 0xff; *p++ = 0xe0;
	flush(rwx + 192, (size_t)(p - (rwx + 192)));
	fn1 tc = (fn1)(void *)(rwx + 192);
	int tcr = tc(4);
	printf("jit->callback(3*4) = %d, hits=%d\n", tcr, callback_hits);
	/* 5. a stub that calls another stub (call rel32; add eax,1; ret), then only the callee is rewritten */
	unsigned char *caller = rwx + 512, *callee = rwx + 256;
	emit_mov_eax_ret(callee, 100);
	int32_t rel = (int32_t)(callee - (caller + 5));
	caller[0] = 0xe8;
	memcpy(caller + 1, &rel, 4);
	caller[5] = 0x83; caller[6] = 0xc0; caller[7] = 0x01; caller[8] = 0xc3;
	flush(rwx, PG);
	fn0 cl = (fn0)(void *)caller;
	int r1 = cl(), r2 = cl();
	emit_mov_eax_ret(callee, 200);
	flush(callee, 6);
	int r3 = cl();
	emit_mov_eax_ret(callee, 300);
	flush(callee, 6);
	printf("linked stubs: %d %d then %d then %d\n", r1, r2, r3, cl());
	/* 6. self-patching stub: mov byte [rip+3], imm8; jmp +0; mov eax, 0; ret */
	static const unsigned char selfpatch[] = {0xc6, 0x05, 0x03, 0x00, 0x00, 0x00, 0x2a, 0xeb, 0x00, 0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3};
	unsigned char *sp = rwx + 768;
	memcpy(sp, selfpatch, sizeof selfpatch);
	flush(sp, sizeof selfpatch);
	fn0 spf = (fn0)(void *)sp;
	int s1 = spf();
	sp[6] = 0x33; /* change the byte the stub stores */
	flush(sp, sizeof selfpatch);
	int s2 = spf(), s3 = spf();
	printf("self-patching stub: %d %d %d\n", s1, s2, s3);
	/* 7. many small functions on one page, all rewritten */
	unsigned char *many = rwx + PG;
	long total = 0;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 200; i++)
			emit_mov_eax_ret(many + 16 * i, (uint32_t)(i * (round * 2 + 1)));
		flush(many, 200 * 16);
		long s = 0;
		for (int rep = 0; rep < 5; rep++)
			for (int i = 0; i < 200; i++)
				s += ((fn0)(void *)(many + 16 * i))();
		printf("many functions round %d: sum %ld\n", round, s);
		total += s;
	}
	/* 8. movabs rax, imm64; ret straddling the boundary between the second and third page; then only bytes on the third page change */
	unsigned char *cross = rwx + 2 * PG - 5;
	cross[0] = 0x48; cross[1] = 0xb8;
	uint64_t imm = 0x1122334455667788ull;
	memcpy(cross + 2, &imm, 8);
	cross[10] = 0xc3;
	flush(cross, 11);
	fnl cf = (fnl)(void *)cross;
	long c1 = cf();
	cross[6] = 0x99; cross[8] = 0x00; /* both on the third page */
	flush(cross, 11);
	long c2 = cf();
	printf("page-straddling: %lx then %lx\n", (unsigned long)c1, (unsigned long)c2);
	/* 9. W^X: RW page filled, flipped to RX, called, flipped back, rewritten */
	unsigned char *wx = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (wx == MAP_FAILED)
		return 1;
	fn0 w = (fn0)(void *)wx;
	for (int i = 0; i < 4; i++) {
		mprotect(wx, PG, PROT_READ | PROT_WRITE);
		emit_mov_eax_ret(wx + (i % 2) * 32, (uint32_t)(7000 + i));
		if (i % 2) { /* a short jmp at the start leads to the new code */
			wx[0] = 0xeb;
			wx[1] = 30;
		}
		mprotect(wx, PG, PROT_READ | PROT_EXEC);
		printf("W^X round %d -> %d\n", i, w());
	}
	/* 10. unmap and map again at the same address with different code */
	munmap(wx, PG);
	unsigned char *again = mmap(wx, PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (again != wx)
		return 1;
	emit_mov_eax_ret(again, 8080);
	flush(again, 6);
	printf("remapped at same address -> %d\n", w());
	munmap(again, PG);
	munmap(rwx, 3 * PG);
	printf("total %ld\n", total);
	return 0;
}
