// Private mmap of a host file (the C library, which --host-libs shows read-only at its host path): whole, at an offset, reaching past the end of the file (the rest of the last page reads as zeros), over an anonymous mapping with MAP_FIXED, writable (private: the file and a second mapping do not change), and starting past the end of the file; each compared byte for byte with pread of the same range.
// variants: mdyn dyn
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

static int fd;
static off_t size;

/* The file's bytes of [off, off + len), zeros past its end. */
static unsigned char *expected(off_t off, size_t len)
{
	unsigned char *b = calloc(1, len);
	if (!b)
		exit(2);
	for (size_t done = 0; done < len;) {
		ssize_t r = pread(fd, b + done, len - done, off + (off_t)done);
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return b;
}

/* Compares a mapping of [off, off + len) with the file; prints the result
 * and the first differing offset, if any. */
static void check(const char *what, const unsigned char *m, off_t off, size_t len)
{
	if (m == MAP_FAILED) {
		printf("%s: mmap failed\n", what);
		return;
	}
	unsigned char *want = expected(off, len);
	size_t i = 0;
	while (i < len && m[i] == want[i])
		i++;
	if (i == len)
		printf("%s: %zu bytes match\n", what, len);
	else
		printf("%s: differs at byte %zu of %zu\n", what, i, len);
	free(want);
}

int main(void)
{
	fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 8 * PAGE) {
		printf("no C library to map\n");
		return 0;
	}
	size = st.st_size;
	off_t last = (size - 1) / PAGE * PAGE;   /* the page holding the last byte */

	check("whole file", mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0), 0, (size_t)size);
	check("3 pages at page 5", mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 5 * PAGE), 5 * PAGE, 3 * PAGE);
	size_t tail = (size_t)(size - last);
	unsigned char *t = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, last);
	check("last page", t, last, PAGE);
	printf("last page: %zu bytes of file, the rest %s\n", tail,
	       t != MAP_FAILED && (tail == PAGE || t[PAGE - 1] == 0) ? "zero" : "not zero");

	/* MAP_FIXED over the middle page of three anonymous ones */
	unsigned char *a = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a != MAP_FAILED) {
		memset(a, 0x5a, 3 * PAGE);
		unsigned char *f = mmap(a + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 2 * PAGE);
		check("MAP_FIXED page", f, 2 * PAGE, PAGE);
		printf("around it: %s\n", a[PAGE - 1] == 0x5a && a[2 * PAGE] == 0x5a ? "kept" : "changed");
	}

	/* writable and private: neither the file nor another mapping sees it */
	unsigned char *w = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PAGE);
	unsigned char *r = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
	if (w != MAP_FAILED && r != MAP_FAILED) {
		unsigned char old = r[100];
		w[100] = (unsigned char)(old + 1);
		check("other mapping after a private write", r, PAGE, 2 * PAGE);
		printf("private write: %s\n", w[100] == (unsigned char)(old + 1) ? "seen by its own mapping" : "lost");
	}

	void *past = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, last + 16 * PAGE);
	printf("mapping past the end: %s\n", past == MAP_FAILED ? "refused" : "ok (touching it would SIGBUS)");
	return 0;
}
