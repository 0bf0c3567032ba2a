/*
 * The verifier-against-CPU oracle (tests/oracle/README.md): blocks the
 * verifier accepts are run natively, in a process that keeps nothing but
 * the places translated code may touch, and every fault is checked
 * against those places.
 *
 *   rng.c       deterministic random numbers per (seed, block index)
 *   code.c      code as a list of instructions: decode, edit, lay out
 *   insn_gen.c  random instructions biased towards the hidden-operand forms
 *   blocks.c    the three kinds of blocks (random, translated, mutated)
 *   env.c       the sandbox, the addresses, hostile machine states
 *   runner.c    the runner process (nothing of the oracle but what a block
 *               may touch) and the verdict on each run
 *   runner.S    the runner page: the runner's code, gates, signal handler
 *   report.c    disassembly and violation reports
 *   selftest.c  blocks the verifier refuses, run anyway: the oracle must
 *               call them violations
 *   main.c      command line, the run loop, statistics, minimisation
 */
#ifndef OPSUB_TESTS_ORACLE_H
#define OPSUB_TESTS_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "oracle_abi.h"

/* ---- random numbers ------------------------------------------------------ */

struct rng { uint64_t s[4]; };

/* One independent stream per (seed, stream): a block is a pure function of
 * the seed and its index, so any block can be replayed on its own. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);          /* [0, n), 0 for n == 0 */
bool rng_chance(struct rng *r, unsigned percent);

/* ---- code as a list of instructions ------------------------------------- */

/* The oracle's own Zydis decoder (64-bit mode), for everything but the
 * verifier, which has its own. */
struct ZydisDecoder_;
struct ZydisDecoder_ *oracle_decoder(void);

#define CODE_MAX_INSNS  1200
#define BLOCK_MAX_BYTES 8192   /* the verifier's limit (VERIFY_MAX_BYTES) */

struct insn {
	uint8_t bytes[15];
	uint8_t len;
	uint8_t rel_off, rel_size;   /* a relative branch's displacement field (size 0: none) */
	int32_t target;              /* its target: an instruction index, or -1 ... */
	uint64_t target_abs;         /* ... an absolute address outside the code (a gate) */
	int32_t target_delta;        /* bytes past the start of instruction `target` (mid-insn targets) */
};

struct code {
	struct insn insn[CODE_MAX_INSNS];
	unsigned n;
	int entry;                   /* index of the entry instruction; -1: the first */
};

/* Appends raw instruction bytes (no relative branch). */
bool code_add(struct code *c, const void *bytes, size_t len);
/* Appends a branch (jmp rel32 when cond < 0, else jcc rel32) to an instruction index
 * (target >= 0) or to an absolute address. */
bool code_add_branch(struct code *c, int cond, int target, uint64_t target_abs);
/* Decodes len bytes that were laid out at address `at` into a list; relative
 * branches become instruction references or absolute targets.  false when a
 * byte does not decode. */
bool code_decode(struct code *c, const uint8_t *bytes, size_t len, uint64_t at, size_t entry_off);
/* Lays the list out at rx: the bytes, their count and the entry's offset;
 * 0 when it does not fit or a branch displacement overflows. */
size_t code_layout(const struct code *c, uint64_t rx, uint8_t *out, size_t cap, size_t *entry_off);
bool code_insert(struct code *c, unsigned at, const struct insn *in);
void code_delete(struct code *c, unsigned at);

/* ---- blocks --------------------------------------------------------------- */

enum kind { KIND_RANDOM, KIND_TRANSLATED, KIND_MUTATED, KIND_SELFTEST, KIND_COUNT };
extern const char *const kind_name[KIND_COUNT];

struct oracle_block {
	enum kind kind;
	uint8_t bytes[BLOCK_MAX_BYTES];
	size_t len;
	size_t entry;        /* execution starts at rx + entry */
	uint64_t rx;         /* the address it was verified for and runs at */
	uint64_t guest_pc;   /* translated and mutated kinds: the guest pc of the block */
	const char *origin;  /* a word on how it was made, for reports */
};

/* True when verify_block() accepts the block at its address, and (entry != 0)
 * the entry is an instruction start the verifier would let a branch reach. */
bool block_accepted(const struct oracle_block *b, char *err, size_t errlen);

int blocks_init(const char *corpus_dir, char *err, size_t errlen);
/* In a worker process, after the fork: a translator of its own. */
int blocks_worker_init(char *err, size_t errlen);
/* Each returns false when it could not produce an accepted block. */
bool gen_random_block(struct rng *r, struct oracle_block *b);
bool gen_translated_block(struct rng *r, struct oracle_block *b);
bool gen_mutated_block(struct rng *r, struct oracle_block *b);

/* Attempts and rejections of the generators, for the summary. */
struct gen_stats {
	uint64_t insn_tried, insn_accepted;     /* kind a: single instructions */
	uint64_t translated_rejected;           /* kind b: translator output the verifier refused */
	uint64_t mutants_tried, mutants_accepted;
	uint64_t corpus_blocks;                  /* kind b blocks from the fuzz corpus */
};
extern struct gen_stats gen_stats;

