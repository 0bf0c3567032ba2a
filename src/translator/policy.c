#include "translator/policy.h"

#include <signal.h>

#include "gates/cpu_model.h"

/* ---- predicates: one line each, named for what they recognise ---------- */

static bool is(const struct decoded *d, ZydisMnemonic m) { return d->insn.mnemonic == m; }
static bool cat(const struct decoded *d, ZydisInstructionCategory c) { return d->insn.meta.category == c; }
static bool ext(const struct decoded *d, ZydisISAExt e) { return d->insn.meta.isa_ext == e; }

static bool far_transfer(const struct decoded *d)
{
	return d->insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR || is(d, ZYDIS_MNEMONIC_IRET) ||
	       is(d, ZYDIS_MNEMONIC_IRETD) || is(d, ZYDIS_MNEMONIC_IRETQ);
}
static bool syscall_insn(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_SYSCALL); }
static bool hypercall_insn(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_VMCALL); }
static bool other_system_entry(const struct decoded *d) { return cat(d, ZYDIS_CATEGORY_SYSCALL) || cat(d, ZYDIS_CATEGORY_SYSRET); }
static bool breakpoint(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_INT3) || is(d, ZYDIS_MNEMONIC_INT1); }
static bool interrupt(const struct decoded *d) { return cat(d, ZYDIS_CATEGORY_INTERRUPT); }
static bool segment_load(const struct decoded *d)
{
	for (unsigned i = 0; i < d->insn.operand_count; i++)
		if (d->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(d->op[i].reg.value) == ZYDIS_REGCLASS_SEGMENT &&
		    (d->op[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			return true;
	return false;
}
static bool segmented_string(const struct decoded *d)
{
	return (cat(d, ZYDIS_CATEGORY_STRINGOP) || is(d, ZYDIS_MNEMONIC_XLAT) ||
	        is(d, ZYDIS_MNEMONIC_MASKMOVQ) || is(d, ZYDIS_MNEMONIC_MASKMOVDQU) ||
	        is(d, ZYDIS_MNEMONIC_VMASKMOVDQU)) &&
	       (d->insn.attributes & (ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS));
}
static bool fsgs_base(const struct decoded *d) { return ext(d, ZYDIS_ISA_EXT_RDWRFSGS); }
static bool privileged(const struct decoded *d) { return d->insn.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED; }
static bool port_io(const struct decoded *d)
{
	return cat(d, ZYDIS_CATEGORY_IO) || cat(d, ZYDIS_CATEGORY_IOSTRINGOP) ||
	       is(d, ZYDIS_MNEMONIC_CLI) || is(d, ZYDIS_MNEMONIC_STI);
}
static bool rdtsc(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_RDTSC); }
static bool system_state(const struct decoded *d) { return cat(d, ZYDIS_CATEGORY_SYSTEM) && !is(d, ZYDIS_MNEMONIC_RDTSCP); }
static bool cpuid(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_CPUID); }
static bool xgetbv(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_XGETBV); }
static bool rdtscp(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_RDTSCP); }
static bool undefined(const struct decoded *d)
{
	return is(d, ZYDIS_MNEMONIC_UD0) || is(d, ZYDIS_MNEMONIC_UD1) || is(d, ZYDIS_MNEMONIC_UD2);
}
static bool frame(const struct decoded *d) { return is(d, ZYDIS_MNEMONIC_ENTER) || is(d, ZYDIS_MNEMONIC_LEAVE); }
static bool popf(const struct decoded *d)
{
	return is(d, ZYDIS_MNEMONIC_POPF) || is(d, ZYDIS_MNEMONIC_POPFD) || is(d, ZYDIS_MNEMONIC_POPFQ);
}
static bool pushf(const struct decoded *d)
{
	return is(d, ZYDIS_MNEMONIC_PUSHF) || is(d, ZYDIS_MNEMONIC_PUSHFD) || is(d, ZYDIS_MNEMONIC_PUSHFQ);
}
static bool near_branch(const struct decoded *d)
{
	return ext(d, ZYDIS_ISA_EXT_BASE) &&
	       (cat(d, ZYDIS_CATEGORY_COND_BR) || cat(d, ZYDIS_CATEGORY_UNCOND_BR) ||
	        cat(d, ZYDIS_CATEGORY_CALL) || cat(d, ZYDIS_CATEGORY_RET));
}
static bool no_effect(const struct decoded *d)
{
	/* NOPs, CET end-branch markers, the shadow-stack pointer read (a NOP
	 * that leaves its register alone while no shadow stack is enabled:
	 * libgcc's unwinder and glibc test for one with it), and MPX, which is
	 * a NOP on CPUs without it (the guest CPU model has neither). */
	return cat(d, ZYDIS_CATEGORY_NOP) || cat(d, ZYDIS_CATEGORY_WIDENOP) ||
	       is(d, ZYDIS_MNEMONIC_ENDBR32) || is(d, ZYDIS_MNEMONIC_ENDBR64) ||
	       is(d, ZYDIS_MNEMONIC_RDSSPD) || is(d, ZYDIS_MNEMONIC_RDSSPQ) || ext(d, ZYDIS_ISA_EXT_MPX);
}
static bool in_cpu_model(const struct decoded *d) { return cpu_model_allows(d->insn.meta.isa_ext); }
static bool anything(const struct decoded *d) { (void)d; return true; }

