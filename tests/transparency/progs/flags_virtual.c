// The alignment-check (AC) and ID flags as a user program sees them: popf sets them and pushf shows them (JDK's CPU probe takes a CPU whose AC cannot be toggled for a 386), they reach a system call's r11, a signal handler's frame and the handler itself, and rt_sigreturn takes them from the frame.  No unaligned access runs while AC is set: natively it would trap.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* Every asm block below steps over the red zone, where -O0 code keeps its
 * locals, before it pushes. */
#define OVER_RED_ZONE "lea -128(%%rsp), %%rsp\n"
#define BACK "\n lea 128(%%rsp), %%rsp"

#define AC 0x40000ul
#define ID 0x200000ul

static volatile uint64_t frame_flags, handler_flags, set_in_frame, clear_in_frame;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	uint64_t f;
	__asm__ volatile(OVER_RED_ZONE "pushfq\n popq %0" BACK : "=r"(f));
	handler_flags = f;
	frame_flags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
	uc->uc_mcontext.gregs[REG_EFL] = (greg_t)((frame_flags | set_in_frame) & ~clear_in_frame);
}

/* rflags after popf of (rflags ^ toggle), then the old rflags back */
static uint64_t toggled(uint64_t toggle)
{
	uint64_t old, now;
	__asm__ volatile(OVER_RED_ZONE "pushfq\n popq %0\n mov %0, %%rax\n xor %2, %%rax\n push %%rax\n popfq\n"
	                 "pushfq\n popq %1\n push %0\n popfq" BACK
	                 : "=&r"(old), "=&r"(now) : "r"(toggle) : "rax", "cc", "memory");
	return now ^ old;
}

/* with AC set: getpid's r11 (the kernel's copy of rflags), and rflags after it */
static void syscall_with_ac(uint64_t *r11_out, uint64_t *after_out)
{
	uint64_t r11, after;
	__asm__ volatile(OVER_RED_ZONE "pushfq\n orq %2, (%%rsp)\n popfq\n mov %3, %%eax\n syscall\n mov %%r11, %0\n"
	                 "pushfq\n popq %1\n pushfq\n andq %4, (%%rsp)\n popfq" BACK
	                 : "=&r"(r11), "=&r"(after) : "i"(AC), "i"(SYS_getpid), "i"(~AC)
	                 : "rax", "rcx", "r11", "cc", "memory");
	*r11_out = r11;
	*after_out = after;
}

/* kill(self, SIGUSR1) with AC as given; rflags after the handler returned, then AC cleared */
static uint64_t signal_with(uint64_t ac, long pid)
{
	uint64_t after;
	__asm__ volatile(OVER_RED_ZONE "pushfq\n orq %1, (%%rsp)\n popfq\n mov %2, %%eax\n mov %3, %%rdi\n mov %4, %%esi\n syscall\n"
	                 "pushfq\n popq %0\n pushfq\n andq %5, (%%rsp)\n popfq" BACK
	                 : "=&r"(after) : "r"(ac), "i"(SYS_kill), "r"(pid), "i"(SIGUSR1), "i"(~AC)
	                 : "rax", "rcx", "r11", "rdi", "rsi", "cc", "memory");
	return after;
}

int main(void)
{
	printf("AC toggles: %d\n", (toggled(AC) & AC) != 0);
	printf("ID toggles: %d\n", (toggled(ID) & ID) != 0);
	printf("both toggle: %d\n", toggled(AC | ID) == (AC | ID));
	uint64_t r11, after;
	syscall_with_ac(&r11, &after);
	printf("syscall: AC in r11 %d, after it %d\n", (r11 & AC) != 0, (after & AC) != 0);

	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	long pid = getpid();
	clear_in_frame = AC;
	after = signal_with(AC, pid);
	printf("signal with AC: frame %d, handler %d; handler clears it: after %d\n", (frame_flags & AC) != 0,
	       (handler_flags & AC) != 0, (after & AC) != 0);
	clear_in_frame = 0;
	after = signal_with(AC, pid);
	printf("signal with AC kept: after %d\n", (after & AC) != 0);
	set_in_frame = AC;
	after = signal_with(0, pid);
	printf("signal without AC: frame %d, handler %d; handler sets it: after %d\n", (frame_flags & AC) != 0,
	       (handler_flags & AC) != 0, (after & AC) != 0);
	return 0;
}
