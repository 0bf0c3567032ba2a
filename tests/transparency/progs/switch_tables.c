// Switches through jump tables, which opsub runs through switch tables of
// its own, in the shapes GCC gives them: movsxd target, [table + index*4];
// add target, table; jmp target -- or the table's entries absolute, for
// goto *table[i] or code built without -fpie: jmp [table + index*8], or
// mov target, [table + index*8]; (register instructions); jmp target.
// The index: a byte (movzx), every index 0..255 of tables in read-only
// memory, in a register that needs REX, and the index register reused for
// the target (cases whose addresses agree in their low byte catch an index
// taken from the target); an int bounded by the program's own compare
// (cmp/ja or cmp/jae, 32- and 64-bit, after mov r32, r32 from the compared
// register or from itself, after and r32, imm, and a compare of the same
// dword in memory the index is then loaded from).  The table base: a lea
// in the block, none (an absolute table, without -fpie), or a register set
// before it (the translator guesses the table and guards the guess: the
// same code is then run with another table).  And shapes that prove
// nothing, whose index reaches past 255 in 512-entry tables, so that a
// translator that took them for bounded would jump to the wrong case: a
// compare of the low byte only, a jb, a write after the compare, a compare
// of another dword, a copy of a register written after its compare; a
// target moved by a variable after its load; indexes that are not bytes (a
// wider register, a byte moved up), a table chosen by cmov.  Then an entry
// of a read-only table is changed (mprotect to writable, write, back to
// read-only) and a table in writable memory is changed between jumps.
// Every jump must go where the table says now: the sums come out as
// natively.
// stats: switch tables >= 12
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Eight cases, 16 bytes apart, each returning 1000 + its number; a table
 * maps index i to case (i + shift) % 8, and in its second 256 entries (the
 * wide table) to case (i + 1 + shift) % 8. */
#define CASES(prefix)                                       \
	".balign 16\n" prefix "_cases:\n"                     \
	".irp k,0,1,2,3,4,5,6,7\n"                            \
	".balign 16\n"                                        \
	"mov $(1000 + \\k), %eax\n"                           \
	"ret\n"                                               \
	".endr\n"

/* The same with 8-byte absolute entries (goto *table[i], or a switch
 * built without -fpie), in memory the guest cannot write once relocated. */
#define TABLE8(name, cases, n, shift)                       \
	".balign 4096\n" name ":\n"                           \
	".set i, 0\n"                                         \
	".rept " #n "\n"                                      \
	".quad " cases " + 16 * ((i + i / 256 + " #shift ") % 8)\n" \
	".set i, i + 1\n"                                     \
	".endr\n"                                             \
	".balign 4096\n"
#ifdef __PIE__
#define ABS_TABLES ".section .data.rel.ro, \"aw\"\n"   /* read-only after relocation */
#define ABS_NOBASE ""
#else
#define ABS_TABLES ".section .rodata\n"
/* int sw_abs_nobase(unsigned op): jmp [table + I*8], no base register */
#define ABS_NOBASE                                          \
	".globl sw_abs_nobase\n"                               \
	"sw_abs_nobase:\n"                                     \
	"movzbl %dil, %ecx\n"                                  \
	"jmp *sw_abs_table(,%rcx,8)\n"
#endif

#define TABLE(name, cases, n, shift)                        \
	".balign 4096\n" name ":\n"                           \
	".set i, 0\n"                                         \
	".rept " #n "\n"                                      \
	".long " cases " + 16 * ((i + i / 256 + " #shift ") % 8) - " name "\n" \
	".set i, i + 1\n"                                     \
	".endr\n"                                             \
	".balign 4096\n"

