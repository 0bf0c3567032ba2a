// Attack: look for host addresses in the register state at the very first
// instruction (a -nostdlib _start that saves everything before anything else
// runs): the 16 general registers, rflags, the FS/GS bases, and the x87/SSE
// state (fxsave64: FPU instruction/data pointers, st0-7, xmm0-15).
// Natively: rsp points into the host stack, far above 4 GiB (ESCAPED).
// Under opsub: every register holds a guest value (rsp below 4 GiB, the rest
// zero or guest addresses).
// cflags: -nostdlib -ffreestanding -fno-stack-protector -fno-builtin
// native-needs: fsgsbase
#include "nolibc.h"

u64 entry_gpr[16], entry_flags, entry_fsbase, entry_gsbase;
u8 entry_fx[512] __attribute__((aligned(64)));

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov %rax, entry_gpr+0(%rip)\n"
        "  mov %rcx, entry_gpr+8(%rip)\n"
        "  mov %rdx, entry_gpr+16(%rip)\n"
        "  mov %rbx, entry_gpr+24(%rip)\n"
        "  mov %rsp, entry_gpr+32(%rip)\n"
        "  mov %rbp, entry_gpr+40(%rip)\n"
        "  mov %rsi, entry_gpr+48(%rip)\n"
        "  mov %rdi, entry_gpr+56(%rip)\n"
        "  mov %r8, entry_gpr+64(%rip)\n"
        "  mov %r9, entry_gpr+72(%rip)\n"
        "  mov %r10, entry_gpr+80(%rip)\n"
        "  mov %r11, entry_gpr+88(%rip)\n"
        "  mov %r12, entry_gpr+96(%rip)\n"
        "  mov %r13, entry_gpr+104(%rip)\n"
        "  mov %r14, entry_gpr+112(%rip)\n"
        "  mov %r15, entry_gpr+120(%rip)\n"
        "  pushfq\n"
        "  pop entry_flags(%rip)\n"
        "  fxsave64 entry_fx(%rip)\n"
        "  rdfsbase %rax\n"
        "  mov %rax, entry_fsbase(%rip)\n"
        "  rdgsbase %rax\n"
        "  mov %rax, entry_gsbase(%rip)\n"
        "  and $-16, %rsp\n"
        "  call cmain\n"
        "  hlt\n");

static const char *const names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                      "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

void cmain(void)
{
	int hits = 0;
	for (int i = 0; i < 16; i++)
		hits += nl_check(names[i], 0, entry_gpr[i]);
	hits += nl_check("rflags", 0, entry_flags);
	hits += nl_check("fsbase", 0, entry_fsbase);
	hits += nl_check("gsbase", 0, entry_gsbase);
	u64 *fx = (u64 *)entry_fx;
	hits += nl_check("fpu-ip", 0, fx[1]);
	hits += nl_check("fpu-dp", 0, fx[2]);
	for (int i = 4; i < 52; i++)     /* st0-7 (bytes 32..159), xmm0-15 (160..415) */
		hits += nl_check("fx-reg-word", (u64)i, fx[i]);
	nl_puts(hits ? "note: host-looking values found at entry\n" : "note: no host-looking value at entry\n");
	nl_exit(0);
}
