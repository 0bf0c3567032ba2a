// Attack: look for host addresses on the initial stack: argc, argv[],
// envp[], every auxv entry (AT_SYSINFO_EHDR, AT_RANDOM, AT_EXECFN, ...), the
// padding, and the aligned words of the string area up to the top of the
// stack (skipping the AT_RANDOM bytes and printable text).
// Natively: argv/envp/auxv pointers point into the host stack (ESCAPED).
// Under opsub: all of it lies in guest memory below 4 GiB.
// cflags: -nostdlib -ffreestanding -fno-stack-protector -fno-builtin
#include "nolibc.h"

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call cmain\n"
        "  hlt\n");

static int printable(u64 v)
{
	for (int i = 0; i < 8; i++) {
		u8 c = (u8)(v >> (8 * i));
		if (c && (c < 0x20 || c > 0x7e))
			return 0;
	}
	return 1;
}

void cmain(u64 *sp)
{
	int hits = 0;
	u64 argc = sp[0], i = 1, lowest = ~0ul, top = 0, random = 0;
	hits += nl_check("argc", 0, argc);
	for (; sp[i]; i++) {
		hits += nl_check("argv", i - 1, sp[i]);
		if (sp[i] < lowest)
			lowest = sp[i];
	}
	for (i++; sp[i]; i++) {
		hits += nl_check("envp", i, sp[i]);
		if (sp[i] < lowest)
			lowest = sp[i];
	}
	u64 *aux = &sp[i + 1];
	for (i = 0; aux[2 * i]; i++) {
		u64 type = aux[2 * i], val = aux[2 * i + 1];
		hits += nl_check("auxv-type", type, type);
		hits += nl_check("auxv", type, val);
		if (type == 25 /* AT_RANDOM */)
			random = val;
		if ((type == 25 || type == 15 /* AT_PLATFORM */ || type == 31 /* AT_EXECFN */) && val < lowest)
			lowest = val;
		if (type == 31)
			top = val + nl_strlen((const char *)val) + 1;
	}
	u64 *end = &aux[2 * i + 2];
	/* padding between auxv and the strings */
	for (u64 *w = end; (u64)w + 8 <= lowest && (u64)(w - end) < 4096; w++)
		hits += nl_check("padding", (u64)(w - end), *w);
	/* the string area, aligned words that are not text */
	if (top && lowest < top && top - lowest < (1ul << 24))
		for (u64 a = (lowest + 7) & ~7ul; a + 8 <= top; a += 8) {
			if (random && a + 8 > random && a < random + 16)
				continue;
			u64 v = *(u64 *)a;
			if (!printable(v))
				hits += nl_check("string-area", a - lowest, v);
		}
	nl_puts(hits ? "note: host-looking values on the initial stack\n" : "note: initial stack is clean\n");
	nl_exit(0);
}
