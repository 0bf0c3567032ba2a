// Exercises setjmp/longjmp: value 0 -> 1, unwinding deep recursion, nested try/catch emulation, volatile locals, escaping from qsort callbacks.
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf top_env;

__attribute__((noinline)) static int dive(int d, int limit)
{
	volatile char pad[48];
	memset((char *)pad, d & 0x7f, sizeof pad);
	if (d == limit)
		longjmp(top_env, d);
	if (d > 1000000)
		return -1;
	int r = dive(d + 1, limit);
	return r + pad[d % 48];
}

/* try/catch emulation with a handler stack */
#define MAX_HANDLERS 16
static jmp_buf *handlers[MAX_HANDLERS];
static int nhandlers;
static void throw_(int code)
{
	if (nhandlers == 0) {
		printf("uncaught %d\n", code);
		exit(99);
	}
	longjmp(*handlers[--nhandlers], code);
}

static void level3(int x)
{
	if (x % 3 == 0)
		throw_(300 + x);
}
static void level2(int x)
{
	jmp_buf env;
	int code;
	handlers[nhandlers++] = &env;
	if ((code = setjmp(env)) == 0) {
		level3(x);
		nhandlers--;
	} else {
		printf("  level2 caught %d", code);
		if (code % 2 == 0) {
			printf(", rethrowing\n");
			throw_(code + 1000);
		}
		printf("\n");
	}
}
static int level1(int x)
{
	jmp_buf env;
	int code;
	handlers[nhandlers++] = &env;
	if ((code = setjmp(env)) == 0) {
		level2(x);
		nhandlers--;
		return 0;
	}
	printf("  level1 caught %d\n", code);
	return code;
}

static jmp_buf cmp_env;
static int cmp_calls, cmp_limit;
static int cmp_escape(const void *a, const void *b)
{
	if (++cmp_calls == cmp_limit)
		longjmp(cmp_env, 7);
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	jmp_buf env;
	volatile int counter = 0;
	int r;

	r = setjmp(env);
	if (r == 0)
		longjmp(env, 5);
	printf("simple: setjmp returned %d\n", r);

	r = setjmp(env);
	if (r == 0)
		longjmp(env, 0);
	printf("longjmp(env,0): setjmp returned %d\n", r);

	/* loop via longjmp, volatile local keeps its value */
	r = setjmp(env);
	counter++;
	if (counter < 100)
		longjmp(env, counter);
	printf("loop: counter=%d last r=%d\n", counter, r);

	for (volatile int limit = 1; limit <= 5000; limit *= 3) {
		int v = setjmp(top_env);
		if (v == 0) {
			dive(0, limit);
			printf("not reached\n");
		} else {
			printf("dive: unwound from depth %d\n", v);
		}
	}

	for (int x = 1; x <= 8; x++) {
		nhandlers = 0;
		printf("level1(%d):\n", x);
		int c = level1(x);
		printf("  -> %d, handlers left %d\n", c, nhandlers);
	}

	int arr[200];
	for (int i = 0; i < 200; i++)
		arr[i] = (i * 7919) % 211;
	for (cmp_limit = 1; cmp_limit < 2000; cmp_limit *= 4) {
		cmp_calls = 0;
		if (setjmp(cmp_env) == 0) {
			qsort(arr, 200, sizeof arr[0], cmp_escape);
			printf("qsort finished before %d comparisons\n", cmp_limit);
		} else {
			printf("escaped qsort after %d comparisons\n", cmp_calls);
		}
	}
	cmp_limit = -1;
	qsort(arr, 200, sizeof arr[0], cmp_escape);
	long sum = 0;
	for (int i = 0; i < 200; i++)
		sum = sum * 3 + arr[i];
	printf("final sort checksum %ld sorted=%d\n", sum, arr[0] <= arr[199]);

	/* _setjmp/_longjmp variants */
	static jmp_buf env2;
	volatile int tries = 0;
	if (_setjmp(env2) < 3) {
		tries++;
		_longjmp(env2, tries);
	}
	printf("_setjmp tries=%d\n", tries);
	return 0;
}
