/*
 * opsub --version, opsub version: the version this binary was built from
 * and the compiler that built it.
 *
 * OPSUB_VERSION comes from the generated build/gen/version.h (the Makefile
 * writes `git describe --tags --always --dirty`, or a release's VERSION
 * file, or "unknown"), so only this file is rebuilt when it changes.  The
 * compiler is named by the compiler's own macros, which cannot disagree
 * with the one that actually ran.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "version.h"

#if defined(__clang__)
#define OPSUB_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define OPSUB_COMPILER "gcc " __VERSION__
#else
#define OPSUB_COMPILER "an unknown C compiler"
#endif

const char *opsub_version(void)
{
	return OPSUB_VERSION;
}

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: opsub version\n"
		       "       opsub --version\n\n"
		       "Prints the version of this opsub (git describe of the tree it was built\n"
		       "from; \"-dirty\" when that tree had uncommitted changes) and the compiler\n"
		       "that built it.\n");
		return 0;
	}
	if (argc > 1)
		return usage_error("version", "unexpected argument '%s'", argv[1]);
	printf("opsub %s\nbuilt with %s\n", OPSUB_VERSION, OPSUB_COMPILER);
	return 0;
}
