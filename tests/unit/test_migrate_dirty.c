/*
 * test_migrate_dirty.c: the daemon finds the pages a guest process wrote
 * (daemon/migrate_dirty.h) with PAGEMAP_SCAN over memory the process
 * registered with gm_track_writes: after the first scan, each harvest has
 * exactly the pages written since the one before (by the process's own
 * stores and by the kernel on its behalf, a read(2) into the memory), and
 * a process that did not register is refused with a reason.  A child
 * process stands in for the guest process: its memory is a memfd mapped
 * at [GUEST_LOWEST, size) as a guest's is.  Skipped on a kernel without
 * asynchronous write-protection (before 6.7).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/migrate_dirty.h"
#include "sandbox/guest_mem.h"

#define SIZE (64ull << 20)
#define PAGES (SIZE / 4096)

struct child {
	pid_t pid;
	int pidfd;
	int cmd, ack;       /* pipes: to it, from it */
};

/* The child: maps the memory, registers it (or not), then obeys commands:
 * 'w' + page: a store into the page; 'r' + page: read(2) of 100 bytes
 * into it; 'q': exit.  Each answered with one byte. */
static void child_main(int cmd, int ack, bool track)
{
	int fd = memfd_create("guest", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)SIZE))
		_exit(2);
	void *at = mmap((void *)GUEST_LOWEST, SIZE - GUEST_LOWEST, PROT_READ | PROT_WRITE,
	                MAP_SHARED | MAP_FIXED_NOREPLACE, fd, GUEST_LOWEST);
	if (at != (void *)GUEST_LOWEST)
		_exit(3);
	struct guest_mem gm = {.fd = fd, .size = SIZE};
	int rc = track ? gm_track_writes(&gm) : 0;
	char r = rc == 0 ? 'k' : rc == -EINVAL || rc == -ENOSYS ? 'u' : 'e';
	if (write(ack, &r, 1) != 1 || r != 'k')
		_exit(0);
	int data[2];
	if (pipe(data))
		_exit(4);
	char junk[100];
	memset(junk, 7, sizeof(junk));
	for (;;) {
		struct { char op; uint64_t page; } c;
		if (read(cmd, &c, sizeof(c)) != sizeof(c) || c.op == 'q')
			_exit(0);
		volatile uint8_t *p = (uint8_t *)(uintptr_t)(c.page * 4096);
		if (c.op == 'w')
			p[123] = 1;
		else if (write(data[1], junk, sizeof(junk)) != sizeof(junk) ||
		         read(data[0], (void *)(uintptr_t)(c.page * 4096 + 50), sizeof(junk)) != sizeof(junk))
			_exit(5);
		if (write(ack, "k", 1) != 1)
			_exit(6);
	}
}

/* Starts the child; 'k' it runs registered, 'u' the kernel cannot. */
static char start(struct child *c, bool track)
{
	int to[2], from[2];
	assert_int_equal(pipe(to), 0);
	assert_int_equal(pipe(from), 0);
	c->pid = fork();
	if (c->pid == 0) {
		close(to[1]);
		close(from[0]);
		child_main(to[0], from[1], track);
	}
	close(to[0]);
	close(from[1]);
	c->cmd = to[1];
	c->ack = from[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	char r = 0;
	assert_int_equal(read(c->ack, &r, 1), 1);
	return r;
}

static void order(struct child *c, char op, uint64_t page)
{
	struct { char op; uint64_t page; } m = {op, page};
	assert_int_equal(write(c->cmd, &m, sizeof(m)), (ssize_t)sizeof(m));
	char r;
	assert_int_equal(read(c->ack, &r, 1), 1);
}

static void stop(struct child *c)
{
	struct { char op; uint64_t page; } m = {'q', 0};
	if (write(c->cmd, &m, sizeof(m)) < 0)
		kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->cmd);
	close(c->ack);
	close(c->pidfd);
}

/* The pages set in a harvest, as a list (at most max). */
static unsigned pages_of(const uint64_t *bits, uint64_t *out, unsigned max)
{
	unsigned n = 0;
	for (uint64_t p = 0; p < PAGES; p++)
		if (bits[p / 64] >> (p % 64) & 1) {
			if (n < max)
				out[n] = p;
			n++;
		}
	return n;
}

static void test_harvest_finds_exactly_the_written_pages(void **state)
{
	(void)state;
	struct child c;
	char r = start(&c, true);
	if (r != 'k') {
		stop(&c);
		skip();
	}
	struct mig_dirty dt = {.pagemap_fd = -1};
	char err[256];
	if (mig_dirty_start(&dt, c.pid, c.pidfd, SIZE, err, sizeof(err)))
		fail_msg("start: %s", err);
	uint64_t *bits = calloc(PAGES / 64, 8), got[8];
	/* nothing written since the start */
	assert_int_equal(mig_dirty_harvest(&dt, bits, err, sizeof(err)), 0);
	assert_int_equal(pages_of(bits, got, 8), 0);
	order(&c, 'w', 20);
	order(&c, 'w', 20);
	order(&c, 'w', 9000);
	order(&c, 'r', 300);          /* the kernel writes it: read(2) */
	order(&c, 'w', PAGES - 1);    /* the last page */
	assert_int_equal(mig_dirty_harvest(&dt, bits, err, sizeof(err)), 0);
	assert_int_equal(pages_of(bits, got, 8), 4);
	assert_int_equal(got[0], 20);
	assert_int_equal(got[1], 300);
	assert_int_equal(got[2], 9000);
	assert_int_equal(got[3], PAGES - 1);
	/* harvested pages are protected again: only new writes come */
	memset(bits, 0, PAGES / 8);
	order(&c, 'w', 9000);
	assert_int_equal(mig_dirty_harvest(&dt, bits, err, sizeof(err)), 0);
	assert_int_equal(pages_of(bits, got, 8), 1);
	assert_int_equal(got[0], 9000);
	/* many scattered pages: more regions than one ioctl returns */
	memset(bits, 0, PAGES / 8);
	for (uint64_t p = 16; p < PAGES; p += 2)
		order(&c, 'w', p);
	if (mig_dirty_harvest(&dt, bits, err, sizeof(err)))
		fail_msg("harvest: %s", err);
	assert_int_equal(pages_of(bits, got, 8), (PAGES - 16) / 2);
	mig_dirty_close(&dt);
	mig_dirty_close(&dt);   /* twice is fine */
	free(bits);
	stop(&c);
}

static void test_unregistered_process_refused(void **state)
{
	(void)state;
	struct child c;
	assert_int_equal(start(&c, false), 'k');
	struct mig_dirty dt = {.pagemap_fd = -1};
	char err[256] = "";
	assert_int_equal(mig_dirty_start(&dt, c.pid, c.pidfd, SIZE, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot be tracked"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(dt.pagemap_fd, -1);
	stop(&c);
	/* a process that is gone */
	assert_int_equal(mig_dirty_start(&dt, c.pid, c.pidfd, SIZE, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_harvest_finds_exactly_the_written_pages),
		cmocka_unit_test(test_unregistered_process_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