__asm__(
	".text\n"
	/* int sw_rodata(unsigned op): the table in read-only data, index in ecx */
	".globl sw_rodata\n"
	"sw_rodata:\n"
	"lea sw_rodata_table(%rip), %rsi\n"
	"movzbl %dil, %ecx\n"
	"movslq (%rsi,%rcx,4), %rax\n"
	"add %rsi, %rax\n"
	"jmp *%rax\n"
	CASES("sw_rodata")
	/* int sw_r8(unsigned op): the same table, index in r8d */
	".globl sw_r8\n"
	"sw_r8:\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"movzbl %dil, %r8d\n"
	"movslq (%rdx,%r8,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	/* int sw_data(unsigned op): a table in writable data */
	".globl sw_data\n"
	"sw_data:\n"
	"lea sw_data_table(%rip), %rsi\n"
	"movzbl %dil, %ecx\n"
	"movslq (%rsi,%rcx,4), %rax\n"
	"add %rsi, %rax\n"
	"jmp *%rax\n"
	/* int sw_wide(unsigned op): the index not a byte (0..511 here) */
	".globl sw_wide\n"
	"sw_wide:\n"
	"lea sw_wide_table(%rip), %rsi\n"
	"mov %edi, %ecx\n"
	"movslq (%rsi,%rcx,4), %rax\n"
	"add %rsi, %rax\n"
	"jmp *%rax\n"
	/* int sw_moved(unsigned op, unsigned up): a byte, then moved up by 0 or 256 */
	".globl sw_moved\n"
	"sw_moved:\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"movzbl %dil, %ecx\n"
	"add %esi, %ecx\n"
	"movslq (%rdx,%rcx,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	/* int sw_chosen(unsigned op, unsigned alt): one of two tables, by cmov */
	".globl sw_chosen\n"
	"sw_chosen:\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"lea sw_alt_table(%rip), %r9\n"
	"test %esi, %esi\n"
	"cmovne %r9, %rdx\n"
	"movzbl %dil, %ecx\n"
	"movslq (%rdx,%rcx,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	/* int sw_same(unsigned op): the index register is the target's */
	".globl sw_same\n"
	"sw_same:\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"movzbl %dil, %eax\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	/* int sw_same_far(unsigned op): the same, to cases whose addresses
	 * agree in their low byte (so a translator that took the index from
	 * R after the movsxd would mix them up) */
	".globl sw_same_far\n"
	"sw_same_far:\n"
	"lea sw_far_table(%rip), %rdx\n"
	"movzbl %dil, %eax\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	".balign 256\n"
	"sw_far_cases:\n"
	".irp k,0,1,2,3,4,5,6,7\n"
	".balign 16\n"
	"mov $(2000 + \\k), %eax\n"
	"ret\n"
	".endr\n"
	".balign 256\n"
	".irp k,0,1,2,3,4,5,6,7\n"
	".balign 16\n"
	"mov $(3000 + \\k), %eax\n"
	"ret\n"
	".endr\n"
	/* int sw_bounded(unsigned op): cmp r32; ja; -1 above 199 */
	".globl sw_bounded\n"
	"sw_bounded:\n"
	"mov %edi, %eax\n"
	"cmp $199, %eax\n"
	"ja 1f\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* int sw_copy(unsigned op): cmp edi; ja; mov r8d, edi */
	".globl sw_copy\n"
	"sw_copy:\n"
	"cmp $0x63, %edi\n"
	"ja 1f\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"mov %edi, %r8d\n"
	"movslq (%rdx,%r8,4), %r8\n"
	"add %rdx, %r8\n"
	"jmp *%r8\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* int sw_self(unsigned op): cmp edi; jae; mov edi, edi */
	".globl sw_self\n"
	"sw_self:\n"
	"cmp $0x20, %edi\n"
	"jae 1f\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"mov %edi, %edi\n"
	"movslq (%rdx,%rdi,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* int sw_and(unsigned op): and ecx, 7 */
	".globl sw_and\n"
	"sw_and:\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"mov %edi, %ecx\n"
	"and $7, %ecx\n"
	"movslq (%rdx,%rcx,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	/* int sw_cmp64(unsigned long op): cmp rdi, no write in the block */
	".globl sw_cmp64\n"
	"sw_cmp64:\n"
	"cmp $0x40, %rdi\n"
	"ja 1f\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"movslq (%rdx,%rdi,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* int sw_mem(const unsigned *op): cmpl [rdi]; ja; mov eax, [rdi] */
	".globl sw_mem\n"
	"sw_mem:\n"
	"lea sw_rodata_table(%rip), %rdx\n"
	"cmpl $0x2f, (%rdi)\n"
	"ja 1f\n"
	"mov (%rdi), %eax\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* int sw_hoisted(unsigned op, const int32_t *table): the base set by
	 * the caller, as by a lea hoisted out of a loop */
	".globl sw_hoisted\n"
	"sw_hoisted:\n"
	"cmp $0xff, %edi\n"
	"ja 1f\n"
	"mov %edi, %ecx\n"
	"movslq (%rsi,%rcx,4), %rax\n"
	"add %rsi, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* no proof (the wide table, indexes 0..511): the low byte compared */
	".globl sw_lowbyte\n"
	"sw_lowbyte:\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"mov %edi, %esi\n"
	"cmp $5, %sil\n"
	"ja 1f\n"
	"movslq (%rdx,%rsi,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* no proof: jb lets the large ones through */
	".globl sw_jb\n"
	"sw_jb:\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"mov %edi, %eax\n"
	"cmp $5, %eax\n"
	"jb 1f\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* no proof: the index written after its compare (op + up, up 0 or 256) */
	".globl sw_later\n"
	"sw_later:\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"mov %edi, %eax\n"
	"cmp $5, %eax\n"
	"ja 1f\n"
	"add %esi, %eax\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* no proof: another dword compared than the one loaded */
	".globl sw_otherdword\n"
	"sw_otherdword:\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"cmpl $5, (%rdi)\n"
	"ja 1f\n"
	"mov 4(%rdi), %eax\n"
	"movslq (%rdx,%rax,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* no proof: the copied register written after its compare (the same) */
	".globl sw_copylater\n"
	"sw_copylater:\n"
	"lea sw_wide_table(%rip), %rdx\n"
	"cmp $5, %edi\n"
	"ja 1f\n"
	"add %esi, %edi\n"
	"mov %edi, %ecx\n"
	"movslq (%rdx,%rcx,4), %rax\n"
	"add %rdx, %rax\n"
	"jmp *%rax\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* int sw_abs(unsigned op): jmp [B + I*8], B from lea */
	".globl sw_abs\n"
	"sw_abs:\n"
	"lea sw_abs_table(%rip), %rdx\n"
	"movzbl %dil, %ecx\n"
	"jmp *(%rdx,%rcx,8)\n"
	ABS_NOBASE
	/* int sw_abs_reg(unsigned op): mov R, [B + I*8] (I is R) ; a quiet
	 * instruction ; jmp R */
	".globl sw_abs_reg\n"
	"sw_abs_reg:\n"
	"lea sw_abs_table(%rip), %rdx\n"
	"movzbl %dil, %eax\n"
	"mov (%rdx,%rax,8), %rax\n"
	"lea 1(%rdi), %rcx\n"
	"jmp *%rax\n"
	/* int sw_abs_hoisted(unsigned op, void *const *table): jmp [B + I*8],
	 * B set by the caller */
	".globl sw_abs_hoisted\n"
	"sw_abs_hoisted:\n"
	"cmp $0xff, %edi\n"
	"ja 1f\n"
	"mov %edi, %ecx\n"
	"jmp *(%rsi,%rcx,8)\n"
	"1: mov $-1, %eax\n"
	"ret\n"
	/* no switch table: the target moved after its load, by 0 or 16 */
	".globl sw_abs_moved\n"
	"sw_abs_moved:\n"
	"lea sw_abs_table(%rip), %rdx\n"
	"movzbl %dil, %eax\n"
	"mov (%rdx,%rax,8), %rax\n"
	"add %rsi, %rax\n"
	"jmp *%rax\n"
	ABS_TABLES
	TABLE8("sw_abs_table", "sw_rodata_cases", 256, 0)
	TABLE8("sw_abs_alt_table", "sw_rodata_cases", 256, 5)
	".section .rodata\n"
	TABLE("sw_rodata_table", "sw_rodata_cases", 256, 0)
	TABLE("sw_wide_table", "sw_rodata_cases", 512, 0)
	TABLE("sw_alt_table", "sw_rodata_cases", 256, 3)
	".balign 4096\n" "sw_far_table:\n"
	".set i, 0\n"
	".rept 256\n"
	".long sw_far_cases + 256 * (i / 128) + 16 * (i % 8) - sw_far_table\n"
	".set i, i + 1\n"
	".endr\n"
	".data\n"
	TABLE("sw_data_table", "sw_rodata_cases", 256, 0)
	".text\n");

int sw_rodata(unsigned op);
int sw_r8(unsigned op);
int sw_data(unsigned op);
int sw_wide(unsigned op);
int sw_moved(unsigned op, unsigned up);
int sw_chosen(unsigned op, unsigned alt);
int sw_same(unsigned op);
int sw_same_far(unsigned op);
int sw_bounded(unsigned op);
int sw_copy(unsigned op);
int sw_self(unsigned op);
int sw_and(unsigned op);
int sw_cmp64(unsigned long op);
int sw_mem(const unsigned *op);
int sw_hoisted(unsigned op, const int32_t *table);
int sw_lowbyte(unsigned op);
int sw_jb(unsigned op);
int sw_later(unsigned op, unsigned up);
int sw_otherdword(const unsigned *op);
int sw_copylater(unsigned op, unsigned up);
int sw_abs(unsigned op);
int sw_abs_nobase(unsigned op);
int sw_abs_reg(unsigned op);
int sw_abs_hoisted(unsigned op, void *const *table);
int sw_abs_moved(unsigned op, unsigned long by);
extern int32_t sw_rodata_table[256], sw_data_table[256], sw_alt_table[256];
extern void *const sw_abs_table[256], *const sw_abs_alt_table[256];

static uint64_t sum(int (*f)(unsigned), int rounds)
{
	uint64_t s = 0;
	for (int r = 0; r < rounds; r++)
		for (unsigned op = 0; op < 256; op++)
			s = s * 31 + (uint64_t)f(op + 256 * (unsigned)r);   /* only the low byte counts */
	return s;
}

static int protect(void *table, int prot)
{
	long page = sysconf(_SC_PAGESIZE);
	return mprotect((void *)((uintptr_t)table & ~(uintptr_t)(page - 1)), (size_t)page, prot);
}

int main(void)
{
	printf("rodata: %llu\n", (unsigned long long)sum(sw_rodata, 200));
	printf("r8:     %llu\n", (unsigned long long)sum(sw_r8, 200));
	printf("data:   %llu\n", (unsigned long long)sum(sw_data, 200));
	uint64_t wide = 0;
	for (int r = 0; r < 50; r++)
		for (unsigned op = 0; op < 512; op++)
			wide = wide * 31 + (uint64_t)sw_wide(op) + 7 * (uint64_t)sw_moved(op, op & 256) +
			       11 * (uint64_t)sw_chosen(op, op & 256);
	printf("wide:   %llu\n", (unsigned long long)wide);

	/* bounded by the program's own compares; the hoisted base guessed
	 * as the first table, then the other one too */
	uint64_t bounded = 0;
	for (int r = 0; r < 40; r++)
		for (unsigned op = 0; op < 512; op++) {
			unsigned pair[2] = {op & 7 ? op : op + 256 * (unsigned)(r & 1), op};
			const int32_t *t = r < 20 || (op & 1) ? sw_rodata_table : sw_alt_table;
			bounded = bounded * 31 + (uint64_t)sw_same(op) + 3 * (uint64_t)sw_bounded(op) +
			          23 * (uint64_t)sw_same_far(op) +
			          5 * (uint64_t)sw_copy(op) + 7 * (uint64_t)sw_self(op) + 11 * (uint64_t)sw_and(op) +
			          13 * (uint64_t)sw_cmp64(op + ((unsigned long)(op & 64) << 32)) +
			          17 * (uint64_t)sw_mem(&pair[0]) + 19 * (uint64_t)sw_hoisted(op, t);
		}
	printf("bounded: %llu\n", (unsigned long long)bounded);
	/* tables of absolute addresses */
	uint64_t absolute = 0;
	for (int r = 0; r < 40; r++)
		for (unsigned op = 0; op < 512; op++) {
			void *const *t = r < 20 || (op & 1) ? sw_abs_table : sw_abs_alt_table;
			absolute = absolute * 31 + (uint64_t)sw_abs(op) + 3 * (uint64_t)sw_abs_reg(op) +
			           5 * (uint64_t)sw_abs_hoisted(op, t) + 7 * (uint64_t)sw_abs_moved(op & 0x7e, (op & 128) >> 3);   /* even cases: the next one is there */
#ifndef __PIE__
			absolute += 11 * (uint64_t)sw_abs_nobase(op);
#endif
		}
	printf("absolute: %llu\n", (unsigned long long)absolute);
	/* no proof: each index reaches past 255 */
	uint64_t unproven = 0;
	for (int r = 0; r < 40; r++)
		for (unsigned op = 0; op < 512; op++) {
			unsigned pair[2] = {op & 7, op};
			unproven = unproven * 31 + (uint64_t)sw_lowbyte(op) + 3 * (uint64_t)sw_jb(op) +
			           5 * (uint64_t)sw_later(op & 7, op & 256) + 7 * (uint64_t)sw_otherdword(pair) +
			           11 * (uint64_t)sw_copylater(op & 7, op & 256);
		}
	printf("unproven: %llu\n", (unsigned long long)unproven);

	/* index 1 to case 2, index 255 to case 0, in the read-only table */
	if (protect(sw_rodata_table, PROT_READ | PROT_WRITE)) {
		printf("mprotect failed\n");
		return 1;
	}
	sw_rodata_table[1] = sw_rodata_table[2];   /* entries are relative to the table's start */
	sw_rodata_table[255] = sw_rodata_table[0];
	protect(sw_rodata_table, PROT_READ);
	printf("rodata changed: %d %d %d %d %d %d; %llu\n", sw_rodata(1), sw_rodata(255), sw_r8(1),
	       sw_bounded(1), sw_hoisted(1, sw_rodata_table), sw_hoisted(255, sw_rodata_table),
	       (unsigned long long)sum(sw_rodata, 20));

	/* the writable table, changed between jumps */
	uint64_t s = 0;
	for (int r = 0; r < 64; r++) {
		sw_data_table[r % 8] = sw_data_table[(r + 3) % 8];
		for (unsigned op = 0; op < 16; op++)
			s = s * 31 + (uint64_t)sw_data(op);
	}
	printf("data changed: %llu\n", (unsigned long long)s);
	return 0;
}
