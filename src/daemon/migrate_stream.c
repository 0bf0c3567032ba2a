/* The migration stream: handshake, keys, records (migrate_stream.h). */
#include "daemon/migrate_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define HEADERBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define CIPHER_MAX (MIG_RECORD_MAX + ABYTES)
#define KDF_CONTEXT "opsubmig"          /* crypto_kdf_CONTEXTBYTES = 8 */
enum { KEY_TO_DEST = 1, KEY_TO_SOURCE = 2, KEY_SNAPSHOT = 3 };

struct mig_stream {
	int fd;
	int abort_fd;                 /* -1: none */
	bool is_file;
	bool can_push, can_pull;
	bool pull_ended;              /* a FINAL record came: nothing may follow */
	bool auth_failed;             /* a record did not decrypt */
	crypto_secretstream_xchacha20poly1305_state push, pull;
	uint8_t *plain;               /* MIG_RECORD_MAX */
	uint8_t *cipher;              /* 4 + CIPHER_MAX */
	uint64_t bytes_sent, bytes_received;
	uint8_t session[16];
};

int mig_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits for fd to be ready for `events` until deadline (ms, monotonic) or
 * the abort descriptor: 0, or -1 with a reason. */
static int wait_fd(struct mig_stream *s, short events, uint64_t deadline, char *err, size_t errlen)
{
	if (s->is_file)
		return 0;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			FAIL("timed out waiting for the other daemon");
		struct pollfd p[2] = {{.fd = s->fd, .events = events}, {.fd = s->abort_fd, .events = POLLIN}};
		int n = poll(p, s->abort_fd >= 0 ? 2 : 1, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			FAIL("poll: %s", strerror(errno));
		if (s->abort_fd >= 0 && (p[1].revents & POLLIN))
			FAIL("cancelled");
		if (p[0].revents)
			return 0;
	}
}

static int write_all(struct mig_stream *s, const void *buf, size_t len, uint64_t deadline, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = s->is_file ? write(s->fd, p, len) : send(s->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			s->bytes_sent += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(s, POLLOUT, deadline, err, errlen))
				return -1;
			continue;
		}
		FAIL("%s: %s", s->is_file ? "write" : "the connection failed", n < 0 ? strerror(errno) : "nothing written");
	}
	return 0;
}

/* Reads exactly len bytes; at a clean end of stream before any byte,
 * *eof is set (when eof is not NULL) and -1 returned. */
static int read_all(struct mig_stream *s, void *buf, size_t len, uint64_t deadline, bool *eof, char *err,
                    size_t errlen)
{
	uint8_t *p = buf;
	size_t got = 0;
	if (eof)
		*eof = false;
	while (got < len) {
		ssize_t n = s->is_file ? read(s->fd, p + got, len - got) : recv(s->fd, p + got, len - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			s->bytes_received += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			if (eof && got == 0)
				*eof = true;
			FAIL("%s", s->is_file ? "the file ends in the middle of a record (truncated)"
			                       : "the other daemon closed the connection");
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(s, POLLIN, deadline, err, errlen))
				return -1;
			continue;
		}
		FAIL("%s: %s", s->is_file ? "read" : "the connection failed", strerror(errno));
	}
	return 0;
}

static struct mig_stream *new_stream(int fd, int abort_fd, bool is_file)
{
	struct mig_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = fd;
	s->abort_fd = abort_fd;
	s->is_file = is_file;
	s->plain = malloc(MIG_RECORD_MAX);
	s->cipher = malloc(4 + CIPHER_MAX);
	if (!s->plain || !s->cipher) {
		free(s->plain);
		free(s->cipher);
		free(s);
		return NULL;
	}
	return s;
}

void mig_close(struct mig_stream *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	sodium_memzero(&s->push, sizeof(s->push));
	sodium_memzero(&s->pull, sizeof(s->pull));
	sodium_memzero(s->plain, MIG_RECORD_MAX);
	free(s->plain);
	free(s->cipher);
	free(s);
}

/* master = BLAKE2b keyed by the pre-shared key over a label and the nonces. */
static void derive(const uint8_t psk[MIG_KEY_BYTES], const char *label, const uint8_t *n1, const uint8_t *n2,
                   uint8_t master[crypto_kdf_KEYBYTES], uint8_t session[16])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, psk, MIG_KEY_BYTES, crypto_kdf_KEYBYTES);
	crypto_generichash_update(&h, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&h, n1, MIG_NONCE_BYTES);
	if (n2)
		crypto_generichash_update(&h, n2, MIG_NONCE_BYTES);
	crypto_generichash_final(&h, master, crypto_kdf_KEYBYTES);
	/* a name of the session that says nothing of its keys */
	crypto_generichash(session, 16, master, crypto_kdf_KEYBYTES, (const uint8_t *)"id", 2);
}

