/*
 * The oracle's command line and run loop (README.md has the whole story).
 *
 *   oracle [--no-selftest] [--selftest-only]   the self-test, then the run
 *   oracle --replay INDEX                      block INDEX of ORACLE_SEED, all printed
 *   oracle --verify HEX                        the verifier's verdict on HEX + jmp gate_exit
 *   oracle --run HEX [REG=VALUE...]            HEX + jmp gate_exit run, verified or not
 *
 * Environment:
 *   ORACLE_SEED        seed (default: from the clock; always printed)
 *   ORACLE_SECONDS     run time (default 60; with ORACLE_BLOCKS alone: none)
 *   ORACLE_BLOCKS      number of block indices to run (default: unlimited)
 *   ORACLE_JOBS        worker processes (default 1)
 *   ORACLE_TIMEOUT_MS  CPU time a block may use (default 20)
 *   ORACLE_CORPUS      guest code slices for translated blocks
 *                      (default tests/fuzz/corpus/translate)
 *   ORACLE_REPORTS     full violation reports to print (default 5 of the known
 *                      AMD finding, and 5 of anything else)
 *
 * Block i is a pure function of (seed, i): --replay i runs it again and
 * prints everything about it.  Worker w of J runs the indices i = w mod J.
 */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gates/gate.h"
#include "oracle.h"

struct stats {
	uint64_t blocks, run[KIND_COUNT], gen_failed[KIND_COUNT];
	uint64_t outcome[KIND_COUNT][OUT_COUNT];
	uint64_t forms_run[FC_COUNT], forms_completed[FC_COUNT];
	uint64_t violations, broken, amd66_violations, first_bad_index;
	struct gen_stats gen;
	uint64_t hard_timeouts, restarts;
	char first_bad_why[320];
};

struct options {
	uint64_t seed;
	double seconds;          /* <= 0: no time limit */
	uint64_t blocks;         /* 0: no count limit */
	unsigned jobs, timeout_ms, max_reports;
	bool selftest, run;
	int64_t replay;
	const char *verify_hex;  /* --verify: instruction bytes to check */
	const char *run_hex;     /* --run: instruction bytes to run (verified or not) */
	const char *const *run_regs;
	const char *corpus;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one block ------------------------------------------------------------------ */

static enum kind kind_of(struct rng *r)
{
	unsigned k = (unsigned)rng_below(r, 100);
	return k < 40 ? KIND_RANDOM : k < 75 ? KIND_TRANSLATED : KIND_MUTATED;
}

static bool generate(uint64_t seed, uint64_t index, struct oracle_block *b, struct machine *m, enum kind *kind)
{
	struct rng r;
	rng_seed(&r, seed, index);
	*kind = kind_of(&r);
	bool ok = *kind == KIND_RANDOM ? gen_random_block(&r, b)
	          : *kind == KIND_TRANSLATED ? gen_translated_block(&r, b) : gen_mutated_block(&r, b);
	if (ok)
		env_random_machine(&r, b, m);
	return ok;
}

static bool bad(enum outcome_kind k) { return k == OUT_VIOLATION || k == OUT_BROKEN; }

/* Drops instructions while the block stays accepted and still misbehaves
 * the same way with the same machine state. */
static void minimise(const struct oracle_block *b, const struct machine *m, struct oracle_block *min,
                     struct outcome *mo)
{
	static struct code c, trial;
	*min = *b;
	if (!code_decode(&c, b->bytes, b->len, b->rx, b->entry))
		return;
	unsigned runs = 0;
	for (bool shrunk = true; shrunk && runs < 300;) {
		shrunk = false;
		for (unsigned i = 0; i < c.n && runs < 300; i++) {
			trial = c;
			code_delete(&trial, i);
			struct oracle_block t = *min;
			t.len = code_layout(&trial, t.rx, t.bytes, sizeof(t.bytes), &t.entry);
			if (!t.len || (b->kind != KIND_SELFTEST && !block_accepted(&t, NULL, 0)))
				continue;
			struct outcome o;
			run_block(&t, m, &o);
			runs++;
			if (o.kind == mo->kind) {
				c = trial;
				*min = t;
				*mo = o;
				shrunk = true;
				i--;
			}
		}
	}
}

static void report_bad(const struct options *opt, uint64_t index, const struct oracle_block *b, const struct machine *m,
                       const struct outcome *o)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (!f)
		return;
	fprintf(f, "==== block %" PRIu64 " (seed %" PRIu64 "): %s\n", index, opt->seed, o->why);
	report_run(f, "as generated", b, m, o);
	struct oracle_block min;
	struct outcome mo = *o;
	minimise(b, m, &min, &mo);
	if (min.len < b->len)
		report_run(f, "minimised (same machine state)", &min, m, &mo);
	fprintf(f, "  replay: ORACLE_SEED=%" PRIu64 " build/tests/oracle/oracle --replay %" PRIu64 "\n", opt->seed,
	        index);
	fclose(f);
	fflush(stdout);
	if (write(STDOUT_FILENO, text, size) < 0)
		perror("oracle: write");
	free(text);
}

