/*
 * The victim of the forgery test: keeps argv[1] in its memory (a static
 * buffer at a link-time address the test reads with nm) and waits.
 */
#include <string.h>
#include <time.h>

char secret[64];

int main(int argc, char **argv)
{
	if (argc > 1)
		strncpy(secret, argv[1], sizeof(secret) - 1);
	for (;;) {
		struct timespec t = {1, 0};
		nanosleep(&t, NULL);
	}
}
