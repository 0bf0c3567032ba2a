/*
 * SQLite workload for opsub: a deterministic program that drives the SQLite
 * amalgamation through a broad mix of engine features on an in-memory
 * database and prints what it finds, so that any divergence between a native
 * run and a run under the translator shows up in stdout.
 *
 * Usage: workload [N]    N = number of order rows (default DEFAULT_N)
 *
 * Every SQLite error is fatal: a message on stderr and exit status 1.
 * Nothing here depends on time, addresses or real randomness: the data comes
 * from a fixed-seed PRNG, SQL never calls random() or 'now', and SQLite is
 * built with SQLITE_OMIT_RANDOMNESS so its internal PRNG (used by FTS5 and
 * VACUUM) starts from a fixed state instead of reading /dev/urandom.
 *
 * Build flags and the native-vs-opsub comparison live in run.sh.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

#define DEFAULT_N 10000

static sqlite3 *db;

/* ---- errors ------------------------------------------------------------ */

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s (code %d)\n", what,
		db ? sqlite3_errmsg(db) : "no database",
		db ? sqlite3_extended_errcode(db) : -1);
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc != SQLITE_OK)
		die(what);
}

/* ---- deterministic PRNG (splitmix64) ------------------------------------- */

static uint64_t rng_state = 0x6f70737562u; /* fixed seed */

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static int64_t rng_below(int64_t n)
{
	return (int64_t)(rng_next() % (uint64_t)n);
}

/* ---- result hashing (FNV-1a 64) ------------------------------------------ */

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

/* ---- helpers ------------------------------------------------------------- */

static void exec(const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "workload: exec failed: %s\n  in: %.200s\n",
			err ? err : sqlite3_errmsg(db), sql);
		sqlite3_free(err);
		exit(1);
	}
}

static sqlite3_stmt *prepare(const char *sql)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
		fprintf(stderr, "workload: prepare failed: %s\n  in: %.200s\n",
			sqlite3_errmsg(db), sql);
		exit(1);
	}
	if (st == NULL || (tail && strspn(tail, " \t\r\n;") != strlen(tail))) {
		fprintf(stderr, "workload: expected exactly one statement in: %.200s\n", sql);
		exit(1);
	}
	return st;
}

/* Steps a statement that returns no rows; checks it completed. */
static void step_done(sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(what);
	check(sqlite3_reset(st), what);
}

/* Runs a query returning one integer. */
static int64_t scalar(const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	if (sqlite3_step(st) != SQLITE_ROW)
		die(sql);
	int64_t v = sqlite3_column_int64(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		die(sql);
	sqlite3_finalize(st);
	return v;
}

/* A growable text buffer for the sample rows. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			fprintf(stderr, "workload: out of memory\n");
			exit(1);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends one value the way the sample rows show it. */
static void sb_value(struct sbuf *b, sqlite3_stmt *st, int i)
{
	char hex[4];
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		sb_str(b, "NULL");
		break;
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		sb_str(b, "x'");
		for (int k = 0; k < n && k < 32; k++) {
			snprintf(hex, sizeof hex, "%02x", p[k]);
			sb_str(b, hex);
		}
		sb_str(b, n > 32 ? "...'" : "'");
		break;
	}
	default: {
		const char *t = (const char *)sqlite3_column_text(st, i);
		int n = sqlite3_column_bytes(st, i), k = n;
		if (n > 100) { /* cut long text at a UTF-8 character boundary */
			k = 100;
			while (k > 0 && (t[k] & 0xc0) == 0x80)
				k--;
		}
		sb_add(b, t, (size_t)k);
		if (k < n)
			sb_str(b, "...");
		break;
	}
	}
}

/*
 * Runs a query to completion, hashing every value (its type and its text or
 * blob bytes) in order, and prints "label: rows=R hash=H" followed by the
 * first `show` rows; show = -k prints the first k rows and the last one.
 */
static uint64_t query(const char *label, int show, const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	int ncol = sqlite3_column_count(st);
	uint64_t h = FNV_INIT;
	int64_t rows = 0;
	int first = show < 0 ? -show : show;
	struct sbuf head = {0}, last = {0};
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sbuf *row = rows < first ? &head : show < 0 ? &last : NULL;
		if (row == &last)
			last.len = 0;
		for (int i = 0; i < ncol; i++) {
			int type = sqlite3_column_type(st, i);
			unsigned char tb = (unsigned char)type;
			h = fnv(h, &tb, 1);
			if (type == SQLITE_BLOB) {
				const void *b = sqlite3_column_blob(st, i);
				h = fnv(h, b, (size_t)sqlite3_column_bytes(st, i));
			} else if (type != SQLITE_NULL) {
				const unsigned char *t = sqlite3_column_text(st, i);
				h = fnv(h, t, (size_t)sqlite3_column_bytes(st, i));
			}
			h = fnv(h, "\x1f", 1);
			if (row) {
				sb_str(row, i == 0 ? "  | " : " | ");
				sb_value(row, st, i);
			}
		}
		if (row)
			sb_str(row, "\n");
		h = fnv(h, "\x1e", 1);
		rows++;
	}
	if (rc != SQLITE_DONE)
		die(label);
	sqlite3_finalize(st);
	printf("%s: rows=%" PRId64 " hash=%016" PRIx64 "\n", label, rows, h);
	if (head.len)
		fputs(head.p, stdout);
	if (last.len)
		printf("  ...\n%s", last.p);
	free(head.p);
	free(last.p);
	return h;
}

