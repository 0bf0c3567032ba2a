// Calls and returns by code copied below 2 GiB and above it (where a 4 GiB guest's shared libraries land, mapped from the top): the return address a call pushes must be the whole, zero-extended address, for direct and indirect calls.  Args: [N [low|high]] (both placements by default); bench/compute times N loops of 4 calls.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Position-independent code, run from a copy:
 *   unsigned calls_loop(long n, unsigned x): x through step() 4n times;
 *   void ret_addrs(uint64_t out[2]): the return addresses a direct and an
 *     indirect call pushed, as their callee found them on the stack. */
extern const char calls_code[], calls_loop[], ret_addrs[], after_direct[], after_indirect[], calls_code_end[];
__asm__(".text\n"
        "calls_code:\n"
        "calls_loop:\n"
        "  mov %esi, %eax\n"
        "1: call step\n"
        "  call step\n"
        "  call step\n"
        "  call step\n"
        "  dec %rdi\n"
        "  jnz 1b\n"
        "  ret\n"
        "step:\n"
        "  imul $0x9e3779b1, %eax, %eax\n"
        "  add $1, %eax\n"
        "  ret\n"
        "ret_addrs:\n"
        "  call own_return\n"
        "after_direct:\n"
        "  mov %rax, (%rdi)\n"
        "  lea own_return(%rip), %rdx\n"
        "  call *%rdx\n"
        "after_indirect:\n"
        "  mov %rax, 8(%rdi)\n"
        "  ret\n"
        "own_return:\n"
        "  mov (%rsp), %rax\n"
        "  ret\n"
        "calls_code_end:\n");

static int run_at(uintptr_t base, const char *where, long n)
{
	size_t len = (size_t)(calls_code_end - calls_code);
	void *p = mmap((void *)base, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)base) {
		printf("%s: cannot map at %#lx\n", where, (unsigned long)base);
		return 1;
	}
	memcpy(p, calls_code, len);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) {
		printf("%s: cannot make it executable\n", where);
		return 1;
	}
	uint64_t got[2] = {0, 0};
	((void (*)(uint64_t *))(base + (uintptr_t)(ret_addrs - calls_code)))(got);
	printf("%s: direct call's return address %s, indirect call's %s\n", where,
	       got[0] == base + (uintptr_t)(after_direct - calls_code) ? "right" : "wrong",
	       got[1] == base + (uintptr_t)(after_indirect - calls_code) ? "right" : "wrong");
	unsigned x = ((unsigned (*)(long, unsigned))(base + (uintptr_t)(calls_loop - calls_code)))(n, 1);
	printf("%s: %ld calls: %u\n", where, 4 * n, x);
	munmap(p, 4096);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *which = argc > 2 ? argv[2] : "both";
	int rc = 0;
	if (strcmp(which, "high") != 0)
		rc |= run_at(0x30000000, "below 2 GiB", n);
	if (strcmp(which, "low") != 0)
		rc |= run_at(0xb0000000, "above 2 GiB", n);
	return rc;
}
