// Exercises a -nostdlib static non-PIE program: its own _start in asm, raw syscall write/exit_group, absolute addressing (imm32 addresses, moffs, absolute jump table, call through an absolute memory operand), xlat, string instructions with DF=1, loop, enter/leave; exits with status 5.
// cflags: -nostdlib -ffreestanding -fno-stack-protector -fno-pie -fno-tree-loop-distribute-patterns
// variants: O0 O2 O3
typedef unsigned long size_t;

__asm__(
	".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n" /* argc, argv... */
	"	and $-16, %rsp\n"
	"	call cmain\n"
	"	mov %eax, %edi\n"
	"	mov $231, %eax\n" /* exit_group */
	"	syscall\n"
	"	hlt\n"

	/* long asm_absolute(long k): uses only absolute (non-RIP-relative) addressing */
	".globl asm_absolute\n"
	".type asm_absolute, @function\n"
	"asm_absolute:\n"
	"	push %rbx\n"
	"	movabs abs_counter, %rax\n" /* moffs load (A1) */
	"	add %rdi, %rax\n"
	"	movabs %rax, abs_counter\n" /* moffs store (A3) */
	"	mov %edi, %eax\n"
	"	and $3, %eax\n"
	"	jmp *abs_jt(,%rax,8)\n" /* absolute jump table */
	"1:	mov $10, %eax\n"
	"	jmp 5f\n"
	"2:	mov $20, %eax\n"
	"	jmp 5f\n"
	"3:	mov $abs_xlat, %ebx\n" /* imm32 address */
	"	mov %edi, %eax\n"
	"	and $15, %eax\n"
	"	xlatb\n"
	"	movzbl %al, %eax\n"
	"	jmp 5f\n"
	"4:	call *abs_fptr\n" /* call through an absolute disp32 memory operand */
	"5:	mov abs_counter, %rdx\n" /* disp32 absolute, no base register */
	"	shl $8, %rdx\n"
	"	or %rdx, %rax\n"
	"	pop %rbx\n"
	"	ret\n"
	"abs_forty:\n"
	"	mov $40, %eax\n"
	"	ret\n"
	".section .rodata\n"
	".p2align 3\n"
	"abs_jt: .quad 1b, 2b, 3b, 4b\n"
	"abs_xlat: .ascii \"0123456789abcdef\"\n"
	".data\n"
	".p2align 3\n"
	"abs_fptr: .quad abs_forty\n"
	"abs_counter: .quad 1000\n"
	".text\n"

	/* void asm_backward_copy(char *dst, const char *src, size_t n): copies from the last byte down with
	   std + rep movsb (correct for overlapping dst > src), then cld */
	".globl asm_backward_copy\n"
	"asm_backward_copy:\n"
	"	mov %rdx, %rcx\n"
	"	lea -1(%rsi,%rdx), %rsi\n"
	"	lea -1(%rdi,%rdx), %rdi\n"
	"	std\n"
	"	rep movsb\n"
	"	cld\n"
	"	ret\n"

	/* long asm_misc(long n): loop, enter/leave, lodsb/stosb/scasb */
	".globl asm_misc\n"
	"asm_misc:\n"
	"	enter $32, $0\n"
	"	xor %eax, %eax\n"
	"	mov %rdi, %rcx\n"
	"	jrcxz 2f\n"
	"1:	add %rcx, %rax\n"
	"	loop 1b\n"
	"2:	mov %rax, -8(%rbp)\n"
	"	lea -32(%rbp), %rdi\n"
	"	mov $'z', %al\n"
	"	mov $16, %ecx\n"
	"	rep stosb\n"
	"	movb $'a', -25(%rbp)\n"
	"	lea -32(%rbp), %rdi\n"
	"	mov $'a', %al\n"
	"	mov $16, %ecx\n"
	"	repne scasb\n"
	"	mov %ecx, %edx\n" /* 16 - 8 = 8 left */
	"	mov -8(%rbp), %rax\n"
	"	shl $8, %rax\n"
	"	or %rdx, %rax\n"
	"	leave\n"
	"	ret\n");

long asm_absolute(long k);
void asm_backward_copy(char *dst, const char *src, size_t n);
long asm_misc(long n);

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
static void puts_(const char *s) { sys_write(1, s, slen(s)); }
static void putnum(long v)
{
	char buf[24];
	int i = 23;
	int neg = v < 0;
	unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		buf[--i] = '-';
	puts_(buf + i);
}

static const char *const greetings[] = {"hello", "from", "a", "nostdlib", "static", "binary"};

int cmain(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	puts_("nostdlib static: argc=");
	putnum(argc);
	puts_("\n");
	for (long i = 1; i < argc; i++) {
		puts_("  arg: ");
		puts_(argv[i]);
		puts_("\n");
	}
	for (int i = 0; i < 6; i++) {
		puts_(greetings[i]);
		puts_(i == 5 ? "\n" : " ");
	}
	for (long k = 0; k < 8; k++) {
		puts_("asm_absolute(");
		putnum(k);
		puts_(") = ");
		putnum(asm_absolute(k));
		puts_("\n");
	}
	char buf[32] = "abcdefghijklmnopqrstuvwxyz";
	asm_backward_copy(buf + 6, buf, 20); /* overlapping move to the right */
	buf[26] = '\n';
	sys_write(1, buf, 27);
	puts_("asm_misc(100) = ");
	putnum(asm_misc(100));
	puts_("\n");
	long r = sys_write(-1, "x", 1);
	puts_("write(-1) returned ");
	putnum(r);
	puts_(" (-EBADF is -9)\n");
	return 5;
}
