// Exercises the plain exit path: output buffered in stdio is flushed when main returns a non-zero status (42).
#include <stdio.h>
#include <stdlib.h>

static void bye(void) { printf("atexit handler ran after main returned\n"); }

int main(void)
{
	atexit(bye);
	setvbuf(stdout, NULL, _IOFBF, 4096);
	for (int i = 0; i < 300; i++)
		printf("buffered line %d of 300, not flushed explicitly\n", i);
	printf("returning 42 from main\n");
	return 42;
}
