/*
 * The runner process, and the verdict on each run.
 *
 * The runner is forked once per oracle (worker) process.  Before it serves
 * any run it drops everything of the oracle (runner.S: oracle_runner_main)
 * but what a block may touch and what the runner itself needs:
 *
 *   the sandbox [0, 4 GiB + 1 MiB)          as env.c set it up
 *   the runtime context (shared)            slots RW, XSAVE page PROT_NONE,
 *                                           IBL table read-only
 *   the code area (shared)                  read+execute
 *   the runner page                         the oracle's text keeps only it
 *   the runner data (shared)                parameters, stacks, plan
 *
 * Every other mapping (libc, the oracle's text and data, heap, stack,
 * vdso, the translator's cache and context) is unmapped; [vsyscall], which
 * cannot be, is execute-only on the hosts this runs on.  A block therefore
 * faults on any host address but those five places, and the verdict is
 * read from where it faulted.
 *
 * Per run the oracle writes the block, the registers (the GS stash), the
 * slots and the run parameters into the shared memory and sends a byte on
 * the command pipe; the runner starts the block's process with
 * clone(CLONE_VM | CLONE_VFORK) (no page tables to copy: a fork costs a
 * millisecond in the virtual machines this runs on), waits for it, drops
 * the sandbox pages the run wrote (MADV_DONTNEED brings back the memfd's
 * content) and answers a byte.  A fault record, if any, comes through
 * the record pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <Zydis/Zydis.h>

#include "gates/ctx.h"
#include "gates/gate.h"
#include "sandbox/guest_mem.h"
#include "oracle.h"

static_assert(offsetof(ucontext_t, uc_mcontext.gregs) == UC_GREGS, "ucontext layout");
static_assert(NGREG == UC_NGREGS, "ucontext layout");
static_assert(sizeof(siginfo_t) == SIGINFO_SIZE, "siginfo layout");
static_assert(STASH_GPR(0) >= CTX_GS_BASE + 8 && STASH_ENTRY + 8 <= CTX_GUEST_SLOTS_END,
              "the stash is past every slot translated code uses");
static_assert(ORACLE_SANDBOX_END == GUEST_SPACE + GUEST_GUARD, "the sandbox of guest_mem.h");

/* The shared runner data: see oracle_abi.h for the offsets. */
struct runner_data {
	uint64_t nranges;
	uint64_t rflags;
	uint32_t mxcsr, pad0;
	struct itimerval cpu_limit, backstop;
	int32_t status, pad1;
	uint64_t reset_addr, reset_len;
	uint8_t scratch[8];
	uint8_t pad2[LD_YMM - 120];
	uint8_t ymm[16][32];
	struct { uint64_t addr, len, prot; } range[LD_MAX_RANGES];
};
static_assert(offsetof(struct runner_data, rflags) == LD_RFLAGS, "runner data layout");
static_assert(offsetof(struct runner_data, mxcsr) == LD_MXCSR, "runner data layout");
static_assert(offsetof(struct runner_data, cpu_limit) == LD_TIMER_VIRTUAL, "runner data layout");
static_assert(offsetof(struct runner_data, backstop) == LD_TIMER_PROF, "runner data layout");
static_assert(offsetof(struct runner_data, status) == LD_STATUS, "runner data layout");
static_assert(offsetof(struct runner_data, reset_addr) == LD_RESET_ADDR, "runner data layout");
static_assert(offsetof(struct runner_data, scratch) == LD_SCRATCH, "runner data layout");
static_assert(offsetof(struct runner_data, ymm) == LD_YMM, "runner data layout");
static_assert(offsetof(struct runner_data, range) == LD_RANGES, "runner data layout");
static_assert(sizeof(((struct runner_data *)0)->range[0]) == LD_RANGE_SIZE, "runner data layout");
static_assert(sizeof(struct runner_data) <= LD_STACK_TOP - 4096, "room for the block process's stack");

void oracle_runner_main(struct runner_data *rd) __attribute__((noreturn));
void oracle_on_signal(int sig, siginfo_t *si, void *uc);
void oracle_restorer(void);

/* The gates' data of gates/gate.h, which the translator writes (cache.c). */
struct rt_ctx *gate_ctx;
static uint64_t no_fast_table;
uint64_t *gate_fast_table = &no_fast_table;
uint64_t gate_fast_mask;
uint8_t gate_guest_fpu;

