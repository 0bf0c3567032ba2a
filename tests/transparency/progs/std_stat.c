// stdin: stdin_checksum.in
// Programs size their input by fstat and check whether their input is their output (cat): fstat of descriptors 0-2 given by the host says the kind of file, a regular file's size, and which of them are the same file, as natively.
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
	struct stat in, out, err;
	if (fstat(0, &in) || fstat(1, &out) || fstat(2, &err)) {
		perror("fstat");
		return 1;
	}
	char buf[4096];
	long total = 0;
	for (ssize_t n; (n = read(0, buf, sizeof(buf))) > 0;)
		total += n;
	printf("stdin regular: %d, its size read to the end: %d\n", S_ISREG(in.st_mode), in.st_size == total);
	printf("stdin readable by its owner: %d\n", (in.st_mode & S_IRUSR) != 0);
	printf("stdin is stdout: %d\n", in.st_dev == out.st_dev && in.st_ino == out.st_ino);
	printf("stdout is stdout: %d\n", fstat(1, &err) == 0 && err.st_dev == out.st_dev && err.st_ino == out.st_ino);
	return 0;
}
