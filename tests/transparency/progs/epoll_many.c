// Many descriptors at once: 400 pipes (800 fds) watched by epoll, poll and select-free loops; pseudo-random subsets made readable must be reported exactly (as sorted sets), in rounds with MOD/DEL/close churn and maxevents smaller than the ready count.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define NP 400

static int rd[NP], wr[NP], live[NP];
static uint64_t seed = 0x6570;

static unsigned rnd(unsigned n)
{
	seed = seed * 6364136223846793005u + 1442695040888963407u;
	return (unsigned)((seed >> 33) % n);
}

static int cmpint(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static uint32_t hash_set(const int *v, int n)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < n; i++)
		h = (h ^ (uint32_t)v[i]) * 16777619u;
	return h;
}

int main(void)
{
	for (int i = 0; i < NP; i++) {
		int p[2];
		if (pipe2(p, O_NONBLOCK) < 0) {
			printf("pipe #%d: errno %d\n", i, errno);
			return 1;
		}
		rd[i] = p[0];
		wr[i] = p[1];
		live[i] = 1;
	}
	printf("%d pipes open\n", NP);
	int ep = epoll_create1(0);
	for (int i = 0; i < NP; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, rd[i], &e) < 0) {
			printf("ADD #%d: errno %d\n", i, errno);
			return 1;
		}
	}
	for (int round = 0; round < 12; round++) {
		/* Make a random subset readable. */
		int want[NP], nw = 0;
		char mark[NP];
		memset(mark, 0, sizeof mark);
		int k = 1 + (int)rnd(120);
		for (int j = 0; j < k; j++) {
			int i = (int)rnd(NP);
			if (!live[i] || mark[i])
				continue;
			mark[i] = 1;
			write(wr[i], "x", 1);
			want[nw++] = i;
		}
		qsort(want, (size_t)nw, sizeof want[0], cmpint);
		/* epoll with maxevents 16: collect until a wait returns 0 (level-triggered, so read as we go). */
		int got[NP], ng = 0, waits = 0;
		for (;;) {
			struct epoll_event ev[16];
			int n = epoll_wait(ep, ev, 16, 0);
			if (n <= 0)
				break;
			waits++;
			for (int j = 0; j < n; j++) {
				int i = (int)ev[j].data.u32;
				char c;
				if (read(rd[i], &c, 1) == 1)
					got[ng++] = i;
			}
		}
		qsort(got, (size_t)ng, sizeof got[0], cmpint);
		/* poll over all live read ends must now see none readable. */
		struct pollfd pf[NP];
		int np = 0;
		for (int i = 0; i < NP; i++)
			if (live[i])
				pf[np++] = (struct pollfd){.fd = rd[i], .events = POLLIN};
		int pr = poll(pf, (nfds_t)np, 0);
		int same = nw == ng && memcmp(want, got, (size_t)nw * sizeof want[0]) == 0;
		printf("round %d: %d made ready, epoll reported the same set: %s (hash %08x), waits of 16 needed >= %d: %s, poll afterwards %d\n",
		       round, nw, same ? "yes" : "no", hash_set(got, ng), (nw + 15) / 16, waits >= (nw + 15) / 16 ? "yes" : "no", pr);
		/* Churn: close some pipes (their epoll entries go), DEL some, re-ADD some. */
		for (int j = 0; j < 10; j++) {
			int i = (int)rnd(NP);
			if (!live[i])
				continue;
			switch (rnd(3)) {
			case 0:
				close(rd[i]);
				close(wr[i]);
				live[i] = 0;
				break;
			case 1:
				epoll_ctl(ep, EPOLL_CTL_DEL, rd[i], NULL);
				write(wr[i], "y", 1); /* readable but unwatched: must not be reported */
				live[i] = 2;
				break;
			case 2: {
				struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
				epoll_ctl(ep, EPOLL_CTL_MOD, rd[i], &e); /* EPOLLOUT on a read end: never */
				break;
			}
			}
		}
		/* Unwatched ones are drained and forgotten. */
		for (int i = 0; i < NP; i++)
			if (live[i] == 2) {
				char c;
				read(rd[i], &c, 1);
				close(rd[i]);
				close(wr[i]);
				live[i] = 0;
			}
	}
	int left = 0;
	for (int i = 0; i < NP; i++)
		left += live[i] != 0;
	printf("%d pipes left\n", left);
	/* The whole set readable at once, drained through maxevents 64. */
	for (int i = 0; i < NP; i++)
		if (live[i])
			write(wr[i], "z", 1);
	int total = 0;
	for (;;) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, 0);
		if (n <= 0)
			break;
		for (int j = 0; j < n; j++) {
			char c;
			if (read(rd[ev[j].data.u32], &c, 1) == 1)
				total++;
		}
	}
	printf("all left ready: epoll reported %s\n", total == left ? "each once" : "a different count");
	for (int i = 0; i < NP; i++)
		if (live[i]) {
			close(rd[i]);
			close(wr[i]);
		}
	struct epoll_event ev[4];
	printf("after closing everything: %d ready\n", epoll_wait(ep, ev, 4, 0));
	close(ep);
	return 0;
}
