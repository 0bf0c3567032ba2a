/*
 * SQLite on-disk workload for opsub: a database FILE with a rollback journal
 * (journal_mode=DELETE) and real temporary files (the build leaves
 * SQLITE_TEMP_STORE at its default, and a small cache makes sorts, index
 * builds and VACUUM spill to temp files), so SQLite's unix VFS drives the
 * guest file system: open/openat with O_CREAT|O_EXCL|O_CLOEXEC, pread/pwrite,
 * fstat, ftruncate, fsync/fdatasync, fcntl(F_SETLK) locks, unlink of journals
 * and of temp files while they are open, access, getcwd, /dev/urandom.
 *
 * Usage: disk [DIR [N]]   DIR: an existing directory to work in (default: a
 *                         new mkdtemp("/tmp/opsub-XXXXXX"), removed at the end)
 *                         N:   rows (default 60000)
 *
 * Prints row counts, FNV-1a hashes of query results, integrity_check results,
 * a hash of the database file's bytes after it is closed, the sorted names in
 * the directory (journal and temp files must be gone), and whether temp files
 * and journals were opened (counted by a VFS shim over the default VFS; the
 * exact counts go to stderr). Nothing printed depends on time, addresses,
 * paths or randomness (SQLite reads /dev/urandom for temp file names and
 * journal nonces; neither reaches stdout or the database file).
 * Any SQLite error: message on stderr, exit status 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite3.h"

#define DEFAULT_N 60000

static sqlite3 *db;
static char path[4096];

/* ---- errors -------------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "disk: %s: %s (code %d)\n", what, db ? sqlite3_errmsg(db) : "no database",
		db ? sqlite3_extended_errcode(db) : -1);
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc != SQLITE_OK)
		die(what);
}

/* ---- a VFS shim that counts what the default VFS opens ------------------- */

static sqlite3_vfs shim;
static sqlite3_vfs *base_vfs;
static int n_main_db, n_main_journal, n_temp, n_other;

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
	(void)vfs;
	if (flags & SQLITE_OPEN_MAIN_DB)
		n_main_db++;
	else if (flags & SQLITE_OPEN_MAIN_JOURNAL)
		n_main_journal++;
	else if (flags & (SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_SUBJOURNAL))
		n_temp++;
	else
		n_other++;
	return base_vfs->xOpen(base_vfs, name, file, flags, out);
}

static void shim_install(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs) {
		fprintf(stderr, "disk: no default VFS\n");
		exit(1);
	}
	shim = *base_vfs;
	shim.zName = "counting";
	shim.pNext = NULL;
	shim.xOpen = shim_open;
	if (sqlite3_vfs_register(&shim, 1) != SQLITE_OK) {
		fprintf(stderr, "disk: cannot register the VFS shim\n");
		exit(1);
	}
}

/* ---- hashing and helpers ------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3u;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325u

static void exec(const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "disk: exec failed: %s\n  in: %.200s\n", err ? err : sqlite3_errmsg(db), sql);
		sqlite3_free(err);
		exit(1);
	}
}

static sqlite3_stmt *prepare(const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "disk: prepare failed: %s\n  in: %.200s\n", sqlite3_errmsg(db), sql);
		exit(1);
	}
	return st;
}

/* Runs a query, hashing every value in order; prints rows, hash and the first `show` rows. */
static uint64_t query(const char *label, int show, const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	int ncol = sqlite3_column_count(st);
	uint64_t h = FNV_INIT;
	long rows = 0;
	int rc;
	char first[4][256];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char line[256];
		size_t len = 0;
		line[0] = 0;
		for (int i = 0; i < ncol; i++) {
			int t = sqlite3_column_type(st, i);
			unsigned char tb = (unsigned char)t;
			h = fnv(h, &tb, 1);
			const void *p;
			int n;
			if (t == SQLITE_BLOB) {
				p = sqlite3_column_blob(st, i);
				n = sqlite3_column_bytes(st, i);
			} else {
				p = sqlite3_column_text(st, i);
				n = sqlite3_column_bytes(st, i);
			}
			if (p && n > 0)
				h = fnv(h, p, (size_t)n);
			if (rows < show && len < sizeof line - 40) {
				if (t == SQLITE_BLOB)
					len += (size_t)snprintf(line + len, sizeof line - len, "%s<blob %d>", i ? "|" : "", n);
				else
					len += (size_t)snprintf(line + len, sizeof line - len, "%s%.40s", i ? "|" : "", p ? (const char *)p : "NULL");
			}
		}
		if (rows < show && rows < 4)
			snprintf(first[rows], sizeof first[rows], "%s", line);
		rows++;
	}
	if (rc != SQLITE_DONE)
		die(label);
	sqlite3_finalize(st);
	printf("%s: rows=%ld hash=%016" PRIx64 "\n", label, rows, h);
	for (long i = 0; i < rows && i < show && i < 4; i++)
		printf("  %s\n", first[i]);
	return h;
}