uint64_t runner_hard_timeouts, runner_restarts;

static struct runner_data *rd;
static uint8_t *code_area, *run_ctx;
static int record_fd = -1, cmd_fd = -1, done_fd = -1;
static pid_t runner_pid = -1;
static unsigned cpu_limit_ms;

/* ---- shared memory ------------------------------------------------------------ */

static void *shared_at(uint64_t at, size_t size)
{
	void *p = mmap((void *)(uintptr_t)at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
	               -1, 0);
	return p == (void *)(uintptr_t)at ? p : NULL;
}

/* Fresh shared memory at env's addresses: a worker's runner shares it with
 * that worker only. */
static int map_shared(char *err, size_t errlen)
{
	rd = shared_at(env.data_lo, LD_SIZE);
	run_ctx = shared_at(env.ctx, CTX_SIZE);
	code_area = shared_at(env.code_rx, ORACLE_CODE_AREA);
	if (!rd || !run_ctx || !code_area) {
		snprintf(err, errlen, "cannot map the runner's shared memory: %s", strerror(errno));
		return -1;
	}
	uint64_t *ibl = (uint64_t *)(run_ctx + CTX_IBL_CODE);   /* and the switch tables after it */
	for (unsigned i = 0; i < IBL_ENTRIES + SWITCH_TABLES * SWITCH_ENTRIES; i++)
		ibl[i] = (uint64_t)(uintptr_t)gate_ibl_miss;
	/* no template touches the XSAVE page: any access is a violation */
	if (mprotect(run_ctx + CTX_XSAVE, CTX_XSAVE_SIZE, PROT_NONE)) {
		snprintf(err, errlen, "cannot protect the XSAVE page: %s", strerror(errno));
		return -1;
	}
	gate_ctx = (struct rt_ctx *)run_ctx;
	rd->reset_addr = env.sandbox_lo;
	rd->reset_len = ORACLE_SANDBOX_END - env.sandbox_lo;
	return 0;
}

/* ---- the runner's set-up (in the forked runner, before it drops the rest) ---- */

/* glibc registers each thread's rseq area (in its TLS) with the kernel,
 * which writes the CPU number there on the way back to user space: with
 * the TLS gone that write fails and the kernel sends a SIGSEGV of its own.
 * (A CLONE_VM child starts without one.) */
