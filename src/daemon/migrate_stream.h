/*
 * The migration stream (docs/migration.md, section 3): records between two
 * daemons over TCP, or into a snapshot file, authenticated and encrypted
 * with libsodium under the daemons' pre-shared key.
 *
 * Connection: the source sends MIG_MAGIC and a random 24-byte nonce, the
 * destination answers with its own; both derive a session master key with
 * crypto_generichash keyed by the pre-shared key over both nonces, and from
 * it one key per direction (crypto_kdf, ids 1: source to destination, 2:
 * back).  Each side then sends the header of its
 * crypto_secretstream_xchacha20poly1305 push state and a first record,
 * MIG_KEY_CHECK, that the other must decrypt: daemons with different keys
 * learn it there, with a reason that says so.  A snapshot file holds
 * SNAP_MAGIC, a nonce, the header, then the records: its key comes from
 * the pre-shared key over that nonce (kdf id 3).  Fresh nonces on both
 * sides make every session's keys new: a record recorded from another
 * session (or a snapshot replayed as a stream) does not decrypt.
 *
 * Records: on the wire a 32-bit little-endian length of the ciphertext,
 * then the ciphertext of one secretstream message whose plaintext is the
 * record type (one byte) and its payload.  The length is checked against
 * MIG_RECORD_MAX before anything is read; the last record of a direction
 * is tagged FINAL, so a stream cut short is told from one that ended.
 * Any record that does not decrypt ends the stream: forged, reordered,
 * truncated, replayed and wrongly keyed streams are all refused there.
 *
 * Every wait (connect, read, write) is bounded by a timeout and ends at
 * once when the stream's abort descriptor (an eventfd) becomes readable.
 * Thread-safe as long as one stream is used by one thread.
 */
#ifndef OPSUB_DAEMON_MIGRATE_STREAM_H
#define OPSUB_DAEMON_MIGRATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/vhost_state.h"

#define MIG_KEY_BYTES     32
#define MIG_NONCE_BYTES   24
#define MIG_MAGIC         "OPSUBMG1"     /* connection greeting, 8 bytes */
#define SNAP_MAGIC        "OPSUBSN1"     /* snapshot file, 8 bytes */
#define MIG_VERSION       2
/* The largest plaintext record: a type byte and 1 MiB of payload and a
 * little header room. */
#define MIG_PAYLOAD_MAX   ((1u << 20) + 64u)
#define MIG_RECORD_MAX    (1u + MIG_PAYLOAD_MAX)

enum mig_record {
	MIG_KEY_CHECK = 0, /* either side, first: MIG_MAGIC (the handshake's, migrate_stream.c) */
	MIG_HELLO = 1,     /* source: struct mig_hello, then the guest's config as JSON */
	MIG_READY = 2,     /* destination: it takes the guest (no payload) */
	MIG_REFUSE = 3,    /* destination: why not (text) */
	MIG_PAGES = 4,     /* source: struct mig_pages_head, then entries */
	MIG_STATE = 5,     /* source: struct mig_state_head, then the guest state */
	MIG_END = 6,       /* source, FINAL: struct mig_end */
	MIG_RESUMED = 7,   /* destination, FINAL: struct mig_resumed */
	MIG_FAILED = 8,    /* destination, FINAL: why (text) */
	MIG_HOLES = 9,     /* source, after the last PAGES: struct mig_holes_head, then struct mig_hole[count] */
};

/* All integers little-endian (both ends are x86-64). */
struct mig_hello {
	uint32_t version;          /* MIG_VERSION */
	uint32_t config_len;       /* bytes of JSON after this */
	uint64_t mem_size;         /* guest memory, bytes (also the config's "mem") */
	uint64_t resident_pages;   /* pages that hold data at the start (for the destination's memory check) */
	uint32_t cpu_optional;     /* the optional CPU model rows the guest was shown (gates/cpu_model.h) */
	uint32_t reserved;         /* 0 */
};

#define MIG_PAGE_SIZE        4096u
#define MIG_PAGES_PER_RECORD 255u
enum mig_page_kind { MIG_PAGE_ZERO = 0, MIG_PAGE_DATA = 1 };
struct mig_pages_head { uint32_t count; uint32_t reserved; };
struct mig_page_entry { uint32_t page; uint32_t kind; };   /* MIG_PAGE_DATA: MIG_PAGE_SIZE bytes follow */

