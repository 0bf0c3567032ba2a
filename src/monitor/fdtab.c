#include "monitor/fdtab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/monitor.h"

static struct ofile *table[FD_MAX];
static bool close_on_exec[FD_MAX];
static unsigned open_count;
static unsigned soft_limit = FD_MAX;
/* every live epoll set, so a description that goes leaves them */
static struct ofile **epolls;
static unsigned nepolls, epolls_cap;
unsigned epoll_watches;

struct ofile *of_new(enum of_kind kind, int flags)
{
	struct ofile *of = calloc(1, sizeof(*of));
	if (!of)
		return NULL;
	of->kind = kind;
	of->refs = 1;
	of->flags = flags;
	if (kind == OF_EPOLL) {
		if (nepolls == epolls_cap) {
			unsigned cap = epolls_cap ? 2 * epolls_cap : 8;
			struct ofile **e = realloc(epolls, cap * sizeof(*e));
			if (!e) {
				free(of);
				return NULL;
			}
			epolls = e;
			epolls_cap = cap;
		}
		epolls[nepolls++] = of;
	}
	return of;
}

void epoll_forget(struct ofile *of)
{
	for (unsigned i = 0; i < nepolls; i++) {
		struct ofile *ep = epolls[i];
		for (unsigned j = 0; j < ep->ep.n;)
			if (ep->ep.item[j].of == of) {   /* keeping the order: it is epoll_wait's */
				memmove(&ep->ep.item[j], &ep->ep.item[j + 1], (--ep->ep.n - j) * sizeof(ep->ep.item[0]));
				epoll_watches--;
			}
			else
				j++;
	}
}

static void release(struct ofile *of)
{
	struct memfs *fs = &the_monitor->fs.mem;
	epoll_forget(of);
	switch (of->kind) {
	case OF_STD: break;   /* the host descriptor stays: opsub reports through it */
	case OF_HOST: close(of->host_fd); break;
	case OF_MEM: case OF_MEMDIR: case OF_DEV: case OF_LINK: memfs_put(fs, of->node); break;
	case OF_PIPE_R: case OF_PIPE_W: {
		struct pipe_buf *p = of->pipe;
		*(of->kind == OF_PIPE_R ? &p->readers : &p->writers) -= 1;
		p->in_gen++;
		p->out_gen++;
		if (!p->readers && !p->writers) {
			free(p->data);
			free(p);
			memfs_uncharge(fs, PIPE_CAPACITY);
		}
		break;
	}
	case OF_EPOLL:
		epoll_watches -= of->ep.n;
		free(of->ep.item);
		for (unsigned i = 0; i < nepolls; i++)
			if (epolls[i] == of)
				epolls[i] = epolls[--nepolls];
		break;
	default: break;
	}
	free(of->path);
	free(of);
}

void of_put(struct ofile *of)
{
	if (of && --of->refs == 0)
		release(of);
}

void fd_init(void)
{
	for (int fd = 0; fd < 3; fd++) {
		struct ofile *of = of_new(OF_STD, fd == 0 ? O_RDONLY : O_WRONLY);
		if (!of)
			abort();
		of->host_fd = fd;
		table[fd] = of;
	}
	open_count = 3;
}

struct ofile *fd_get(int64_t fd)
{
	return fd >= 0 && fd < FD_MAX ? table[fd] : NULL;
}

int fd_install_at(struct ofile *of, int fd, bool cloexec)
{
	if (table[fd])
		of_put(table[fd]);
	else
		open_count++;
	table[fd] = of;
	close_on_exec[fd] = cloexec;
	return fd;
}

int fd_install(struct ofile *of, int min, bool cloexec)
{
	for (int fd = min < 0 ? 0 : min; fd < (int)soft_limit; fd++)
		if (!table[fd])
			return fd_install_at(of, fd, cloexec);
	of_put(of);
	return -EMFILE;
}

int fd_close(int64_t fd)
{
	struct ofile *of = fd_get(fd);
	if (!of)
		return -EBADF;
	table[fd] = NULL;
	open_count--;
	of_put(of);
	return 0;
}

unsigned fd_limit(void) { return soft_limit; }
void fd_set_limit(unsigned limit) { soft_limit = limit < FD_MAX ? limit : FD_MAX; }

bool fd_cloexec(int fd) { return close_on_exec[fd]; }
void fd_set_cloexec(int fd, bool on) { close_on_exec[fd] = on; }
unsigned fd_count(void) { return open_count; }

bool fd_is_std(int fd)
{
	return table[fd] && table[fd]->kind == OF_STD && table[fd]->host_fd == fd;
}
