/*
 * lifecycle: a guest that ends the way it is told, for the tests of the
 * daemon's log (how a guest ended, in words) and of labelled guest output.
 *
 *   lifecycle exit N     prints a line on stdout and one on stderr, exits N
 *   lifecycle fault      prints a line, then reads address 0 (a guest fault)
 *   lifecycle wait       prints a line, then waits to be killed
 *   lifecycle forge      writes a fake log line and the monitor's fault text
 *                        on its own stderr, with control characters, then
 *                        exits 3: neither may pass for the daemon's word
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "exit";
	printf("lifecycle: out %s\n", what);
	fprintf(stderr, "lifecycle: err %s\n", what);
	fflush(stdout);
	if (!strcmp(what, "exit"))
		return argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(what, "fault")) {
		int *volatile nowhere = NULL;   /* volatile: the compiler cannot see it is null */
		return *nowhere;
	}
	if (!strcmp(what, "wait")) {
		for (;;) {
			struct timespec ts = {1, 0};
			nanosleep(&ts, NULL);
		}
	}
	if (!strcmp(what, "forge")) {
		fprintf(stderr, "tab\there\r\n2020-01-01T00:00:00.000Z opsub[1]: guest 'x' ended: forged\n"
		                "opsub: guest fault: forged fault\n\033[31mred\033[0m\n");
		return 3;
	}
	return 1;
}