static int64_t scalar(const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	if (sqlite3_step(st) != SQLITE_ROW)
		die(sql);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void open_db(void)
{
	check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "counting"), "open");
	exec("PRAGMA journal_mode=DELETE");
	exec("PRAGMA cache_size=-200");  /* 200 KiB: sorts and index builds spill to temp files */
	exec("PRAGMA synchronous=FULL"); /* fsync the journal and the database */
}

static void close_db(void)
{
	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	db = NULL;
}

/* ---- deterministic data --------------------------------------------------- */

static uint64_t rng_state = 0x6469736b2d7271u;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
			      "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"};

/* ---- the file's bytes ----------------------------------------------------- */

static void file_hash(const char *label)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "disk: cannot reopen %s: %s\n", path, strerror(errno));
		exit(1);
	}
	uint64_t h = FNV_INIT;
	long total = 0;
	unsigned char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		h = fnv(h, buf, n);
		total += (long)n;
	}
	fclose(f);
	printf("%s: %ld bytes, hash=%016" PRIx64 "\n", label, total, h);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(const char *dir, const char *label)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "disk: opendir %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], cmpstr);
	printf("%s:", label);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void rm_rf(const char *p)
{
	struct stat st;
	if (lstat(p, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(p);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char sub[4096];
				snprintf(sub, sizeof sub, "%s/%s", p, e->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(p);
	} else {
		unlink(p);
	}
}

/* ---- the workload ---------------------------------------------------------- */

static void load(int n)
{
	exec("CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL, d BLOB, e TEXT)");
	exec("CREATE TABLE k(name TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID");
	sqlite3_stmt *ins = prepare("INSERT INTO t(id, a, b, c, d, e) VALUES (?, ?, ?, ?, ?, ?)");
	int per_txn = n / 6 + 1;
	for (int i = 1; i <= n; i++) {
		if ((i - 1) % per_txn == 0)
			exec("BEGIN");
		uint64_t r = rng_next();
		char b[64], e[32];
		unsigned char d[40];
		snprintf(b, sizeof b, "%s-%s-%05u", words[r & 15], words[(r >> 4) & 15], (unsigned)((r >> 8) % 100000));
		snprintf(e, sizeof e, "e%u", (unsigned)((r >> 40) % 977));
		for (int k = 0; k < 40; k++)
			d[k] = (unsigned char)(rng_next() >> 56);
		sqlite3_bind_int(ins, 1, i);
		sqlite3_bind_int64(ins, 2, (int64_t)((r >> 20) % 1000000) - 500000);
		sqlite3_bind_text(ins, 3, b, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(ins, 4, (double)((r >> 12) % 1000003) / 1009.0);
		sqlite3_bind_blob(ins, 5, d, (int)(r % 41), SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 6, e, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("insert");
		sqlite3_reset(ins);
		if (i % per_txn == 0 || i == n)
			exec("COMMIT");
	}
	sqlite3_finalize(ins);
	exec("INSERT INTO k SELECT e, count(*) FROM t GROUP BY e");
}

static void queries(const char *tag)
{
	char label[64];
#define Q(name, show, sql) (snprintf(label, sizeof label, "%s %s", tag, name), query(label, show, sql))
	Q("totals", 1, "SELECT count(*), sum(a), printf('%.3f', total(c)), sum(length(d)), count(DISTINCT e) FROM t");
	Q("order by c desc, b", 3, "SELECT id, a, b, printf('%.4f', c) FROM t ORDER BY c DESC, b, id");
	Q("order by unindexed text", 2, "SELECT b, id FROM t ORDER BY e, b DESC, id");
	Q("order by blob", 2, "SELECT id, hex(d) FROM t ORDER BY d, id");
	Q("group by", 3, "SELECT e, count(*), sum(a), min(b), max(b) FROM t GROUP BY e ORDER BY count(*) DESC, e");
	Q("distinct", 2, "SELECT DISTINCT substr(b, 1, instr(b, '-') - 1) AS w, a % 7 FROM t ORDER BY w, 2");
	Q("window", 2, "SELECT id, sum(a) OVER (PARTITION BY e ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) FROM t ORDER BY id LIMIT 5000");
	Q("join", 2, "SELECT k.name, k.v, count(t.id) FROM k JOIN t ON t.e = k.name AND t.a > 0 GROUP BY k.name ORDER BY k.v DESC, k.name");
#undef Q
}

int main(int argc, char **argv)
{
	char dirbuf[] = "/tmp/opsub-XXXXXX";
	const char *dir;
	int own_dir = 0;
	int n = DEFAULT_N;
	if (argc > 1 && argv[1][0]) {
		dir = argv[1];
	} else {
		if (!mkdtemp(dirbuf)) {
			fprintf(stderr, "disk: mkdtemp: %s\n", strerror(errno));
			return 1;
		}
		dir = dirbuf;
		own_dir = 1;
	}
	if (argc > 2)
		n = atoi(argv[2]);
	if (n < 100)
		n = 100;
	/* Temp files go to our directory (SQLite otherwise tries /var/tmp, /usr/tmp, /tmp, .). */
	sqlite3_temp_directory = sqlite3_mprintf("%s", dir);
	snprintf(path, sizeof path, "%s/test.db", dir);
	shim_install();
	printf("sqlite %s, rows %d\n", sqlite3_libversion(), n);

	open_db();
	query("journal_mode", 1, "PRAGMA journal_mode");
	load(n);
	printf("after load: page_count %" PRId64 ", rows %" PRId64 "\n", scalar("PRAGMA page_count"), scalar("SELECT count(*) FROM t"));
	queries("unindexed");

	/* Index builds: the sorter spills to temp files with this cache size. */
	exec("CREATE INDEX t_b ON t(b)");
	exec("CREATE INDEX t_ec ON t(e, c)");
	exec("CREATE INDEX t_d ON t(d)");
	query("index t_b order", 2, "SELECT b FROM t INDEXED BY t_b ORDER BY b");
	queries("indexed");

	/* A temp table (in a temp database file) joined with the main one. */
	exec("CREATE TEMP TABLE tt AS SELECT id, a * 2 AS a2, b FROM t WHERE id % 3 = 0");
	query("temp join", 2, "SELECT count(*), sum(tt.a2 - t.a) FROM tt JOIN t USING(id)");
	query("temp order", 2, "SELECT id, b FROM tt ORDER BY b DESC, id");
	exec("DROP TABLE tt");

	/* A big transaction that is rolled back: the journal restores every page. */
	int64_t before = scalar("SELECT sum(a) FROM t");
	exec("BEGIN");
	exec("UPDATE t SET a = a + 1, b = b || '-x', d = zeroblob(100)");
	exec("DELETE FROM t WHERE id % 2 = 0");
	printf("inside the transaction: rows %" PRId64 "\n", scalar("SELECT count(*) FROM t"));
	exec("ROLLBACK");
	printf("after rollback: sum(a) unchanged %s, rows %" PRId64 "\n", scalar("SELECT sum(a) FROM t") == before ? "yes" : "no",
	       scalar("SELECT count(*) FROM t"));
	query("integrity after rollback", 1, "PRAGMA integrity_check");

	/* A savepoint rolled back inside a committed transaction (statement journals). */
	exec("BEGIN");
	exec("UPDATE t SET c = c * 2 WHERE id % 5 = 0");
	exec("SAVEPOINT s1");
	exec("DELETE FROM t WHERE id % 7 = 0");
	exec("ROLLBACK TO s1");
	exec("RELEASE s1");
	exec("COMMIT");
	queries("after update");

	/* Delete a third, then VACUUM (rebuilds through a temp database). */
	exec("DELETE FROM t WHERE id % 3 = 1");
	printf("before vacuum: freelist_count > 0: %s\n", scalar("PRAGMA freelist_count") > 0 ? "yes" : "no");
	exec("VACUUM");
	printf("after vacuum: freelist_count %" PRId64 ", page_count %" PRId64 "\n", scalar("PRAGMA freelist_count"), scalar("PRAGMA page_count"));
	query("integrity after vacuum", 1, "PRAGMA integrity_check");
	close_db();

	file_hash("database file");
	list_dir(dir, "directory after close");

	/* Reopen the file and check it. */
	open_db();
	query("integrity after reopen", 1, "PRAGMA integrity_check");
	query("quick_check", 1, "PRAGMA quick_check");
	queries("reopened");
	query("schema", 8, "SELECT type, name, tbl_name FROM sqlite_schema ORDER BY name");
	close_db();
	file_hash("database file after reopen");


	/* Two connections to the file, the reader with mmap_size set: SQLite maps
	 * the file MAP_SHARED read-only and the writer changes it with pwrite;
	 * the reader must see every commit (a mapping that is only a snapshot
	 * would show stale pages; a refused mmap is fine: SQLite falls back to
	 * read()). */
	{
		sqlite3 *w = NULL, *r = NULL;
		check(sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, "counting"), "open writer");
		check(sqlite3_open_v2(path, &r, SQLITE_OPEN_READWRITE, "counting"), "open reader");
		db = r;
		exec("PRAGMA mmap_size=268435456");
		for (int i = 0; i < 4; i++) {
			db = r;
			int64_t s = scalar("SELECT sum(a) FROM t");
			int64_t c = scalar("SELECT count(*) FROM t WHERE b LIKE '%-y%'");
			printf("reader with mmap, round %d: sum(a) %" PRId64 ", marked rows %" PRId64 "\n", i, s, c);
			db = w;
			exec("UPDATE t SET a = a + 7, b = b || '-y' WHERE id % 5 = 0");
		}
		db = r;
		query("reader integrity", 1, "PRAGMA integrity_check");
		check(sqlite3_close(w), "close writer");
		check(sqlite3_close(r), "close reader");
		db = NULL;
	}

	/* Only booleans on stdout: the exact counts depend on SQLite's spill decisions. */
	fprintf(stderr, "disk: opens: main db %d, main journal %d, temp %d, other %d\n", n_main_db, n_main_journal, n_temp, n_other);
	printf("opened the database file: %s\n", n_main_db >= 2 ? "yes" : "no");
	printf("used rollback journals: %s\n", n_main_journal >= 6 ? "yes" : "no");
	printf("used temp files: %s\n", n_temp >= 3 ? "yes" : "no");

	if (own_dir) {
		rm_rf(dir);
		struct stat st;
		printf("cleanup: %s\n", stat(dir, &st) < 0 && errno == ENOENT ? "gone" : "still there");
	} else {
		unlink(path);
	}
	sqlite3_free(sqlite3_temp_directory);
	sqlite3_temp_directory = NULL;
	return 0;
}
