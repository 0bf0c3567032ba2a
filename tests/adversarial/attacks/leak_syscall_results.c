// Attack: look for host addresses in what system calls return: brk, mmap,
// mremap (moving), arch_prctl(ARCH_GET_FS/GS), set_tid_address, and the
// words of the structures filled by getrusage, prlimit64, uname,
// clock_gettime (fstat: see dos_jail_syscalls).
// Natively (static PIE): brk and mmap return addresses above 4 GiB (ESCAPED).
// Under opsub: results are guest addresses and guest-neutral values.
// build: static-pie
#include "attack.h"
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

static int hits;

static void check(const char *what, uint64_t v)
{
	if (host_pointer(v)) {
		escaped("%s returned %#lx, a host-looking address", what, v);
		hits++;
	}
}

static void check_words(const char *what, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, b + i, 8);
		if (host_pointer(v) && !text_word(v)) {
			escaped("%s word %zu = %#lx looks like a host address", what, i / 8, v);
			hits++;
		}
	}
}

int main(void)
{
	check("brk(0)", (uint64_t)sc1(SYS_brk, 0));
	uint64_t m = (uint64_t)sc6(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("mmap", m);
	check("mremap", (uint64_t)sc5(SYS_mremap, m, 8192, 65536, MREMAP_MAYMOVE, 0));
	uint64_t fs = 0, gs = 0;
	sc2(SYS_arch_prctl, 0x1003, &fs);
	sc2(SYS_arch_prctl, 0x1004, &gs);
	check("arch_prctl(GET_FS)", fs);
	check("arch_prctl(GET_GS)", gs);
	static int tid;
	check("set_tid_address", (uint64_t)sc1(SYS_set_tid_address, &tid));
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	sc2(SYS_getrusage, RUSAGE_SELF, &ru);
	check_words("getrusage", &ru, sizeof(ru));
	uint64_t lim[2];
	for (int r = 0; r < 16; r++) {
		lim[0] = lim[1] = 0;
		sc4(SYS_prlimit64, 0, r, 0, lim);
		check_words("prlimit64", lim, sizeof(lim));
	}
	struct utsname u;
	sc1(SYS_uname, &u);
	check_words("uname", &u, sizeof(u));
	struct timespec ts;
	sc2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	check_words("clock_gettime", &ts, sizeof(ts));
	note("%d host-looking values", hits);
	return 0;
}