static void account(struct stats *s, enum kind kind, const struct oracle_block *b, const struct outcome *o)
{
	s->run[kind]++;
	s->outcome[kind][o->kind]++;
	uint64_t counts[FC_COUNT] = {0};
	classify_forms(b, counts);
	bool completed = o->kind == OUT_GATE || o->kind == OUT_IBL_MISS;
	for (int c = 0; c < FC_COUNT; c++) {
		s->forms_run[c] += counts[c];
		if (completed)
			s->forms_completed[c] += counts[c];
	}
}

static void one_block(const struct options *opt, uint64_t index, struct stats *s, unsigned reports[2])
{
	static struct oracle_block b;
	struct machine m;
	struct outcome o;
	enum kind kind;
	s->blocks++;
	if (!generate(opt->seed, index, &b, &m, &kind)) {
		s->gen_failed[kind]++;
		return;
	}
	run_block(&b, &m, &o);
	account(s, kind, &b, &o);
	if (!bad(o.kind))
		return;
	/* the known finding gets its own count and reports, so that the
	 * reports of anything new are not crowded out by it */
	bool amd66 = o.kind == OUT_VIOLATION && has_operand_size_branch(&b);
	if (o.kind == OUT_VIOLATION)
		s->violations++;
	else
		s->broken++;
	s->amd66_violations += amd66;
	if (s->violations + s->broken == 1 || index < s->first_bad_index) {
		s->first_bad_index = index;
		snprintf(s->first_bad_why, sizeof(s->first_bad_why), "%.200s%s", o.why,
		         amd66 ? " [a 0x66-prefixed branch: the known AMD finding]" : "");
	}
	if (reports[amd66]++ < opt->max_reports)
		report_bad(opt, index, &b, &m, &o);
}

/* ---- workers ------------------------------------------------------------------- */

/* A worker, its runner and the block processes hand the CPU to each other
 * four times per block: on one CPU each hand-over is a plain switch, across
 * CPUs a wake-up by inter-processor interrupt (costly in a virtual
 * machine).  The runner inherits the affinity. */
static void pin(unsigned w)
{
	cpu_set_t allowed, one;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	unsigned n = (unsigned)CPU_COUNT(&allowed), k = w % (n ? n : 1);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &allowed) && k-- == 0) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

static void worker(const struct options *opt, unsigned w, struct stats *s)
{
	memset(s, 0, sizeof(*s));
	s->first_bad_index = UINT64_MAX;
	unsigned reports[2] = {0, 0};
	double start = now(), last = start;
	for (uint64_t i = w; opt->blocks == 0 || i < opt->blocks; i += opt->jobs) {
		if (opt->seconds > 0 && now() - start >= opt->seconds)
			break;
		one_block(opt, i, s, reports);
		if (now() - last >= 300) {
			last = now();
			fprintf(stderr, "oracle: worker %u: %" PRIu64 " blocks in %.0f s, %" PRIu64 " violations\n", w,
			        s->blocks, last - start, s->violations);
		}
	}
	s->gen = gen_stats;
	s->hard_timeouts = runner_hard_timeouts;
	s->restarts = runner_restarts;
}

