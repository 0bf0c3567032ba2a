// Exercises stack switching: hand-written context switch (asm) between coroutines whose stacks live in malloc'd memory, an mmap'd region and .bss; generators, round-robin scheduling, recursion on a coroutine stack; argv[1] = rounds.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* void ctx_switch(void **save_sp, void *new_sp): saves callee-saved registers on the current stack,
   stores rsp in *save_sp, loads new_sp and pops the other context's registers. */
__asm__(
	".text\n"
	".globl ctx_switch\n"
	".type ctx_switch, @function\n"
	"ctx_switch:\n"
	"	push %rbp\n"
	"	push %rbx\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, (%rdi)\n"
	"	mov %rsi, %rsp\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbx\n"
	"	pop %rbp\n"
	"	ret\n"
	".globl ctx_trampoline\n"
	"ctx_trampoline:\n" /* first entry: r12 = function, r13 = argument */
	"	mov %r13, %rdi\n"
	"	call *%r12\n"
	"	ud2\n");
void ctx_switch(void **save_sp, void *new_sp);
void ctx_trampoline(void);

struct coro {
	void *sp, *caller_sp;
	int done;
	long value;
	const char *name;
};
static struct coro *current;

static void *coro_init_stack(char *stack, size_t size, void (*fn)(struct coro *), struct coro *c)
{
	uintptr_t top = ((uintptr_t)(stack + size)) & ~(uintptr_t)15;
	void **sp = (void **)top;
	*--sp = (void *)ctx_trampoline; /* return address for the first ctx_switch; after it rsp % 16 == 0, so
	                                   the trampoline's call enters fn with the ABI alignment */
	*--sp = 0;                      /* rbp */
	*--sp = 0;                      /* rbx */
	*--sp = (void *)fn;             /* r12 */
	*--sp = c;                      /* r13 */
	*--sp = 0;                      /* r14 */
	*--sp = 0;                      /* r15 */
	return sp;
}
static void yield(long v)
{
	struct coro *c = current;
	c->value = v;
	ctx_switch(&c->sp, c->caller_sp);
}
static long resume(struct coro *c)
{
	struct coro *prev = current;
	current = c;
	ctx_switch(&c->caller_sp, c->sp);
	current = prev;
	return c->value;
}
static void finish(struct coro *c)
{
	c->done = 1;
	for (;;)
		yield(-1);
}

static void fib_gen(struct coro *c)
{
	long a = 0, b = 1;
	for (int i = 0; i < 60; i++) {
		yield(a);
		long t = a + b;
		a = b;
		b = t;
	}
	finish(c);
}
static void prime_gen(struct coro *c)
{
	for (long n = 2; n < 400; n++) {
		int p = 1;
		for (long d = 2; d * d <= n; d++)
			if (n % d == 0) {
				p = 0;
				break;
			}
		if (p)
			yield(n);
	}
	finish(c);
}
static long tree_sum(int depth, long base)
{
	if (depth == 0) {
		yield(base);
		return base;
	}
	char pad[64]; /* consume coroutine stack */
	memset(pad, depth, sizeof pad);
	return tree_sum(depth - 1, base * 2) + tree_sum(depth - 1, base * 2 + 1) + pad[depth % 64];
}
static void tree_gen(struct coro *c)
{
	long total = tree_sum(8, 1);
	yield(total * 1000000);
	finish(c);
}

static char bss_stack[64 * 1024] __attribute__((aligned(16)));

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 300;
	size_t sz = 64 * 1024;
	char *heap_stack = malloc(sz);
	char *map_stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!heap_stack || map_stack == MAP_FAILED)
		return 1;
	struct coro cs[3] = {{0, 0, 0, 0, "fib"}, {0, 0, 0, 0, "primes"}, {0, 0, 0, 0, "tree"}};
	cs[0].sp = coro_init_stack(heap_stack, sz, fib_gen, &cs[0]);
	cs[1].sp = coro_init_stack(map_stack, sz, prime_gen, &cs[1]);
	cs[2].sp = coro_init_stack(bss_stack, sizeof bss_stack, tree_gen, &cs[2]);
	long sums[3] = {0, 0, 0};
	int counts[3] = {0, 0, 0};
	/* round-robin until all finish */
	for (int live = 3; live;) {
		live = 0;
		for (int i = 0; i < 3; i++) {
			if (cs[i].done)
				continue;
			long v = resume(&cs[i]);
			if (cs[i].done)
				continue;
			live++;
			sums[i] = sums[i] * 3 + v;
			if (counts[i]++ < 6)
				printf("%s yields %ld\n", cs[i].name, v);
		}
	}
	for (int i = 0; i < 3; i++)
		printf("%s: %d values, hash %ld\n", cs[i].name, counts[i], sums[i]);

	/* ping-pong: many switches between two coroutines and main */
	long pingsum = 0;
	for (int r = 0; r < rounds; r++) {
		cs[0].done = 0;
		cs[0].sp = coro_init_stack(heap_stack, sz, fib_gen, &cs[0]);
		long v = 0;
		for (int k = 0; k < 50; k++)
			v += resume(&cs[0]) % 1000;
		pingsum += v;
	}
	printf("restart fib %d times: %ld\n", rounds, pingsum);
	free(heap_stack);
	munmap(map_stack, sz);
	return 0;
}
