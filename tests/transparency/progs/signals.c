// Signal handlers run as Linux runs them: self-sent signals, interval
// timers interrupting a loop that makes no system call, the frame's
// registers and FPU state coming back, masks, SA_RESETHAND, SA_NODEFER,
// SA_RESTART, the alternate stack, pause, sigsuspend, siglongjmp out of a
// handler, and a handler that changes the saved context.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t hits, last_sig, last_code, depth, max_depth, calls;
static volatile int blocked_seen;

static void count(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
}

static void set(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = {.sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags};
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		printf("sigaction %d failed\n", sig);
}

static const char *code_name(int code)
{
	return code == SI_USER ? "SI_USER" : code == SI_TKILL ? "SI_TKILL" : code == SI_KERNEL ? "SI_KERNEL"
	       : code > 0 ? "kernel" : "other";
}

static void self_sent(void)
{
	set(SIGUSR1, count, 0);
	hits = 0;
	kill(getpid(), SIGUSR1);
	printf("kill: hits %d sig %s code %s\n", hits, last_sig == SIGUSR1 ? "USR1" : "?", code_name(last_code));
	raise(SIGUSR1);
	printf("raise: hits %d code %s\n", hits, code_name(last_code));
}

/* A loop with no system call in it, ended by the timer's handler only. */
static volatile sig_atomic_t stop;
static void on_alarm(int sig) { (void)sig; stop = 1; }

static void timer_loop(void)
{
	signal(SIGALRM, on_alarm);
	struct itimerval it = {.it_value = {0, 30000}};
	setitimer(ITIMER_REAL, &it, NULL);
	uint64_t n = 0, h = 1469598103934665603ull;
	while (!stop) {
		h = (h ^ n) * 1099511628211ull;
		n++;
	}
	printf("setitimer: loop ended by SIGALRM after some iterations: %s\n", n > 100 ? "yes" : "no");
	(void)h;
}

/* Registers and FPU state across a handler that clobbers both. */
static volatile sig_atomic_t prof_hits;
static void clobber(int sig)
{
	(void)sig;
	prof_hits++;
	volatile double d = 3.25;
	volatile long double ld = 1.5L;
	char buf[64];
	snprintf(buf, sizeof(buf), "%f %Lf", d * 2, ld * 3);   /* x87 and SSE in the handler */
	blocked_seen = (int)strlen(buf);
}

struct sums { double acc; long double lacc; uint64_t ints; };

static struct sums sum_pass(void)
{
	struct sums r = {0, 0, 0};
	for (int i = 1; i <= 1000000; i++) {
		r.acc += 1.0 / i;
		r.lacc += (long double)i * 0.5L;
		r.ints += (uint64_t)i * 2654435761u;
	}
	return r;
}

/* Passes of the same sums until the profiling timer's handler has run a
 * few times in the middle of them: every pass must give the same sums. */
static void state_kept(void)
{
	struct sigaction sa = {.sa_handler = clobber};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	struct itimerval it = {.it_interval = {0, 1000}, .it_value = {0, 1000}};
	blocked_seen = 0;
	hits = 0;
	struct sums first = sum_pass();
	setitimer(ITIMER_PROF, &it, NULL);
	int same = 1, passes = 0;
	while (passes < 1000 && (passes < 3 || prof_hits < 5)) {
		struct sums s = sum_pass();
		same &= s.acc == first.acc && s.lacc == first.lacc && s.ints == first.ints;
		passes++;
	}
	struct itimerval off = {0};
	setitimer(ITIMER_PROF, &off, NULL);
	printf("ITIMER_PROF during loops: sums %.12f %.3Lf %llu, every pass the same %d, handler ran %s\n", first.acc,
	       first.lacc, (unsigned long long)first.ints, same, prof_hits >= 5 ? "yes" : "no");
}

