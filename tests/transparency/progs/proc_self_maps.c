// cflags: -pthread
// /proc/self/maps as programs read it: the lines holding a global, the
// code and the stack, with their permissions; and pthread_getattr_np on
// the main thread (glibc finds its stack there), whose range must hold a
// local variable.  Runtimes use these to place their stack-overflow guards.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int global = 1;

/* The permissions of the line of /proc/self/maps that holds addr. */
static const char *perms_of(const void *addr, char out[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	strcpy(out, "none");
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f)) {
		unsigned long from, to;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &from, &to, p) == 3 && (uintptr_t)addr >= from && (uintptr_t)addr < to) {
			memcpy(out, p, 5);
			break;
		}
	}
	fclose(f);
	return out;
}

int main(void)
{
	char a[5], b[5], c[5];
	int local = 2;
	printf("global %.3s, code %.3s, stack %.3s\n", perms_of(&global, a), perms_of((void *)(uintptr_t)main, b),
	       perms_of(&local, c));
	pthread_attr_t at;
	void *stack = NULL;
	size_t size = 0;
	int r = pthread_getattr_np(pthread_self(), &at);
	if (!r)
		r = pthread_attr_getstack(&at, &stack, &size);
	printf("pthread_getattr_np: %d, the main stack holds a local: %s\n", r,
	       (char *)&local >= (char *)stack && (char *)&local < (char *)stack + size ? "yes" : "no");
	return global + local - 3;
}