/* Each side sends one record, MIG_KEY_CHECK with the magic, and decrypts
 * the other's: a peer with another key is found here and told apart from
 * a broken connection (both ends say what to do). */
static int key_check(struct mig_stream *s, uint64_t deadline, char *err, size_t errlen)
{
	uint8_t type;
	const uint8_t *p;
	size_t len;
	bool final;
	uint64_t now = now_ms();
	if (mig_send(s, MIG_KEY_CHECK, MIG_MAGIC, 8, NULL, 0, false, err, errlen))
		return -1;
	if (mig_recv(s, &type, &p, &len, &final, deadline > now ? (unsigned)(deadline - now) : 1, err, errlen)) {
		if (s->auth_failed)
			FAIL("the other daemon has another migration key: give both daemons the same \"key_file\"");
		return -1;
	}
	if (type != MIG_KEY_CHECK || len != 8 || memcmp(p, MIG_MAGIC, 8) || final)
		FAIL("the other end does not speak the opsub migration protocol (version %u)", MIG_VERSION);
	return 0;
}

/* The connection handshake, either side (docs: migrate_stream.h). */
static int handshake(struct mig_stream *s, const uint8_t psk[MIG_KEY_BYTES], bool source, unsigned timeout_ms,
                     char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + timeout_ms;
	uint8_t mine[8 + MIG_NONCE_BYTES], theirs[8 + MIG_NONCE_BYTES];
	memcpy(mine, MIG_MAGIC, 8);
	randombytes_buf(mine + 8, MIG_NONCE_BYTES);
	if (write_all(s, mine, sizeof(mine), deadline, err, errlen) ||
	    read_all(s, theirs, sizeof(theirs), deadline, NULL, err, errlen))
		return -1;
	if (memcmp(theirs, MIG_MAGIC, 8))
		FAIL("the other end does not speak the opsub migration protocol");
	if (!memcmp(theirs + 8, mine + 8, MIG_NONCE_BYTES))
		FAIL("the other end sent back our own nonce (a reflection)");
	const uint8_t *n_src = source ? mine + 8 : theirs + 8, *n_dst = source ? theirs + 8 : mine + 8;
	uint8_t master[crypto_kdf_KEYBYTES], k_out[crypto_secretstream_xchacha20poly1305_KEYBYTES],
		k_in[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	derive(psk, "opsub migration v1", n_src, n_dst, master, s->session);
	crypto_kdf_derive_from_key(k_out, sizeof(k_out), source ? KEY_TO_DEST : KEY_TO_SOURCE, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k_in, sizeof(k_in), source ? KEY_TO_SOURCE : KEY_TO_DEST, KDF_CONTEXT, master);
	uint8_t hdr_out[HEADERBYTES], hdr_in[HEADERBYTES];
	crypto_secretstream_xchacha20poly1305_init_push(&s->push, hdr_out, k_out);
	int rc = write_all(s, hdr_out, sizeof(hdr_out), deadline, err, errlen) ||
	         read_all(s, hdr_in, sizeof(hdr_in), deadline, NULL, err, errlen) ? -1 : 0;
	if (!rc && crypto_secretstream_xchacha20poly1305_init_pull(&s->pull, hdr_in, k_in)) {
		snprintf(err, errlen, "the other end's stream header is invalid");
		rc = -1;
	}
	sodium_memzero(master, sizeof(master));
	sodium_memzero(k_out, sizeof(k_out));
	sodium_memzero(k_in, sizeof(k_in));
	s->can_push = s->can_pull = !rc;
	return rc ? -1 : key_check(s, deadline, err, errlen);
}

int mig_split_hostport(const char *hp, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');
		if (!close || close[1] != ':' || (size_t)(close - hp - 1) >= hostlen)
			return -1;
		memcpy(host, hp + 1, (size_t)(close - hp - 1));
		host[close - hp - 1] = 0;
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon || colon == hp || (size_t)(colon - hp) >= hostlen || strchr(hp, ':') != colon)
			return -1;
		memcpy(host, hp, (size_t)(colon - hp));
		host[colon - hp] = 0;
	}
	if (!colon[1] || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	strcpy(port, colon + 1);
	long p = strtol(port, NULL, 10);
	return p >= 1 && p <= 65535 ? 0 : -1;
}

