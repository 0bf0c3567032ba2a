/*
 * The runner page: the code of the runner process, which keeps nothing of
 * the oracle but this page, the runner data, the runtime context, the code
 * area and the sandbox.  It is a page-aligned, page-sized section of its
 * own, so that exactly this page of the program's text survives.
 *
 *   oracle_runner_main  applies the plan (munmap, or mprotect for the code
 *                       area and the IBL table), then serves runs: each
 *                       byte on CMD_FD starts a block's process with
 *                       clone(CLONE_VM | CLONE_VFORK), waits for it, drops
 *                       what the run wrote to the sandbox, stores the wait
 *                       status and answers a byte on DONE_FD;
 *   (a block's process) sets its CPU limits, serialises instruction fetch
 *                       (the oracle wrote the code from another CPU), loads
 *                       the registers and jumps to the block's entry;
 *   oracle_on_signal    SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP handler (on
 *                       the alternate stack): writes siginfo and the saved
 *                       registers to ORACLE_FD and exits;
 *   gate_exit,          the two gates translated code may jump to:
 *   gate_ibl_miss       reaching one is the normal end of a run.
 *
 * Position-independent, and touching no memory but the runner data
 * (passed in rdi), the GS-relative stash and the handler's arguments.
 */
#include "oracle_abi.h"
#include "gates/ctx.h"

	.intel_syntax noprefix
	.section .text.oracle_runner, "ax", @progbits
	.balign 4096
	.globl oracle_runner_start
oracle_runner_start:

/* void oracle_runner_main(struct runner_data *rd): never returns. */
	.globl oracle_runner_main
	.type oracle_runner_main, @function
oracle_runner_main:
	mov r12, rdi
	lea rsp, [r12 + LD_STACK_TOP]      /* the program's stack is about to go */
	mov r13, [r12 + LD_NRANGES]
	lea r14, [r12 + LD_RANGES]
1:	test r13, r13
	jz serve
	mov rdi, [r14]
	mov rsi, [r14 + 8]
	mov rdx, [r14 + 16]
	mov eax, NR_MPROTECT
	cmp rdx, RANGE_UNMAP
	jne 2f
	mov eax, NR_MUNMAP
2:	syscall
	test rax, rax
	jnz lockdown_failed
	add r14, LD_RANGE_SIZE
	dec r13
	jmp 1b

serve:
	mov eax, NR_READ
	mov edi, CMD_FD
	lea rsi, [r12 + LD_SCRATCH]
	mov edx, 1
	syscall
	cmp rax, 1
	jne quit                           /* the oracle is gone */
	mov eax, NR_CLONE
	mov edi, SPAWN_FLAGS
	lea rsi, [r12 + LD_STACK_TOP]
	xor edx, edx
	xor r10d, r10d
	xor r8d, r8d
	syscall
	test rax, rax
	jz block_process
	js spawn_failed
	mov r15, rax
3:	mov rdi, r15
	lea rsi, [r12 + LD_STATUS]
	xor edx, edx
	xor r10d, r10d
	mov eax, NR_WAIT4
	syscall
	cmp rax, -4                        /* EINTR */
	je 3b
	jmp reset
spawn_failed:
	mov dword ptr [r12 + LD_STATUS], -1
reset:
	mov rdi, [r12 + LD_RESET_ADDR]
	mov rsi, [r12 + LD_RESET_LEN]
	mov edx, MADV_DONTNEED_ID
	mov eax, NR_MADVISE
	syscall
	mov eax, NR_WRITE
	mov edi, DONE_FD
	lea rsi, [r12 + LD_SCRATCH]
	mov edx, 1
	syscall
	jmp serve

lockdown_failed:
	mov edi, ORACLE_EXIT_LOCKDOWN
	jmp 9f
quit:
	xor edi, edi
9:	mov eax, NR_EXIT_GROUP
	syscall
	ud2

/* A block's process, on the runner data's stack. */
block_process:
	mov eax, NR_SETITIMER
	mov edi, ITIMER_VIRTUAL_ID
	lea rsi, [r12 + LD_TIMER_VIRTUAL]
	xor edx, edx
	syscall
	test rax, rax
	jnz 8f
	mov eax, NR_SETITIMER
	mov edi, ITIMER_PROF_ID
	lea rsi, [r12 + LD_TIMER_PROF]
	xor edx, edx
	syscall
	test rax, rax
	jnz 8f
	/* iretq to the next instruction: serialising, so no instruction
	 * fetched before the oracle's writes to the code area is executed */
	mov eax, ss
	push rax
	lea rax, [rsp + 8]
	push rax
	pushfq
	mov eax, cs
	push rax
	lea rax, [rip + 4f]
	push rax
	iretq
