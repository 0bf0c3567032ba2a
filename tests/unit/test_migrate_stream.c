/*
 * test_migrate_stream.c: the migration stream (daemon/migrate_stream.h) and
 * its receiver's checks (daemon/migrate_recv.h) against hostile input:
 * records round-trip over TCP and through snapshot files; a forged,
 * truncated, reordered, replayed or wrongly keyed stream is refused where
 * it goes wrong; every record the receiver takes is checked (order, sizes,
 * counts, page numbers, holes, the guest state's header, END's counts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/migrate_recv.h"
#include "daemon/migrate_stream.h"
#include "monitor/guest_state.h"

static const uint8_t key[MIG_KEY_BYTES] = "0123456789abcdef0123456789abcde";
static const uint8_t other_key[MIG_KEY_BYTES] = "Z123456789abcdef0123456789abcde";

static int setup(void **state)
{
	(void)state;
	return mig_init();
}

/* ---- snapshot files -------------------------------------------------------- */

/* A file stream of n records "rec0", "rec1", ... (the last FINAL): its bytes. */
static uint8_t *make_file(const uint8_t *k, unsigned n, size_t *len)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);
	char err[256];
	struct mig_stream *s = mig_file_writer(dup(fd), k, err, sizeof(err));
	assert_non_null(s);
	for (unsigned i = 0; i < n; i++) {
		char text[16];
		snprintf(text, sizeof(text), "rec%u", i);
		assert_int_equal(mig_send(s, MIG_PAGES, text, strlen(text), NULL, 0, i == n - 1, err, sizeof(err)), 0);
	}
	mig_close(s);
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *bytes = malloc((size_t)size);
	assert_int_equal(pread(fd, bytes, (size_t)size, 0), size);
	close(fd);
	*len = (size_t)size;
	return bytes;
}

/* Reads a file stream of these bytes: the records that came (up to 16) and
 * the first error, "" when it ended with its FINAL record. */
static unsigned read_file(const uint8_t *bytes, size_t len, const uint8_t *k, char *err, size_t errlen)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);
	assert_int_equal(pwrite(fd, bytes, len, 0), (ssize_t)len);
	err[0] = 0;
	struct mig_stream *s = mig_file_reader(fd, k, err, errlen);
	unsigned got = 0;
	for (bool final = false; s && !final;) {
		uint8_t type;
		const uint8_t *p;
		size_t plen;
		if (mig_recv(s, &type, &p, &plen, &final, 1000, err, errlen))
			break;
		char want[16];
		snprintf(want, sizeof(want), "rec%u", got);
		assert_int_equal(type, MIG_PAGES);
		assert_memory_equal(p, want, plen);
		got++;
	}
	mig_close(s);
	if (!err[0] && got == 0)
		snprintf(err, errlen, "nothing");
	return got;
}

static void test_file_round_trip(void **state)
{
	(void)state;
	size_t len;
	uint8_t *f = make_file(key, 5, &len);
	char err[256];
	assert_int_equal(read_file(f, len, key, err, sizeof(err)), 5);
	assert_string_equal(err, "");
	free(f);
}

static void test_file_wrong_key_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *f = make_file(key, 3, &len);
	char err[256];
	assert_int_equal(read_file(f, len, other_key, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "does not authenticate"));
	free(f);
}

static void test_file_truncated_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *f = make_file(key, 3, &len);
	char err[256];
	/* cut inside the last record, and exactly before it: both refused */
	assert_int_equal(read_file(f, len - 3, key, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "truncated"));
	size_t last = (len - 8 - 24 - 24) / 3;   /* records are of one size */
	assert_int_equal(read_file(f, len - last, key, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "truncated"));
	free(f);
}

static void test_file_forged_byte_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *f = make_file(key, 3, &len);
	char err[256];
	for (size_t at = 8 + 24 + 24 + 4; at < len; at += 7) {
		f[at] ^= 0x40;
		unsigned got = read_file(f, len, key, err, sizeof(err));
		assert_true(got < 3);
		assert_true(err[0] != 0);
		f[at] ^= 0x40;
	}
	free(f);
}

