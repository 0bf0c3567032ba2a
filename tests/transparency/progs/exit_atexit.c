// Exercises exit(): atexit handlers run in reverse registration order, stdio is flushed, and the status is truncated to 8 bits (exit(259) -> 3).
#include <stdio.h>
#include <stdlib.h>

static int order;
static void h1(void) { printf("handler 1 (registered first) runs last, order=%d\n", ++order); }
static void h2(void) { printf("handler 2 runs second, order=%d\n", ++order); }
static void h3(void)
{
	printf("handler 3 (registered last) runs first, order=%d\n", ++order);
	fflush(stdout);
}

__attribute__((noinline)) static void deep_exit(int depth)
{
	if (depth < 0)
		return;
	if (depth == 0) {
		printf("calling exit(259) from deep inside\n");
		exit(259);
	}
	deep_exit(depth - 1);
	printf("never printed\n");
}

int main(void)
{
	atexit(h1);
	atexit(h2);
	atexit(h3);
	printf("main starts, registered 3 handlers\n");
	deep_exit(50);
	return 0;
}
