// Exercises process start-up state: argc/argv as given by the runner (including an empty and a spaced argument), envp/environ layout, a variable set by the runner, and auxv (AT_PAGESZ, AT_RANDOM).
// args: alpha "two words" '' --flag=1 "tab	inside" ünïcødé -
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv, char **envp)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	printf("argc=%d\n", argc);
	/* the runner's binaries are NAME.VARIANT; print NAME only so every build prints the same */
	printf("argv[0] basename=%.*s\n", (int)strcspn(base, "."), base);
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=[%s] len=%zu\n", i, argv[i], strlen(argv[i]));
	printf("argv[argc] is NULL: %d\n", argv[argc] == NULL);
	printf("envp == environ: %d\n", envp == environ);
	/* envp follows argv on the initial stack */
	printf("envp directly after argv: %d\n", envp == argv + argc + 1);
	size_t n = 0, bad = 0;
	for (char **e = envp; *e; e++, n++)
		if (!strchr(*e, '='))
			bad++;
	printf("environment entries without '=': %zu\n", bad);
	const char *v = getenv("OPSUB_TRANSPARENCY_VAR");
	printf("OPSUB_TRANSPARENCY_VAR=%s\n", v ? v : "(unset)");
	printf("getenv of a missing variable is NULL: %d\n", getenv("OPSUB_SURELY_NOT_SET_12345") == NULL);
	setenv("OPSUB_NEW", "set-at-runtime", 1);
	printf("setenv/getenv round trip: %s\n", getenv("OPSUB_NEW"));
	unsetenv("OPSUB_NEW");
	printf("after unsetenv: %s\n", getenv("OPSUB_NEW") ? "still set" : "gone");
	printf("AT_PAGESZ=%lu sysconf(_SC_PAGESIZE)=%ld\n", getauxval(AT_PAGESZ), sysconf(_SC_PAGESIZE));
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	unsigned sum = 0;
	if (rnd)
		for (int i = 0; i < 16; i++)
			sum += rnd[i]; /* readable; value not printed since it differs per run */
	printf("AT_RANDOM present and readable: %d\n", rnd != NULL && sum < 16 * 256);
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	return argc;
}