static void add_stats(struct stats *a, const struct stats *b)
{
	const uint64_t *src = (const uint64_t *)b;
	uint64_t *dst = (uint64_t *)a;
	size_t words = offsetof(struct stats, first_bad_index) / 8;
	for (size_t i = 0; i < words; i++)
		dst[i] += src[i];
	a->gen.insn_tried += b->gen.insn_tried;
	a->gen.insn_accepted += b->gen.insn_accepted;
	a->gen.translated_rejected += b->gen.translated_rejected;
	a->gen.mutants_tried += b->gen.mutants_tried;
	a->gen.mutants_accepted += b->gen.mutants_accepted;
	a->gen.corpus_blocks += b->gen.corpus_blocks;
	a->hard_timeouts += b->hard_timeouts;
	a->restarts += b->restarts;
	if (b->violations + b->broken && b->first_bad_index < a->first_bad_index) {
		a->first_bad_index = b->first_bad_index;
		memcpy(a->first_bad_why, b->first_bad_why, sizeof(a->first_bad_why));
	}
}

static int run_workers(const struct options *opt, struct stats *total)
{
	memset(total, 0, sizeof(*total));
	total->first_bad_index = UINT64_MAX;
	if (opt->jobs <= 1) {
		worker(opt, 0, total);
		return 0;
	}
	runner_stop();                             /* each worker starts its own */
	int fds[16][2];
	pid_t pids[16];
	for (unsigned w = 0; w < opt->jobs; w++) {
		if (pipe(fds[w]))
			return -1;
		pids[w] = fork();
		if (pids[w] < 0)
			return -1;
		if (pids[w] == 0) {
			struct stats s;
			char err[256];
			pin(w);
			if (blocks_worker_init(err, sizeof(err)) || runner_start(opt->timeout_ms, err, sizeof(err))) {
				fprintf(stderr, "oracle: worker %u: %s\n", w, err);
				_exit(1);
			}
			worker(opt, w, &s);
			runner_stop();
			ssize_t n = write(fds[w][1], &s, sizeof(s));
			_exit(n == (ssize_t)sizeof(s) ? 0 : 1);
		}
		close(fds[w][1]);
	}
	int rc = 0;
	for (unsigned w = 0; w < opt->jobs; w++) {
		struct stats s;
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(s) && (n = read(fds[w][0], (char *)&s + got, sizeof(s) - got)) > 0)
			got += (size_t)n;
		int status;
		waitpid(pids[w], &status, 0);
		if (got != sizeof(s))
			rc = -1;
		else
			add_stats(total, &s);
		close(fds[w][0]);
	}
	return rc;
}

/* ---- the summary --------------------------------------------------------------- */

