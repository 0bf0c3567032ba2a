#include "driver/link.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 8

int link_send(int sock, const struct link_msg *msg, const int *fds, int nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = {(void *)msg, sizeof(*msg)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*msg) ? 0 : -1;
}

int link_recv(int sock, struct link_msg *msg, int *fds, int maxfds, int *nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = {msg, sizeof(*msg)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
	                    .msg_controllen = sizeof(ctl)};
	*nfds = 0;
	ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if (r != (ssize_t)sizeof(*msg))
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < maxfds)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return 1;
}

/* A sequence lock: the generation is odd while the daemon writes, so a
 * reader that saw the same even generation before and after its copy has
 * a set that no write overlapped. */
void link_publish(struct link_page *p, uint32_t *generation, unsigned nqueues, const uint16_t *queue,
                  uint16_t draining)
{
	__atomic_store_n(&p->generation, *generation + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&p->nqueues, nqueues, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < LINK_MAX_QUEUES; i++)
		__atomic_store_n(&p->queue[i], i < nqueues ? queue[i] : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->draining, draining, __ATOMIC_RELAXED);
	*generation += 2;
	__atomic_store_n(&p->generation, *generation, __ATOMIC_RELEASE);
}

#define LINK_READ_TRIES 1000

bool link_read(const struct link_page *p, struct link_queues *out)
{
	for (unsigned tries = 0; tries < LINK_READ_TRIES; tries++) {
		uint32_t before = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
		if (before & 1) {
			__builtin_ia32_pause();
			continue;
		}
		uint32_t n = __atomic_load_n(&p->nqueues, __ATOMIC_RELAXED);
		for (unsigned i = 0; i < LINK_MAX_QUEUES; i++)
			out->queue[i] = __atomic_load_n(&p->queue[i], __ATOMIC_RELAXED);
		uint16_t draining = __atomic_load_n(&p->draining, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&p->generation, __ATOMIC_RELAXED) == before) {
			out->generation = before;
			out->nqueues = n < LINK_MAX_QUEUES ? n : LINK_MAX_QUEUES;
			out->draining = draining & (uint16_t)~1u;   /* never queue[0] */
			return true;
		}
	}
	return false;
}