/* ---- table 1: instruction classes (first match wins) ------------------- */

const struct policy_class policy_classes[] = {
/*  class                      action        signal   what replaces it                                   match */
{ "far transfer",              SUB_FAULT,    SIGSEGV, "guest fault: no other code segment or CPU mode",  far_transfer },
{ "syscall",                   SUB_SYSCALL,  0,       "gate into the Linux personality",                 syscall_insn },
{ "hypercall (vmcall)",        SUB_HYPERCALL, 0,      "gate into opsub's hypercalls",                    hypercall_insn },
{ "sysenter/sysexit/sysret",   SUB_FAULT,    SIGSEGV, "guest fault",                                     other_system_entry },
{ "breakpoint",                SUB_FAULT,    SIGTRAP, "guest fault (trace trap)",                        breakpoint },
{ "int n",                     SUB_FAULT,    SIGSEGV, "guest fault: no 32-bit or other kernel entry",    interrupt },
{ "segment register load",     SUB_FAULT,    SIGSEGV, "guest fault: segments are fixed",                 segment_load },
{ "fs/gs-overridden string",   SUB_FAULT,    SIGSEGV, "guest fault: unsupported form",                   segmented_string },
{ "fs/gs base access",         SUB_FSGSBASE, 0,       "reads/writes the guest's emulated FS/GS base",    fsgs_base },
{ "privileged",                SUB_FAULT,    SIGSEGV, "guest fault (general protection)",                privileged },
{ "port i/o and interrupt flag", SUB_FAULT,  SIGSEGV, "guest fault (general protection)",                port_io },
{ "rdtsc",                     SUB_PASS,     0,       "runs as written (the TSC is not a secret)",       rdtsc },
{ "system state read",         SUB_FAULT,    SIGSEGV, "guest fault: sgdt/sidt/sldt/str/smsw/lar/lsl/verr/verw/rdpmc", system_state },
{ "cpuid",                     SUB_CPUID,    0,       "gate: the fixed guest CPU model",                 cpuid },
{ "xgetbv",                    SUB_XGETBV,   0,       "gate: XCR0 of the guest CPU model",               xgetbv },
{ "rdtscp",                    SUB_RDTSCP,   0,       "rdtscp (lfence; rdtsc where the host lacks it), then ecx = 0", rdtscp },
{ "undefined opcode",          SUB_FAULT,    SIGILL,  "guest fault (illegal instruction)",               undefined },
{ "enter/leave",               SUB_FRAME,    0,       "push/mov/lea with rsp re-confined",               frame },
{ "popf",                      SUB_POPF,     0,       "AC and ID to their slot, popf with TF and AC cleared", popf },
{ "pushf",                     SUB_PUSHF,    0,       "pushf with AC and ID from their slot",            pushf },
{ "near branch",               SUB_BRANCH,   0,       "direct: linked block; indirect: inline lookup",   near_branch },
{ "no-effect hint",            SUB_DROP,     0,       "not emitted (nop, endbr, rdssp, MPX)",                   no_effect },
{ "guest CPU model ISA",       SUB_PASS,     0,       "runs as written after the operand-form rewrites", in_cpu_model },
{ "anything else",             SUB_FAULT,    SIGILL,  "guest fault: deny by default",                    anything },
};
const size_t policy_class_count = sizeof(policy_classes) / sizeof(policy_classes[0]);