/* ---- data generation ------------------------------------------------------ */

static const char *const syllables[] = {
	"ka", "lo", "mi", "ra", "zen", "tor", "vi", "bel", "an", "ostr",
	"qu", "ël", "jo", "ny", "sä", "dre", "fu", "gar", "hil", "ix",
};
#define NSYL (sizeof syllables / sizeof syllables[0])

static const char *const words[] = {
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
	"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
	"xray", "yankee", "zulu", "amber", "basalt", "cobalt", "dune", "ember",
	"fjord", "granite", "harbor", "iris", "jade", "kelp", "lagoon", "marble",
	"nickel", "onyx", "pebble", "quartz", "reef", "slate", "tundra", "umber",
	"velvet", "willow", "xenon", "yarrow", "zinc", "urgent", "fragile",
	"gift", "bulk", "return", "express", "café", "naïve", "Ærø", "Łódź",
	"東京", "ñandú",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const cities[][2] = {
	{"Amsterdam", "NL"}, {"Berlin", "DE"}, {"Cairo", "EG"}, {"Dublin", "IE"},
	{"Edinburgh", "GB"}, {"Florence", "IT"}, {"Geneva", "CH"}, {"Helsinki", "FI"},
	{"Istanbul", "TR"}, {"Jakarta", "ID"}, {"Kraków", "PL"}, {"Lisbon", "PT"},
	{"Montréal", "CA"}, {"Nairobi", "KE"}, {"Osaka", "JP"}, {"Porto", "PT"},
	{"Quito", "EC"}, {"Reykjavík", "IS"}, {"São Paulo", "BR"}, {"Tallinn", "EE"},
	{"Utrecht", "NL"}, {"Valparaíso", "CL"}, {"Warsaw", "PL"}, {"Xi'an", "CN"},
	{"Yerevan", "AM"}, {"Zürich", "CH"}, {"Århus", "DK"}, {"Łódź", "PL"},
	{"Bengaluru", "IN"}, {"Córdoba", "AR"}, {"Durban", "ZA"}, {"Oslo", "NO"},
};
#define NCITIES (sizeof cities / sizeof cities[0])

static const char *const categories[] = {
	"books", "garden", "kitchen", "toys", "audio", "tools", "sports",
	"office", "pets", "games", "outdoor", "health",
};
#define NCATS (sizeof categories / sizeof categories[0])

static const char *const statuses[] = {
	"new", "paid", "paid", "shipped", "shipped", "shipped", "done", "done",
	"done", "done", "cancelled",
};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

static void make_name(char *buf, size_t sz)
{
	size_t n = 0;
	for (int part = 0; part < 2; part++) {
		int k = 2 + (int)rng_below(2);
		if (part)
			buf[n++] = ' ';
		size_t start = n;
		for (int i = 0; i < k; i++)
			n += (size_t)snprintf(buf + n, sz - n, "%s", syllables[rng_below(NSYL)]);
		if (buf[start] >= 'a' && buf[start] <= 'z')
			buf[start] = (char)(buf[start] - 'a' + 'A');
	}
}

static void make_text(char *buf, size_t sz, int minw, int maxw)
{
	size_t n = 0;
	int k = minw + (int)rng_below(maxw - minw + 1);
	for (int i = 0; i < k; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i ? " " : "",
				      words[rng_below(NWORDS)]);
}

/* ---- phases --------------------------------------------------------------- */

static void create_schema(void)
{
	exec("PRAGMA foreign_keys = ON;"
	     "PRAGMA cache_size = 64;" /* small: the data and sorts outgrow it */
	     "CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	     "  country TEXT NOT NULL, lat REAL, lon REAL);"
	     "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	     "  email TEXT UNIQUE, city_id INT REFERENCES cities(id),"
	     "  tier INT CHECK (tier BETWEEN 0 AND 4), balance REAL DEFAULT 0,"
	     "  joined INT, manager_id INT REFERENCES customers(id));"
	     "CREATE TABLE products(id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE,"
	     "  title TEXT, category TEXT, price REAL NOT NULL, attrs TEXT);"
	     "CREATE TABLE orders(id INTEGER PRIMARY KEY,"
	     "  customer_id INT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	     "  product_id INT NOT NULL REFERENCES products(id),"
	     "  qty INT NOT NULL, unit_price REAL NOT NULL, day INT NOT NULL,"
	     "  status TEXT NOT NULL, note TEXT);"
	     "CREATE INDEX orders_cust_day ON orders(customer_id, day);"
	     "CREATE INDEX orders_prod ON orders(product_id);"
	     "CREATE INDEX orders_open ON orders(status, day) WHERE status <> 'done';"
	     "CREATE INDEX customers_city ON customers(city_id);"
	     "CREATE INDEX customers_manager ON customers(manager_id);"
	     "CREATE INDEX customers_lname ON customers(lower(name));"
	     "CREATE TABLE audit(id INTEGER PRIMARY KEY, action TEXT, ref INT, info TEXT);"
	     "CREATE TABLE kv(k TEXT PRIMARY KEY, v INT NOT NULL) WITHOUT ROWID;"
	     "CREATE TRIGGER orders_deleted AFTER DELETE ON orders BEGIN"
	     "  INSERT INTO audit(action, ref, info)"
	     "  VALUES ('del', old.id, old.status || ':' || old.qty); END;"
	     "CREATE TRIGGER customers_tier AFTER UPDATE OF tier ON customers"
	     "  WHEN new.tier > old.tier BEGIN"
	     "  INSERT INTO audit(action, ref, info)"
	     "  VALUES ('tier', new.id, old.tier || '->' || new.tier); END;"
	     "CREATE VIEW order_totals AS"
	     "  SELECT o.id, o.customer_id, o.product_id, o.qty * o.unit_price AS total,"
	     "         o.day, o.status FROM orders o;"
	     "CREATE VIRTUAL TABLE docs USING fts5(title, body);");
}

