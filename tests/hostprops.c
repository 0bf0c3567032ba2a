/*
 * hostprops: which host properties the tests' native runs depend on, found
 * by executing them.
 *
 * The adversarial suite proves each attack natively before it runs it under
 * opsub (tests/adversarial/README.md).  Some proofs need something not every
 * x86-64 host has: 32-bit compatibility mode, SYSENTER (Intel only), TSX,
 * REX.W far pointers (Intel only), ...  This program answers, for each such
 * property, whether this host has it, so that a runner can tell "the attack
 * cannot be proven here" from "the attack is broken".
 *
 * Every answer comes from executing the property in a forked child (a crash
 * or a hang costs only the child), and a "yes" needs the effect to be seen
 * (a system call made through the 32-bit entry answers with our pid or
 * writes into our pipe), never a CPUID bit or AT_HWCAP alone: hypervisors
 * hide bits of instructions that run, and advertise what does not work
 * (this program's first host, a PVM guest, has IA-32 emulation compiled in
 * but no usable compatibility mode, and FSGSBASE working with AT_HWCAP2 = 0).
 *
 * Test only: OPSUB_HOST_HIDE=name,name,... reports the named properties as
 * missing without probing them ("as if" on a host without them).  Names
 * this program does not know are left to opsub, which reads the same list.
 *
 * Usage: hostprops [NAME...]      (default: every property)
 * Output, one line per property, tab-separated:
 *   NAME  yes|no  MEANING  EVIDENCE
 * Exit status: 0 if every listed property holds, 1 if one is missing,
 * 2 for an unknown name.
 *
 * Build: musl-gcc -static -fno-pie -no-pie (tests/hostprops.sh does it): the
 * 32-bit probes need their code and data below 4 GiB.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_SECONDS 5       /* a child still running after this "hung" */
#define MAGIC 0x1337c0deu     /* what the far-pointer stub returns */
#define I386_WRITE 4          /* i386 system call numbers */
#define I386_GETPID 20

/* ---- running one probe in a child ------------------------------------------ */

static int report_fd = -1;    /* the child's end of the report pipe */

/* In the child: say what was seen (to the parent) and end with status code. */
__attribute__((format(printf, 2, 3), noreturn)) static void child_end(int code, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(report_fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		code = 3;
	_exit(code);
}

struct outcome {
	bool ok;                  /* the child exited 0 */
	char said[200];           /* what it wrote into the report pipe */
	char how[200];            /* how it ended, when not ok */
};

/* Runs fn in a child (no core dump, PROBE_SECONDS alarm); fn ends the
 * child with child_end() (or anything else: a signal, a hang). */
static struct outcome in_child(void (*fn)(void))
{
	struct outcome o = {0};
	int p[2];
	if (pipe(p) != 0) {
		snprintf(o.how, sizeof(o.how), "pipe failed");
		return o;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit nocore = {0, 0};
		setrlimit(RLIMIT_CORE, &nocore);
		close(p[0]);
		report_fd = p[1];
		alarm(PROBE_SECONDS);
		fn();
		child_end(4, "probe returned without a verdict");
	}
	close(p[1]);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		snprintf(o.how, sizeof(o.how), "fork failed");
		close(p[0]);
		return o;
	}
	ssize_t n = read(p[0], o.said, sizeof(o.said) - 1);
	o.said[n > 0 ? n : 0] = 0;
	close(p[0]);
	if (WIFEXITED(st)) {
		o.ok = WEXITSTATUS(st) == 0;
		snprintf(o.how, sizeof(o.how), "%s", o.said[0] ? o.said : "failed");
	} else if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		snprintf(o.how, sizeof(o.how), "%s", sig == SIGILL ? "SIGILL (#UD)" : sig == SIGSEGV ? "SIGSEGV" :
		         sig == SIGBUS ? "SIGBUS" : sig == SIGALRM ? "hung" : "killed by a signal");
	}
	return o;
}

/* A property whose probe is one instruction form: it holds when fn runs. */
static bool executes(void (*fn)(void), char *ev, size_t evlen)
{
	struct outcome o = in_child(fn);
	snprintf(ev, evlen, "%s", o.ok ? "executes" : o.how);
	return o.ok;
}

static void done(void) { child_end(0, "ok"); }

/* ---- compat: 32-bit compatibility mode ------------------------------------- */