/* Pages the guest freed (holes in its memory file at the switch-over):
 * the destination punches them, after every PAGES record. */
#define MIG_HOLES_PER_RECORD 65536u
struct mig_holes_head { uint32_t count; uint32_t reserved; };
struct mig_hole { uint64_t page, pages; };                 /* [page, page + pages) */

/* STATE: the guest state, and for a paravirt guest where its backend
 * stands in the virtqueues (vhost_state.h, exported by the parked one). */
struct mig_state_head {
	uint32_t state_len;        /* bytes of guest state after this (monitor/guest_state.h) */
	uint32_t has_vring;        /* 1: vring is the backend's (paravirt guests only) */
	struct vhost_state vring;
	uint32_t reserved;         /* 0 */
};

struct mig_end {
	uint64_t data_pages, zero_pages;   /* PAGES entries sent, of each kind */
	uint64_t rounds;
	uint64_t source_downtime_ns;       /* the source's PAUSE to this END */
	uint64_t frames_lost;              /* counted by the source's quiesced queues */
};

struct mig_resumed {
	uint64_t dest_downtime_ns;         /* END received to the guest's first instruction */
	uint64_t frames_lost;              /* frames for nobody on the destination during the switch-over */
};

struct mig_stream;

/* Source side: connects to HOST:PORT (a name or address; IPv6 in
 * brackets) within timeout_ms and runs the handshake.  NULL with a reason. */
struct mig_stream *mig_connect(const char *hostport, const uint8_t key[MIG_KEY_BYTES], int abort_fd,
                               unsigned timeout_ms, char *err, size_t errlen);
/* Destination side: the handshake on an accepted connection (fd is the
 * stream's from then on, closed by mig_close also on failure). */
struct mig_stream *mig_accept(int fd, const uint8_t key[MIG_KEY_BYTES], int abort_fd, unsigned timeout_ms,
                              char *err, size_t errlen);
/* Snapshot files: a writer (fd open for writing, at its start) and a
 * reader; fd is the stream's from then on. */
struct mig_stream *mig_file_writer(int fd, const uint8_t key[MIG_KEY_BYTES], char *err, size_t errlen);
struct mig_stream *mig_file_reader(int fd, const uint8_t key[MIG_KEY_BYTES], char *err, size_t errlen);
/* Closes the stream and its descriptor; NULL is ok. */
void mig_close(struct mig_stream *s);

/* Sends one record: the payload is head (head_len bytes) followed by body
 * (body_len bytes), which may be NULL.  final tags it FINAL (no record may
 * follow).  0, or -1 with a reason. */
int mig_send(struct mig_stream *s, uint8_t type, const void *head, size_t head_len, const void *body,
             size_t body_len, bool final, char *err, size_t errlen);
/* Receives one record within timeout_ms: *type, and *payload (the stream's
 * own buffer, valid until the next call) of *len bytes; *final if it was
 * the last.  0, or -1 with a reason (the stream is then unusable). */
int mig_recv(struct mig_stream *s, uint8_t *type, const uint8_t **payload, size_t *len, bool *final,
             unsigned timeout_ms, char *err, size_t errlen);

/* A file stream: its data on the disk (fdatasync).  0, or -1 with errno. */
int mig_sync(struct mig_stream *s);
/* Bytes written and read so far (ciphertext and framing): the "bytes"
 * figure of the source and of the destination. */
uint64_t mig_bytes_sent(const struct mig_stream *s);
uint64_t mig_bytes_received(const struct mig_stream *s);
/* The session identity (both nonces hashed): the same on both ends, for
 * the logs. */
void mig_session_id(const struct mig_stream *s, char out[17]);

/* Reads a key file as the config's "key_file" must be: a regular file of
 * exactly MIG_KEY_BYTES bytes, not readable or writable by group or
 * others.  0, or -1 with a one-line reason. */
int mig_load_key(const char *path, uint8_t key[MIG_KEY_BYTES], char *err, size_t errlen);

/* HOST:PORT or [IPV6]:PORT split into host (without brackets) and port
 * (decimal, 1..65535): 0, or -1 when it is not of that form or does not
 * fit. */
int mig_split_hostport(const char *hp, char *host, size_t hostlen, char *port, size_t portlen);

/* sodium_init, once per process: 0, or -1 if libsodium cannot start. */
int mig_init(void);

#endif
