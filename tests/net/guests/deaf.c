/*
 * deaf: a guest that never takes a frame.  `deaf open` opens its port with
 * a pool of one buffer (so nothing is ever posted for receiving) and then
 * sleeps; `deaf closed` never opens its port at all.  For the tests that a
 * guest without receive buffers does not stop another guest's traffic.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "opsub.h"

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "open") && strcmp(argv[1], "closed"))) {
		fprintf(stderr, "usage: deaf open|closed\n");
		return 2;
	}
	if (!strcmp(argv[1], "open") && !opsub_port_open(0, 1)) {
		fprintf(stderr, "deaf: no port\n");
		return 1;
	}
	printf("deaf: port %s\n", argv[1]);
	fflush(stdout);
	for (;;) {
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
	}
}
