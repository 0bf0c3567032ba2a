/*
 * sleeper: opens its port, sends a few frames, then sleeps SECONDS with
 * nanosleep (no network call, so its driver cannot hear of queue changes),
 * then asks for its statistics every 10 ms until it has run 2 s more.
 * For the queue hand-back test: a queue taken away from it while it sleeps
 * must not go to another guest before it wakes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "opsub.h"

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p) {
		fprintf(stderr, "sleeper: no port\n");
		return 1;
	}
	struct opsub_buf b[8];
	unsigned n = opsub_buf_alloc(p, b, 8);
	for (unsigned i = 0; i < n; i++)
		b[i].len = 60;
	opsub_tx_burst(p, b, n);
	struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
	nanosleep(&ts, NULL);
	printf("sleeper: awake\n");
	fflush(stdout);
	struct opsub_net_stats st;
	uint64_t end = opsub_clock_ns() + 2000000000ull;
	while (opsub_clock_ns() < end) {
		opsub_port_stats(p, &st);
		opsub_wait(opsub_clock_ns() + 10000000);
	}
	return 0;
}