static void test_file_reordered_and_replayed_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *f = make_file(key, 3, &len);
	size_t head = 8 + 24 + 24, rec = (len - head) / 3;
	char err[256];
	/* records 0 and 1 swapped */
	uint8_t *g = malloc(len);
	memcpy(g, f, len);
	memcpy(g + head, f + head + rec, rec);
	memcpy(g + head + rec, f + head, rec);
	assert_int_equal(read_file(g, len, key, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "does not authenticate"));
	/* record 0 twice */
	memcpy(g, f, len);
	memcpy(g + head + rec, f + head, rec);
	assert_int_equal(read_file(g, len, key, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "does not authenticate"));
	/* a record of another file with the same key */
	size_t len2;
	uint8_t *f2 = make_file(key, 3, &len2);
	memcpy(g, f, len);
	memcpy(g + head, f2 + head, rec);
	assert_int_equal(read_file(g, len, key, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "does not authenticate"));
	/* a record after the FINAL one */
	uint8_t *h = malloc(len + rec);
	memcpy(h, f, len);
	memcpy(h + len, f + head, rec);
	assert_int_equal(read_file(h, len + rec, key, err, sizeof(err)), 3);
	free(f);
	free(f2);
	free(g);
	free(h);
}

static void test_file_garbage_refused(void **state)
{
	(void)state;
	char err[256];
	uint8_t junk[200];
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(read_file(junk, sizeof(junk), key, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not an opsub snapshot"));
	/* the right magic, then a huge length */
	size_t len;
	uint8_t *f = make_file(key, 1, &len);
	uint32_t huge = 0xfffffff0u;
	memcpy(f + 8 + 24 + 24, &huge, 4);
	assert_int_equal(read_file(f, len, key, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "out of bounds"));
	free(f);
}

/* ---- TCP ---------------------------------------------------------------------- */

struct peer {
	int listen_fd;
	const uint8_t *key;
	char err[256];
	int rc;
};

/* The destination: takes one connection, reads records until FINAL and
 * answers the last with a FINAL of its own. */
static void *destination(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->listen_fd, NULL, NULL);
	struct mig_stream *s = mig_accept(fd, p->key, -1, 2000, p->err, sizeof(p->err));
	p->rc = -1;
	if (!s)
		return NULL;
	bool final = false;
	uint64_t sum = 0;
	while (!final) {
		uint8_t type;
		const uint8_t *pl;
		size_t len;
		if (mig_recv(s, &type, &pl, &len, &final, 2000, p->err, sizeof(p->err)))
			break;
		for (size_t i = 0; i < len; i++)
			sum += pl[i];
	}
	if (final)
		p->rc = mig_send(s, MIG_RESUMED, &sum, sizeof(sum), NULL, 0, true, p->err, sizeof(p->err));
	mig_close(s);
	return NULL;
}

static int listener(char *hostport, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	snprintf(hostport, len, "127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

static void test_tcp_round_trip(void **state)
{
	(void)state;
	char hp[64], err[256];
	struct peer p = {.key = key};
	p.listen_fd = listener(hp, sizeof(hp));
	pthread_t t;
	pthread_create(&t, NULL, destination, &p);
	struct mig_stream *s = mig_connect(hp, key, -1, 2000, err, sizeof(err));
	assert_non_null(s);
	/* records of every size up to the limit */
	uint8_t *big = malloc(MIG_PAYLOAD_MAX);
	uint64_t sum = 0;
	for (size_t i = 0; i < MIG_PAYLOAD_MAX; i++)
		sum += big[i] = (uint8_t)(i * 7);
	assert_int_equal(mig_send(s, MIG_PAGES, big, 100, big + 100, MIG_PAYLOAD_MAX - 100, false, err, sizeof(err)), 0);
	assert_int_equal(mig_send(s, MIG_PAGES, NULL, 0, NULL, 0, false, err, sizeof(err)), 0);
	assert_int_equal(mig_send(s, MIG_END, "x", 1, NULL, 0, true, err, sizeof(err)), 0);
	sum += 'x';
	/* over the limit: refused on the sending side */
	assert_int_equal(mig_send(s, MIG_PAGES, big, MIG_PAYLOAD_MAX, "y", 1, false, err, sizeof(err)), -1);
	uint8_t type;
	const uint8_t *pl;
	size_t len;
	bool final;
	assert_int_equal(mig_recv(s, &type, &pl, &len, &final, 2000, err, sizeof(err)), 0);
	assert_int_equal(type, MIG_RESUMED);
	assert_true(final);
	assert_int_equal(len, 8);
	uint64_t theirs;
	memcpy(&theirs, pl, 8);
	assert_int_equal(theirs, sum);
	mig_close(s);
	pthread_join(t, NULL);
	assert_int_equal(p.rc, 0);
	close(p.listen_fd);
	free(big);
}

static void test_tcp_wrong_key_refused(void **state)
{
	(void)state;
	char hp[64], err[256];
	struct peer p = {.key = other_key};
	p.listen_fd = listener(hp, sizeof(hp));
	pthread_t t;
	pthread_create(&t, NULL, destination, &p);
	/* both ends learn it in the handshake, and say what to do */
	assert_null(mig_connect(hp, key, -1, 2000, err, sizeof(err)));
	assert_non_null(strstr(err, "another migration key"));
	pthread_join(t, NULL);
	assert_int_equal(p.rc, -1);
	assert_non_null(strstr(p.err, "same \"key_file\""));
	close(p.listen_fd);
}

static void test_bad_hostport_refused(void **state)
{
	(void)state;
	char err[256];
	static const char *const bad[] = {"host", "host:", ":7300", "host:0", "host:65536", "1.2.3.4:12x",
	                                  "[::1:7300", "a:b:7300"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(mig_connect(bad[i], key, -1, 100, err, sizeof(err)));
		assert_non_null(strstr(err, "is not HOST:PORT"));
	}
}

/* ---- the receiver's checks ---------------------------------------------------- */

#define MEM (64ull << 20)

static void hello(struct mig_incoming *in, const char *config, uint64_t mem, int want, const char *says)
{
	uint8_t buf[1024];
	struct mig_hello h = {.version = MIG_VERSION, .config_len = (uint32_t)strlen(config), .mem_size = mem};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), config, strlen(config));
	char err[512] = "";
	int rc = mig_take(in, MIG_HELLO, buf, sizeof(h) + strlen(config), false, err, sizeof(err));
	if (rc != want || (says && !strstr(err, says)))
		fail_msg("HELLO %s -> %d \"%s\" (wanted %d \"%s\")", config, rc, err, want, says ? says : "");
}

#define CONFIG "{\"name\":\"g\",\"program\":\"/nowhere/nf\",\"mac\":\"02:00:00:00:00:07\",\"mem\":\"64M\"}"
#define PV_CONFIG "{\"name\":\"g\",\"program\":\"/nowhere/nf\",\"mac\":\"02:00:00:00:00:07\",\"mem\":\"64M\",\"io\":\"paravirt\"}"

static void take(struct mig_incoming *in, uint8_t type, const void *p, size_t len, bool final, int want,
                 const char *says)
{
	char err[512] = "";
	int rc = mig_take(in, type, p, len, final, err, sizeof(err));
	if (rc != want || (says && !strstr(err, says)) || (rc && (!err[0] || strchr(err, '\n'))))
		fail_msg("record %u of %zu bytes -> %d \"%s\" (wanted %d \"%s\")", type, len, rc, err, want,
		         says ? says : "");
}

/* A PAGES record of n entries (page numbers given), data pages filled with
 * their number. */
static size_t pages(uint8_t *buf, const uint32_t *page, const uint32_t *kind, unsigned n)
{
	struct mig_pages_head h = {.count = n};
	size_t at = sizeof(h);
	memcpy(buf, &h, sizeof(h));
	for (unsigned i = 0; i < n; i++) {
		struct mig_page_entry e = {.page = page[i], .kind = kind[i]};
		memcpy(buf + at, &e, sizeof(e));
		at += sizeof(e);
		if (kind[i] == MIG_PAGE_DATA) {
			memset(buf + at, (int)page[i], MIG_PAGE_SIZE);
			at += MIG_PAGE_SIZE;
		}
	}
	return at;
}

static size_t state_record(uint8_t *buf, uint32_t has_vring, uint64_t mem, uint32_t io, uint32_t size_delta)
{
	struct mig_state_head sh = {.state_len = sizeof(struct guest_state_header) + 8, .has_vring = has_vring,
	                            .vring = {.ring_size = 256}};
	struct guest_state_header gh = {.version = GUEST_STATE_VERSION, .size = sh.state_len + size_delta,
	                                .mem_size = mem, .io_mode = io};
	memcpy(gh.magic, GUEST_STATE_MAGIC, 8);
	memcpy(buf, &sh, sizeof(sh));
	memcpy(buf + sizeof(sh), &gh, sizeof(gh));
	memset(buf + sizeof(sh) + sizeof(gh), 0, 8);
	return sizeof(sh) + sh.state_len;
}

static void test_receiver_order(void **state)
{
	(void)state;
	struct mig_incoming in;
	mig_incoming_init(&in);
	uint8_t *buf = malloc(MIG_PAYLOAD_MAX);
	uint32_t pg[1] = {20}, kd[1] = {MIG_PAGE_DATA};
	size_t n = pages(buf, pg, kd, 1);
	take(&in, MIG_PAGES, buf, n, false, -1, "PAGES before HELLO");
	take(&in, MIG_END, buf, 8, true, -1, "END before HELLO");
	take(&in, MIG_HELLO, buf, 8, true, -1, "ends with HELLO, not END");
	hello(&in, CONFIG, MEM, 0, NULL);
	hello(&in, CONFIG, MEM, -1, "HELLO where");
	take(&in, MIG_READY, NULL, 0, false, -1, "READY where");
	take(&in, 200, NULL, 0, false, -1, "unknown record");
	take(&in, MIG_PAGES, buf, n, true, -1, "ends with PAGES, not END");
	take(&in, MIG_PAGES, buf, n, false, 0, NULL);
	struct mig_end e = {.data_pages = 1};
	take(&in, MIG_END, &e, sizeof(e), true, -1, "END before the guest state");
	size_t sn = state_record(buf, 0, MEM, 0, 0);
	take(&in, MIG_STATE, buf, sn, false, 0, NULL);
	take(&in, MIG_STATE, buf, sn, false, -1, "a second STATE");
	n = pages(buf, pg, kd, 1);
	take(&in, MIG_PAGES, buf, n, false, -1, "PAGES after the guest state");
	take(&in, MIG_END, &e, sizeof(e), false, -1, "not the stream's last record");
	e.data_pages = 2;
	take(&in, MIG_END, &e, sizeof(e), true, -1, "END counts 2 pages");
	e.data_pages = 1;
	take(&in, MIG_END, &e, sizeof(e) - 1, true, -1, "END is");
	take(&in, MIG_END, &e, sizeof(e), true, 0, NULL);
	assert_int_equal(in.phase, MIG_DONE);
	take(&in, MIG_END, &e, sizeof(e), true, -1, "after END");
	mig_incoming_free(&in);
	free(buf);
}

static void test_receiver_hello_checks(void **state)
{
	(void)state;
	struct mig_incoming in;
	static const struct { const char *config; uint64_t mem; const char *says; } bad[] = {
		{CONFIG, MEM + 4096, "\"mem\""},
		{CONFIG, MEM + 1, "not a size a guest can have"},
		{CONFIG, 4096, "not a size a guest can have"},
		{CONFIG, 1ull << 40, "not a size a guest can have"},
		{"{\"name\":\"g\"", MEM, "not valid JSON"},
		{"[1]", MEM, ""},
		{"{\"name\":\"g\",\"program\":\"/x\",\"mac\":\"02:00:00:00:00:07\",\"mem\":\"64M\",\"output\":\"/etc/passwd\"}",
		 MEM, "output"},
		{"{\"name\":\"../g\",\"program\":\"/x\",\"mac\":\"02:00:00:00:00:07\",\"mem\":\"64M\"}", MEM, ""},
		{"{\"name\":\"g\",\"program\":\"/x\",\"mac\":\"01:00:00:00:00:07\",\"mem\":\"64M\"}", MEM, "unicast"},
		{"{\"name\":\"g\",\"program\":\"/x\",\"mac\":\"02:00:00:00:00:07\",\"mem\":\"64M\",\"queues\":99}", MEM, ""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mig_incoming_init(&in);
		hello(&in, bad[i].config, bad[i].mem, -1, bad[i].says);
		mig_incoming_free(&in);
	}
	/* a wrong version, and a config length that does not fill the record */
	mig_incoming_init(&in);
	uint8_t buf[512];
	struct mig_hello h = {.version = MIG_VERSION + 1, .config_len = (uint32_t)strlen(CONFIG), .mem_size = MEM};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), CONFIG, strlen(CONFIG));
	take(&in, MIG_HELLO, buf, sizeof(h) + strlen(CONFIG), false, -1, "version");
	h.version = MIG_VERSION;
	h.config_len++;
	memcpy(buf, &h, sizeof(h));
	take(&in, MIG_HELLO, buf, sizeof(h) + strlen(CONFIG), false, -1, "does not fill");
	take(&in, MIG_HELLO, buf, 3, false, -1, "shorter than its header");
	/* a guest shown CPU rows this host does not execute (this process
	 * never probed its host: none), and the reserved field */
	h.config_len = (uint32_t)strlen(CONFIG);
	h.cpu_optional = 1;
	memcpy(buf, &h, sizeof(h));
	take(&in, MIG_HELLO, buf, sizeof(h) + strlen(CONFIG), false, -1, "does not execute");
	h.cpu_optional = 0;
	h.reserved = 1;
	memcpy(buf, &h, sizeof(h));
	take(&in, MIG_HELLO, buf, sizeof(h) + strlen(CONFIG), false, -1, "reserved");
	mig_incoming_free(&in);
}