static void tune_socket(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct mig_stream *mig_connect(const char *hostport, const uint8_t key[MIG_KEY_BYTES], int abort_fd,
                               unsigned timeout_ms, char *err, size_t errlen)
{
	char host[256], port[8];
	if (mig_split_hostport(hostport, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "'%s' is not HOST:PORT (a port from 1 to 65535; an IPv6 address in brackets)",
		         hostport);
		return NULL;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
		return NULL;
	}
	uint64_t deadline = now_ms() + timeout_ms;
	int fd = -1;
	char why[160] = "no address";
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct mig_stream probe = {.fd = fd, .abort_fd = abort_fd};
			int e = 0;
			socklen_t el = sizeof(e);
			if (wait_fd(&probe, POLLOUT, deadline, why, sizeof(why)) == 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
				break;
			if (e)
				snprintf(why, sizeof(why), "%s", strerror(e));
		} else
			snprintf(why, sizeof(why), "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", hostport, why);
		return NULL;
	}
	tune_socket(fd);
	struct mig_stream *s = new_stream(fd, abort_fd, false);
	if (!s) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	uint64_t now = now_ms();
	if (handshake(s, key, true, deadline > now ? (unsigned)(deadline - now) : 1, err, errlen)) {
		mig_close(s);
		return NULL;
	}
	return s;
}

struct mig_stream *mig_accept(int fd, const uint8_t key[MIG_KEY_BYTES], int abort_fd, unsigned timeout_ms,
                              char *err, size_t errlen)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	tune_socket(fd);
	struct mig_stream *s = new_stream(fd, abort_fd, false);
	if (!s) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (handshake(s, key, false, timeout_ms, err, errlen)) {
		mig_close(s);
		return NULL;
	}
	return s;
}

static void file_key(const uint8_t psk[MIG_KEY_BYTES], const uint8_t nonce[MIG_NONCE_BYTES],
                     uint8_t k[crypto_secretstream_xchacha20poly1305_KEYBYTES], uint8_t session[16])
{
	uint8_t master[crypto_kdf_KEYBYTES];
	derive(psk, "opsub snapshot v1", nonce, NULL, master, session);
	crypto_kdf_derive_from_key(k, crypto_secretstream_xchacha20poly1305_KEYBYTES, KEY_SNAPSHOT, KDF_CONTEXT, master);
	sodium_memzero(master, sizeof(master));
}

/* A stream on a snapshot file (which it owns from now on), or NULL. */
static struct mig_stream *file_stream(int fd, char *err, size_t errlen)
{
	struct mig_stream *s = new_stream(fd, -1, true);
	if (!s) {
		close(fd);
		snprintf(err, errlen, "out of memory");
	}
	return s;
}

