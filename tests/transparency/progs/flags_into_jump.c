// Exercises status flags live into an indirect call whose target is a lone jmp to code that first sets every flag, then to that code rewritten in place to read CF, with the target on the jump's page and on another: a translator that judged the flags dead at the jump by its target's code must drop that judgement when the code changes.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PG 4096

typedef int (*fn0)(void);

static void flush(void *p, size_t n) { __builtin___clear_cache((char *)p, (char *)p + n); }

/* jmp rel32 from `at` to `to` */
static void emit_jmp(unsigned char *at, const unsigned char *to)
{
	int32_t rel = (int32_t)(to - (at + 5));
	at[0] = 0xe9;
	memcpy(at + 1, &rel, 4);
}

/* The caller: mov rax, target; stc; call rax; ret.  CF is set when the
 * target's first instruction runs. */
static void emit_caller(unsigned char *at, const unsigned char *target)
{
	uint64_t t = (uint64_t)(uintptr_t)target;
	at[0] = 0x48; at[1] = 0xb8;
	memcpy(at + 2, &t, 8);
	at[10] = 0xf9;                  /* stc */
	at[11] = 0xff; at[12] = 0xd0;   /* call rax */
	at[13] = 0xc3;                  /* ret */
}

static const unsigned char sets_flags[] = {0x31, 0xc0, 0xc3};               /* xor eax, eax; ret */
static const unsigned char reads_cf[] = {0x0f, 0x92, 0xc0, 0x0f, 0xb6, 0xc0, 0xc3};  /* setc al; movzx eax, al; ret */

/* jump at page 0, its target at `target`, the caller on page 2 */
static void round_trip(unsigned char *mem, unsigned char *target, const char *where)
{
	unsigned char *jump = mem + 64, *caller = mem + 2 * PG;
	memcpy(target, sets_flags, sizeof sets_flags);
	emit_jmp(jump, target);
	emit_caller(caller, jump);
	flush(mem, 3 * PG);
	/* the target first, on its own: it is translated before the jump */
	int first = ((fn0)(void *)target)();
	int through = 0;
	for (int i = 0; i < 3; i++)
		through += ((fn0)(void *)caller)();
	memcpy(target, reads_cf, sizeof reads_cf);
	flush(target, sizeof reads_cf);
	int cf = 0;
	for (int i = 0; i < 3; i++)
		cf += ((fn0)(void *)caller)();
	printf("%s: first %d, through the jump %d, CF seen after the rewrite %d of 3\n", where, first, through, cf);
}

int main(void)
{
	/* below 2 GiB: where a jump's target fits an imm32, which is where
	 * the translator can compare it without a scratch register */
	int prot = PROT_READ | PROT_WRITE | PROT_EXEC, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned char *mem = mmap((void *)0x30000000, 3 * PG, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
	if (mem == MAP_FAILED)
		mem = mmap(NULL, 3 * PG, prot, flags, -1, 0);
	if (mem == MAP_FAILED) {
		printf("RWX mmap failed\n");
		return 1;
	}
	memset(mem, 0xcc, 3 * PG);
	round_trip(mem, mem + 256, "target on the jump's page");
	memset(mem, 0xcc, 3 * PG);
	round_trip(mem, mem + PG + 128, "target on another page");
	return 0;
}
