// Exercises less common x86-64 instructions via inline asm: flags (pushf/popf, lahf/sahf, adc/sbb chains, setcc/cmov), bt*/bsf/bsr, shld/shrd/rcl/rcr, cmpxchg/xadd, string ops (rep movs/stos/cmps/scas, lods, DF=1), xlat, loop, enter/leave, ret imm16, push/ret as jump, call/pop for the PC.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FLAGMASK 0x8d5UL /* CF PF AF ZF SF OF */

__asm__(
	".text\n"
	/* long ret_imm(long a, long b): caller pushes two stack args; callee pops them with ret $16 */
	".globl ret_imm_callee\n"
	"ret_imm_callee:\n"
	"	mov 8(%rsp), %rax\n"
	"	sub 16(%rsp), %rax\n"
	"	ret $16\n"
	".globl ret_imm\n"
	"ret_imm:\n"
	"	push %rsi\n"
	"	push %rdi\n"
	"	call ret_imm_callee\n"
	"	ret\n"
	/* long push_ret_jump(long x): jumps via push+ret, returns x*2+1 */
	".globl push_ret_jump\n"
	"push_ret_jump:\n"
	"	lea 1f(%rip), %rax\n"
	"	push %rax\n"
	"	ret\n"
	"	ud2\n"
	"1:	lea 1(%rdi,%rdi), %rax\n"
	"	ret\n"
	/* long get_pc_delta(void): call/pop idiom, compared with a RIP-relative lea of the same label -> 0 */
	".globl get_pc_delta\n"
	"get_pc_delta:\n"
	"	call 1f\n"
	"1:	pop %rax\n"
	"	lea 1b(%rip), %rdx\n"
	"	sub %rdx, %rax\n"
	"	ret\n"
	/* long swap_return(long x): replaces its own return address on the stack with a different landing pad
	   inside itself, which then returns normally to the real caller */
	".globl swap_return\n"
	"swap_return:\n"
	"	call 2f\n"
	"	add $1000, %rax\n" /* landing pad when the return address is not replaced */
	"	ret\n"
	"2:	mov %rdi, %rax\n"
	"	test $1, %rdi\n"
	"	jz 3f\n"
	"	lea 4f(%rip), %rdx\n"
	"	mov %rdx, (%rsp)\n" /* replace the return address */
	"3:	ret\n"
	"4:	add $2000, %rax\n"
	"	ret\n"
	/* long enter_leave(long n): nested frame with enter $24, $0 */
	".globl enter_leave\n"
	"enter_leave:\n"
	"	enter $24, $0\n"
	"	mov %rdi, -8(%rbp)\n"
	"	movq $7, -16(%rbp)\n"
	"	mov -8(%rbp), %rax\n"
	"	imul -16(%rbp), %rax\n"
	"	leave\n"
	"	ret\n");

long ret_imm(long a, long b);
long push_ret_jump(long x);
long get_pc_delta(void);
long swap_return(long x);
long enter_leave(long n);