/* int 0x80 from 64-bit code: the kernel's IA-32 getpid must answer. */
static void p_int80(void)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"((long)I386_GETPID) : "memory", "r8", "r9", "r10", "r11");
	if (r != getpid())
		child_end(1, "int 0x80 getpid gave %ld", r);
	done();
}

/* A far jump into the 32-bit user code segment (0x23): 32-bit code makes the
 * IA-32 getpid there and jumps back to the 64-bit segment (0x33).  It
 * touches neither memory nor the stack (rsp is above 4 GiB), eax carries
 * the answer back. */
uint64_t hp_saved_rsp;
extern char hp_code32[];
__asm__(".text\n"
        ".code32\n"
        "hp_code32:\n"
        "  movl $" "20" ", %eax\n"          /* I386_GETPID */
        "  int $0x80\n"
        "  ljmp $0x33, $hp_back64\n"
        ".code64\n"
        "hp_back64:\n"
        "  mov hp_saved_rsp(%rip), %rsp\n"
        "  ret\n");

static void p_far32(void)
{
	static struct { uint32_t off; uint16_t sel; } __attribute__((packed)) fp;
	if ((uintptr_t)hp_code32 >= (1ull << 32))
		child_end(2, "hostprops is not linked below 4 GiB");
	fp.off = (uint32_t)(uintptr_t)hp_code32;
	fp.sel = 0x23;
	long r;
	__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n mov %%rsp, hp_saved_rsp(%%rip)\n"
	                 "ljmp *%1\n 1:"
	                 : "=&a"(r) : "m"(fp)
	                 : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	                   "memory");
	if ((int)r != getpid())
		child_end(1, "32-bit getpid gave %d", (int)r);
	done();
}

static bool prop_compat(char *ev, size_t evlen)
{
	struct outcome a = in_child(p_int80), b = in_child(p_far32);
	snprintf(ev, evlen, "int 0x80: %s; far jmp to 0x23: %s", a.ok ? "works" : a.how, b.ok ? "works" : b.how);
	return a.ok && b.ok;
}

/* ---- sysenter ------------------------------------------------------------------ */

/* sysenter with the IA-32 write(fd, msg, len): the kernel's entry reads the
 * caller's ebp from the 32-bit stack pointer in rbp, makes the call, then
 * returns to the 32-bit vDSO landing pad a 64-bit process does not have, so
 * the child dies afterwards.  The bytes in the pipe are the proof. */
static char hp_sysenter_msg[] = "sysenter ok";
static uint32_t hp_sysenter_stack[64];