/* ---- table 2: operand forms of passing instructions -------------------- */

const struct policy_form policy_forms[FORM_COUNT] = {
	[FORM_MEMORY]       = {"memory operand", "32-bit address size: the address wraps inside [0, 4 GiB)"},
	[FORM_RIP_RELATIVE] = {"rip-relative", "absolute 32-bit guest address (lea: the value as an immediate)"},
	[FORM_MOFFS]        = {"64-bit moffs", "ModRM form with a 32-bit absolute address"},
	[FORM_SEGMENT]      = {"fs:/gs: operand", "scratch = guest base + base register, then a 32-bit access"},
	[FORM_RSP_WRITE]    = {"rsp write", "followed by mov esp, esp: rsp stays a sandbox address"},
	[FORM_FP_IP]        = {"x87 environment store", "fxsave/fnstenv/fnsave, then the saved instruction pointer "
	                                                "(a code-cache address) overwritten with 0"},
};

const struct policy_class *policy_classify(const struct decoded *d)
{
	for (size_t i = 0; i < policy_class_count; i++)
		if (policy_classes[i].match(d))
			return &policy_classes[i];
	return &policy_classes[policy_class_count - 1];
}

static const struct policy_class *row(bool (*match)(const struct decoded *))
{
	for (size_t i = 0;; i++)
		if (policy_classes[i].match == match)
			return &policy_classes[i];
}

const struct policy_class *policy_quick_class(const struct quick_insn *q)
{
	static const struct policy_class *branch, *plain;
	if (!plain) {
		branch = row(near_branch);
		plain = row(in_cpu_model);
	}
	return q->branch ? branch : plain;
}

static bool writes_rsp64(const struct decoded *d)
{
	bool stack_op = cat(d, ZYDIS_CATEGORY_PUSH) || cat(d, ZYDIS_CATEGORY_POP);
	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && o->reg.value == ZYDIS_REGISTER_RSP &&
		    (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
		    !(stack_op && o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN))
			return true;
	}
	return false;
}

bool policy_fp_ip_field(const struct decoded *d, unsigned *offset, unsigned *bytes)
{
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_FXSAVE:
	case ZYDIS_MNEMONIC_FXSAVE64:
		*offset = 8, *bytes = 8;       /* FIP (and FCS) of the FXSAVE image */
		return true;
	case ZYDIS_MNEMONIC_FNSTENV:
	case ZYDIS_MNEMONIC_FNSAVE:
		if (d->insn.operand_width == 16)
			*offset = 6, *bytes = 4;   /* 16-bit environment: FIP, FCS */
		else
			*offset = 12, *bytes = 8;  /* 32-bit environment: FIP, FCS:FOP */
		return true;
	default:
		return false;
	}
}

unsigned policy_forms_of(const struct decoded *d)
{
	unsigned off, len;
	unsigned forms = (writes_rsp64(d) ? 1u << FORM_RSP_WRITE : 0) |
	                 (policy_fp_ip_field(d, &off, &len) ? 1u << FORM_FP_IP : 0);
	const ZydisDecodedOperand *m = memory_operand(d);
	if (!m)
		return forms;
	if (m->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
		return forms | (ip_relative(m) ? 1u << FORM_RIP_RELATIVE : 0);
	if (m->mem.segment == ZYDIS_REGISTER_FS || m->mem.segment == ZYDIS_REGISTER_GS)
		return forms | 1u << FORM_SEGMENT;
	if (ip_relative(m))
		return forms | 1u << FORM_RIP_RELATIVE | 1u << FORM_MEMORY;
	if (d->insn.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d->insn.opcode >= 0xa0 &&
	    d->insn.opcode <= 0xa3)
		return forms | 1u << FORM_MOFFS;
	return forms | 1u << FORM_MEMORY;
}
