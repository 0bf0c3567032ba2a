/*
 * rig: the daemon's side of pausing, saving and restoring one guest
 * process (docs/migration.md, section 1), without a daemon or a NIC, so
 * the guest process's part is tested alone.
 *
 *   rig OPSUB MODE DELAY_MS TIMES -- PROGRAM [ARGS...]
 *
 * Starts `OPSUB guest-proc -- PROGRAM ARGS` on a memfd of its own (a port
 * in opsub mode with no queues), and TIMES times, DELAY_MS apart: sends
 * LINK_MIG_PAUSE (with SIGUSR2 every millisecond until the reply, as the
 * daemon does), LINK_MIG_SAVE into a new memfd, then, by MODE:
 *   resume   LINK_MIG_RESUME: the same process goes on;
 *   move     kills the process and starts `OPSUB guest-proc --restore` on
 *            the same memory with LINK_MIG_STATE: the guest goes on there;
 *   forge    as move, with the state's rip changed to point into
 *            unmapped memory: the new process must refuse it;
 *   scramble as move, with the saved XMM registers overwritten (the
 *            control: a state that loses vector registers must show).
 * The guest's output goes to the rig's stdout; the rig exits with the
 * guest's exit status (forge: 0 when the refusal came, 1 otherwise), and
 * says on stderr how long each pause took.
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver/link.h"
#include "monitor/guest_state.h"
#include "opsub_abi.h"

#define MEM (256ull << 20)

static const char *opsub;
static int mem_fd, page_fd;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "rig: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Starts a guest process; *sock gets our end of its link. */
static pid_t start(char **program, bool restore, int *sock)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		die("socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sv[1], 3);
		char *argv[64] = {(char *)opsub, "guest-proc"};
		int n = 2;
		if (restore)
			argv[n++] = "--restore";
		else
			for (argv[n++] = "--"; *program && n < 63; program++)
				argv[n++] = *program;
		argv[n] = NULL;
		execv(opsub, argv);
		_exit(127);
	}
	close(sv[1]);
	struct link_msg boot = {.type = LINK_BOOT, .mem_size = MEM};
	int fds[2] = {mem_fd, page_fd};
	if (link_send(sv[0], &boot, fds, 2))
		die("boot message");
	*sock = sv[0];
	return pid;
}

/* One request and its reply, signalling every millisecond meanwhile. */
static int64_t request(pid_t pid, int sock, uint32_t type, int fd)
{
	struct link_msg msg = {.type = type};
	if (link_send(sock, &msg, &fd, fd >= 0 ? 1 : 0))
		die("request");
	for (int tries = 0; tries < 5000; tries++) {
		kill(pid, SIGUSR2);
		struct pollfd p = {.fd = sock, .events = POLLIN};
		if (poll(&p, 1, 1) == 1) {
			struct link_msg r;
			int n;
			if (link_recv(sock, &r, NULL, 0, &n) != 1 || r.type != LINK_MIG_REPLY || r.queue != type) {
				fprintf(stderr, "rig: no reply to request %u (the guest process ended?)\n", type);
				exit(2);
			}
			return (int64_t)r.mem_size;
		}
	}
	fprintf(stderr, "rig: request %u timed out\n", type);
	exit(2);
}

static int status_of(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc < 7 || strcmp(argv[5], "--")) {
		fprintf(stderr, "usage: rig OPSUB resume|move|forge DELAY_MS TIMES -- PROGRAM [ARGS...]\n");
		return 2;
	}
	opsub = argv[1];
	const char *mode = argv[2];
	int delay = atoi(argv[3]), times = atoi(argv[4]);
	mem_fd = memfd_create("rig-guest", 0);
	page_fd = memfd_create("rig-link", 0);
	if (mem_fd < 0 || page_fd < 0 || ftruncate(mem_fd, (off_t)MEM) || ftruncate(page_fd, 4096))
		die("memfd");
	struct link_page *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, page_fd, 0);
	if (page == MAP_FAILED)
		die("mmap");
	page->mode = OPSUB_IO_OPSUB;
	page->ring_size = 256;
	page->mac[0] = 2;
	int sock;
	pid_t pid = start(argv + 6, false, &sock);
	for (int i = 0; i < times; i++) {
		usleep((useconds_t)delay * 1000);
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, "rig: the guest ended before pause %d\n", i + 1);
			return 2;
		}
		double t0 = now_ms();
		if (request(pid, sock, LINK_MIG_PAUSE, -1) != 0)
			return 2;
		int state = memfd_create("rig-state", 0);
		int64_t size = request(pid, sock, LINK_MIG_SAVE, state);
		if (size < (int64_t)sizeof(struct guest_state_header) || size > GUEST_STATE_MAX) {
			fprintf(stderr, "rig: SAVE answered %ld\n", size);
			return 2;
		}
		double t1 = now_ms();
		if (!strcmp(mode, "resume")) {
			if (request(pid, sock, LINK_MIG_RESUME, -1) != 0)
				return 2;
			fprintf(stderr, "rig: pause %d: paused and saved %ld bytes in %.2f ms, resumed in %.2f ms\n", i + 1,
			        size, t1 - t0, now_ms() - t1);
		} else {
			/* the CPU section comes first (struct gs_cpu) */
			off_t cpu = sizeof(struct guest_state_header) + sizeof(struct guest_state_section);
			if (!strcmp(mode, "forge")) {
				uint64_t rip = 0x1000;
				if (pwrite(state, &rip, 8, cpu + offsetof(struct gs_cpu, rip)) != 8)
					die("pwrite");
			} else if (!strcmp(mode, "scramble")) {
				uint8_t junk[256];
				memset(junk, 0x5a, sizeof(junk));
				if (pwrite(state, junk, sizeof(junk), cpu + offsetof(struct gs_cpu, xsave) + 160) != 256)
					die("pwrite");
			}
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(sock);
			double t2 = now_ms();
			pid = start(NULL, true, &sock);
			/* the process boots while the state is on its way, as a
			 * destination daemon starts it early: its own start-up is
			 * then not part of the downtime */
			usleep(100000);
			double t3 = now_ms();
			struct link_msg msg = {.type = LINK_MIG_STATE};
			if (link_send(sock, &msg, &state, 1))
				die("state message");
			struct pollfd p = {.fd = sock, .events = POLLIN};
			struct link_msg r = {0};
			int n;
			bool answered = poll(&p, 1, 10000) == 1 && link_recv(sock, &r, NULL, 0, &n) == 1;
			if (!strcmp(mode, "forge")) {
				int st = status_of(pid);
				bool refused = answered ? (int64_t)r.mem_size < 0 && st != 0 : st != 0;
				fprintf(stderr, "rig: forged state %s (exit %d)\n", refused ? "refused" : "ACCEPTED", st);
				return refused ? 0 : 1;
			}
			if (!answered || r.type != LINK_MIG_REPLY || r.queue != LINK_MIG_STATE || r.mem_size != 0) {
				fprintf(stderr, "rig: the restored guest did not start (%ld)\n", (int64_t)r.mem_size);
				return 2;
			}
			fprintf(stderr, "rig: pause %d: paused and saved %ld bytes in %.2f ms, the old process ended in "
			        "%.2f ms, the new one restored it in %.2f ms\n", i + 1, size, t1 - t0, t2 - t1, now_ms() - t3);
		}
		close(state);
	}
	return status_of(pid);
}
