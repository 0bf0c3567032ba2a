/*
 * The bare minimum for the -nostdlib attacks (leak_entry_regs,
 * leak_initial_stack), which look at the process state before any libc code
 * has run: raw system calls, string output, hex numbers.
 */
#ifndef OPSUB_NOLIBC_H
#define OPSUB_NOLIBC_H

typedef unsigned long u64;
typedef unsigned char u8;

static inline long nl_sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static u64 nl_strlen(const char *s)
{
	u64 n = 0;
	while (s[n])
		n++;
	return n;
}

static void nl_puts(const char *s) { nl_sys3(1, 1, (long)s, (long)nl_strlen(s)); }

static void nl_hex(u64 v)
{
	char b[19];
	b[0] = '0';
	b[1] = 'x';
	for (int i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
	b[18] = 0;
	nl_puts(b);
}

static __attribute__((noreturn)) void nl_exit(int code)
{
	nl_sys3(231, code, 0, 0);
	for (;;)
		;
}

static int nl_host_pointer(u64 v) { return v >= 0x100000000ul && v < 0x800000000000ul; }

/* Reports one value; returns 1 when it looks like a host pointer. */
static int nl_check(const char *what, u64 index, u64 v)
{
	if (!nl_host_pointer(v))
		return 0;
	nl_puts("ESCAPED: ");
	nl_puts(what);
	nl_puts("[");
	nl_hex(index);
	nl_puts("] = ");
	nl_hex(v);
	nl_puts(" looks like a host address\n");
	return 1;
}

#endif