int main(void)
{
	/* flags through pushf/popf and lahf/sahf */
	unsigned long fl;
	__asm__ volatile("pushfq\n\tpushq $0x202\n\tpopfq\n\tstc\n\tpushfq\n\tpopq %0\n\tpopfq" : "=r"(fl) : : "cc");
	printf("after stc: flags&mask=%03lx\n", fl & FLAGMASK);
	__asm__ volatile("xor %%eax, %%eax\n\tpushfq\n\tpopq %0" : "=r"(fl) : : "rax", "cc");
	printf("after xor: flags&mask=%03lx\n", fl & FLAGMASK & ~0x10UL); /* AF is undefined after logic ops */
	__asm__ volatile("mov $0x7fffffff, %%eax\n\tadd $1, %%eax\n\tpushfq\n\tpopq %0" : "=r"(fl) : : "rax", "cc");
	printf("after overflow add: flags&mask=%03lx\n", fl & FLAGMASK);
	unsigned long newfl = 0x8d5 | 0x202, back;
	__asm__ volatile("pushfq\n\tpushq %1\n\tpopfq\n\tpushfq\n\tpopq %0\n\tpopfq" : "=r"(back) : "r"(newfl) : "cc");
	printf("popf all arithmetic flags -> %03lx\n", back & FLAGMASK);
	unsigned long ah;
	__asm__ volatile("mov $0xd5, %%ah\n\tsahf\n\tmov $0, %%ah\n\tlahf\n\tmovzbl %%ah, %%eax\n\tmov %%rax, %0" : "=r"(ah) : : "rax", "cc");
	printf("sahf/lahf round trip: %02lx\n", ah & 0xd5);
	unsigned long df;
	__asm__ volatile("std\n\tpushfq\n\tpopq %0\n\tcld" : "=r"(df) : : "cc");
	printf("DF visible in pushf: %d\n", (df & 0x400) != 0);

	/* multi-word add/sub chains */
	uint64_t a[3] = {~0ull, ~0ull, 1}, b[3] = {1, 0, 2}, s[3], d[3];
	__asm__("mov %3, %%rax\n\tadd %6, %%rax\n\tmov %%rax, %0\n\t"
	        "mov %4, %%rax\n\tadc %7, %%rax\n\tmov %%rax, %1\n\t"
	        "mov %5, %%rax\n\tadc %8, %%rax\n\tmov %%rax, %2"
	        : "=m"(s[0]), "=m"(s[1]), "=m"(s[2]) : "m"(a[0]), "m"(a[1]), "m"(a[2]), "m"(b[0]), "m"(b[1]), "m"(b[2]) : "rax", "cc");
	__asm__("mov %3, %%rax\n\tsub %6, %%rax\n\tmov %%rax, %0\n\t"
	        "mov %4, %%rax\n\tsbb %7, %%rax\n\tmov %%rax, %1\n\t"
	        "mov %5, %%rax\n\tsbb %8, %%rax\n\tmov %%rax, %2"
	        : "=m"(d[0]), "=m"(d[1]), "=m"(d[2]) : "m"(b[0]), "m"(b[1]), "m"(b[2]), "m"(a[0]), "m"(a[1]), "m"(a[2]) : "rax", "cc");
	printf("adc chain: %llx %llx %llx; sbb chain: %llx %llx %llx\n", (unsigned long long)s[2], (unsigned long long)s[1],
	       (unsigned long long)s[0], (unsigned long long)d[2], (unsigned long long)d[1], (unsigned long long)d[0]);

	/* setcc / cmov over many comparisons */
	static volatile long vals[] = {-3, 0, 5, 5, 1L << 40, -1};
	unsigned long setbits = 0;
	long cmov_sum = 0;
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++) {
			unsigned char l, b2, e, g, a2, s2, p, o;
			long x = vals[i], y = vals[j], pick;
			__asm__("cmp %9, %8\n\tsetl %0\n\tsetb %1\n\tsete %2\n\tsetg %3\n\tseta %4\n\tsets %5\n\tsetp %6\n\tseto %7"
			        : "=q"(l), "=q"(b2), "=q"(e), "=q"(g), "=q"(a2), "=q"(s2), "=q"(p), "=q"(o) : "r"(x), "r"(y) : "cc");
			__asm__("cmp %2, %1\n\tmov %2, %0\n\tcmovg %1, %0" : "=&r"(pick) : "r"(x), "r"(y) : "cc");
			setbits = setbits * 3 + (unsigned long)(l | b2 << 1 | e << 2 | g << 3 | a2 << 4 | s2 << 5 | p << 6 | o << 7);
			cmov_sum += pick % 1000;
		}
	printf("setcc hash %lx cmov max sum %ld\n", setbits, cmov_sum);

	/* bit scans and bit tests */
	uint64_t v = 0x0000f00000000100ull, bsf, bsr;
	__asm__("bsf %1, %0" : "=r"(bsf) : "r"(v) : "cc");
	__asm__("bsr %1, %0" : "=r"(bsr) : "r"(v) : "cc");
	unsigned char c1, c2, c3;
	uint64_t bt = 0x10;
	__asm__("bt $4, %1\n\tsetc %0" : "=q"(c1) : "r"(bt) : "cc");
	__asm__("btsq $8, %1\n\tsetc %0" : "=q"(c2), "+r"(bt) : : "cc");
	__asm__("btcq $4, %1\n\tsetc %0" : "=q"(c3), "+r"(bt) : : "cc");
	uint64_t bitmem[4] = {0, 0, 0, 0};
	long bitidx = 130;
	__asm__("btsq %1, %0" : "+m"(bitmem) : "r"(bitidx) : "cc"); /* bit offset beyond the first qword */
	printf("bsf=%llu bsr=%llu bt=%u bts=%u btc=%u value=%llx bts-mem word2=%llx\n", (unsigned long long)bsf, (unsigned long long)bsr, c1, c2,
	       c3, (unsigned long long)bt, (unsigned long long)bitmem[2]);

	/* double shifts and rotates through carry */
	uint64_t hi = 0x123456789abcdef0ull, lo = 0xfedcba9876543210ull, r1 = hi, r2 = lo, r3 = 0x8000000000000001ull, r4 = r3;
	__asm__("shld $12, %1, %0" : "+r"(r1) : "r"(lo) : "cc");
	__asm__("shrd $20, %1, %0" : "+r"(r2) : "r"(hi) : "cc");
	__asm__("stc\n\trclq $1, %0" : "+r"(r3) : : "cc");
	__asm__("clc\n\trcrq $1, %0" : "+r"(r4) : : "cc");
	uint32_t rr = 0x80000001u;
	__asm__("roll $4, %0\n\trorw $4, %w0" : "+r"(rr) : : "cc");
	printf("shld=%016llx shrd=%016llx rcl=%016llx rcr=%016llx rol/ror=%08x\n", (unsigned long long)r1, (unsigned long long)r2,
	       (unsigned long long)r3, (unsigned long long)r4, rr);

	/* cmpxchg / xadd / xchg without lock */
	long mem = 10, expect = 10, got;
	__asm__ volatile("cmpxchgq %2, %1" : "=a"(got), "+m"(mem) : "r"(20L), "0"(expect) : "cc");
	long mem2 = 5, add = 3;
	__asm__ volatile("xaddq %0, %1" : "+r"(add), "+m"(mem2) : : "cc");
	printf("cmpxchg got %ld mem %ld; xadd old %ld new %ld\n", got, mem, add, mem2);

	/* string instructions */
	char src[64], dst[64];
	for (int i = 0; i < 64; i++)
		src[i] = (char)('A' + i % 26);
	memset(dst, '.', sizeof dst);
	void *di = dst + 3, *si = src;
	long cnt = 20;
	__asm__ volatile("rep movsb" : "+D"(di), "+S"(si), "+c"(cnt) : : "memory");
	di = dst + 30; cnt = 3;
	__asm__ volatile("rep stosq" : "+D"(di), "+c"(cnt) : "a"(0x2d2d2d2d2d2d2d2dll) : "memory");
	/* backwards copy with DF=1 */
	di = dst + 63; si = src + 9; cnt = 10;
	__asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(di), "+S"(si), "+c"(cnt) : : "memory");
	printf("rep movs/stos: %.64s\n", dst);
	const char *p1 = "compare strings here", *p2 = "compare strinGs here";
	long left = 20;
	__asm__ volatile("repe cmpsb" : "+S"(p1), "+D"(p2), "+c"(left) : : "memory", "cc");
	printf("repe cmpsb stopped with %ld left, at '%c'\n", left, p1[-1]);
	const char *scan = "find the X in here";
	long scnt = 18;
	__asm__ volatile("repne scasb" : "+D"(scan), "+c"(scnt) : "a"('X') : "memory", "cc");
	printf("repne scasb: %ld left, next char '%c'\n", scnt, *scan);
	const uint16_t words[4] = {100, 200, 300, 400};
	const void *ws = words;
	uint64_t acc = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t w = 0;
		__asm__ volatile("lodsw" : "+S"(ws), "+a"(w) : : "memory");
		acc = acc * 1000 + (w & 0xffff);
	}
	printf("lodsw accumulate %llu\n", (unsigned long long)acc);

	/* xlat, loop */
	static const char table[] = "0123456789ABCDEF";
	char hexout[17];
	uint64_t hv = 0xfeedfacecafebeefull;
	for (int i = 0; i < 16; i++) {
		unsigned long al = (hv >> (60 - 4 * i)) & 0xf;
		__asm__("xlatb" : "+a"(al) : "b"(table));
		hexout[i] = (char)al;
	}
	hexout[16] = 0;
	long lsum;
	__asm__("xor %0, %0\n\tmov $100, %%ecx\n1:\n\tadd %%rcx, %0\n\tloop 1b" : "=&r"(lsum) : : "rcx", "cc");
	printf("xlat hex %s, loop sum %ld\n", hexout, lsum);

	/* control-flow oddities */
	printf("ret imm16: %ld, push+ret jump: %ld, call/pop pc delta: %ld, enter/leave: %ld\n", ret_imm(50, 8), push_ret_jump(20),
	       get_pc_delta(), enter_leave(6));
	printf("swap_return: %ld %ld %ld %ld\n", swap_return(2), swap_return(3), swap_return(4), swap_return(5));
	long many = 0;
	for (long i = 0; i < 20000; i++)
		many += swap_return(i) + push_ret_jump(i) + ret_imm(i, 1);
	printf("return-address games x20000: %ld\n", many);

	/* widening conversions and multiply forms */
	int16_t s16 = -2;
	int64_t cwd_out;
	__asm__("movswq %1, %0" : "=r"(cwd_out) : "m"(s16));
	int32_t e32 = -7;
	int64_t cdqe;
	__asm__("movl %1, %%eax\n\tcdqe\n\tmov %%rax, %0" : "=r"(cdqe) : "r"(e32) : "rax");
	uint64_t m3;
	__asm__("imul $-3, %1, %0" : "=r"(m3) : "r"(1234567ull) : "cc");
	printf("movsx %lld cdqe %lld imul3 %lld\n", (long long)cwd_out, (long long)cdqe, (long long)m3);
	return 0;
}
