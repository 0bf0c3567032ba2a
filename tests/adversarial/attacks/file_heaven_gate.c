// Attack: "heaven's gate": switch to the 32-bit code segment (selector 0x23)
// and run 32-bit code, which makes an `int 0x80` creat(argv[1]) there, then
// comes back to 64-bit mode.  Four ways into compatibility mode: far jmp,
// far call, far return (lretq) and iretq.
// Natively (where compatibility mode is usable: not under every
// hypervisor): the 32-bit code creates the file and prints ESCAPED.
// Under opsub: far transfers and iret are subtracted: guest fault, no file.
// variants: ljmp lcall lret iretq
// native-needs: compat
#include "attack.h"

char hg_path[256];
volatile uint32_t hg_result = 0xdead;
uint64_t hg_saved_rsp;
uint32_t hg_stack[256];
extern char hg_code32[], hg_back64[];

__asm__(".text\n"
        ".code32\n"
        "hg_code32:\n"
        "  movw $0x2b, %dx\n"
        "  movw %dx, %ds\n"
        "  movw %dx, %es\n"
        "  movl $8, %eax\n"                 /* creat(path, 0644) */
        "  movl $hg_path, %ebx\n"
        "  movl $0644, %ecx\n"
        "  int $0x80\n"
        "  movl %eax, hg_result\n"
        "  ljmp $0x33, $hg_back64\n"
        ".code64\n"
        "hg_back64:\n"
        "  mov hg_saved_rsp(%rip), %rsp\n"
        "  ret\n");

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	strncpy(hg_path, argv[1], sizeof(hg_path) - 1);
	static struct { uint32_t off; uint16_t sel; } __attribute__((packed)) fp;
	fp.off = (uint32_t)(uintptr_t)hg_code32;
	fp.sel = 0x23;
	/* push a 64-bit return address, remember rsp; hg_back64 returns there */
	if (!strcmp(v, "ljmp"))
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n mov %%rsp, hg_saved_rsp(%%rip)\n"
		                 "ljmp *%0\n 1:" ::"m"(fp)
		                 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else if (!strcmp(v, "lcall"))
		/* far call with a 32-bit frame on a stack below 4 GiB */
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n mov %%rsp, hg_saved_rsp(%%rip)\n"
		                 "lea hg_stack+512(%%rip), %%rsp\n"
		                 "lcall *%0\n 1:" ::"m"(fp)
		                 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else if (!strcmp(v, "lret"))
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n mov %%rsp, hg_saved_rsp(%%rip)\n"
		                 "pushq $0x23\n pushq %0\n lretq\n 1:" ::"r"((uint64_t)fp.off)
		                 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	else
		__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n mov %%rsp, hg_saved_rsp(%%rip)\n"
		                 "mov %%rsp, %%rax\n"
		                 "pushq $0x2b\n push %%rax\n pushfq\n pushq $0x23\n pushq %0\n iretq\n 1:" ::"r"((uint64_t)fp.off)
		                 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	if (hg_result != 0xdead && (int)hg_result >= 0)
		escaped("32-bit code via %s made int 0x80 creat, fd %d", v, (int)hg_result);
	else
		note("%s: result %#x", v, hg_result);
	return 0;
}
