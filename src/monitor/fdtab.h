/*
 * The guest's descriptors: a table of FD_MAX slots pointing at open file
 * descriptions (struct ofile), shared by dup and counted.  Every kind of
 * object the personality offers is one here: the inherited host stdio
 * (0-2), in-memory files and directories, volume files (host descriptors
 * opened beneath a volume), devices, pipes, eventfds, timerfds, epoll sets
 * and network port descriptors.  All of them live in the monitor; the
 * guest sees only numbers.
 */
#ifndef OPSUB_MONITOR_FDTAB_H
#define OPSUB_MONITOR_FDTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "fs/memfs.h"

#define FD_MAX 1024                 /* RLIMIT_NOFILE, soft and hard */
#define PIPE_CAPACITY 65536u        /* Linux's default pipe size */

enum of_kind {
	OF_STD,       /* a host descriptor the guest inherited (0-2) */
	OF_MEM,       /* memfs file */
	OF_MEMDIR,    /* memfs directory */
	OF_DEV,       /* memfs device node (null, zero, urandom) */
	OF_HOST,      /* a volume's file or directory: host descriptor */
	OF_LINK,      /* O_PATH|O_NOFOLLOW of a link */
	OF_PIPE_R, OF_PIPE_W,
	OF_EVENT,
	OF_TIMER,
	OF_EPOLL,
	OF_PORT,      /* readable while frames wait on a network port */
};

struct pipe_buf {
	uint8_t *data;                  /* PIPE_CAPACITY bytes, a ring */
	uint32_t head, len;
	unsigned readers, writers;
	uint64_t in_gen, out_gen;       /* data came in / room was made (or an end closed): EPOLLET */
};

struct epoll_item {
	int fd;
	struct ofile *of;               /* not counted: removed when of goes */
	uint32_t events;
	uint64_t data;
	uint64_t gen_seen;              /* EPOLLET: the state last reported */
	bool disabled;                  /* EPOLLONESHOT after its report */
};

struct ofile {
	enum of_kind kind;
	unsigned refs;
	int flags;                      /* O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH */
	uint64_t pos;                   /* files: offset; directories: readdir position */
	char *path;                     /* canonical guest path (files and directories) */
	union {
		int host_fd;                        /* OF_STD, OF_HOST */
		struct mnode *node;                 /* OF_MEM, OF_MEMDIR, OF_DEV, OF_LINK */
		struct pipe_buf *pipe;              /* OF_PIPE_R, OF_PIPE_W */
		struct {
			uint64_t count;
			bool semaphore;
			uint64_t gen;
		} event;
		struct {
			int clock;
			uint64_t next_ns;               /* on that clock, 0: disarmed */
			uint64_t interval_ns;
			uint64_t expired;               /* expirations not yet read */
			uint64_t gen;
		} timer;
		struct {
			struct epoll_item *item;
			unsigned n, cap;
		} ep;
		unsigned port;
	};
};

/* Installs descriptors 0-2 as the host's. */
void fd_init(void);

/* A new description of `kind` with one reference (NULL: no memory). */
struct ofile *of_new(enum of_kind kind, int flags);
/* Drops a reference; the last one releases the object. */
void of_put(struct ofile *of);

/* The description behind fd, or NULL (EBADF). */
struct ofile *fd_get(int64_t fd);
/* Puts `of` (reference taken over) at the lowest free descriptor >= min:
 * the descriptor, or -EMFILE (the reference is dropped). */
int fd_install(struct ofile *of, int min, bool cloexec);
/* Puts of at exactly fd, closing what was there (dup2). */
int fd_install_at(struct ofile *of, int fd, bool cloexec);
int fd_close(int64_t fd);
bool fd_cloexec(int fd);
void fd_set_cloexec(int fd, bool on);
/* RLIMIT_NOFILE's soft limit (at most FD_MAX): new descriptors stay below it. */
unsigned fd_limit(void);
void fd_set_limit(unsigned limit);
/* How many descriptors are open; whether 0-2 are open and still the host's. */
unsigned fd_count(void);
bool fd_is_std(int fd);

/* The epoll sets, so that closing a description takes it out of them. */
void epoll_forget(struct ofile *of);
/* Items in all epoll sets together (wait.c bounds it). */
extern unsigned epoll_watches;

#endif
