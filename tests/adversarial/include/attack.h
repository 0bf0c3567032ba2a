/*
 * Shared helpers of the adversarial attacks (tests/adversarial/attacks).
 *
 * Every attack is a static musl program that runs natively and under opsub.
 * It prints "ESCAPED: <evidence>" on stdout when it achieved its goal, and
 * "note: ..." lines with what it saw otherwise.  run.sh decides PASS/FAIL.
 *
 * Conventions:
 *   argv[1]  a path that must never come into existence on the host under
 *            opsub (file-creation attacks try to create it);
 *   argv[2]  the variant, for attacks whose run.sh line lists variants;
 *   stdin    for attacks marked "stdin: hostaddr", one line: either "self"
 *            (native run: the attack makes its own secret page above 4 GiB)
 *            or "DATA CODE RW" in hex: a readable, an executable and a
 *            writable address of opsub's own memory (opsub run), followed by
 *            padding bytes that read() attacks can consume.
 */
#ifndef OPSUB_ATTACK_H
#define OPSUB_ATTACK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FOUR_GIB     0x100000000ull
#define SECRET_ADDR  0x7f0000000000ull   /* the native run's secret page */
#define STUB_MAGIC   0x1337c0deu         /* what the native code stub returns */

/* ---- raw system calls (no libc in between, no errno) --------------------- */

static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}
#define sc0(n)                sc6((n), 0, 0, 0, 0, 0, 0)
#define sc1(n, a)             sc6((n), (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b)          sc6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c)       sc6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d)    sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sc5(n, a, b, c, d, e) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* ---- output ---------------------------------------------------------------- */

static void say(const char *tag, const char *fmt, va_list ap)
{
	fputs(tag, stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2))) static void escaped(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("ESCAPED: ", fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("note: ", fmt, ap);
	va_end(ap);
}

/* A value that looks like a pointer into a host process: above 4 GiB and
 * in the canonical user half.  4 GiB itself is the end of the sandbox (a
 * guest's memory size, e.g. its RLIMIT_AS), not a host address. */
static inline int host_pointer(uint64_t v)
{
	return v > FOUR_GIB && v < 0x800000000000ull;
}

/* True when the 8 bytes of v are all text or NUL (a string, not a pointer). */
static inline int text_word(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		if (c && (c < 0x20 || c > 0x7e))
			return 0;
	}
	return 1;
}

static const char *hex(const void *p, size_t n)
{
	static char buf[4][200];
	static int k;
	char *o = buf[k++ & 3];
	const uint8_t *b = p;
	size_t i;
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		sprintf(o + 2 * i, "%02x", b[i]);
	o[2 * n] = 0;
	return o;
}

static const char *variant(int argc, char **argv)
{
	return argc > 2 ? argv[2] : "";
}

/* ---- the host memory a read attack is after ------------------------------ */

/* opsub is a PIE: its first mapping starts with an ELF header of type
 * ET_DYN for x86-64.  The guest itself is ET_EXEC, so these 20 bytes
 * cannot come from the guest's own image.  The native secret page starts
 * with the same bytes, then a secret string. */
static const uint8_t secret_hdr[20] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0,
                                       0,    0,   0,   0,   3, 0, 0x3e, 0};
static const char native_secret[] = "native-secret-7c1f";

struct targets {
	uint64_t data;   /* readable: starts with secret_hdr */
	uint64_t code;   /* executable */
	uint64_t rw;     /* writable */
	int native;
};
static struct targets T;

static int is_secret(const void *p)
{
	return memcmp(p, secret_hdr, sizeof(secret_hdr)) == 0;
}

/* Reads one line from fd 0 byte by byte, so that what follows stays for
 * the attack's own read() calls. */
static void read_line(char *buf, size_t n)
{
	size_t i = 0;
	while (i + 1 < n) {
		char c;
		if (sc3(SYS_read, 0, &c, 1) != 1 || c == '\n')
			break;
		buf[i++] = c;
	}
	buf[i] = 0;
}

static void get_targets(void)
{
	char line[256];
	read_line(line, sizeof(line));
	if (strncmp(line, "self", 4) == 0) {
		uint8_t *p = mmap((void *)SECRET_ADDR, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC,
		                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != (void *)SECRET_ADDR) {
			note("cannot map the native secret page at %#llx", SECRET_ADDR);
			exit(3);
		}
		memcpy(p, secret_hdr, sizeof(secret_hdr));
		memcpy(p + 32, native_secret, sizeof(native_secret));
		/* code stub: mov eax, STUB_MAGIC; ret */
		static const uint8_t stub[] = {0xb8, 0xde, 0xc0, 0x37, 0x13, 0xc3};
		memcpy(p + 0x800, stub, sizeof(stub));
		T = (struct targets){SECRET_ADDR, SECRET_ADDR + 0x800, SECRET_ADDR + 0x1000, 1};
	} else {
		unsigned long long d = 0, c = 0, w = 0;
		if (sscanf(line, "%llx %llx %llx", &d, &c, &w) < 1) {
			note("no target address on stdin (got \"%s\")", line);
			exit(3);
		}
		T = (struct targets){d, c ? c : d, w ? w : d, 0};
	}
	note("targets: data %#lx code %#lx rw %#lx (%s)", T.data, T.code, T.rw, T.native ? "native" : "host of opsub");
}

/* Reports what a read attack obtained from T.data. */
static void report_read(const char *how, const void *bytes, size_t n)
{
	if (n >= sizeof(secret_hdr) && is_secret(bytes))
		escaped("%s read host memory at %#lx: %s", how, T.data, hex(bytes, n));
	else
		note("%s read %s (not the host bytes)", how, hex(bytes, n));
}

/* ---- memory helpers -------------------------------------------------------- */

static void *rwx(size_t len, uint64_t hint)
{
	void *p = mmap((void *)hint, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		note("mmap rwx failed: %s", strerror(errno));
		exit(3);
	}
	return p;
}

/* Natively: maps the last page below 4 GiB and the first one above it, so
 * that an access straddling 4 GiB works; under opsub this fails (the guest
 * is smaller) and the attack goes on anyway. */
static int map_4g_edge(void)
{
	void *a = mmap((void *)(FOUR_GIB - 0x1000), 0x1000, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *b = mmap((void *)FOUR_GIB, 0x1000, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	int ok = a == (void *)(FOUR_GIB - 0x1000) && b == (void *)FOUR_GIB;
	note("pages around 4 GiB %s", ok ? "mapped" : "not available");
	if (ok)
		memcpy((void *)FOUR_GIB, secret_hdr, sizeof(secret_hdr));
	return ok;
}

/* The end of the initial stack, which is the top of guest memory under
 * opsub (the AT_EXECFN string is the first thing pushed there). */
#include <sys/auxv.h>
static uint64_t stack_top(void)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	uint64_t end = fn ? (uint64_t)(uintptr_t)fn + strlen(fn) + 1 : 0;
	return (end + 0xfff) & ~0xfffull;
}

/* One pointer case of a system call attack: prints the result, and ESCAPED
 * when the call succeeded on memory outside the sandbox. */
static void sys_case(const char *what, uint64_t p, uint64_t n, long r, long success)
{
	if (r == success)
		escaped("%s(%#lx, %#lx) succeeded (%ld) on memory outside the sandbox", what, p, n, r);
	else
		note("%s(%#lx, %#lx) = %ld", what, p, n, r);
}


#endif