static void test_receiver_pages_checks(void **state)
{
	(void)state;
	struct mig_incoming in;
	mig_incoming_init(&in);
	uint8_t *mem = calloc(1, MEM);
	in.mem = mem;
	hello(&in, CONFIG, MEM, 0, NULL);
	uint8_t *buf = malloc(MIG_PAYLOAD_MAX + 4096);
	uint32_t pg[3] = {16, 17, 18}, kd[3] = {MIG_PAGE_DATA, MIG_PAGE_ZERO, MIG_PAGE_DATA};
	size_t n = pages(buf, pg, kd, 3);
	take(&in, MIG_PAGES, buf, n, false, 0, NULL);
	assert_int_equal(mem[16 * 4096], 16);
	assert_int_equal(mem[18 * 4096 + 4095], 18);
	take(&in, MIG_PAGES, buf, n - 1, false, -1, "ends inside the data");
	take(&in, MIG_PAGES, buf, n + 1, false, -1, "bytes after");
	take(&in, MIG_PAGES, buf, 4, false, -1, "shorter than its header");
	uint32_t past[1] = {(uint32_t)(MEM / 4096)}, one[1] = {MIG_PAGE_DATA};
	n = pages(buf, past, one, 1);
	take(&in, MIG_PAGES, buf, n, false, -1, "past the end of guest memory");
	uint32_t ok[1] = {20}, weird[1] = {7};
	n = pages(buf, ok, weird, 1);
	take(&in, MIG_PAGES, buf, n, false, -1, "unknown kind");
	struct mig_pages_head h = {.count = MIG_PAGES_PER_RECORD + 1};
	memcpy(buf, &h, sizeof(h));
	take(&in, MIG_PAGES, buf, MIG_PAYLOAD_MAX, false, -1, "holds");
	h.count = 0;
	memcpy(buf, &h, sizeof(h));
	take(&in, MIG_PAGES, buf, sizeof(h), false, -1, "holds 0 pages");
	h.count = 2;   /* says two, carries one zero entry */
	memcpy(buf, &h, sizeof(h));
	struct mig_page_entry e = {.page = 30, .kind = MIG_PAGE_ZERO};
	memcpy(buf + sizeof(h), &e, sizeof(e));
	take(&in, MIG_PAGES, buf, sizeof(h) + sizeof(e), false, -1, "ends inside its entry");
	mig_incoming_free(&in);
	free(buf);
	free(mem);
}

