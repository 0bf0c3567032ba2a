/*
 * port_epoll N: an event loop on the port's descriptor (opsub_port_fd)
 * together with a periodic timerfd, in one epoll set.  It takes N frames
 * and 25 timer ticks (half a second), then prints what it saw and how much
 * CPU it used: a loop that really sleeps in epoll_wait uses little.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "opsub.h"

static uint64_t ms(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000; }

int main(int argc, char **argv)
{
	unsigned want = argc > 1 ? (unsigned)atoi(argv[1]) : 1000, got = 0, wakeups = 0, empty = 0;
	uint64_t ticks = 0;
	struct opsub_port *p = opsub_port_open(0, 0);
	int pfd = p ? opsub_port_fd(p) : -1;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int ep = epoll_create1(0);
	if (pfd < 0 || tfd < 0 || ep < 0) {
		perror("port_epoll: set-up");
		return 1;
	}
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	struct epoll_event e1 = {.events = EPOLLIN, .data.u64 = 1}, e2 = {.events = EPOLLIN, .data.u64 = 2};
	if (timerfd_settime(tfd, 0, &its, NULL) || epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &e1) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e2)) {
		perror("port_epoll: set-up");
		return 1;
	}
	printf("port_epoll: waiting\n");
	fflush(stdout);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t waited_ms = 0;
	while ((got < want || ticks < 25) && waited_ms < 30000) {
		struct epoll_event ev[4];
		int n = epoll_wait(ep, ev, 4, 1000);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == 1) {
				struct opsub_buf b[64];
				unsigned k = opsub_rx_burst(p, b, 64);
				wakeups++;
				empty += k == 0;
				got += k;
				opsub_buf_free(p, b, k);
			} else {
				uint64_t x;
				if (read(tfd, &x, 8) == 8)
					ticks += x;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		waited_ms = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("port_epoll: received %u frames in %u wakeups (%u empty), %llu ticks, %llu ms wall, %llu ms cpu\n", got,
	       wakeups, empty, (unsigned long long)ticks, (unsigned long long)waited_ms,
	       (unsigned long long)(ms(ru.ru_utime) + ms(ru.ru_stime)));
	return 0;
}
