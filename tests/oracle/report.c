/* Reports: a block disassembled (Intel syntax), the machine state, the verdict. */
#include <string.h>
#include <sys/ucontext.h>
#include <Zydis/Zydis.h>

#include "gates/ctx.h"
#include "oracle.h"

const char *const outcome_name[OUT_COUNT] = {
	[OUT_GATE] = "gate_exit", [OUT_IBL_MISS] = "gate_ibl_miss", [OUT_GUEST_FAULT] = "guest fault",
	[OUT_GUARD_FAULT] = "guard fault", [OUT_STACK_WRAP] = "stack wrap", [OUT_GP] = "#GP/other SIGSEGV",
	[OUT_SIGILL] = "SIGILL",
	[OUT_SIGFPE] = "SIGFPE", [OUT_SIGBUS] = "SIGBUS", [OUT_SIGTRAP] = "SIGTRAP", [OUT_TIMEOUT] = "timeout",
	[OUT_VIOLATION] = "VIOLATION", [OUT_BROKEN] = "oracle failure",
};

static const char *const gpr_name[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* ucontext register index of each x86 register number. */
static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

void disassemble(FILE *f, const uint8_t *code, size_t len, uint64_t rx, size_t entry, uint64_t mark)
{
	ZydisDecoder dec;
	ZydisFormatter fmt;
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
	for (size_t off = 0; off < len;) {
		ZydisDecodedInstruction in;
		ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
		char text[160] = "(undecodable)";
		size_t n = 1;
		if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, len - off, &in, ops))) {
			ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, text, sizeof(text),
			                                rx + off, ZYAN_NULL);
			n = in.length;
		}
		char bytes[48] = "";
		for (size_t i = 0; i < n && i < 15; i++)
			snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, "%02x ", code[off + i]);
		bool here = mark >= rx + off && mark < rx + off + n;
		fprintf(f, "  %s%s%5zu: %-45s %s\n", off == entry ? "entry>" : "      ", here ? "@" : " ", off, bytes,
		        text);
		off += n;
	}
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%02x", i % 32 ? " " : "\n    ", p[i]);
	fprintf(f, "\n");
}

/* The mapping of the parent that holds a (the child had the same layout
 * until its lock-down). */
static void describe(FILE *f, uint64_t a)
{
	if (a >= env.ctx && a < env.ctx + CTX_SIZE) {
		fprintf(f, "    0x%lx is the runtime context + 0x%lx\n", a, a - env.ctx);
		return;
	}
	for (unsigned i = 0; i < env.nhost; i++)
		if (a >= env.host[i] - 8192 && a < env.host[i] + 8192)
			fprintf(f, "    0x%lx is near a host address the oracle hands out: %s (0x%lx)\n", a,
			        env.host_name[i], env.host[i]);
	FILE *m = fopen("/proc/self/maps", "r");
	char line[512];
	while (m && fgets(line, sizeof(line), m)) {
		uint64_t lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
			fprintf(f, "    0x%lx lies in the mapping %s", a, line);
	}
	if (m)
		fclose(m);
}

void report_run(FILE *f, const char *title, const struct oracle_block *b, const struct machine *m,
                const struct outcome *o)
{
	fprintf(f, "---- %s: %s block (%s), %zu bytes at 0x%lx, entry +%zu\n", title, kind_name[b->kind],
	        b->origin ? b->origin : "", b->len, b->rx, b->entry);
	if (b->guest_pc)
		fprintf(f, "  guest pc 0x%lx\n", b->guest_pc);
	fprintf(f, "  outcome: %s%s%s\n", outcome_name[o->kind], o->why[0] ? ": " : "", o->why);
	if (o->have_fault) {
		fprintf(f, "  signal %d code %d address 0x%lx rip 0x%lx (+%ld) trap %lu error 0x%lx\n", o->signo, o->code,
		        o->addr, o->gregs[REG_RIP], (long)(o->gregs[REG_RIP] - b->rx), o->gregs[REG_TRAPNO],
		        o->gregs[REG_ERR]);
		describe(f, o->addr);
	}
	fprintf(f, "  bytes:");
	hex(f, b->bytes, b->len);
	fprintf(f, "  disassembly (Intel; '@' marks the faulting instruction):\n");
	disassemble(f, b->bytes, b->len, b->rx, b->entry, o->have_fault ? o->gregs[REG_RIP] : 0);
	fprintf(f, "  registers at entry%s:\n", o->have_fault ? " (and at the fault)" : "");
	for (int i = 0; i < 16; i++) {
		fprintf(f, "    %-3s = 0x%016lx", gpr_name[i], m->gpr[i]);
		if (o->have_fault)
			fprintf(f, "   0x%016lx", o->gregs[greg_of[i]]);
		fprintf(f, "\n");
	}
	fprintf(f, "    rflags = 0x%lx  mxcsr = 0x%x  IBL entry on the block: %d\n", m->rflags, m->mxcsr, m->ibl_self);
	for (int i = 0; i < 16; i++) {
		uint64_t q[4];
		memcpy(q, m->ymm[i], sizeof(q));
		fprintf(f, "    ymm%-2d = %016lx %016lx %016lx %016lx\n", i, q[3], q[2], q[1], q[0]);
	}
	fprintf(f, "    guest slots:");
	for (size_t i = 0; i < sizeof(m->slot) / sizeof(m->slot[0]); i++)
		fprintf(f, "%s0x%lx", i % 4 ? " " : "\n      ", m->slot[i]);
	fprintf(f, "\n");
}
