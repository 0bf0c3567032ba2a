// Attack: readv/writev with iovecs outside the sandbox: an iov_base in host
// memory, the iovec array itself in host memory, an iov straddling 4 GiB,
// one running off the top of guest memory, a wrapping length, a huge count.
// Natively: the host-memory cases succeed (ESCAPED).
// Under opsub: -EFAULT / -EINVAL.
// variants: readv writev
// stdin: hostaddr
#include "attack.h"
#include <sys/uio.h>

int main(int argc, char **argv)
{
	int rd = !strcmp(variant(argc, argv), "readv");
	long nr = rd ? SYS_readv : SYS_writev, fd = rd ? 0 : 2;
	get_targets();
	map_4g_edge();
	uint64_t top = stack_top();
	static char local[64];
	struct iovec iov;
	/* iov_base outside */
	iov = (struct iovec){(void *)(uintptr_t)(rd ? T.rw : T.data), 32};
	sys_case(rd ? "readv base-host" : "writev base-host", (uint64_t)(uintptr_t)iov.iov_base, 32, sc3(nr, fd, &iov, 1), 32);
	/* the array itself outside (natively a valid iovec is put there) */
	uint64_t arr = T.rw + 0x100;
	if (T.native)
		*(struct iovec *)(uintptr_t)arr = (struct iovec){local, 16};
	sys_case(rd ? "readv array-host" : "writev array-host", arr, 1, sc3(nr, fd, arr, 1), 16);
	/* straddling 4 GiB, off the top, wrapping */
	iov = (struct iovec){(void *)(uintptr_t)(FOUR_GIB - 0x1000), 0x2000};
	sys_case("iov straddle-4G", FOUR_GIB - 0x1000, 0x2000, sc3(nr, fd, &iov, 1), 0x2000);
	iov = (struct iovec){(void *)(uintptr_t)(top - 0x1000), 0x2000};
	sys_case("iov off-top", top - 0x1000, 0x2000, sc3(nr, fd, &iov, 1), 0x2000);
	iov = (struct iovec){(void *)0x1000, (size_t)0xffffffffffff0000ull};
	sys_case("iov wrap", 0x1000, 0xffffffffffff0000ull, sc3(nr, fd, &iov, 1), 0x10000);
	struct iovec two[2] = {{local, 0x7fffffffffffffffull}, {local, 0x7fffffffffffffffull}};
	sys_case("iov sum-wrap", (uint64_t)(uintptr_t)local, 2, sc3(nr, fd, two, 2), 0x10);
	sys_case("iov count", (uint64_t)(uintptr_t)local, 1ull << 40, sc3(nr, fd, local, 1ull << 40), 0);
	return 0;
}