/* ---- random instructions ------------------------------------------------ */

enum flavor {
	FLAVOR_TRANSLATED,   /* what the verifier accepts: 0x67 nearly always */
	FLAVOR_GUEST,        /* ordinary 64-bit guest code for the translator */
};
/* Fills out[0..15) with one instruction's bytes (the decoder decides the
 * length) and returns how many bytes were chosen deliberately. */
size_t gen_insn(struct rng *r, enum flavor f, uint8_t out[15]);
/* A guest branch or gate instruction that ends a translator block. */
size_t gen_guest_block_end(struct rng *r, uint8_t out[15]);

/* The hidden-operand forms the oracle is about, and loop (a direct branch
 * that also writes rcx), for the statistics. */
enum form_class {
	FC_BT_REG, FC_STRING, FC_STRING_REP, FC_STRING_SEG, FC_XLAT, FC_GATHER, FC_CMPXCHG8_16,
	FC_FXSAVE, FC_PUSHPOP_MEM, FC_PUSHF_POPF, FC_MASKMOV, FC_ENTER_LEAVE, FC_X87_ENV,
	FC_SLOT_TEMPLATE, FC_IBL_TEMPLATE, FC_LOOP, FC_COUNT
};
extern const char *const form_class_name[FC_COUNT];
/* Counts the instructions of each class in a block. */
void classify_forms(const struct oracle_block *b, uint64_t counts[FC_COUNT]);
/* True when the block holds a relative branch with an operand-size prefix
 * (0x66): AMD CPUs take a 16-bit displacement and target there, where the
 * decoder (Intel behaviour) reads 32 bits (README.md, findings). */
bool has_operand_size_branch(const struct oracle_block *b);

/* ---- running a block ------------------------------------------------------ */

/* The machine state a block starts from. */
struct machine {
	uint64_t gpr[16];           /* rax .. r15 (rsp below 4 GiB) */
	uint64_t rflags;
	uint32_t mxcsr;
	uint8_t ymm[16][32];
	uint64_t slot[26];          /* guest slots 0x00 .. 0xc8 of the context */
	int ibl_self;               /* IBL entry set to the block's start, -1: none */
};

enum outcome_kind {
	OUT_GATE, OUT_IBL_MISS, OUT_GUEST_FAULT, OUT_GUARD_FAULT, OUT_STACK_WRAP, OUT_GP, OUT_SIGILL, OUT_SIGFPE,
	OUT_SIGBUS, OUT_SIGTRAP, OUT_TIMEOUT, OUT_VIOLATION, OUT_BROKEN, OUT_COUNT
};
extern const char *const outcome_name[OUT_COUNT];

struct outcome {
	enum outcome_kind kind;
	bool have_fault;
	int signo, code;
	uint64_t addr;
	uint64_t gregs[UC_NGREGS];   /* REG_R8 .. REG_CR2 of <sys/ucontext.h> */
	char why[256];
};

#define ORACLE_SANDBOX_END (0x100000000ull + 0x100000ull)   /* 4 GiB + the guard */
#define ORACLE_CODE_AREA   (16u << 10)

struct env_info {
	uint64_t code_rx;            /* where blocks run (a code area near the gates) */
	size_t code_size;
	uint64_t ctx;                /* the run's runtime context (GS base) */
	uint64_t runner_lo, runner_hi, data_lo, data_hi;   /* the runner page and data */
	uint64_t host[16];           /* host addresses no block may touch */
	const char *host_name[16];
	unsigned nhost;
	uint64_t sandbox_lo;         /* mmap_min_addr */
};
extern struct env_info env;

/* The runner page (runner.S). */
extern const char oracle_runner_start[], oracle_runner_end[];

/* env.c: the sandbox and the addresses, once. */
int env_init(char *err, size_t errlen);
/* A hostile machine state for block b. */
void env_random_machine(struct rng *r, const struct oracle_block *b, struct machine *m);
/* A register value from the hostile mixture (also for the self-test). */
uint64_t env_hostile_value(struct rng *r);
uint64_t env_sandbox_pointer(struct rng *r);

/* runner.c: the runner process of this (worker) process.  runner_start
 * maps fresh shared memory at env's addresses and forks the runner;
 * run_block runs b from m there and classifies what happened. */
int runner_start(unsigned cpu_limit_ms, char *err, size_t errlen);
void runner_stop(void);
void run_block(const struct oracle_block *b, const struct machine *m, struct outcome *o);
/* Blocks killed by the CPU-time backstop or the wall clock, runner restarts. */
extern uint64_t runner_hard_timeouts, runner_restarts;

/* ---- reports ---------------------------------------------------------------- */

void disassemble(FILE *f, const uint8_t *code, size_t len, uint64_t rx, size_t entry, uint64_t mark);
void report_run(FILE *f, const char *title, const struct oracle_block *b, const struct machine *m,
                const struct outcome *o);

/* ---- self-test ------------------------------------------------------------- */

/* Runs the self-test cases, printing PASS/FAIL oracle/selftest:NAME lines;
 * returns the number of failures. */
int selftest(FILE *out);

#endif
