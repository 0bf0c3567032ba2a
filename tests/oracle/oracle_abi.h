/*
 * Constants shared by the oracle's C code and its runner page (runner.S).
 *
 * The runner page is the only code the runner process keeps besides the
 * block under test; it has no libc, no stack and no data of the program,
 * so everything it needs is here as a constant: file descriptors, exit
 * statuses, the layout of the runner data and of the ucontext the kernel
 * hands a signal handler.
 */
#ifndef OPSUB_TESTS_ORACLE_ABI_H
#define OPSUB_TESTS_ORACLE_ABI_H

/* File descriptors of the runner process (dup2'ed there before it drops
 * everything else): the fault-record pipe a block's handler writes to, and
 * the two pipes that start a run and report its end. */
#define ORACLE_FD             200
#define CMD_FD                201
#define DONE_FD               202

/* Exit statuses of a block's process.  None is 0 or 1, which C code could
 * produce by accident (a return from main, exit(1)). */
#define ORACLE_EXIT_GATE      71   /* gate_exit reached */
#define ORACLE_EXIT_IBL_MISS  72   /* gate_ibl_miss reached */
#define ORACLE_EXIT_SIGNAL    73   /* the handler wrote a fault record */
#define ORACLE_EXIT_LOCKDOWN  74   /* the runner could not drop the rest of the process */
#define ORACLE_EXIT_SETUP     75   /* a block's process could not set its CPU limits */

/* The runner data mapping, shared between the oracle and its runner
 * process: the run's parameters and result, the runner's plan, the block
 * process's first stack and the signal handler's alternate stack.  It is
 * the only host memory besides the runtime context and the code that a
 * block can reach. */
#define LD_NRANGES            0     /* the runner's plan: number of ranges */
#define LD_RFLAGS             8     /* flags the block starts with */
#define LD_MXCSR              16
#define LD_TIMER_VIRTUAL      24    /* struct itimerval: user CPU time limit */
#define LD_TIMER_PROF         56    /* struct itimerval: user+system, a backstop */
#define LD_STATUS             88    /* wait status of the block's process */
#define LD_RESET_ADDR         96    /* MADV_DONTNEED after each run: the sandbox */
#define LD_RESET_LEN          104
#define LD_SCRATCH            112   /* the byte of the pipe messages */
#define LD_YMM                128   /* ymm0..ymm15, 32 bytes each */
#define LD_RANGES             640   /* {addr, len, prot or RANGE_UNMAP} */
#define LD_RANGE_SIZE         24
#define LD_MAX_RANGES         400
#define RANGE_UNMAP           0x100
#define LD_STACK_TOP          16384 /* the block process's stack: [12288, 16384) */
#define LD_ALTSTACK           20480
#define LD_ALTSTACK_SIZE      45056
#define LD_SIZE               65536

/* Where the child leaves the block's initial registers and entry address
 * for the last steps of the lock-down: in the guest-slot page of the
 * runtime context, past every slot translated code uses (ctx.h), so that
 * they can be loaded through GS with no base register and no other page. */
#define STASH_GPR(n)          (0xe00 + (n) * 8)
#define STASH_ENTRY           0xe80

/* ucontext_t: uc_mcontext.gregs (23 registers, REG_R8 .. REG_CR2). */
#define UC_GREGS              40
#define UC_NGREGS             23
#define SIGINFO_SIZE          128

/* Linux x86-64 system call numbers the runner page uses. */
#define NR_READ               0
#define NR_WRITE              1
#define NR_MPROTECT           10
#define NR_MUNMAP             11
#define NR_RT_SIGRETURN       15
#define NR_MADVISE            28
#define NR_SETITIMER          38
#define NR_CLONE              56
#define NR_WAIT4              61
#define NR_EXIT_GROUP         231
#define MADV_DONTNEED_ID      4
#define ITIMER_VIRTUAL_ID     1
#define ITIMER_PROF_ID        2

/* clone(CLONE_VM | CLONE_VFORK | SIGCHLD): a block's process shares the
 * runner's (tiny) address space, so starting one copies no page tables,
 * and the runner sleeps until it is gone. */
#define SPAWN_FLAGS           (0x100 | 0x4000 | 17)

#endif