/* Masks: a blocked signal waits, shows in sigpending, runs at unblock. */
static void masks(void)
{
	set(SIGUSR2, count, 0);
	sigset_t s, old, pend;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, &old);
	hits = 0;
	raise(SIGUSR2);
	sigpending(&pend);
	printf("blocked: hits %d pending %d\n", hits, sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("unblocked: hits %d\n", hits);
	/* ignoring a pending signal drops it */
	sigprocmask(SIG_BLOCK, &s, NULL);
	raise(SIGUSR2);
	signal(SIGUSR2, SIG_IGN);
	sigpending(&pend);
	printf("ignored while pending: pending %d\n", sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The handler's own signal is blocked while it runs, unless SA_NODEFER. */
static void nest(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (++calls < 3)
		raise(sig);
	depth--;
}

static void nesting(void)
{
	set(SIGUSR1, nest, 0);
	max_depth = calls = 0;
	raise(SIGUSR1);
	printf("deferred: max depth %d, calls %d\n", max_depth, calls);
	set(SIGUSR1, nest, SA_NODEFER);
	max_depth = calls = 0;
	raise(SIGUSR1);
	printf("SA_NODEFER: max depth %d, calls %d\n", max_depth, calls);
}

static void resethand(void)
{
	set(SIGWINCH, count, SA_RESETHAND);
	hits = 0;
	raise(SIGWINCH);
	raise(SIGWINCH);   /* default action now: ignored */
	struct sigaction cur;
	sigaction(SIGWINCH, NULL, &cur);
	printf("SA_RESETHAND: hits %d, now default %d\n", hits, cur.sa_handler == SIG_DFL);
}

/* Blocking calls: -EINTR, or made again under SA_RESTART. */
static void interrupted(void)
{
	int p[2];
	if (pipe(p))
		return;
	set(SIGALRM, count, 0);
	/* periodic: a tick that comes before the read (a busy host) is not the last */
	struct itimerval it = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
	setitimer(ITIMER_REAL, &it, NULL);
	char c;
	errno = 0;
	ssize_t r = read(p[0], &c, 1);
	printf("read interrupted: %zd %s\n", r, errno == EINTR ? "EINTR" : strerror(errno));

	set(SIGALRM, count, SA_RESTART);
	struct itimerval tick = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
	setitimer(ITIMER_REAL, &tick, NULL);
	hits = 0;
	struct timespec ts = {0, 200000000}, rem = {0, 0};
	errno = 0;
	r = nanosleep(&ts, &rem);
	printf("nanosleep interrupted: %zd %s, time left %s\n", r, errno == EINTR ? "EINTR" : strerror(errno),
	       rem.tv_sec == 0 && rem.tv_nsec > 0 && rem.tv_nsec < 200000000 ? "in range" : "wrong");
	/* the writer is the timer's handler: the restarted read gets the byte */
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, NULL);
	close(p[0]);
	close(p[1]);
}

static int wfd = -1;
static void writer(int sig)
{
	(void)sig;
	if (write(wfd, "x", 1) != 1)
		_exit(9);
}

static void restarted(void)
{
	int p[2];
	if (pipe(p))
		return;
	wfd = p[1];
	struct sigaction sa = {.sa_handler = writer, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	char c = 0;
	ssize_t r = read(p[0], &c, 1);
	printf("read under SA_RESTART: %zd '%c'\n", r, c);
	close(p[0]);
	close(p[1]);
}

/* The alternate stack. */
static char altstack[65536];
static volatile int on_alt;
static void where(int sig)
{
	(void)sig;
	char here;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	stack_t cur;
	sigaltstack(NULL, &cur);
	on_alt += (cur.ss_flags & SS_ONSTACK) ? 10 : 0;
}

static void alternate_stack(void)
{
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)}, old;
	if (sigaltstack(&ss, &old))
		printf("sigaltstack failed\n");
	struct sigaction sa = {.sa_handler = where, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("SA_ONSTACK: on the alternate stack %d, old disabled %d\n", on_alt, (old.ss_flags & SS_DISABLE) != 0);
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("without SA_ONSTACK: %d\n", on_alt);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
}

static void waits(void)
{
	set(SIGALRM, count, 0);
	hits = 0;
	alarm(2);
	unsigned left = alarm(0);   /* what was left of it, rounded */
	struct itimerval soon = {.it_interval = {0, 10000}, .it_value = {0, 10000}}, off = {0};
	setitimer(ITIMER_REAL, &soon, NULL);
	int r = pause();
	int pause_errno = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	printf("alarm left %u; pause %d %s, handler ran %d\n", left, r, pause_errno == EINTR ? "EINTR" : "?", hits > 0);
	hits = 0;
	sigset_t s, none;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_BLOCK, &s, NULL);
	struct itimerval it = {.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	sigemptyset(&none);
	r = sigsuspend(&none);
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	printf("sigsuspend %d %s, handler ran %d, mask back %d\n", r, errno == EINTR ? "EINTR" : "?", hits > 0,
	       sigismember(&now, SIGALRM));
	sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static sigjmp_buf jb;
static void jump_out(int sig) { siglongjmp(jb, sig); }

static void longjmp_out(void)
{
	signal(SIGALRM, jump_out);
	struct itimerval it = {.it_value = {0, 20000}};
	volatile uint64_t n = 0;
	int sig = sigsetjmp(jb, 1);
	if (!sig) {
		setitimer(ITIMER_REAL, &it, NULL);
		for (;;)
			n++;
	}
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	printf("siglongjmp out of a handler: sig %s, mask restored %d\n", sig == SIGALRM ? "ALRM" : "?",
	       !sigismember(&now, SIGALRM));
}

/* A handler that changes a register in the saved context (REG_RAX of a
 * syscall's result: getppid's, which the handler sees as the frame's rax). */
static void edit(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static void edited_context(void)
{
	set(SIGUSR1, edit, 0);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	raise(SIGUSR1);
	/* delivered at the exit of this call: its result is the frame's rax */
	long r = syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &s, NULL, 8);
	printf("handler changed the saved rax: %s\n", r == 4242 ? "yes" : "no");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	self_sent();
	timer_loop();
	state_kept();
	masks();
	nesting();
	resethand();
	interrupted();
	restarted();
	alternate_stack();
	waits();
	longjmp_out();
	edited_context();
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
	printf("not reached\n");
	return 0;
}
