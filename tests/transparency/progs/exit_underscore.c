// Exercises _exit(7): flushed output appears, buffered-but-unflushed stdio output and atexit handlers are skipped.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void never(void) { printf("atexit handler must not run\n"); }

int main(void)
{
	atexit(never);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("this line is flushed explicitly\n");
	fflush(stdout);
	const char *raw = "this line goes straight to write(2)\n";
	if (write(1, raw, strlen(raw)) < 0)
		return 1;
	printf("this line stays in the stdio buffer and is lost\n");
	_exit(7);
}
