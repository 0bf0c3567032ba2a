/*
 * The subtraction policy on representative instructions: each class lands
 * on the row (and action, signal) the table promises, and the operand forms
 * of passing instructions are recognised.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gates/cpu_model.h"
#include "translator/policy.h"

static const struct policy_class *classify(const uint8_t *b, size_t n, struct decoded *d)
{
	assert_int_equal(decode_one(b, n, d), DECODE_OK);
	return policy_classify(d);
}

#define CLASS(want, act, sig, ...) do {                                                     \
	const uint8_t b_[] = {__VA_ARGS__};                                                    \
	struct decoded d_;                                                                     \
	const struct policy_class *c_ = classify(b_, sizeof(b_), &d_);                         \
	if (strcmp(c_->name, want) || c_->action != (act) || ((act) == SUB_FAULT && c_->signal != (sig))) \
		fail_msg("%s: got class '%s'", want, c_->name);                                \
} while (0)

static void test_classes(void **state)
{
	(void)state;
	CLASS("syscall", SUB_SYSCALL, 0, 0x0f, 0x05);
	CLASS("hypercall (vmcall)", SUB_HYPERCALL, 0, 0x0f, 0x01, 0xc1);
	CLASS("int n", SUB_FAULT, SIGSEGV, 0xcd, 0x80);
	CLASS("breakpoint", SUB_FAULT, SIGTRAP, 0xcc);
	CLASS("far transfer", SUB_FAULT, SIGSEGV, 0xff, 0x28);
	CLASS("far transfer", SUB_FAULT, SIGSEGV, 0x48, 0xcf);                 /* iretq */
	CLASS("sysenter/sysexit/sysret", SUB_FAULT, SIGSEGV, 0x0f, 0x34);
	CLASS("segment register load", SUB_FAULT, SIGSEGV, 0x8e, 0xd8);
	CLASS("segment register load", SUB_FAULT, SIGSEGV, 0x0f, 0xb4, 0x00);  /* lfs */
	CLASS("fs/gs base access", SUB_FSGSBASE, 0, 0xf3, 0x48, 0x0f, 0xae, 0xd0);
	CLASS("privileged", SUB_FAULT, SIGSEGV, 0xf4);
	CLASS("port i/o and interrupt flag", SUB_FAULT, SIGSEGV, 0xec);
	CLASS("system state read", SUB_FAULT, SIGSEGV, 0x0f, 0x01, 0x00);      /* sgdt */
	CLASS("cpuid", SUB_CPUID, 0, 0x0f, 0xa2);
	CLASS("rdtscp", SUB_RDTSCP, 0, 0x0f, 0x01, 0xf9);
	CLASS("undefined opcode", SUB_FAULT, SIGILL, 0x0f, 0x0b);
	CLASS("enter/leave", SUB_FRAME, 0, 0xc9);
	CLASS("popf", SUB_POPF, 0, 0x9d);
	CLASS("popf", SUB_POPF, 0, 0x66, 0x9d);
	CLASS("pushf", SUB_PUSHF, 0, 0x9c);
	CLASS("pushf", SUB_PUSHF, 0, 0x66, 0x9c);
	CLASS("near branch", SUB_BRANCH, 0, 0xc3);
	CLASS("near branch", SUB_BRANCH, 0, 0xff, 0xe0);
	CLASS("no-effect hint", SUB_DROP, 0, 0xf3, 0x0f, 0x1e, 0xfa);          /* endbr64 */
	CLASS("no-effect hint", SUB_DROP, 0, 0xf3, 0x48, 0x0f, 0x1e, 0xc8);    /* rdsspq rax: a NOP with no shadow stack */
	CLASS("anything else", SUB_FAULT, SIGILL, 0xf3, 0x48, 0x0f, 0xae, 0xe8); /* incsspq rax: #UD with none */
	CLASS("guest CPU model ISA", SUB_PASS, 0, 0xc5, 0xfe, 0x6f, 0x00);     /* vmovdqu */
	CLASS("anything else", SUB_FAULT, SIGILL, 0x62, 0xf1, 0xfd, 0x48, 0x6f, 0x00);   /* AVX-512 */
	CLASS("anything else", SUB_FAULT, SIGILL, 0x0f, 0xc7, 0xf0);           /* rdrand */
	CLASS("anything else", SUB_FAULT, SIGILL, 0xc7, 0xf8, 0, 0, 0, 0);     /* xbegin */
}