static bool unregister_rseq(void)
{
	if (__rseq_size == 0)
		return true;
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	const unsigned sizes[] = {__rseq_size, 32, 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (syscall(SYS_rseq, area, sizes[i], RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
			return true;
	return false;
}

struct kernel_sigaction { void *handler; unsigned long flags; void *restorer; uint64_t mask; };
#define SA_RESTORER_FLAG 0x04000000

/* Raw rt_sigaction: the restorer must be in the runner page, not in libc. */
static bool install_handlers(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
	struct kernel_sigaction ka = {(void *)oracle_on_signal, SA_SIGINFO | SA_ONSTACK | SA_RESTORER_FLAG,
	                              (void *)oracle_restorer, ~0ull};
	stack_t ss = {.ss_sp = (char *)rd + LD_ALTSTACK, .ss_size = LD_ALTSTACK_SIZE};
	if (sigaltstack(&ss, NULL))
		return false;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (syscall(SYS_rt_sigaction, sigs[i], &ka, NULL, 8))
			return false;
	sigset_t none;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) == 0 && signal(SIGVTALRM, SIG_DFL) != SIG_ERR &&
	       signal(SIGPROF, SIG_DFL) != SIG_ERR;
}

static void add_range(uint64_t lo, uint64_t hi, uint64_t prot)
{
	if (lo < hi && rd->nranges < LD_MAX_RANGES) {
		rd->range[rd->nranges].addr = lo;
		rd->range[rd->nranges].len = hi - lo;
		rd->range[rd->nranges++].prot = prot;
	}
}

struct interval { uint64_t lo, hi; };

/* [lo, hi) minus the kept intervals (sorted) is unmapped. */
static void drop_mapping(uint64_t lo, uint64_t hi, const struct interval *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep && lo < hi; i++) {
		if (keep[i].hi <= lo || keep[i].lo >= hi)
			continue;
		add_range(lo, keep[i].lo > lo ? keep[i].lo : lo, RANGE_UNMAP);
		lo = keep[i].hi;
	}
	add_range(lo, hi, RANGE_UNMAP);
}

static bool plan(void)
{
	struct interval keep[] = {
		{0, ORACLE_SANDBOX_END},
		{env.code_rx, env.code_rx + ORACLE_CODE_AREA},
		{env.ctx, env.ctx + CTX_SIZE},
		{env.data_lo, env.data_hi},
		{env.runner_lo, env.runner_hi},
	};
	size_t nkeep = sizeof(keep) / sizeof(keep[0]);
	for (size_t i = 1; i < nkeep; i++)
		for (size_t j = i; j > 0 && keep[j].lo < keep[j - 1].lo; j--) {
			struct interval t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	static char maps[1 << 18];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t n = 0;
	ssize_t got;
	while (n < sizeof(maps) - 1 && (got = read(fd, maps + n, sizeof(maps) - 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	if (n == sizeof(maps) - 1)
		return false;
	maps[n] = 0;
	rd->nranges = 0;
	for (char *line = maps; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		uint64_t lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && !strstr(line, "[vsyscall]"))
			drop_mapping(lo, hi, keep, nkeep);
		line = next;
	}
	add_range(env.code_rx, env.code_rx + ORACLE_CODE_AREA, PROT_READ | PROT_EXEC);
	add_range(env.ctx + CTX_IBL_CODE, env.ctx + CTX_SIZE, PROT_READ);
	return rd->nranges < LD_MAX_RANGES;
}

static void __attribute__((noreturn)) runner(int cmd, int done, int record)
{
	if (setpgid(0, 0) || dup2(record, ORACLE_FD) != ORACLE_FD || dup2(cmd, CMD_FD) != CMD_FD ||
	    dup2(done, DONE_FD) != DONE_FD || !unregister_rseq() || !install_handlers() ||
	    syscall(SYS_arch_prctl, ARCH_SET_GS, env.ctx) || !plan())
		_exit(ORACLE_EXIT_LOCKDOWN);
	/* only its three pipes: the oracle's stdout and the other ends of the
	 * pipes must not stay open here (end of file is how the runner stops) */
	if (close_range(0, ORACLE_FD - 1, 0) || close_range(DONE_FD + 1, ~0u, 0))
		_exit(ORACLE_EXIT_LOCKDOWN);
	oracle_runner_main(rd);
}

/* ---- starting and stopping -------------------------------------------------------- */

static int spawn_runner(char *err, size_t errlen)
{
	int cmd[2], done[2], record[2];
	if (pipe2(cmd, O_CLOEXEC) || pipe2(done, O_CLOEXEC) || pipe2(record, O_CLOEXEC) ||
	    fcntl(record[0], F_SETFL, O_NONBLOCK)) {
		snprintf(err, errlen, "cannot create the runner's pipes: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	runner_pid = fork();
	if (runner_pid < 0) {
		snprintf(err, errlen, "cannot fork the runner: %s", strerror(errno));
		return -1;
	}
	if (runner_pid == 0)
		runner(cmd[0], done[1], record[1]);
	close(cmd[0]);
	close(done[1]);
	close(record[1]);
	cmd_fd = cmd[1];
	done_fd = done[0];
	record_fd = record[0];
	return 0;
}

int runner_start(unsigned limit_ms, char *err, size_t errlen)
{
	cpu_limit_ms = limit_ms;
	signal(SIGPIPE, SIG_IGN);                  /* a dead runner is noticed, not fatal */
	return map_shared(err, errlen) || spawn_runner(err, errlen) ? -1 : 0;
}

void runner_stop(void)
{
	if (runner_pid <= 0)
		return;
	close(cmd_fd);                             /* the runner exits on end of file */
	close(done_fd);
	close(record_fd);
	kill(-runner_pid, SIGKILL);
	while (waitpid(runner_pid, NULL, 0) < 0 && errno == EINTR)
		;
	runner_pid = -1;
}

/* ---- one run ------------------------------------------------------------------------ */

static void prepare(const struct oracle_block *b, const struct machine *m)
{
	memset(code_area, 0xcc, ORACLE_CODE_AREA);   /* int3 around the block: a run-off traps */
	memcpy(code_area + (b->rx - env.code_rx), b->bytes, b->len);
	uint64_t *slots = (uint64_t *)run_ctx;
	memcpy(slots, m->slot, sizeof(m->slot));
	for (int i = 0; i < 16; i++)
		slots[STASH_GPR(i) / 8] = m->gpr[i];
	slots[STASH_ENTRY / 8] = b->rx + b->entry;
	uint64_t *ibl = (uint64_t *)(run_ctx + CTX_IBL_CODE);
	if (m->ibl_self >= 0)
		ibl[m->ibl_self] = b->rx;              /* the block's own start (its IBL entry) */
	rd->rflags = m->rflags;
	rd->mxcsr = m->mxcsr;
	memcpy(rd->ymm, m->ymm, sizeof(rd->ymm));
	rd->cpu_limit = (struct itimerval){.it_value = {cpu_limit_ms / 1000, cpu_limit_ms % 1000 * 1000}};
	unsigned backstop = cpu_limit_ms * 4 + 1000;
	rd->backstop = (struct itimerval){.it_value = {backstop / 1000, backstop % 1000 * 1000}};
	rd->status = 0;
}

static void clean_up(const struct machine *m)
{
	uint64_t *ibl = (uint64_t *)(run_ctx + CTX_IBL_CODE);
	if (m->ibl_self >= 0)
		ibl[m->ibl_self] = (uint64_t)(uintptr_t)gate_ibl_miss;
}

/* One round trip with the runner; false when it died or hung. */
static bool round_trip(void)
{
	char byte = 'r';
	if (write(cmd_fd, &byte, 1) != 1)
		return false;
	struct pollfd p = {.fd = done_fd, .events = POLLIN};
	int wall_ms = 60000 + (int)cpu_limit_ms * 20, rc;
	while ((rc = poll(&p, 1, wall_ms)) < 0 && errno == EINTR)
		;
	return rc == 1 && read(done_fd, &byte, 1) == 1;
}

struct record { siginfo_t si; uint64_t gregs[UC_NGREGS]; };

static bool read_record(struct record *rec)
{
	size_t n = 0;
	ssize_t got;
	while (n < sizeof(*rec) && (got = read(record_fd, (char *)rec + n, sizeof(*rec) - n)) > 0)
		n += (size_t)got;
	char drain[512];
	while (read(record_fd, drain, sizeof(drain)) > 0)
		;
	return n == sizeof(*rec);
}

#define PF_WRITE 0x2
#define PF_INSTR 0x10

static void violation(struct outcome *o, const char *fmt, uint64_t a, uint64_t b)
{
	o->kind = OUT_VIOLATION;
	snprintf(o->why, sizeof(o->why), fmt, a, b);
}

/* A push (or pushf) at rsp < 8 writes at rsp - 8 modulo 2^64: the top
 * bytes of the address space, the kernel's half, which user mode can never
 * access.  rsp is a sandbox address, but its arithmetic is 64-bit: this
 * wrap is the one way an implicit stack access leaves [0, 4 GiB + guard),
 * and it faults without touching anything (like a #GP on a non-canonical
 * address).  Counted apart (README.md). */
static bool stack_wrap(const struct oracle_block *b, const struct outcome *o)
{
	uint64_t rip = o->gregs[REG_RIP], rsp = o->gregs[REG_RSP];
	if (o->addr < 0ull - 8 || rsp >= 8 || rip < b->rx || rip >= b->rx + b->len)
		return false;
	size_t at = rip - b->rx;
	ZydisDecodedInstruction in;
	return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(oracle_decoder(), NULL, b->bytes + at, b->len - at, &in)) &&
	       in.meta.category == ZYDIS_CATEGORY_PUSH;
}

/* A page fault: where is the address, who did it. */
static void page_fault(const struct oracle_block *b, struct outcome *o, bool in_block)
{
	uint64_t a = o->addr, err = o->gregs[REG_ERR], rip = o->gregs[REG_RIP];
	if (in_block && !(err & PF_INSTR) && stack_wrap(b, o))
		o->kind = OUT_STACK_WRAP;
	else if (err & PF_INSTR)
		violation(o, "instruction fetch at 0x%lx (from rip 0x%lx): control left the block", a, rip);
	else if (!in_block)
		violation(o, "page fault at 0x%lx with rip 0x%lx outside the block", a, rip);
	else if (a < GUEST_SPACE)
		o->kind = OUT_GUEST_FAULT;
	else if (a < ORACLE_SANDBOX_END)
		o->kind = OUT_GUARD_FAULT;
	else if (a >= env.ctx + CTX_IBL_CODE && a < env.ctx + CTX_SIZE && (err & PF_WRITE))
		violation(o, "write to the IBL table at 0x%lx (rip 0x%lx)", a, rip);
	else
		violation(o, (err & PF_WRITE) ? "write to host memory at 0x%lx (rip 0x%lx)"
		                              : "read of host memory at 0x%lx (rip 0x%lx)", a, rip);
}

static void classify_fault(const struct oracle_block *b, const struct record *rec, struct outcome *o)
{
	o->have_fault = true;
	o->signo = rec->si.si_signo;
	o->code = rec->si.si_code;
	o->addr = (uint64_t)(uintptr_t)rec->si.si_addr;
	memcpy(o->gregs, rec->gregs, sizeof(o->gregs));
	uint64_t rip = o->gregs[REG_RIP];
	bool in_block = rip >= b->rx && rip < b->rx + b->len;
	if (o->signo == SIGSEGV && o->gregs[REG_TRAPNO] == 14) {
		page_fault(b, o, in_block);
		return;
	}
	if (!in_block) {
		violation(o, "signal %lu at rip 0x%lx outside the block", (uint64_t)o->signo, rip);
		return;
	}
	switch (o->signo) {
	case SIGSEGV: o->kind = OUT_GP; break;
	case SIGILL: o->kind = OUT_SIGILL; break;
	case SIGFPE: o->kind = OUT_SIGFPE; break;
	case SIGBUS: o->kind = OUT_SIGBUS; break;
	case SIGTRAP: o->kind = OUT_SIGTRAP; break;
	default:
		o->kind = OUT_BROKEN;
		snprintf(o->why, sizeof(o->why), "unexpected signal %d in the handler", o->signo);
	}
}

static void classify(const struct oracle_block *b, int status, struct outcome *o)
{
	struct record rec;
	bool have = read_record(&rec);
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGVTALRM || WTERMSIG(status) == SIGPROF) {
			o->kind = OUT_TIMEOUT;
			runner_hard_timeouts += WTERMSIG(status) == SIGPROF;
		} else {
			o->kind = OUT_VIOLATION;
			snprintf(o->why, sizeof(o->why), "the child died of signal %d without its handler running "
			         "(the handler page or its alternate stack was damaged, or unusable)", WTERMSIG(status));
		}
	} else if (WEXITSTATUS(status) == ORACLE_EXIT_GATE) {
		o->kind = OUT_GATE;
	} else if (WEXITSTATUS(status) == ORACLE_EXIT_IBL_MISS) {
		o->kind = OUT_IBL_MISS;
	} else if (WEXITSTATUS(status) == ORACLE_EXIT_SIGNAL && have) {
		classify_fault(b, &rec, o);
	} else {
		o->kind = OUT_BROKEN;
		snprintf(o->why, sizeof(o->why), "child exit status %d (%s)", WEXITSTATUS(status),
		         WEXITSTATUS(status) == ORACLE_EXIT_LOCKDOWN ? "the lock-down failed"
		         : WEXITSTATUS(status) == ORACLE_EXIT_SETUP ? "the child set-up failed"
		         : WEXITSTATUS(status) == ORACLE_EXIT_SIGNAL ? "fault record missing" : "unknown");
	}
}


void run_block(const struct oracle_block *b, const struct machine *m, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	prepare(b, m);
	bool ok = round_trip();
	if (ok && rd->status != -1) {
		classify(b, rd->status, o);
	} else {
		o->kind = OUT_BROKEN;
		snprintf(o->why, sizeof(o->why), "%s", ok ? "the runner could not start the block's process"
		                                          : "the runner died or hung (restarted)");
	}
	clean_up(m);
	if (!ok) {
		char err[256];
		runner_stop();
		runner_restarts++;
		runner_hard_timeouts++;
		if (spawn_runner(err, sizeof(err))) {
			fprintf(stderr, "oracle: %s\n", err);
			exit(1);
		}
	}
}
