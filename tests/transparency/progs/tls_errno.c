// Exercises thread-local storage (_Thread_local/__thread, initialised and zeroed, %fs-relative access, the TCB self pointer) and errno set by libc and by failing syscalls.
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

_Thread_local int counter = 5;
__thread long arr[16];
static _Thread_local char tbuf[32] = "tls-init";
_Thread_local struct { int a; double b; short c[3]; } tstruct = {7, 2.5, {1, 2, 3}};
static __thread unsigned long long big_zero[512];
static int gtarget = 9;
__thread int *tptr = &gtarget; /* a relocated pointer in the TLS image */

__attribute__((noinline)) static int *counter_addr1(void) { return &counter; }
__attribute__((noinline)) static int *counter_addr2(void) { return &counter; }
__attribute__((noinline)) static void bump(int by)
{
	counter += by;
	arr[by & 15] += by;
}

int main(void)
{
	printf("initial: counter=%d tbuf=%s tstruct={%d,%g,{%d,%d,%d}} arr[3]=%ld *tptr=%d\n", counter, tbuf, tstruct.a,
	       tstruct.b, tstruct.c[0], tstruct.c[1], tstruct.c[2], arr[3], *tptr);
	unsigned long long zs = 0;
	for (int i = 0; i < 512; i++)
		zs += big_zero[i];
	printf("tbss zero sum %llu\n", zs);
	for (int i = 0; i < 100; i++)
		bump(i);
	long asum = 0;
	for (int i = 0; i < 16; i++)
		asum += arr[i] * (i + 1);
	strcat(tbuf, "+more");
	tstruct.c[1] *= 21;
	big_zero[511] = 0xfeedULL;
	printf("after: counter=%d asum=%ld tbuf=%s c1=%d last=%llx\n", counter, asum, tbuf, tstruct.c[1], big_zero[511]);
	tptr = &counter;
	printf("same address from two functions: %d, *tptr=%d\n", counter_addr1() == counter_addr2(), *tptr);

	/* x86-64 TLS variant II: the TCB starts at the thread pointer and its first word points to itself */
	void *tp = __builtin_thread_pointer(), *fs0;
	__asm__("mov %%fs:0, %0" : "=r"(fs0));
	printf("tp==%%fs:0: %d, *tp==tp: %d, tls below tp: %d\n", tp == fs0, *(void **)tp == tp, (char *)&counter < (char *)tp);
	long off = (char *)&counter - (char *)tp;
	int via_fs;
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(via_fs) : "r"(off) : "memory");
	counter = 4242;
	int via_fs2;
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(via_fs2) : "r"(off) : "memory");
	__asm__ volatile("addl $8, %%fs:(%0)" : : "r"(off) : "memory");
	printf("read through %%fs: %d then %d, after add via %%fs counter=%d\n", via_fs, via_fs2, counter);

	/* errno */
	int *(*volatile loc)(void) = __errno_location;
	printf("errno at start: %d, &errno stable: %d\n", errno, &errno == loc());
	errno = 0;
	long v = strtol("99999999999999999999999", NULL, 10);
	printf("strtol overflow: v==LONG_MAX %d errno=%s\n", v == LONG_MAX, errno == ERANGE ? "ERANGE" : "other");
	errno = 0;
	int r = close(-1);
	printf("close(-1)=%d errno=%s (%s)\n", r, errno == EBADF ? "EBADF" : "other", strerror(errno));
	errno = 0;
	ssize_t w = write(-7, "x", 1);
	printf("write(-7)=%zd errno=%s\n", w, errno == EBADF ? "EBADF" : "other");
	errno = 0;
	r = munmap((void *)0x1001, 4096);
	printf("munmap(unaligned)=%d errno=%s\n", r, errno == EINVAL ? "EINVAL" : "other");
	errno = 0;
	void *m = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap(len 0) failed=%d errno=%s\n", m == MAP_FAILED, errno == EINVAL ? "EINVAL" : "other");
	errno = 0;
	double d = strtod("1e999", NULL);
	printf("strtod(1e999)=%g errno=%s\n", d, errno == ERANGE ? "ERANGE" : "other");
	errno = 0;
	printf("errno preserved across successful call: ");
	errno = 77;
	printf("%d\n", errno);
	for (int e = 1; e <= 12; e++)
		printf("strerror(%d)=%s\n", e, strerror(e));
	return 0;
}