static void host_model(char *out, size_t len)
{
	snprintf(out, len, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(out, len, "%s", strchr(line, ':') + 2);
			out[strcspn(out, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
}

static void summary(const struct options *opt, const struct stats *s, double secs)
{
	char cpu[128];
	host_model(cpu, sizeof(cpu));
	uint64_t run = s->run[KIND_RANDOM] + s->run[KIND_TRANSLATED] + s->run[KIND_MUTATED];
	printf("oracle: seed %" PRIu64 ", %" PRIu64 " block indices, %" PRIu64
	       " blocks run in %.0f s (%.0f/s, %u jobs) on %s\n",
	       opt->seed, s->blocks, run, secs, secs > 0 ? (double)run / secs : 0.0, opt->jobs, cpu);
	printf("  %-11s %9s %7s", "kind", "run", "no-gen");
	for (int o = 0; o < OUT_COUNT; o++)
		printf(" %s", outcome_name[o]);
	printf("\n");
	for (int k = 0; k < KIND_SELFTEST; k++) {
		printf("  %-11s %9" PRIu64 " %7" PRIu64, kind_name[k], s->run[k], s->gen_failed[k]);
		for (int o = 0; o < OUT_COUNT; o++)
			printf(" %" PRIu64, s->outcome[k][o]);
		printf("\n");
	}
	printf("  hidden-operand forms (instructions in blocks run / in blocks that reached a gate):\n");
	for (int c = 0; c < FC_COUNT; c++)
		printf("    %-38s %10" PRIu64 " / %" PRIu64 "\n", form_class_name[c], s->forms_run[c], s->forms_completed[c]);
	printf("  generator: single instructions accepted %" PRIu64 "/%" PRIu64 ", mutants accepted %" PRIu64 "/%" PRIu64
	       ", corpus slices %" PRIu64 ", translated blocks refused by the verifier %" PRIu64 "\n",
	       s->gen.insn_accepted, s->gen.insn_tried, s->gen.mutants_accepted, s->gen.mutants_tried,
	       s->gen.corpus_blocks, s->gen.translated_rejected);
	printf("  runs ended by the CPU-time backstop or the wall clock %" PRIu64 ", runner restarts %" PRIu64 "\n",
	       s->hard_timeouts, s->restarts);
	if (s->violations || s->broken)
		printf("FAIL oracle/run: %" PRIu64 " violations (%" PRIu64 " with a 0x66-prefixed branch, the known AMD "
		       "finding; %" PRIu64 " others), %" PRIu64 " oracle failures in %" PRIu64 " blocks (seed %" PRIu64
		       "; first: block %" PRIu64 ": %s)\n", s->violations, s->amd66_violations,
		       s->violations - s->amd66_violations, s->broken, run, opt->seed, s->first_bad_index,
		       s->first_bad_why);
	else if (run == 0)
		printf("FAIL oracle/run: no block ran (seed %" PRIu64 ")\n", opt->seed);
	else
		printf("PASS oracle/run: %" PRIu64 " blocks (random %" PRIu64 ", translated %" PRIu64 ", mutated %" PRIu64
		       "), no violation (seed %" PRIu64 ", %.0f s)\n", run, s->run[KIND_RANDOM], s->run[KIND_TRANSLATED],
		       s->run[KIND_MUTATED], opt->seed, secs);
}

/* ---- set-up ------------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void parse(int argc, char **argv, struct options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->seed = env_u64("ORACLE_SEED", (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid());
	opt->blocks = env_u64("ORACLE_BLOCKS", 0);
	opt->seconds = (double)env_u64("ORACLE_SECONDS", opt->blocks ? 0 : 60);
	opt->jobs = (unsigned)env_u64("ORACLE_JOBS", 1);
	if (opt->jobs < 1 || opt->jobs > 16)
		opt->jobs = 1;
	opt->timeout_ms = (unsigned)env_u64("ORACLE_TIMEOUT_MS", 20);
	opt->max_reports = (unsigned)env_u64("ORACLE_REPORTS", 5);
	opt->corpus = getenv("ORACLE_CORPUS") ? getenv("ORACLE_CORPUS") : "tests/fuzz/corpus/translate";
	opt->selftest = opt->run = true;
	opt->replay = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-selftest"))
			opt->selftest = false;
		else if (!strcmp(argv[i], "--selftest-only"))
			opt->run = false;
		else if (!strcmp(argv[i], "--replay") && i + 1 < argc)
			opt->replay = (int64_t)strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--verify") && i + 1 < argc)
			opt->verify_hex = argv[++i];
		else if (!strcmp(argv[i], "--run") && i + 1 < argc) {
			opt->run_hex = argv[++i];
			opt->run_regs = (const char *const *)argv + i + 1;
			break;                             /* the rest: REG=VALUE */
		}
		else {
			fprintf(stderr, "usage: oracle [--no-selftest] [--selftest-only] [--replay INDEX] [--verify HEX]\n"
			        "              [--run HEX [REG=VALUE...]]   (REG: rax..r15, rflags)\n");
			exit(2);
		}
	}
}

/* Host addresses in registers and reports are the same in every run only
 * without address-space randomisation: the program runs itself again
 * without it (once). */
static void without_aslr(char **argv)
{
	int p = personality(0xffffffff);
	if (p < 0 || (p & ADDR_NO_RANDOMIZE) || getenv("ORACLE_ASLR"))
		return;
	if (personality((unsigned long)p | ADDR_NO_RANDOMIZE) < 0)
		return;
	execv("/proc/self/exe", argv);
}

/* The bytes of HEX, then jmp gate_exit, laid out in the code area. */
static bool hex_block(const char *hex, struct oracle_block *b)
{
	static struct code c;
	uint8_t bytes[BLOCK_MAX_BYTES];
	size_t n = 0;
	for (const char *p = hex; *p && n < sizeof(bytes);) {
		unsigned v;
		if (*p == ' ' || *p == ':') {
			p++;
			continue;
		}
		if (sscanf(p, "%2x", &v) != 1 || !p[1])
			return false;
		bytes[n++] = (uint8_t)v;
		p += 2;
	}
	c.n = 0;
	c.entry = -1;
	for (size_t off = 0; off < n; off += 15)
		code_add(&c, bytes + off, n - off < 15 ? n - off : 15);
	code_add_branch(&c, -1, -1, (uint64_t)(uintptr_t)gate_exit);
	memset(b, 0, sizeof(*b));
	b->rx = env.code_rx;
	b->kind = KIND_SELFTEST;
	b->origin = "command line";
	b->len = code_layout(&c, b->rx, b->bytes, sizeof(b->bytes), &b->entry);
	return b->len != 0;
}

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* --run HEX REG=VALUE...: runs the bytes (whatever the verifier says) from
 * a friendly-or-hostile random state (ORACLE_SEED) with the registers given,
 * and prints the verifier's verdict and the run. */