static void p_sysenter(void)
{
	if ((uintptr_t)hp_sysenter_msg >= (1ull << 32))
		child_end(2, "hostprops is not linked below 4 GiB");
	__asm__ volatile("mov %4, %%rbp\n sysenter"
	                 :: "a"((long)I386_WRITE), "b"((long)report_fd), "c"(hp_sysenter_msg),
	                    "d"(sizeof(hp_sysenter_msg) - 1), "r"((uint64_t)(uintptr_t)(hp_sysenter_stack + 32))
	                 : "memory", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11");
	_exit(5);   /* not reached on any known kernel; the pipe decides */
}

static bool prop_sysenter(char *ev, size_t evlen)
{
	struct outcome o = in_child(p_sysenter);
	bool ok = strstr(o.said, hp_sysenter_msg) != NULL;
	snprintf(ev, evlen, "%s", ok ? "made a system call" : o.how);
	return ok;
}

/* ---- tsx ----------------------------------------------------------------------- */

static void p_tsx(void)
{
	uint32_t r;
	__asm__ volatile("xtest\n mov $-1, %%eax\n xbegin 1f\n xend\n 1:" : "=a"(r) : : "memory", "cc");
	done();
}

static bool prop_tsx(char *ev, size_t evlen) { return executes(p_tsx, ev, evlen); }

/* ---- farptr64: REX.W far pointers ------------------------------------------------ */

/* m16:64 operands: Intel reads a 64-bit offset and the selector after it;
 * AMD ignores REX.W and reads m16:32 (the offset's low half, the selector
 * from its bytes 4-5).  The stub lives above 4 GiB at an address whose bytes
 * 4-5 are no valid selector, so the m16:32 reading faults. */
struct __attribute__((packed)) { uint64_t off; uint16_t sel; } hp_far;   /* named in asm */
static void stub_page(void)
{
	static const uint8_t stub[] = {0xb8, 0xde, 0xc0, 0x37, 0x13, 0xc3};   /* mov eax, MAGIC; ret */
	const int prot = PROT_READ | PROT_WRITE | PROT_EXEC, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *p = mmap((void *)0x7e5500000000ull, 4096, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)   /* taken: any address above 4 GiB will almost surely do */
		p = mmap(NULL, 4096, prot, flags, -1, 0);
	if (p == MAP_FAILED || (uintptr_t)p < (1ull << 32))
		child_end(2, "cannot map the stub page");
	memcpy(p, stub, sizeof(stub));
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	hp_far.off = (uintptr_t)p;
	hp_far.sel = cs;
}

static void p_jmp_far64(void)
{
	stub_page();
	uint32_t r;
	__asm__ volatile("lea 1f(%%rip), %%rax\n push %%rax\n lea hp_far(%%rip), %%rax\n"
	                 ".byte 0x48, 0xff, 0x28\n 1:"            /* rex.w jmp far [rax] */
	                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	if (r != MAGIC)
		child_end(1, "the stub did not run");
	done();
}

static void p_call_far64(void)
{
	stub_page();
	uint32_t r;
	__asm__ volatile("lea hp_far(%%rip), %%rax\n .byte 0x48, 0xff, 0x18\n"   /* rex.w call far [rax] */
	                 "add $8, %%rsp\n"                                    /* the stub's near ret left cs */
	                 : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	if (r != MAGIC)
		child_end(1, "the stub did not run");
	done();
}

/* lss rsp, m16:64 holding the current rsp and ss: changes nothing if read as
 * m16:64; read as m16:32 the selector is bytes 4-5 of rsp (a fault). */
static void p_lss64(void)
{
	__asm__ volatile("mov %%ss, %%ax\n mov %%ax, hp_far+8(%%rip)\n mov %%rsp, hp_far(%%rip)\n"
	                 "lea hp_far(%%rip), %%rax\n .byte 0x48, 0x0f, 0xb2, 0x20"   /* lss rsp, [rax] */
	                 ::: "rax", "memory");
	done();
}

static bool prop_farptr64(char *ev, size_t evlen)
{
	struct outcome j = in_child(p_jmp_far64), c = in_child(p_call_far64), l = in_child(p_lss64);
	snprintf(ev, evlen, "jmp far m16:64: %s; call far m16:64: %s; lss m16:64: %s", j.ok ? "works" : j.how,
	         c.ok ? "works" : c.how, l.ok ? "works" : l.how);
	return j.ok && c.ok && l.ok;
}

/* ---- x2apic-id: cpuid leaf 0xb ---------------------------------------------------- */

static void cpuid2(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* What leak_cpu_number/cpuid_x2apic needs: on some CPU this process may run
 * on, leaf 0xb's edx (the x2APIC id) is nonzero. */
static void p_x2apic_id(void)
{
	uint32_t r[4];
	cpuid2(0, 0, r);
	if (r[0] < 0xb)
		child_end(1, "highest cpuid leaf %#x < 0xb", r[0]);
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		child_end(2, "sched_getaffinity failed");
	int cpus = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0)
			continue;
		cpus++;
		cpuid2(0xb, 0, r);
		if ((r[1] & 0xffff) == 0)
			child_end(1, "cpuid leaf 0xb is empty (ebx %#x, edx %#x)", r[1], r[3]);
		if (r[3] != 0)
			done();
	}
	child_end(1, "x2APIC id 0 on all %d CPUs", cpus);
}

static bool prop_x2apic_id(char *ev, size_t evlen)
{
	struct outcome o = in_child(p_x2apic_id);
	snprintf(ev, evlen, "%s", o.ok ? "nonzero x2APIC id seen" : o.how);
	return o.ok;
}

/* ---- single instructions ------------------------------------------------------------ */

static void p_fsgsbase(void)
{
	uint64_t v;
	__asm__ volatile("rdfsbase %0\n wrfsbase %0\n rdgsbase %0\n wrgsbase %0" : "=&r"(v));
	done();
}

/* FSGSBASE is where the kernel's bit and the CPU can disagree: say which. */
static bool prop_fsgsbase(char *ev, size_t evlen)
{
	bool ok = executes(p_fsgsbase, ev, evlen);
	bool hwcap = getauxval(AT_HWCAP2) & 2;   /* HWCAP2_FSGSBASE */
	size_t n = strlen(ev);
	snprintf(ev + n, evlen - n, " (AT_HWCAP2 %s it)", hwcap ? "advertises" : "does not advertise");
	return ok;
}

static void p_rdtscp(void)
{
	uint32_t a, c, d;
	__asm__ volatile("rdtscp" : "=a"(a), "=c"(c), "=d"(d));
	done();
}

static void p_rdpid(void)
{
	uint64_t r;
	__asm__ volatile("rdpid %0" : "=r"(r));
	done();
}

static void p_avx512(void)
{
	__asm__ volatile("vpxord %%zmm1, %%zmm1, %%zmm1\n kxnorw %%k1, %%k1, %%k1\n vzeroupper" ::: "xmm1");
	done();
}

static void p_gfni(void)
{
	__asm__ volatile("gf2p8mulb %%xmm1, %%xmm2" ::: "xmm2");
	done();
}

static void p_vaes(void)
{
	__asm__ volatile("vaesenc %%ymm1, %%ymm2, %%ymm3\n vzeroupper" ::: "xmm3");
	done();
}

static void p_sha_ni(void)
{
	__asm__ volatile("sha256rnds2 %%xmm0, %%xmm1, %%xmm2" ::: "xmm2");
	done();
}

#define EXECUTES(fn) \
	static bool prop_##fn(char *ev, size_t evlen) { return executes(p_##fn, ev, evlen); }
EXECUTES(rdtscp)
EXECUTES(rdpid)
EXECUTES(avx512)
EXECUTES(gfni)
EXECUTES(vaes)
EXECUTES(sha_ni)

/* ---- the table ----------------------------------------------------------------------- */

static const struct prop {
	const char *name;
	bool (*check)(char *ev, size_t evlen);
	const char *meaning;     /* what having it means, for SKIP lines */
} props[] = {
	{"compat", prop_compat,
	 "32-bit compatibility mode: int 0x80 and far transfers to the 32-bit code segment 0x23 work"},
	{"sysenter", prop_sysenter,
	 "sysenter makes a system call from 64-bit code (Intel with IA-32 emulation; #UD on AMD in 64-bit mode)"},
	{"tsx", prop_tsx, "TSX/RTM: xbegin, xend and xtest execute"},
	{"farptr64", prop_farptr64,
	 "REX.W far pointers m16:64: jmp/call far [mem] and lss take a 64-bit offset (Intel; AMD reads m16:32)"},
	{"x2apic-id", prop_x2apic_id, "cpuid leaf 0xb gives a nonzero x2APIC id on some CPU this process can use"},
	{"fsgsbase", prop_fsgsbase, "user-space rdfsbase/wrfsbase/rdgsbase/wrgsbase execute"},
	{"rdtscp", prop_rdtscp, "rdtscp executes"},
	{"rdpid", prop_rdpid, "rdpid executes"},
	{"avx512", prop_avx512, "AVX-512F executes (zmm registers, mask registers)"},
	{"gfni", prop_gfni, "GFNI executes (gf2p8mulb)"},
	{"vaes", prop_vaes, "VAES executes (vaesenc on ymm)"},
	{"sha_ni", prop_sha_ni, "SHA extensions execute (sha256rnds2)"},
};
#define NPROPS (sizeof(props) / sizeof(props[0]))

/* OPSUB_HOST_HIDE: a comma-separated list, shared with opsub. */
static bool hidden(const char *name)
{
	const char *p = getenv("OPSUB_HOST_HIDE");
	size_t n = strlen(name);
	while (p && *p) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

static bool show(const struct prop *p)
{
	char ev[400] = "";
	bool ok = false;
	if (hidden(p->name))
		snprintf(ev, sizeof(ev), "hidden by OPSUB_HOST_HIDE");
	else
		ok = p->check(ev, sizeof(ev));
	printf("%s\t%s\t%s\t%s\n", p->name, ok ? "yes" : "no", p->meaning, ev);
	return ok;
}

int main(int argc, char **argv)
{
	bool all = true;
	if (argc < 2) {
		for (size_t i = 0; i < NPROPS; i++)
			all &= show(&props[i]);
		return all ? 0 : 1;
	}
	for (int a = 1; a < argc; a++) {
		size_t i = 0;
		while (i < NPROPS && strcmp(props[i].name, argv[a]))
			i++;
		if (i == NPROPS) {
			fprintf(stderr, "hostprops: no property '%s' (known:", argv[a]);
			for (i = 0; i < NPROPS; i++)
				fprintf(stderr, " %s", props[i].name);
			fprintf(stderr, ")\n");
			return 2;
		}
		all &= show(&props[i]);
	}
	return all ? 0 : 1;
}
