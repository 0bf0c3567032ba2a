/*
 * A read-only shared mapping of a file, as the JDK maps its lib/modules
 * and glibc its gconv-modules.cache: argv[1] mapped MAP_SHARED, PROT_READ;
 * prints its length and a checksum of the mapped bytes, then what a
 * writable shared mapping of the read-only descriptor gives (EACCES).
 * Run natively and under opsub on a file of a volume: the same output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		return 2;
	const uint8_t *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		printf("read-only shared mapping: %s\n", strerror(errno));
		return 1;
	}
	uint64_t sum = 0;
	for (off_t i = 0; i < st.st_size; i++)
		sum = sum * 31 + p[i];
	printf("read-only shared mapping: %lld bytes, sum %016llx\n", (long long)st.st_size, (unsigned long long)sum);
	void *w = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("writable shared mapping of a read-only descriptor: %s\n", w == MAP_FAILED ? strerror(errno) : "mapped");
	return 0;
}