struct sizes {
	int64_t orders, customers, products, docs;
};

static void populate(const struct sizes *sz)
{
	char name[128], text[512], buf[64];
	double *prices = malloc(sizeof(double) * (size_t)(sz->products + 1));
	if (!prices) {
		fprintf(stderr, "workload: out of memory\n");
		exit(1);
	}

	exec("BEGIN");
	sqlite3_stmt *st = prepare("INSERT INTO cities(id, name, country, lat, lon)"
				   " VALUES (?1, ?2, ?3, ?4, ?5)");
	for (int i = 0; i < (int)NCITIES; i++) {
		check(sqlite3_bind_int(st, 1, i + 1), "bind");
		check(sqlite3_bind_text(st, 2, cities[i][0], -1, SQLITE_STATIC), "bind");
		check(sqlite3_bind_text(st, 3, cities[i][1], -1, SQLITE_STATIC), "bind");
		check(sqlite3_bind_double(st, 4, (double)(rng_below(1600000) - 800000) / 10000.0), "bind");
		check(sqlite3_bind_double(st, 5, (double)(rng_below(3600000) - 1800000) / 10000.0), "bind");
		step_done(st, "insert city");
	}
	sqlite3_finalize(st);

	st = prepare("INSERT INTO customers(id, name, email, city_id, tier, joined, manager_id)"
		     " VALUES (?1, ?2, lower(replace(?2, ' ', '.')) || '.' || ?1 || '@example.test',"
		     "         ?3, ?4, ?5, ?6)");
	for (int64_t i = 1; i <= sz->customers; i++) {
		make_name(name, sizeof name);
		check(sqlite3_bind_int64(st, 1, i), "bind");
		check(sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT), "bind");
		check(sqlite3_bind_int64(st, 3, 1 + rng_below(NCITIES)), "bind");
		check(sqlite3_bind_int64(st, 4, rng_below(4)), "bind");
		check(sqlite3_bind_int64(st, 5, rng_below(730)), "bind");
		if (i <= 3)
			check(sqlite3_bind_null(st, 6), "bind");
		else /* managers are earlier customers: a tree for the recursive CTE */
			check(sqlite3_bind_int64(st, 6, 1 + rng_below(i / 2 + 1)), "bind");
		step_done(st, "insert customer");
	}
	sqlite3_finalize(st);

	st = prepare("INSERT INTO products(id, sku, title, category, price, attrs)"
		     " VALUES (?1, ?2, ?3, ?4, ?5,"
		     "  json_object('color', ?6, 'weight_g', ?7,"
		     "              'tags', json_array(?8, ?9), 'fragile', json(?10)))");
	for (int64_t i = 1; i <= sz->products; i++) {
		snprintf(buf, sizeof buf, "SKU-%06" PRId64 "-%c", i * 7919 % 1000000,
			 (char)('A' + i % 26));
		make_text(text, sizeof text, 2, 4);
		prices[i] = (double)(99 + rng_below(50000)) / 100.0;
		check(sqlite3_bind_int64(st, 1, i), "bind");
		check(sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT), "bind");
		check(sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT), "bind");
		check(sqlite3_bind_text(st, 4, categories[rng_below(NCATS)], -1, SQLITE_STATIC), "bind");
		check(sqlite3_bind_double(st, 5, prices[i]), "bind");
		check(sqlite3_bind_text(st, 6, words[rng_below(NWORDS)], -1, SQLITE_STATIC), "bind");
		check(sqlite3_bind_int64(st, 7, 10 + rng_below(5000)), "bind");
		check(sqlite3_bind_text(st, 8, words[rng_below(NWORDS)], -1, SQLITE_STATIC), "bind");
		check(sqlite3_bind_text(st, 9, categories[rng_below(NCATS)], -1, SQLITE_STATIC), "bind");
		check(sqlite3_bind_text(st, 10, rng_below(5) ? "false" : "true", -1, SQLITE_STATIC), "bind");
		step_done(st, "insert product");
	}
	sqlite3_finalize(st);
	exec("COMMIT");

	/* Orders: many rows, committed in batches. */
	st = prepare("INSERT INTO orders(customer_id, product_id, qty, unit_price, day, status, note)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	exec("BEGIN");
	for (int64_t i = 1; i <= sz->orders; i++) {
		/* skewed towards low customer ids: min of two draws */
		int64_t a = rng_below(sz->customers), b = rng_below(sz->customers);
		int64_t cust = 1 + (a < b ? a : b);
		int64_t prod = 1 + rng_below(sz->products);
		double unit = prices[prod] * (double)(80 + rng_below(41)) / 100.0;
		check(sqlite3_bind_int64(st, 1, cust), "bind");
		check(sqlite3_bind_int64(st, 2, prod), "bind");
		check(sqlite3_bind_int64(st, 3, 1 + rng_below(20)), "bind");
		check(sqlite3_bind_double(st, 4, unit), "bind");
		check(sqlite3_bind_int64(st, 5, rng_below(730)), "bind");
		check(sqlite3_bind_text(st, 6, statuses[rng_below(NSTATUS)], -1, SQLITE_STATIC), "bind");
		if (rng_below(10) == 0) {
			check(sqlite3_bind_null(st, 7), "bind");
		} else {
			make_text(text, sizeof text, 2, 7);
			check(sqlite3_bind_text(st, 7, text, -1, SQLITE_TRANSIENT), "bind");
		}
		step_done(st, "insert order");
		if (i % 5000 == 0) {
			exec("COMMIT");
			exec("BEGIN");
		}
	}
	exec("COMMIT");
	sqlite3_finalize(st);

	/* Full-text documents. */
	st = prepare("INSERT INTO docs(rowid, title, body) VALUES (?1, ?2, ?3)");
	exec("BEGIN");
	for (int64_t i = 1; i <= sz->docs; i++) {
		make_text(name, sizeof name, 1, 3);
		make_text(text, sizeof text, 10, 40);
		check(sqlite3_bind_int64(st, 1, i), "bind");
		check(sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT), "bind");
		check(sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT), "bind");
		step_done(st, "insert doc");
	}
	exec("COMMIT");
	sqlite3_finalize(st);
	free(prices);

	query("counts", 1,
	      "SELECT (SELECT count(*) FROM cities), (SELECT count(*) FROM customers),"
	      " (SELECT count(*) FROM products), (SELECT count(*) FROM orders),"
	      " (SELECT count(*) FROM docs)");
	query("sample customers", 3,
	      "SELECT id, name, email, city_id, tier, joined, manager_id"
	      " FROM customers WHERE id IN (1, 2, 1000)");
	query("sample products", 2, "SELECT * FROM products ORDER BY id LIMIT 2");
	query("sample orders", 2, "SELECT * FROM orders WHERE id IN (1, 777)");
}

