// Exercises a -nostdlib static-PIE program: its own _start in asm applies its R_X86_64_RELATIVE relocations (found via _DYNAMIC) before use, then uses relocated pointer tables, RIP-relative data and raw syscalls (write, exit_group).
// cflags: -nostdlib -ffreestanding -fno-stack-protector -fPIE -fno-tree-loop-distribute-patterns
// variants: pie
#include <elf.h>

typedef unsigned long size_t;

__asm__(
	".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %r12\n"
	"	and $-16, %rsp\n"
	"	lea __ehdr_start(%rip), %rdi\n" /* load base */
	"	lea _DYNAMIC(%rip), %rsi\n"
	"	call self_relocate\n"
	"	mov %r12, %rdi\n"
	"	call cmain\n"
	"	mov %eax, %edi\n"
	"	mov $231, %eax\n"
	"	syscall\n"
	"	hlt\n"
	/* long pic_table(long i): RIP-relative jump table of 32-bit offsets, the PIC form compilers use */
	".globl pic_table\n"
	"pic_table:\n"
	"	and $3, %edi\n"
	"	lea 9f(%rip), %rdx\n"
	"	movslq (%rdx,%rdi,4), %rax\n"
	"	add %rdx, %rax\n"
	"	jmp *%rax\n"
	"1:	mov $111, %eax\n"
	"	ret\n"
	"2:	mov $222, %eax\n"
	"	ret\n"
	"3:	lea pic_msg(%rip), %rax\n"
	"	movzbl 4(%rax), %eax\n"
	"	ret\n"
	"4:	push $444\n"
	"	pop %rax\n"
	"	ret\n"
	".section .rodata\n"
	".p2align 2\n"
	"9:	.long 1b-9b, 2b-9b, 3b-9b, 4b-9b\n"
	"pic_msg: .ascii \"pic-data\"\n"
	".text\n");

extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern Elf64_Dyn _DYNAMIC[] __attribute__((visibility("hidden")));
long pic_table(long i);

/* Runs before any relocated pointer is used; it only touches its arguments and the relocation records. */
__attribute__((used)) void self_relocate(char *base, Elf64_Dyn *dyn)
{
	Elf64_Rela *rela = 0;
	size_t relasz = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_RELA)
			rela = (Elf64_Rela *)(base + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_RELASZ)
			relasz = dyn->d_un.d_val;
	}
	for (size_t i = 0; rela && i < relasz / sizeof *rela; i++)
		if (ELF64_R_TYPE(rela[i].r_info) == R_X86_64_RELATIVE)
			*(unsigned long *)(base + rela[i].r_offset) = (unsigned long)(base + rela[i].r_addend);
}

static long sys_write(int fd, const void *buf, size_t n)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(1L), "D"((long)fd), "S"(buf), "d"(n) : "rcx", "r11", "memory");
	return ret;
}
static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
static void out(const char *s) { sys_write(1, s, slen(s)); }
static void outnum(long v)
{
	char buf[24];
	int i = 23;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[--i] = '-';
	out(buf + i);
}

static long sq(long x) { return x * x; }
static long cube(long x) { return x * x * x; }
static long neg(long x) { return -x; }
/* both tables need R_X86_64_RELATIVE relocations */
static long (*const ops[])(long) = {sq, cube, neg};
static const char *const names[] = {"square", "cube", "negate"};
static const char *volatile banner = "nostdlib static-pie: relocations applied\n";

int cmain(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	out(banner);
	out("argc=");
	outnum(argc);
	out("\n");
	for (long i = 1; i < argc; i++) {
		out("  arg: ");
		out(argv[i]);
		out("\n");
	}
	for (int i = 0; i < 3; i++)
		for (long x = -2; x <= 3; x += 5) {
			out(names[i]);
			out("(");
			outnum(x);
			out(") = ");
			outnum(ops[i](x));
			out("\n");
		}
	for (long i = 0; i < 4; i++) {
		out("pic_table(");
		outnum(i);
		out(") = ");
		outnum(pic_table(i));
		out("\n");
	}
	return 0;
}
