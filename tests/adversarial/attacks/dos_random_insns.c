// Attack (denial of service): execute 100k bytes from a fixed-seed PRNG.
// The stream is placed at a fixed address with fixed register values and a
// fixed scratch stack, so native and opsub runs start identically.  Byte
// pairs that would form a system call or software interrupt (0f 05, 0f 34,
// cd xx) are removed so that the native run cannot do anything to the host.
// The translator meets whatever the stream decodes to: garbage prefixes,
// invalid and privileged opcodes, wild memory operands, jumps anywhere.
// Natively: the stream faults (native: faults).
// Under opsub: a guest fault, never an internal error or a hang.
// native: faults
// variants: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24
#include "attack.h"

#define CODE_AT  0x20000000ull
#define STACK_AT 0x21000000ull
#define DATA_AT  0x22000000ull
#define LEN      100000

static uint64_t rng;
static uint8_t next8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

int main(int argc, char **argv)
{
	rng = 0x9e3779b97f4a7c15ull * (uint64_t)(atoi(variant(argc, argv)) + 1);
	uint8_t *code = mmap((void *)CODE_AT, LEN + 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *stack = mmap((void *)STACK_AT, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *data = mmap((void *)DATA_AT, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (code != (void *)CODE_AT || stack != (void *)STACK_AT || data != (void *)DATA_AT) {
		note("fixed mappings unavailable");
		return 3;
	}
	for (size_t i = 0; i < LEN; i++) {
		uint8_t b = next8();
		if (b == 0xcd || b == 0xcc)
			b = 0x90;
		if (i > 0 && code[i - 1] == 0x0f && (b == 0x05 || b == 0x34 || b == 0x07 || b == 0x35))
			b = 0x90;
		code[i] = b;
	}
	memset(code + LEN, 0x0b, 4096);   /* 0b 0b ... : or ecx, [rbx] -- then falls off the end */
	note("seed %s: jumping into %d random bytes", variant(argc, argv), LEN);
	__asm__ volatile("mov $" "0x21008000" ", %%rsp\n"
	                 "mov $0x22008000, %%rax\n mov %%rax, %%rbx\n mov %%rax, %%rcx\n mov %%rax, %%rdx\n"
	                 "mov %%rax, %%rsi\n mov %%rax, %%rdi\n mov %%rax, %%rbp\n mov %%rax, %%r8\n"
	                 "mov %%rax, %%r9\n mov %%rax, %%r10\n mov %%rax, %%r11\n mov %%rax, %%r12\n"
	                 "mov %%rax, %%r13\n mov %%rax, %%r14\n mov %%rax, %%r15\n"
	                 "push $0x20000000\n ret\n" ::: "memory");
	return 0;
}