static void test_receiver_holes(void **state)
{
	(void)state;
	struct mig_incoming in;
	mig_incoming_init(&in);
	int fd = memfd_create("mem", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, (off_t)MEM), 0);
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	in.mem = mem;
	in.mem_fd = fd;
	hello(&in, CONFIG, MEM, 0, NULL);
	uint8_t buf[256];
	uint32_t pg[2] = {40, 41}, kd[2] = {MIG_PAGE_DATA, MIG_PAGE_DATA};
	uint8_t *pb = malloc(3 * 4200);
	take(&in, MIG_PAGES, pb, pages(pb, pg, kd, 2), false, 0, NULL);
	free(pb);
	struct mig_holes_head h = {.count = 1};
	struct mig_hole r = {.page = 41, .pages = 1};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &r, sizeof(r));
	take(&in, MIG_HOLES, buf, sizeof(h) + sizeof(r), false, 0, NULL);
	assert_int_equal(mem[40 * 4096], 40);
	assert_int_equal(mem[41 * 4096], 0);   /* punched */
	/* out of order (41 after 41), empty, past the end, overflowing */
	take(&in, MIG_HOLES, buf, sizeof(h) + sizeof(r), false, -1, "out of order");
	struct mig_hole bad[] = {{50, 0}, {MEM / 4096, 1}, {100, MEM / 4096}, {100, UINT64_MAX}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf + sizeof(h), &bad[i], sizeof(bad[i]));
		take(&in, MIG_HOLES, buf, sizeof(h) + sizeof(r), false, -1, "not inside guest memory");
	}
	h.count = 2;
	memcpy(buf, &h, sizeof(h));
	take(&in, MIG_HOLES, buf, sizeof(h) + sizeof(r), false, -1, "ranges");
	/* no PAGES after HOLES */
	uint32_t p1[1] = {60}, k1[1] = {MIG_PAGE_ZERO};
	take(&in, MIG_PAGES, buf, pages(buf, p1, k1, 1), false, -1, "PAGES after HOLES");
	mig_incoming_free(&in);
	munmap(mem, MEM);
	close(fd);
}

