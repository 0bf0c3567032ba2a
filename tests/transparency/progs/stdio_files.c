// stdio on files: fwrite/fread of 1 MB with checksums and varied buffer modes, fseek/ftell/fgetpos, tmpfile(), mkstemp/mkstemps, remove/rename, fdopen/fileno, freopen, getline, fscanf, in a mkdtemp directory under /tmp (removed at the end).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ESPIPE: return "ESPIPE";
	case EACCES: return "EACCES";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static char dir[] = "/tmp/opsub-XXXXXX";

static const char *P(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static uint32_t crc32(const unsigned char *p, size_t n, uint32_t c)
{
	c = ~c;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static unsigned char pat(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char sub[1024];
				snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* Writes 1 MB with fwrite in chunks of `chunk`, under buffer mode `mode`, then reads it back with fread in chunks of `rchunk`. */
static void roundtrip(const char *name, int mode, size_t bufsz, size_t chunk, size_t rchunk)
{
	const size_t total = 1000000;
	static unsigned char data[1000000], back[1000000];
	for (size_t i = 0; i < total; i++)
		data[i] = pat(i);
	FILE *f = fopen(P(name), "wb");
	if (!f) {
		printf("%s: fopen wb %s\n", name, en(errno));
		return;
	}
	if (mode != -1)
		setvbuf(f, NULL, mode, bufsz);
	size_t off = 0, calls = 0;
	while (off < total) {
		size_t n = total - off < chunk ? total - off : chunk;
		size_t w = fwrite(data + off, 1, n, f);
		if (w != n) {
			printf("%s: short fwrite %s\n", name, en(errno));
			break;
		}
		off += w;
		calls++;
	}
	long pos = ftell(f);
	int rc = fclose(f);
	struct stat st;
	stat(P(name), &st);
	printf("%s: %zu fwrite calls, ftell %ld, fclose %d, size %lld\n", name, calls, pos, rc, (long long)st.st_size);
	f = fopen(P(name), "rb");
	memset(back, 0, total);
	off = 0;
	for (;;) {
		size_t r = fread(back + off, 1, off + rchunk > total ? total - off : rchunk, f);
		off += r;
		if (r == 0 || off == total)
			break;
	}
	int c = fgetc(f);
	printf("%s: fread %zu bytes, then fgetc %s feof %d, crc %08x, equal %s\n", name, off, c == EOF ? "EOF" : "data", feof(f) != 0,
	       crc32(back, off, 0), memcmp(back, data, total) == 0 ? "yes" : "no");
	fclose(f);
}

int main(void)
{
	umask(022);
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed: %s\n", en(errno));
		return 1;
	}
	printf("== 1 MB round trips\n");
	roundtrip("default", -1, 0, 4096, 4096);
	roundtrip("odd-chunks", -1, 0, 777, 1333);
	roundtrip("full-buffered-64k", _IOFBF, 65536, 100000, 65536);
	roundtrip("line-buffered", _IOLBF, 1024, 300, 999);
	roundtrip("unbuffered", _IONBF, 0, 50000, 70000);
	roundtrip("one-call", -1, 0, 1000000, 1000000);

	printf("== fseek/ftell/fgetpos in a 1 MB file\n");
	{
		FILE *f = fopen(P("default"), "rb");
		int sr = fseek(f, 500000, SEEK_SET);
		printf("fseek 500000: %d ftell %ld\n", sr, ftell(f));
		unsigned char b[16];
		size_t n = fread(b, 1, 16, f);
		printf("fread 16 at 500000: %zu, matches: %s\n", n, b[0] == pat(500000) && b[15] == pat(500015) ? "yes" : "no");
		sr = fseek(f, -10, SEEK_END);
		printf("fseek -10 SEEK_END: %d ftell %ld\n", sr, ftell(f));
		n = fread(b, 1, 16, f);
		printf("fread 16 near the end: %zu, feof %d\n", n, feof(f) != 0);
		sr = fseek(f, -20, SEEK_CUR);
		printf("fseek -20 SEEK_CUR: %d ftell %ld\n", sr, ftell(f));
		sr = fseek(f, -2000000, SEEK_END);
		printf("fseek before start: %d %s\n", sr, en(errno));
		fpos_t pos;
		fseek(f, 123456, SEEK_SET);
		fgetpos(f, &pos);
		fseek(f, 0, SEEK_SET);
		fsetpos(f, &pos);
		long tl = ftell(f);
		printf("fgetpos/fsetpos: ftell %ld, byte matches %s\n", tl, fgetc(f) == pat(123456) ? "yes" : "no");
		fclose(f);
	}

	printf("== update mode\n");
	{
		FILE *f = fopen(P("upd"), "w+");
		fputs("0123456789\nabcdefghij\n", f);
		rewind(f);
		char line[64];
		fgets(line, sizeof line, f);
		printf("first line: %s", line);
		fseek(f, 0, SEEK_CUR); /* switch from reading to writing */
		fputs("ABCDE", f);
		fflush(f);
		rewind(f);
		while (fgets(line, sizeof line, f))
			printf("line: %s", line);
		fclose(f);
	}

	printf("== fscanf/getline\n");
	{
		FILE *f = fopen(P("nums"), "w");
		for (int i = 0; i < 100; i++)
			fprintf(f, "%d %s %.3f\n", i * i, i % 3 ? "word" : "other", i / 7.0);
		fclose(f);
		f = fopen(P("nums"), "r");
		long sum = 0;
		double dsum = 0;
		int n = 0, x;
		char w[16];
		double d;
		while (fscanf(f, "%d %15s %lf", &x, w, &d) == 3) {
			sum += x;
			dsum += d;
			n += w[0] == 'o';
		}
		printf("fscanf: sum %ld, others %d, dsum %.3f\n", sum, n, dsum);
		rewind(f);
		char *ln = NULL;
		size_t cap = 0;
		ssize_t len;
		int lines = 0;
		size_t chars = 0;
		while ((len = getline(&ln, &cap, f)) > 0) {
			lines++;
			chars += (size_t)len;
		}
		printf("getline: %d lines, %zu chars\n", lines, chars);
		free(ln);
		fclose(f);
	}

	printf("== tmpfile\n");
	{
		int before = count_entries();
		FILE *t = tmpfile();
		printf("tmpfile: %s\n", t ? "ok" : en(errno));
		if (t) {
			for (int i = 0; i < 10000; i++)
				fprintf(t, "%05d\n", i);
			printf("ftell: %ld\n", ftell(t));
			rewind(t);
			char line[16];
			int ok = 1;
			for (int i = 0; i < 10000; i++) {
				char want[16];
				snprintf(want, sizeof want, "%05d\n", i);
				if (!fgets(line, sizeof line, t) || strcmp(line, want))
					ok = 0;
			}
			printf("read back: %s, then EOF: %s\n", ok ? "ok" : "wrong", fgets(line, sizeof line, t) ? "no" : "yes");
			struct stat st;
			fstat(fileno(t), &st);
			printf("fstat: size %lld nlink %lu\n", (long long)st.st_size, (unsigned long)st.st_nlink);
			fclose(t);
		}
		printf("no entries added to our dir: %s\n", count_entries() == before ? "yes" : "no");
	}

	printf("== mkstemp\n");
	{
		char tmpl[600];
		snprintf(tmpl, sizeof tmpl, "%s/stemp-XXXXXX", dir);
		int fd = mkstemp(tmpl);
		printf("mkstemp: %s, name changed: %s, prefix kept: %s\n", fd >= 0 ? "ok" : en(errno), strstr(tmpl, "XXXXXX") ? "no" : "yes",
		       strncmp(tmpl + strlen(dir), "/stemp-", 7) == 0 ? "yes" : "no");
		struct stat st;
		fstat(fd, &st);
		printf("mode %04o size %lld\n", (unsigned)(st.st_mode & 07777), (long long)st.st_size);
		FILE *f = fdopen(fd, "w+");
		printf("fdopen: %s, fileno matches: %s\n", f ? "ok" : en(errno), f && fileno(f) == fd ? "yes" : "no");
		fprintf(f, "temp data %d\n", 42);
		rewind(f);
		char line[64] = {0};
		fgets(line, sizeof line, f);
		printf("read back: %s", line);
		fclose(f);
		printf("entries: %d\n", count_entries());
		printf("remove: %d\n", remove(tmpl));
		int rr = remove(tmpl);
		printf("remove again: %d %s\n", rr, en(errno));
		char t2[600];
		snprintf(t2, sizeof t2, "%s/bad-XXXX", dir);
		fd = mkstemp(t2);
		printf("mkstemp with 4 X: %d %s\n", fd, en(errno));
		snprintf(t2, sizeof t2, "%s/suf-XXXXXX.txt", dir);
		fd = mkstemps(t2, 4);
		printf("mkstemps: %s, suffix kept: %s\n", fd >= 0 ? "ok" : en(errno), strcmp(t2 + strlen(t2) - 4, ".txt") == 0 ? "yes" : "no");
		close(fd);
		unlink(t2);
		snprintf(t2, sizeof t2, "%s/no/such/dir-XXXXXX", dir);
		fd = mkstemp(t2);
		printf("mkstemp in a missing dir: %d %s\n", fd, en(errno));
		/* 50 mkstemp files: all distinct */
		char names[50][600];
		int ok = 1;
		for (int i = 0; i < 50; i++) {
			snprintf(names[i], sizeof names[i], "%s/many-XXXXXX", dir);
			int x = mkstemp(names[i]);
			if (x < 0)
				ok = 0;
			else
				close(x);
		}
		printf("50 mkstemp files: %s, entries %d\n", ok ? "ok" : "failed", count_entries());
		for (int i = 0; i < 50; i++)
			remove(names[i]);
		printf("after removing them: %d\n", count_entries());
		char dt[600];
		snprintf(dt, sizeof dt, "%s/sub-XXXXXX", dir);
		printf("mkdtemp inside: %s\n", mkdtemp(dt) ? "ok" : en(errno));
		printf("remove of an empty dir: %d\n", remove(dt));
	}

	printf("== remove/rename\n");
	{
		FILE *f = fopen(P("r1"), "w");
		fputs("r1", f);
		fclose(f);
		printf("rename r1 r2: %d\n", rename(P("r1"), P("r2")));
		printf("fopen r1: %s\n", fopen(P("r1"), "r") ? "ok" : en(errno));
		f = fopen(P("r2"), "r");
		char b[8] = {0};
		fread(b, 1, 7, f);
		fclose(f);
		printf("r2: %s\n", b);
		printf("remove r2: %d\n", remove(P("r2")));
		int rr = remove(P("r2"));
		printf("remove missing: %d %s\n", rr, en(errno));
		mkdir(P("d"), 0755);
		f = fopen(P("d/x"), "w");
		fclose(f);
		rr = remove(P("d"));
		printf("remove non-empty dir: %d %s\n", rr, en(errno));
		remove(P("d/x"));
		printf("remove dir: %d\n", remove(P("d")));
	}

	printf("== freopen\n");
	{
		FILE *f = fopen(P("fr1"), "w");
		fputs("one\n", f);
		f = freopen(P("fr2"), "w", f);
		printf("freopen: %s\n", f ? "ok" : en(errno));
		fputs("two\n", f);
		fclose(f);
		struct stat s1, s2;
		stat(P("fr1"), &s1);
		stat(P("fr2"), &s2);
		printf("sizes: %lld %lld\n", (long long)s1.st_size, (long long)s2.st_size);
	}

	printf("== errors\n");
	{
		FILE *f = fopen(P("ro"), "w");
		fclose(f);
		f = fopen(P("ro"), "r");
		size_t w = fwrite("abc", 1, 3, f);
		printf("fwrite on a read-only stream: %zu, ferror %d\n", w, ferror(f) != 0);
		clearerr(f);
		printf("after clearerr: ferror %d\n", ferror(f) != 0);
		fclose(f);
		f = fopen(P("wo"), "w");
		int c = fgetc(f);
		printf("fgetc on a write-only stream: %s, ferror %d\n", c == EOF ? "EOF" : "data", ferror(f) != 0);
		fclose(f);
		f = fopen(P("bad"), "q");
		printf("fopen bad mode: %s\n", f ? "ok" : en(errno));
	}

	rm_rf(dir);
	struct stat st;
	printf("cleanup: dir %s\n", stat(dir, &st) < 0 && errno == ENOENT ? "gone" : "still there");
	return 0;
}
