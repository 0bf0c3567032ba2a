// Exercises quick_exit(): at_quick_exit handlers run (reverse order), atexit handlers do not, status 0 after a successful run.
#include <stdio.h>
#include <stdlib.h>

static void at_exit_handler(void) { printf("atexit handler must not run on quick_exit\n"); }
static void q1(void) { printf("quick handler 1\n"); fflush(stdout); }
static void q2(void) { printf("quick handler 2 (runs first)\n"); }

int main(void)
{
	atexit(at_exit_handler);
	at_quick_exit(q1);
	at_quick_exit(q2);
	printf("calling quick_exit(0)\n");
	fflush(stdout);
	quick_exit(0);
}