static void test_receiver_state_checks(void **state)
{
	(void)state;
	struct mig_incoming in;
	uint8_t buf[512];
	static const struct { const char *config; uint32_t vring; uint64_t mem; uint32_t io; int delta;
	                      const char *says; } cases[] = {
		{CONFIG, 0, MEM, 0, 0, NULL},
		{CONFIG, 0, MEM, GUEST_STATE_NO_PORT, 0, NULL},
		{PV_CONFIG, 1, MEM, OPSUB_IO_PARAVIRT, 0, NULL},
		{CONFIG, 1, MEM, 0, 0, "carries the paravirt backend's state for a non-paravirt"},
		{PV_CONFIG, 0, MEM, OPSUB_IO_PARAVIRT, 0, "lacks"},
		{CONFIG, 2, MEM, 0, 0, "paravirt"},
		{CONFIG, 0, MEM * 2, 0, 0, "memory"},
		{CONFIG, 0, MEM, OPSUB_IO_PARAVIRT, 0, "I/O mode"},
		{CONFIG, 0, MEM, 0, 8, "says it is"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mig_incoming_init(&in);
		hello(&in, cases[i].config, MEM, 0, NULL);
		size_t n = state_record(buf, cases[i].vring, cases[i].mem, cases[i].io, (uint32_t)cases[i].delta);
		take(&in, MIG_STATE, buf, n, false, cases[i].says ? -1 : 0, cases[i].says);
		mig_incoming_free(&in);
	}
	/* a wrong magic, a length that does not fill the record, a state over the limit */
	mig_incoming_init(&in);
	hello(&in, CONFIG, MEM, 0, NULL);
	size_t n = state_record(buf, 0, MEM, 0, 0);
	buf[sizeof(struct mig_state_head)] = 'X';
	take(&in, MIG_STATE, buf, n, false, -1, "does not start with");
	n = state_record(buf, 0, MEM, 0, 0);
	take(&in, MIG_STATE, buf, n - 1, false, -1, "carries");
	struct mig_state_head sh = {.state_len = GUEST_STATE_MAX + 1};
	memcpy(buf, &sh, sizeof(sh));
	take(&in, MIG_STATE, buf, n, false, -1, "at most");
	mig_incoming_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_file_wrong_key_refused),
		cmocka_unit_test(test_file_truncated_refused),
		cmocka_unit_test(test_file_forged_byte_refused),
		cmocka_unit_test(test_file_reordered_and_replayed_refused),
		cmocka_unit_test(test_file_garbage_refused),
		cmocka_unit_test(test_tcp_round_trip),
		cmocka_unit_test(test_tcp_wrong_key_refused),
		cmocka_unit_test(test_bad_hostport_refused),
		cmocka_unit_test(test_receiver_order),
		cmocka_unit_test(test_receiver_hello_checks),
		cmocka_unit_test(test_receiver_pages_checks),
		cmocka_unit_test(test_receiver_holes),
		cmocka_unit_test(test_receiver_state_checks),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