struct mig_stream *mig_file_writer(int fd, const uint8_t key[MIG_KEY_BYTES], char *err, size_t errlen)
{
	struct mig_stream *s = file_stream(fd, err, errlen);
	if (!s)
		return NULL;
	uint8_t head[8 + MIG_NONCE_BYTES + HEADERBYTES], k[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	memcpy(head, SNAP_MAGIC, 8);
	randombytes_buf(head + 8, MIG_NONCE_BYTES);
	file_key(key, head + 8, k, s->session);
	crypto_secretstream_xchacha20poly1305_init_push(&s->push, head + 8 + MIG_NONCE_BYTES, k);
	sodium_memzero(k, sizeof(k));
	s->can_push = true;
	if (write_all(s, head, sizeof(head), 0, err, errlen)) {
		mig_close(s);
		return NULL;
	}
	return s;
}

struct mig_stream *mig_file_reader(int fd, const uint8_t key[MIG_KEY_BYTES], char *err, size_t errlen)
{
	struct mig_stream *s = file_stream(fd, err, errlen);
	if (!s)
		return NULL;
	uint8_t head[8 + MIG_NONCE_BYTES + HEADERBYTES], k[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	if (read_all(s, head, sizeof(head), 0, NULL, err, errlen)) {
		snprintf(err, errlen, "not an opsub snapshot: shorter than its header");
		mig_close(s);
		return NULL;
	}
	if (memcmp(head, SNAP_MAGIC, 8)) {
		snprintf(err, errlen, "not an opsub snapshot (no %s at its start)", SNAP_MAGIC);
		mig_close(s);
		return NULL;
	}
	file_key(key, head + 8, k, s->session);
	int bad = crypto_secretstream_xchacha20poly1305_init_pull(&s->pull, head + 8 + MIG_NONCE_BYTES, k);
	sodium_memzero(k, sizeof(k));
	if (bad) {
		snprintf(err, errlen, "the snapshot's stream header is invalid");
		mig_close(s);
		return NULL;
	}
	s->can_pull = true;
	return s;
}

/* Writes are bounded by this long at most: a peer that reads nothing for
 * it is gone. */
#define SEND_TIMEOUT_MS 10000u

int mig_send(struct mig_stream *s, uint8_t type, const void *head, size_t head_len, const void *body,
             size_t body_len, bool final, char *err, size_t errlen)
{
	if (!s->can_push)
		FAIL("internal error: this stream cannot send");
	if (head_len + body_len > MIG_PAYLOAD_MAX)
		FAIL("internal error: a record of %zu bytes is larger than the limit", head_len + body_len);
	s->plain[0] = type;
	if (head_len)
		memcpy(s->plain + 1, head, head_len);
	if (body_len)
		memcpy(s->plain + 1 + head_len, body, body_len);
	size_t plain_len = 1 + head_len + body_len;
	unsigned long long clen = 0;
	crypto_secretstream_xchacha20poly1305_push(&s->push, s->cipher + 4, &clen, s->plain, plain_len, NULL, 0,
	                                           final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
	uint32_t len32 = (uint32_t)clen;
	memcpy(s->cipher, &len32, 4);
	if (write_all(s, s->cipher, 4 + (size_t)clen, now_ms() + SEND_TIMEOUT_MS, err, errlen))
		return -1;
	if (final)
		s->can_push = false;
	return 0;
}

int mig_recv(struct mig_stream *s, uint8_t *type, const uint8_t **payload, size_t *len, bool *final,
             unsigned timeout_ms, char *err, size_t errlen)
{
	if (!s->can_pull)
		FAIL("internal error: this stream cannot receive");
	if (s->pull_ended)
		FAIL("a record after the last one");
	uint64_t deadline = now_ms() + timeout_ms;
	uint32_t clen;
	bool eof;
	if (read_all(s, &clen, 4, deadline, &eof, err, errlen)) {
		if (eof)
			snprintf(err, errlen, "%s before its last record (truncated)",
			         s->is_file ? "the snapshot ends" : "the stream ended");
		s->can_pull = false;
		return -1;
	}
	if (clen < 1 + ABYTES || clen > CIPHER_MAX) {
		s->can_pull = false;
		FAIL("a record of %u bytes is out of bounds (%u..%u): not an opsub stream, or a damaged one",
		     clen, (unsigned)(1 + ABYTES), (unsigned)CIPHER_MAX);
	}
	if (read_all(s, s->cipher, clen, deadline, NULL, err, errlen)) {
		s->can_pull = false;
		return -1;
	}
	unsigned long long plen = 0;
	unsigned char tag = 0;
	if (crypto_secretstream_xchacha20poly1305_pull(&s->pull, s->plain, &plen, &tag, s->cipher, clen, NULL, 0)) {
		s->can_pull = false;
		s->auth_failed = true;
		FAIL("a record does not authenticate: a wrong key, or a forged, reordered or replayed stream");
	}
	if (plen < 1) {
		s->can_pull = false;
		FAIL("an empty record");
	}
	*type = s->plain[0];
	*payload = s->plain + 1;
	*len = (size_t)plen - 1;
	*final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	if (*final)
		s->pull_ended = true;
	return 0;
}

int mig_sync(struct mig_stream *s)
{
	return s->is_file ? fdatasync(s->fd) : 0;
}

uint64_t mig_bytes_sent(const struct mig_stream *s)
{
	return s->bytes_sent;
}

uint64_t mig_bytes_received(const struct mig_stream *s)
{
	return s->bytes_received;
}

void mig_session_id(const struct mig_stream *s, char out[17])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", s->session[i]);
}

int mig_load_key(const char *path, uint8_t key[MIG_KEY_BYTES], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		FAIL("migration \"key_file\" %s cannot be read: %s", path,
		     e == ELOOP ? "it is a symbolic link (give the file itself)" : strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		FAIL("migration \"key_file\" %s is not a regular file", path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		FAIL("migration \"key_file\" %s can be read or written by others (mode %04o): chmod 600 it", path,
		     (unsigned)(st.st_mode & 07777));
	}
	uint8_t buf[MIG_KEY_BYTES + 1];
	ssize_t n, got = 0;
	while ((n = read(fd, buf + got, sizeof(buf) - (size_t)got)) > 0 && (size_t)got < sizeof(buf))
		got += n;
	close(fd);
	if (n < 0)
		FAIL("migration \"key_file\" %s cannot be read: %s", path, strerror(errno));
	if (got != MIG_KEY_BYTES) {
		sodium_memzero(buf, sizeof(buf));
		FAIL("migration \"key_file\" %s must hold exactly %u bytes (it has %s%zd): make one with "
		     "head -c 32 /dev/urandom", path, MIG_KEY_BYTES, got > MIG_KEY_BYTES ? "more than " : "",
		     got > MIG_KEY_BYTES ? (ssize_t)MIG_KEY_BYTES : got);
	}
	memcpy(key, buf, MIG_KEY_BYTES);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}
