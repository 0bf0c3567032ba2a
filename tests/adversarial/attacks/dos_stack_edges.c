// Attack (denial of service / stack confinement): stack operations with rsp
// at the edges of the 32-bit space, where push/pop/call/ret move rsp
// without a `mov esp, esp` after them: push/call/pushf/enter with rsp = 0 or
// 4 (rsp - 8 wraps to the top of the 64-bit space), pop/ret/popf/leave with
// rsp = 0xfffffff8 (the result would be 4 GiB).
// Natively: SIGSEGV (native: faults).
// Under opsub: a guest fault, never an access or an rsp outside the sandbox.
// native: faults
// variants: push0 push4 call0 pushf0 enter0 pop_top ret_top popf_top leave_top
#include "attack.h"

uint64_t se_rsp;

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint64_t lo = !strcmp(v, "push4") ? 4 : 0, top = 0xfffffff8ull;
#define AT(val, body) __asm__ volatile("mov %%rsp, se_rsp(%%rip)\n mov %0, %%rsp\n" body "\n mov se_rsp(%%rip), %%rsp" \
                                       : : "r"(val) : "rax", "rbp", "memory")
	if (!strcmp(v, "push0") || !strcmp(v, "push4")) AT(lo, "push %%rax");
	else if (!strcmp(v, "call0")) AT(lo, "call 1f\n 1:");
	else if (!strcmp(v, "pushf0")) AT(lo, "pushfq");
	else if (!strcmp(v, "enter0")) AT(lo, "enter $16, $0");
	else if (!strcmp(v, "pop_top")) AT(top, "pop %%rax\n pop %%rax");
	else if (!strcmp(v, "ret_top")) AT(top, "lea 1f(%%rip), %%rax\n push %%rax\n ret\n 1: ret");
	else if (!strcmp(v, "popf_top")) AT(top, "popfq\n popfq");
	else AT(top, "mov %%rsp, %%rbp\n leave\n leave");
	escaped("stack operation %s at the edge completed", v);
	return 0;
}
