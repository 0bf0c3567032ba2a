// Attack: learn which host CPU the guest runs on: rdtscp's ecx (TSC_AUX),
// rdpid, lsl of the per-CPU GDT entry (the vgetcpu trick), and the APIC ids
// of cpuid leaves 1 and 0xb.  The attack pins itself to each CPU in turn
// (sched_setaffinity) so that a nonzero CPU number shows up.  It also prints
// the cpuid vendor and brand (which are allowed to be anything fixed).
// Natively (2+ CPUs): CPU 1 gives 1 (ESCAPED).  cpuid_x2apic needs cpuid
// leaf 0xb, which some hypervisors leave empty.
// Under opsub: rdtscp's ecx is 0, rdpid faults, lsl faults, cpuid is the
// fixed guest model with APIC id 0.
// variants: rdtscp rdpid lsl cpuid_apic cpuid_x2apic
// native-needs: rdtscp=rdtscp rdpid=rdpid cpuid_x2apic=x2apic-id
#include "attack.h"

static uint64_t probe(const char *v)
{
	uint32_t a, b, c, d;
	uint64_t r = 0;
	if (!strcmp(v, "rdtscp")) {
		__asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c));
		r = c & 0xfff;
	} else if (!strcmp(v, "rdpid")) {
		__asm__ volatile("rdpid %0" : "=r"(r));
		r &= 0xfff;
	} else if (!strcmp(v, "lsl")) {
		uint32_t l = 0;
		uint8_t ok;
		__asm__ volatile("lsl %2, %0\n setz %1" : "=r"(l), "=r"(ok) : "r"(0x7bu) : "cc");
		r = ok ? (l & 0xfff) : 0;
	} else if (!strcmp(v, "cpuid_apic")) {
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
		r = b >> 24;
	} else {
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xb), "c"(0));
		r = d;
	}
	return r;
}

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint32_t id[4], brand[13] = {0};
	__asm__ volatile("cpuid" : "=a"(id[0]), "=b"(id[1]), "=c"(id[3]), "=d"(id[2]) : "a"(0), "c"(0));
	for (uint32_t l = 0; l < 3; l++)
		__asm__ volatile("cpuid" : "=a"(brand[4 * l]), "=b"(brand[4 * l + 1]), "=c"(brand[4 * l + 2]), "=d"(brand[4 * l + 3])
		                 : "a"(0x80000002 + l), "c"(0));
	note("cpuid vendor \"%.12s\" brand \"%.48s\"", (char *)&id[1], (char *)brand);
	for (int cpu = 0; cpu < 64; cpu++) {
		uint64_t mask = 1ull << cpu;
		long r = sc3(SYS_sched_setaffinity, 0, sizeof(mask), &mask);
		if (r != 0 && cpu > 0)
			break;
		uint64_t got = probe(v);
		note("affinity cpu %d (%ld): %s gives %lu", cpu, r, v, got);
		if (got != 0) {
			escaped("%s reveals host CPU number %lu", v, got);
			break;
		}
	}
	return 0;
}