static int run_only(const struct options *opt)
{
	static struct oracle_block b;
	if (!hex_block(opt->run_hex, &b)) {
		printf("cannot parse %s\n", opt->run_hex);
		return 2;
	}
	char err[256] = "accepted";
	bool ok = block_accepted(&b, err, sizeof(err));
	struct rng r;
	rng_seed(&r, opt->seed, 0);
	struct machine m;
	struct outcome o;
	env_random_machine(&r, &b, &m);
	m.ibl_self = -1;
	for (const char *const *a = opt->run_regs; *a; a++) {
		const char *eq = strchr(*a, '=');
		uint64_t v = eq ? strtoull(eq + 1, NULL, 0) : 0;
		bool known = false;
		for (int i = 0; eq && i < 16; i++)
			if ((size_t)(eq - *a) == strlen(reg_names[i]) && !strncmp(*a, reg_names[i], (size_t)(eq - *a)))
				m.gpr[i] = v, known = true;
		if (eq && !strncmp(*a, "rflags=", 7))
			m.rflags = (v & ~(1ull << 8 | 1ull << 18)) | 2, known = true;
		if (!known) {
			printf("unknown register setting %s\n", *a);
			return 2;
		}
	}
	run_block(&b, &m, &o);
	printf("verifier: %s\n", ok ? "accepted" : err);
	report_run(stdout, "run", &b, &m, &o);
	return o.kind == OUT_VIOLATION ? 1 : 0;
}

/* --verify HEX: the verifier's verdict on the bytes followed by jmp gate_exit,
 * at the code area (a way to ask which forms it accepts). */
static int verify_only(const char *hex)
{
	static struct oracle_block b;
	if (!hex_block(hex, &b)) {
		printf("cannot parse %s\n", hex);
		return 2;
	}
	char err[256] = "accepted";
	bool ok = block_accepted(&b, err, sizeof(err));
	disassemble(stdout, b.bytes, b.len, b.rx, 0, 0);
	printf("verifier: %s\n", ok ? "accepted" : err);
	return ok ? 0 : 1;
}

static int replay(const struct options *opt)
{
	static struct oracle_block b;
	struct machine m;
	struct outcome o;
	enum kind kind;
	if (!generate(opt->seed, (uint64_t)opt->replay, &b, &m, &kind)) {
		printf("block %" PRId64 " (seed %" PRIu64 ", %s): the generator produced no accepted block\n",
		       opt->replay, opt->seed, kind_name[kind]);
		return 0;
	}
	run_block(&b, &m, &o);
	char title[64];
	snprintf(title, sizeof(title), "block %" PRId64, opt->replay);
	report_run(stdout, title, &b, &m, &o);
	return bad(o.kind) ? 1 : 0;
}

int main(int argc, char **argv)
{
	without_aslr(argv);
	struct options opt;
	parse(argc, argv, &opt);
	setvbuf(stdout, NULL, _IOLBF, 0);
	char err[512];
	pin(0);
	if (blocks_init(opt.corpus, err, sizeof(err)) || env_init(err, sizeof(err)) ||
	    runner_start(opt.timeout_ms, err, sizeof(err))) {
		printf("FAIL oracle/setup: %s\n", err);
		return 1;
	}
	if (opt.replay >= 0)
		return replay(&opt);
	if (opt.verify_hex)
		return verify_only(opt.verify_hex);
	if (opt.run_hex)
		return run_only(&opt);
	printf("oracle: seed %" PRIu64 " (ORACLE_SEED=%" PRIu64 " reproduces this run)\n", opt.seed, opt.seed);
	int failures = opt.selftest ? selftest(stdout) : 0;
	if (!opt.run)
		return failures ? 1 : 0;
	struct stats total;
	double start = now();
	if (run_workers(&opt, &total)) {
		printf("FAIL oracle/run: a worker process failed\n");
		return 1;
	}
	summary(&opt, &total, now() - start);
	return failures || total.violations || total.broken ? 1 : 0;
}