/* Expects `sql` to fail with a constraint error and prints the message. */
static void expect_constraint(const char *label, const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		fprintf(stderr, "workload: %s: statement unexpectedly succeeded\n", label);
		exit(1);
	}
	if ((rc & 0xff) != SQLITE_CONSTRAINT)
		die(label);
	printf("%s: error %d: %s\n", label, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

static void modify(void)
{
	/* UPSERT into a WITHOUT ROWID table. */
	exec("INSERT INTO kv(k, v) SELECT status || '/' || (day / 90), 1 FROM orders WHERE true"
	     " ON CONFLICT(k) DO UPDATE SET v = v + excluded.v");
	query("kv upsert", 3, "SELECT k, v FROM kv ORDER BY k");

	exec("BEGIN");
	exec("UPDATE orders SET status = 'done' WHERE status = 'shipped' AND day < 200");
	printf("update shipped->done: %d\n", sqlite3_changes(db));

	/* Promote big spenders (fires the tier trigger). */
	exec("UPDATE customers SET tier = tier + 1 WHERE tier < 4 AND id IN"
	     " (SELECT customer_id FROM orders GROUP BY customer_id"
	     "  HAVING sum(qty * unit_price) > 2.5 * (SELECT avg(t) FROM"
	     "    (SELECT sum(qty * unit_price) AS t FROM orders GROUP BY customer_id)))");
	printf("update tiers: %d\n", sqlite3_changes(db));

	/* Correlated subquery update. */
	exec("UPDATE customers SET balance = round(coalesce((SELECT sum(qty * unit_price)"
	     " FROM orders WHERE customer_id = customers.id"
	     " AND status IN ('paid', 'shipped', 'done')), 0), 2)");
	printf("update balances: %d\n", sqlite3_changes(db));

	/* UPDATE ... FROM with an aggregate subquery. */
	exec("UPDATE products SET price = round(price * 1.05, 2)"
	     " FROM (SELECT product_id, count(*) AS c FROM orders GROUP BY product_id) AS s"
	     " WHERE s.product_id = products.id AND s.c > (SELECT count(*) FROM orders)"
	     "  / (SELECT count(*) FROM products)");
	printf("update prices: %d\n", sqlite3_changes(db));
	exec("COMMIT");

	/* DELETE ... RETURNING (fires the delete trigger). */
	query("delete returning", -2,
	      "DELETE FROM orders WHERE status = 'cancelled' AND qty < 4"
	      " RETURNING id, customer_id, qty * unit_price");

	/* Foreign-key cascade (the delete trigger fires for cascaded rows too);
	 * detach their subordinates first. */
	exec("BEGIN;"
	     "UPDATE customers SET manager_id = NULL WHERE manager_id IN"
	     "  (SELECT id FROM customers WHERE id % 97 = 0);"
	     "DELETE FROM customers WHERE id % 97 = 0;"
	     "COMMIT");
	query("after cascade", 1,
	      "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders),"
	      " (SELECT count(*) FROM audit WHERE action = 'del'),"
	      " (SELECT count(*) FROM audit WHERE action = 'tier'),"
	      " (SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers))");
	query("audit", -3, "SELECT action, ref, info FROM audit ORDER BY id");

	/* Savepoints: delete everything, then roll it back. */
	int64_t before = scalar("SELECT count(*) FROM orders");
	exec("SAVEPOINT sp1; DELETE FROM orders; UPDATE customers SET tier = 0;");
	int64_t during = scalar("SELECT count(*) FROM orders");
	exec("ROLLBACK TO sp1; RELEASE sp1;");
	int64_t after = scalar("SELECT count(*) FROM orders");
	printf("savepoint: before=%" PRId64 " during=%" PRId64 " after=%" PRId64 "\n",
	       before, during, after);
	if (before != after) {
		fprintf(stderr, "workload: rollback to savepoint lost rows\n");
		exit(1);
	}

	/* Expected failures: constraint errors are reported, the data is unchanged. */
	expect_constraint("unique violation",
			  "INSERT INTO products(sku, price) SELECT sku, 1 FROM products WHERE id = 5");
	expect_constraint("check violation", "UPDATE customers SET tier = 9 WHERE id = 2");
	expect_constraint("foreign key violation",
			  "INSERT INTO orders(customer_id, product_id, qty, unit_price, day, status)"
			  " VALUES (-1, 1, 1, 1.0, 0, 'new')");
	expect_constraint("not null violation",
			  "INSERT INTO orders(customer_id, product_id, qty, unit_price, day, status)"
			  " VALUES (1, 1, NULL, 1.0, 0, 'new')");
}

static void queries(int64_t n)
{
	char sql[1024];

	query("revenue by country/category", 5,
	      "SELECT ci.country, p.category, count(*) AS n, sum(o.qty) AS units,"
	      "       round(sum(o.qty * o.unit_price), 2) AS revenue"
	      " FROM orders o JOIN customers c ON c.id = o.customer_id"
	      " JOIN cities ci ON ci.id = c.city_id JOIN products p ON p.id = o.product_id"
	      " WHERE o.status <> 'cancelled'"
	      " GROUP BY ci.country, p.category HAVING count(*) > 10"
	      " ORDER BY revenue DESC, ci.country, p.category");

	query("left join / no orders", 3,
	      "SELECT c.id, c.name, count(o.id) AS n FROM customers c"
	      " LEFT JOIN orders o ON o.customer_id = c.id"
	      " GROUP BY c.id HAVING n = 0 ORDER BY c.id");

	query("top customers per city (window rank)", 6,
	      "SELECT * FROM (SELECT ci.name AS city, c.name, c.balance,"
	      "   rank() OVER (PARTITION BY c.city_id ORDER BY c.balance DESC, c.id) AS r"
	      "  FROM customers c JOIN cities ci ON ci.id = c.city_id)"
	      " WHERE r <= 2 ORDER BY city, r");

	query("running totals (window over all orders)", -3,
	      "SELECT customer_id, day, id,"
	      "  sum(qty) OVER w AS running_qty,"
	      "  row_number() OVER w AS rn,"
	      "  lag(day, 1, -1) OVER w AS prev_day,"
	      "  lead(id) OVER w AS next_id,"
	      "  round(avg(qty * unit_price) OVER (PARTITION BY customer_id ORDER BY day, id"
	      "        ROWS BETWEEN 3 PRECEDING AND CURRENT ROW), 4) AS mov_avg"
	      " FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY day, id)"
	      " ORDER BY customer_id, day, id");

	query("daily series (window frames, ntile, dist)", -4,
	      "WITH daily AS (SELECT day, count(*) AS n, sum(qty * unit_price) AS rev"
	      "               FROM orders GROUP BY day)"
	      " SELECT day, n, round(rev, 2),"
	      "  round(avg(rev) OVER (ORDER BY day RANGE BETWEEN 6 PRECEDING AND CURRENT ROW), 3),"
	      "  ntile(4) OVER (ORDER BY rev), round(percent_rank() OVER (ORDER BY n), 6),"
	      "  round(cume_dist() OVER (ORDER BY n), 6),"
	      "  first_value(day) OVER (ORDER BY rev DESC ROWS BETWEEN UNBOUNDED PRECEDING"
	      "                         AND UNBOUNDED FOLLOWING),"
	      "  nth_value(n, 3) OVER (ORDER BY day),"
	      "  count(*) FILTER (WHERE n > 50) OVER (ORDER BY day"
	      "           GROUPS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE CURRENT ROW)"
	      " FROM daily ORDER BY day");

	query("subqueries", 4,
	      "SELECT c.id, c.name, c.balance,"
	      "  (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n,"
	      "  (SELECT max(day) FROM orders o WHERE o.customer_id = c.id) AS last_day"
	      " FROM customers c"
	      " WHERE c.balance > (SELECT avg(balance) * 3 FROM customers)"
	      "   AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'new')"
	      "   AND c.city_id NOT IN (SELECT id FROM cities WHERE country = 'PL')"
	      " ORDER BY c.balance DESC, c.id");

	query("recursive CTE: manager tree depth", 10,
	      "WITH RECURSIVE tree(id, depth, path) AS ("
	      "  SELECT id, 0, CAST(id AS TEXT) FROM customers WHERE manager_id IS NULL"
	      "  UNION ALL"
	      "  SELECT c.id, t.depth + 1, t.path || '/' || c.id"
	      "  FROM customers c JOIN tree t ON c.manager_id = t.id)"
	      " SELECT depth, count(*), max(path), min(length(path)) FROM tree"
	      " GROUP BY depth ORDER BY depth");

	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE seq(value) AS (SELECT 1 UNION ALL"
		 "  SELECT value + 1 FROM seq WHERE value < %" PRId64 "),"
		 " c(start, x, steps) AS ("
		 "  SELECT value, value, 0 FROM seq"
		 "  UNION ALL"
		 "  SELECT start, CASE WHEN x %% 2 = 0 THEN x / 2 ELSE 3 * x + 1 END, steps + 1"
		 "  FROM c WHERE x > 1)"
		 " SELECT max(steps), start, sum(steps), count(*) FROM c WHERE x = 1",
		 n / 40 + 100);
	query("recursive CTE: collatz", 1, sql);

	query("strings", -4,
	      "SELECT id, upper(substr(name, 1, 3)), lower(name), length(name), instr(name, ' '),"
	      "  replace(email, '@example.test', ''), printf('%08.3f|%-6s|%x|%5d|%q|%e',"
	      "    balance, substr(name, -4), id * 48271, tier, name, balance * 1e6),"
	      "  trim('  ' || name || '  '), ltrim(name, 'AKL'), hex(substr(name, 1, 2)),"
	      "  unicode(name), char(65 + tier, 0x263A), quote(name), concat_ws('-', id, tier, joined),"
	      "  name LIKE '%a%o%', name GLOB '*[0-9]*', name GLOB '[A-K]*', format('%.2f', balance)"
	      " FROM customers ORDER BY lower(name), id");

	query("string aggregates", 5,
	      "SELECT p.category, count(*), group_concat(DISTINCT p.attrs ->> '$.color'),"
	      "  substr(group_concat(p.sku, ',' ORDER BY p.sku DESC), 1, 60),"
	      "  sum(length(p.title)), max(p.title), min(replace(p.title, 'a', '4'))"
	      " FROM products p GROUP BY p.category ORDER BY p.category");

	query("like/glob over notes", 1,
	      "SELECT count(*) FILTER (WHERE note LIKE '%alpha%'),"
	      "  count(*) FILTER (WHERE note GLOB '*[xy]ankee*'),"
	      "  count(*) FILTER (WHERE note LIKE 'CAFÉ%'),"
	      "  count(*) FILTER (WHERE note LIKE 'café%'),"
	      "  count(*) FILTER (WHERE note IS NULL),"
	      "  sum(length(note)), sum(octet_length(note)), count(DISTINCT note)"
	      " FROM orders");

	query("json", 5,
	      "SELECT category, json_group_array(json_object('sku', sku,"
	      "    'price', price, 'w', attrs -> '$.weight_g')) -> '$[0]',"
	      "  json_group_object(sku, attrs ->> '$.tags[0]') ->> ('$.\"' || min(sku) || '\"'),"
	      "  sum(json_extract(attrs, '$.weight_g')),"
	      "  count(*) FILTER (WHERE attrs ->> 'fragile'),"
	      "  json_array_length(json_group_array(id))"
	      " FROM products GROUP BY category ORDER BY category");

	query("json_each over tags", 4,
	      "SELECT j.value, count(*), min(p.id), max(p.id) FROM products p,"
	      "  json_each(p.attrs, '$.tags') AS j GROUP BY j.value ORDER BY 2 DESC, 1");

	query("json edits", 3,
	      "SELECT id, json_set(attrs, '$.weight_g', attrs ->> '$.weight_g' * 2, '$.new', 1),"
	      "  json_remove(attrs, '$.tags'), json_patch(attrs, '{\"color\":null,\"x\":[1,2]}'),"
	      "  json(jsonb(attrs)) = json(attrs), json_valid(attrs), json_type(attrs, '$.tags'),"
	      "  (SELECT count(*) FROM json_tree(attrs))"
	      " FROM products ORDER BY id LIMIT 3");

	query("math on REAL", 4,
	      "SELECT a.name, b.name,"
	      "  round(6371.0 * 2 * asin(sqrt(pow(sin(radians(b.lat - a.lat) / 2), 2)"
	      "    + cos(radians(a.lat)) * cos(radians(b.lat))"
	      "    * pow(sin(radians(b.lon - a.lon) / 2), 2))), 3) AS km,"
	      "  round(degrees(atan2(b.lat - a.lat, b.lon - a.lon)), 6),"
	      "  exp(a.lat / 100.0), ln(abs(a.lon) + 1), log10(abs(a.lat * b.lat) + 1),"
	      "  log2(a.id + b.id), floor(a.lon), ceil(b.lat), mod(a.lat, 7.5), trunc(b.lon),"
	      "  sign(a.lat - b.lat), a.lat * b.lon / 3.0, 1e308 * 10, -0.0, 0.1 + 0.2,"
	      "  CAST(a.lat * 1000 AS INT), tan(pi() / 8), cosh(a.id / 20.0), acos(0.5)"
	      " FROM cities a JOIN cities b ON b.id > a.id ORDER BY km DESC, a.id, b.id");

	query("aggregate statistics", 1,
	      "SELECT count(*), sum(qty), total(unit_price), avg(unit_price), min(unit_price),"
	      "  max(unit_price), sqrt(avg(unit_price * unit_price) - avg(unit_price) * avg(unit_price)),"
	      "  sum(qty * unit_price), avg(qty * 1.0) * 3, sum(id * id % 1000003),"
	      "  median(unit_price), percentile(qty, 90)"
	      " FROM orders");

	query("compound selects / distinct / case / nulls", 6,
	      "SELECT kind, n FROM ("
	      " SELECT 'union' AS kind, count(*) AS n FROM (SELECT customer_id FROM orders"
	      "   WHERE status = 'new' UNION SELECT customer_id FROM orders WHERE qty = 20)"
	      " UNION ALL SELECT 'intersect', count(*) FROM (SELECT customer_id FROM orders"
	      "   WHERE status = 'new' INTERSECT SELECT customer_id FROM orders WHERE qty = 20)"
	      " UNION ALL SELECT 'except', count(*) FROM (SELECT id FROM customers"
	      "   EXCEPT SELECT customer_id FROM orders)"
	      " UNION ALL SELECT 'distinct', count(DISTINCT product_id || '/' || qty) FROM orders"
	      " UNION ALL SELECT 'case', sum(CASE WHEN qty > 15 THEN 3 WHEN qty > 5 THEN 2"
	      "   ELSE 1 END) FROM orders"
	      " UNION ALL SELECT 'nulls', sum(coalesce(length(note), -1) + ifnull(nullif(qty, 7), 100)"
	      "   + iif(note IS NULL, 1000, 0)) FROM orders"
	      " UNION ALL SELECT 'typeof', group_concat(DISTINCT typeof(x)) FROM"
	      "   (SELECT note AS x FROM orders UNION ALL SELECT unit_price FROM orders"
	      "    UNION ALL SELECT qty FROM orders UNION ALL SELECT x'00ff')"
	      ") ORDER BY kind");

	query("dates (fixed epoch)", 5,
	      "WITH d AS (SELECT day, count(*) AS n FROM orders GROUP BY day)"
	      " SELECT strftime('%Y-%m', date('2024-01-01', '+' || day || ' days')) AS month,"
	      "  sum(n), min(date('2024-01-01', '+' || day || ' days', 'weekday 0')),"
	      "  max(strftime('%j %W %w %u', '2024-01-01', '+' || day || ' days')),"
	      "  round(avg(julianday('2024-01-01', '+' || day || ' days')), 4),"
	      "  max(timediff(date('2024-01-01', '+' || day || ' days'), '2024-02-29')),"
	      "  max(unixepoch('2024-01-01 12:00:00', '+' || (day * n) || ' minutes')),"
	      "  min(datetime(1700000000 + day * 86399, 'unixepoch', '+1 month', 'start of year'))"
	      " FROM d GROUP BY month ORDER BY month");

	query("fts5 match", 1,
	      "SELECT (SELECT count(*) FROM docs WHERE docs MATCH 'alpha AND (bravo OR zulu)'),"
	      "  (SELECT count(*) FROM docs WHERE docs MATCH 'title:granite'),"
	      "  (SELECT count(*) FROM docs WHERE docs MATCH '\"harbor lagoon\"'),"
	      "  (SELECT count(*) FROM docs WHERE docs MATCH 'fjo* NOT echo'),"
	      "  (SELECT count(*) FROM docs WHERE docs MATCH 'NEAR(kilo lima, 2)')");
	query("fts5 ranking", 5,
	      "SELECT rowid, round(bm25(docs), 6), highlight(docs, 0, '[', ']'),"
	      "  snippet(docs, 1, '<', '>', '...', 6)"
	      " FROM docs WHERE docs MATCH 'quartz AND reef' ORDER BY bm25(docs), rowid");
}

/* Sorts and temporary b-trees much larger than the page cache. */
static void big_sorts(int64_t n)
{
	char sql[1024];

	query("large sort: orders by note", -3,
	      "SELECT o.note, c.name, round(o.qty * o.unit_price, 2), o.id"
	      " FROM orders o JOIN customers c ON c.id = o.customer_id"
	      " ORDER BY o.note DESC, 3, o.id");

	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE seq(value) AS (SELECT 1 UNION ALL"
		 "  SELECT value + 1 FROM seq WHERE value < %" PRId64 ")"
		 " SELECT value, (value * 2654435761) %% 1000003 AS k,"
		 "  printf('%%x-%%s', value * 7919, substr('abcdefghijklmnop', value %% 16 + 1))"
		 " FROM seq ORDER BY k DESC, 3, value",
		 3 * n);
	query("large sort: synthetic keys", -3, sql);

	query("group by first word (temp b-tree)", 5,
	      "SELECT substr(note, 1, instr(note || ' ', ' ') - 1) AS w, count(*), sum(qty),"
	      "  count(DISTINCT customer_id)"
	      " FROM orders WHERE note IS NOT NULL GROUP BY w ORDER BY 2 DESC, w");

	/* CREATE INDEX on loaded data sorts the whole table. */
	exec("CREATE INDEX orders_note ON orders(note COLLATE NOCASE, unit_price)");
	query("query plan", 5,
	      "EXPLAIN QUERY PLAN SELECT count(*) FROM orders"
	      " WHERE note >= 'm' COLLATE NOCASE AND note < 'n' COLLATE NOCASE");
	query("indexed range", 1,
	      "SELECT count(*), min(note), max(note) FROM orders"
	      " WHERE note >= 'm' COLLATE NOCASE AND note < 'n' COLLATE NOCASE");
}

static void finish(void)
{
	exec("VACUUM");
	query("integrity_check", 1, "PRAGMA integrity_check");
	query("foreign_key_check", 1, "PRAGMA foreign_key_check");
	query("fts5 integrity", 1, "SELECT count(*) FROM docs WHERE docs MATCH 'alpha'");
	exec("INSERT INTO docs(docs, rank) VALUES ('integrity-check', 0)");
	query("page stats", 1,
	      "SELECT page_size, page_count, freelist_count FROM pragma_page_size,"
	      " pragma_page_count, pragma_freelist_count");

	/* The database image itself must be identical too. */
	sqlite3_int64 size = 0;
	unsigned char *img = sqlite3_serialize(db, "main", &size, 0);
	if (!img)
		die("serialize");
	printf("serialized image: bytes=%lld hash=%016" PRIx64 "\n", (long long)size,
	       fnv(FNV_INIT, img, (size_t)size));
	sqlite3_free(img);
}

int main(int argc, char **argv)
{
	int64_t n = DEFAULT_N;
	if (argc > 2) {
		fprintf(stderr, "usage: %s [N]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;
		n = strtoll(argv[1], &end, 10);
		if (*end || n < 100 || n > 100000000) {
			fprintf(stderr, "workload: N must be an integer in [100, 1e8]\n");
			return 2;
		}
	}
	struct sizes sz = {
		.orders = n,
		.customers = n / 10 + 50,
		.products = n / 100 + 40,
		.docs = n / 20 + 20,
	};

	printf("sqlite %s (%s)\n", sqlite3_libversion(), sqlite3_sourceid());
	printf("N=%" PRId64 " customers=%" PRId64 " products=%" PRId64 " docs=%" PRId64 "\n",
	       sz.orders, sz.customers, sz.products, sz.docs);
	printf("options:");
	for (int i = 0; sqlite3_compileoption_get(i); i++)
		printf(" %s", sqlite3_compileoption_get(i));
	printf("\n");

	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
	    != SQLITE_OK)
		die("open :memory:");
	sqlite3_extended_result_codes(db, 1);

	create_schema();
	populate(&sz);
	modify();
	queries(n);
	big_sorts(n);
	finish();

	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	db = NULL;
	printf("done\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "workload: writing stdout failed\n");
		return 1;
	}
	return 0;
}