4:	fninit
	ldmxcsr [r12 + LD_MXCSR]
	vmovdqu ymm0, ymmword ptr [r12 + LD_YMM + 0 * 32]
	vmovdqu ymm1, ymmword ptr [r12 + LD_YMM + 1 * 32]
	vmovdqu ymm2, ymmword ptr [r12 + LD_YMM + 2 * 32]
	vmovdqu ymm3, ymmword ptr [r12 + LD_YMM + 3 * 32]
	vmovdqu ymm4, ymmword ptr [r12 + LD_YMM + 4 * 32]
	vmovdqu ymm5, ymmword ptr [r12 + LD_YMM + 5 * 32]
	vmovdqu ymm6, ymmword ptr [r12 + LD_YMM + 6 * 32]
	vmovdqu ymm7, ymmword ptr [r12 + LD_YMM + 7 * 32]
	vmovdqu ymm8, ymmword ptr [r12 + LD_YMM + 8 * 32]
	vmovdqu ymm9, ymmword ptr [r12 + LD_YMM + 9 * 32]
	vmovdqu ymm10, ymmword ptr [r12 + LD_YMM + 10 * 32]
	vmovdqu ymm11, ymmword ptr [r12 + LD_YMM + 11 * 32]
	vmovdqu ymm12, ymmword ptr [r12 + LD_YMM + 12 * 32]
	vmovdqu ymm13, ymmword ptr [r12 + LD_YMM + 13 * 32]
	vmovdqu ymm14, ymmword ptr [r12 + LD_YMM + 14 * 32]
	vmovdqu ymm15, ymmword ptr [r12 + LD_YMM + 15 * 32]
	push qword ptr [r12 + LD_RFLAGS]
	popfq
	/* From here on nothing may change the flags: plain loads only. */
	mov rax, gs:[STASH_GPR(0)]
	mov rcx, gs:[STASH_GPR(1)]
	mov rdx, gs:[STASH_GPR(2)]
	mov rbx, gs:[STASH_GPR(3)]
	mov rsp, gs:[STASH_GPR(4)]
	mov rbp, gs:[STASH_GPR(5)]
	mov rsi, gs:[STASH_GPR(6)]
	mov rdi, gs:[STASH_GPR(7)]
	mov r8, gs:[STASH_GPR(8)]
	mov r9, gs:[STASH_GPR(9)]
	mov r10, gs:[STASH_GPR(10)]
	mov r11, gs:[STASH_GPR(11)]
	mov r12, gs:[STASH_GPR(12)]
	mov r13, gs:[STASH_GPR(13)]
	mov r14, gs:[STASH_GPR(14)]
	mov r15, gs:[STASH_GPR(15)]
	jmp qword ptr gs:[STASH_ENTRY]

8:	mov edi, ORACLE_EXIT_SETUP
	mov eax, NR_EXIT_GROUP
	syscall
	ud2
	.size oracle_runner_main, .-oracle_runner_main

/* void oracle_on_signal(int sig, siginfo_t *si, ucontext_t *uc) */
	.globl oracle_on_signal
	.type oracle_on_signal, @function
oracle_on_signal:
	mov r12, rsi
	mov r13, rdx
	mov edi, ORACLE_FD
	mov rsi, r12
	mov edx, SIGINFO_SIZE
	mov eax, NR_WRITE
	syscall
	mov edi, ORACLE_FD
	lea rsi, [r13 + UC_GREGS]
	mov edx, UC_NGREGS * 8
	mov eax, NR_WRITE
	syscall
	mov edi, ORACLE_EXIT_SIGNAL
	mov eax, NR_EXIT_GROUP
	syscall
	ud2
	.size oracle_on_signal, .-oracle_on_signal

/* SA_RESTORER is mandatory on x86-64; the handler never returns, so this
 * is never reached, but it must not point into a PROT_NONE page either. */
	.globl oracle_restorer
	.type oracle_restorer, @function
oracle_restorer:
	mov eax, NR_RT_SIGRETURN
	syscall
	ud2
	.size oracle_restorer, .-oracle_restorer

/* The gates of gates/gate.h, as far as translated code can see them: jump
 * targets.  Reaching one ends the run normally. */
	.globl gate_exit
	.type gate_exit, @function
gate_exit:
	mov edi, ORACLE_EXIT_GATE
	mov eax, NR_EXIT_GROUP
	syscall
	ud2
	.size gate_exit, .-gate_exit

	.globl gate_ibl_miss
	.type gate_ibl_miss, @function
gate_ibl_miss:
	mov edi, ORACLE_EXIT_IBL_MISS
	mov eax, NR_EXIT_GROUP
	syscall
	ud2
	.size gate_ibl_miss, .-gate_ibl_miss

	.balign 4096, 0xcc
	.globl oracle_runner_end
oracle_runner_end:

	.section .note.GNU-stack,"",@progbits