/* An optional row of the CPU model (SHA) passes, and its CPUID bit shows,
 * only while the row is shown to the guest (cpu_model_show). */
static void test_optional_rows(void **state)
{
	(void)state;
	uint32_t sha = 0, regs[4];
	for (size_t i = 0; i < cpu_model_count; i++)
		if (!strcmp(cpu_model[i].name, "sha_ni"))
			sha = cpu_model_optional_bit(i);
	assert_int_not_equal(sha, 0);
	cpu_model_show(0);
	CLASS("anything else", SUB_FAULT, SIGILL, 0x0f, 0x38, 0xcb, 0xca);     /* sha256rnds2 xmm1, xmm2 */
	cpuid_guest(7, 0, regs);
	assert_false(regs[1] & 1u << 29);
	cpu_model_show(sha);
	CLASS("guest CPU model ISA", SUB_PASS, 0, 0x0f, 0x38, 0xcb, 0xca);
	cpuid_guest(7, 0, regs);
	assert_true(regs[1] & 1u << 29);
	cpu_model_show(0);
}

/* gpr_number, which reads Zydis's register numbering as runs, against
 * Zydis's own classes and ids for every register there is. */
static void test_gpr_numbers(void **state)
{
	(void)state;
	for (int r = 0; r <= ZYDIS_REGISTER_MAX_VALUE; r++) {
		ZydisRegisterClass c = ZydisRegisterGetClass((ZydisRegister)r);
		int want = -1;
		if (c == ZYDIS_REGCLASS_GPR64 || c == ZYDIS_REGCLASS_GPR32 || c == ZYDIS_REGCLASS_GPR16)
			want = ZydisRegisterGetId((ZydisRegister)r);
		else if (c == ZYDIS_REGCLASS_GPR8)   /* Zydis counts ah..bh as 4..7; they are rax..rbx's */
			want = r <= ZYDIS_REGISTER_BL ? r - ZYDIS_REGISTER_AL
			       : r <= ZYDIS_REGISTER_BH ? r - ZYDIS_REGISTER_AH
			       : ZydisRegisterGetId((ZydisRegister)r) - 4;
		if (gpr_number((ZydisRegister)r) != want)
			fail_msg("%s: gpr_number %d, Zydis %d", ZydisRegisterGetString((ZydisRegister)r),
			         gpr_number((ZydisRegister)r), want);
	}
}

static unsigned forms(const uint8_t *b, size_t n)
{
	struct decoded d;
	assert_int_equal(decode_one(b, n, &d), DECODE_OK);
	return policy_forms_of(&d);
}

#define FORMS(want, ...) do { const uint8_t b_[] = {__VA_ARGS__}; assert_int_equal(forms(b_, sizeof(b_)), (want)); } while (0)

static void test_forms(void **state)
{
	(void)state;
	FORMS(1u << FORM_MEMORY, 0x48, 0x8b, 0x03);                              /* mov rax, [rbx] */
	FORMS(1u << FORM_MEMORY | 1u << FORM_RIP_RELATIVE, 0x48, 0x8b, 0x05, 1, 0, 0, 0);
	FORMS(1u << FORM_RIP_RELATIVE, 0x48, 0x8d, 0x05, 1, 0, 0, 0);            /* lea: no access */
	FORMS(1u << FORM_MOFFS, 0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8);
	FORMS(1u << FORM_SEGMENT, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0);
	FORMS(1u << FORM_MEMORY, 0xf3, 0xa4);                                     /* rep movsb */
	FORMS(1u << FORM_MEMORY, 0xd7);                                           /* xlat */
	FORMS(1u << FORM_RSP_WRITE, 0x48, 0x89, 0xc4);                            /* mov rsp, rax */
	FORMS(0, 0x50);                                                           /* push: stack only */
	FORMS(1u << FORM_RSP_WRITE, 0x5c);                                        /* pop rsp */
	FORMS(0, 0x89, 0xc4);                                                     /* mov esp, eax zero-extends */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_optional_rows),
		cmocka_unit_test(test_gpr_numbers),
		cmocka_unit_test(test_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
