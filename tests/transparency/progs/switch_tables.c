// Switches over a byte through jump tables, in the shape GCC gives them
// (lea table; movzx index, byte; movsxd target, [table + index*4]; add
// target, table; jmp target), which opsub runs through switch tables of
// its own: every index 0..255 of tables in read-only memory, the index in
// a register that needs REX, indexes that are not bytes (a wider register,
// a byte moved up), a table chosen by cmov; then an entry of a read-only table is changed
// (mprotect to writable, write, back to read-only) and a table in writable
// memory is changed between jumps.  Every jump must go where the table
// says now: the sums come out as natively.
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
	".section .rodata\n"
	TABLE("sw_rodata_table", "sw_rodata_cases", 256, 0)
	TABLE("sw_wide_table", "sw_rodata_cases", 512, 0)
	TABLE("sw_alt_table", "sw_rodata_cases", 256, 3)
	".data\n"
	TABLE("sw_data_table", "sw_rodata_cases", 256, 0)
	".text\n");

int sw_rodata(unsigned op);
int sw_r8(unsigned op);
int sw_data(unsigned op);
int sw_wide(unsigned op);
int sw_moved(unsigned op, unsigned up);
int sw_chosen(unsigned op, unsigned alt);
extern int32_t sw_rodata_table[256], sw_data_table[256];

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

	/* index 1 to case 2, index 255 to case 0, in the read-only table */
	if (protect(sw_rodata_table, PROT_READ | PROT_WRITE)) {
		printf("mprotect failed\n");
		return 1;
	}
	sw_rodata_table[1] = sw_rodata_table[2];   /* entries are relative to the table's start */
	sw_rodata_table[255] = sw_rodata_table[0];
	protect(sw_rodata_table, PROT_READ);
	printf("rodata changed: %d %d %d; %llu\n", sw_rodata(1), sw_rodata(255), sw_r8(1),
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
