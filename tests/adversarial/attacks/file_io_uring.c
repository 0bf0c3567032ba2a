// Attack: create a host file through io_uring (io_uring_setup, mmap of the
// rings, an IORING_OP_OPENAT with O_CREAT, io_uring_enter): the kernel opens
// the file on the ring's behalf, outside any system call filter that looks
// at open/openat only.
// Natively: the file argv[1] is created.
// Under opsub: io_uring_setup is unknown to the personality: -ENOSYS.
#include "attack.h"

struct sqring_off { uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1; uint64_t user_addr; };
struct cqring_off { uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1; uint64_t user_addr; };
struct uring_params {
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3];
	struct sqring_off sq_off;
	struct cqring_off cq_off;
};
struct sqe {
	uint8_t opcode, flags;
	uint16_t ioprio;
	int32_t fd;
	uint64_t off, addr;
	uint32_t len, open_flags;
	uint64_t user_data;
	uint64_t pad[3];
};
struct cqe { uint64_t user_data; int32_t res; uint32_t flags; };

int main(int argc, char **argv)
{
	(void)argc;
	struct uring_params p;
	memset(&p, 0, sizeof(p));
	long fd = sc2(425, 4, &p);
	if (fd < 0) {
		note("io_uring_setup returned %ld", fd);
		return 0;
	}
	size_t sq_len = p.sq_off.array + p.sq_entries * 4, cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct cqe);
	uint8_t *sq = mmap(0, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)fd, 0);
	uint8_t *cq = mmap(0, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)fd, 0x8000000);
	struct sqe *sqes = mmap(0, p.sq_entries * sizeof(struct sqe), PROT_READ | PROT_WRITE,
	                        MAP_SHARED | MAP_POPULATE, (int)fd, 0x10000000);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		note("ring mmap failed: %s", strerror(errno));
		return 0;
	}
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = 18;                      /* IORING_OP_OPENAT */
	sqes[0].fd = AT_FDCWD;
	sqes[0].addr = (uint64_t)(uintptr_t)argv[1];
	sqes[0].len = 0644;
	sqes[0].open_flags = O_CREAT | O_WRONLY;
	uint32_t *tail = (uint32_t *)(sq + p.sq_off.tail), mask = *(uint32_t *)(sq + p.sq_off.ring_mask);
	((uint32_t *)(sq + p.sq_off.array))[*tail & mask] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	long r = sc6(426, fd, 1, 1, 1 /* IORING_ENTER_GETEVENTS */, 0, 0);
	struct cqe *c = (struct cqe *)(cq + p.cq_off.cqes);
	note("io_uring_enter returned %ld, completion %d", r, c[0].res);
	if (c[0].res >= 0)
		escaped("io_uring openat(O_CREAT) gave fd %d", c[0].res);
	return 0;
}
