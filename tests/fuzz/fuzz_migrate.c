/*
 * libFuzzer target for the receiving end of a migration or a snapshot
 * (daemon/migrate_recv.c, daemon/migrate_stream.c): what arrives from the
 * network or a file is hostile.  The first byte of the input picks:
 *
 *   even  decrypted records, as the stream would hand them over, for
 *         mig_take: each is {u8 type, u8 final, u32 length (little
 *         endian, cut to what is left), payload}.  Guest memory is a
 *         buffer of HELLO's size (pages and holes are written into it:
 *         any write outside it is an ASan report).
 *   odd   the rest as a snapshot file for mig_file_reader and mig_recv
 *         (the framing and the length checks before authentication),
 *         whose records, if any authenticate, go to mig_take.
 *
 * A failure: a sanitizer report, a leak or crash; a record refused without
 * a one-line reason (non-empty, no newline); anything taken after a
 * refusal; or a stream accepted as complete (MIG_DONE) that breaks what
 * the daemon relies on: a valid guest config whose memory is HELLO's, a
 * guest state of at most GUEST_STATE_MAX bytes with the right magic and
 * size, the paravirt backend's state exactly for paravirt guests, and END's
 * counts equal to the pages taken.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/migrate_recv.h"
#include "daemon/migrate_stream.h"
#include "monitor/guest_state.h"
#include "sandbox/guest_mem.h"

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\nFUZZ FAILURE: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* The largest memory the fuzzer backs (a HELLO for more is checked but
 * its pages are not written anywhere). */
#define BACKED (64ull << 20)
static uint8_t *memory;

static const uint8_t key[MIG_KEY_BYTES] = "fuzzing key, 32 bytes long.....";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memory = mmap(NULL, BACKED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (memory == MAP_FAILED || mig_init())
		die("cannot set up");
	return 0;
}

static void check_done(const struct mig_incoming *in)
{
	if (!in->state || in->state_len > GUEST_STATE_MAX || in->state_len < sizeof(struct guest_state_header))
		die("accepted a stream without a guest state of a sane size (%u bytes)", in->state_len);
	struct guest_state_header h;
	memcpy(&h, in->state, sizeof(h));
	if (memcmp(h.magic, GUEST_STATE_MAGIC, 8) || h.size != in->state_len || h.mem_size != in->mem_size)
		die("accepted a guest state whose header does not match");
	if (in->cfg.mem != in->mem_size || in->mem_size < GUEST_MEM_MIN || in->mem_size > GUEST_SPACE ||
	    in->mem_size % 4096 || !in->cfg.name[0] || !in->cfg.argv[0])
		die("accepted a guest config that breaks a promise");
	if (in->has_vring != (in->cfg.io == OPSUB_IO_PARAVIRT))
		die("accepted paravirt ring state for a guest of mode %u", in->cfg.io);
	if (in->end.data_pages != in->data_pages || in->end.zero_pages != in->zero_pages)
		die("accepted END with counts that differ from the pages taken");
}

/* One record for the receiver; false once it refused (or finished). */
static bool feed(struct mig_incoming *in, uint8_t type, const uint8_t *p, size_t len, bool final)
{
	if (in->phase == MIG_WANT_PAGES && !in->mem && in->mem_size <= BACKED) {
		memset(memory, 0, 1 << 20);   /* what the pages of one input may dirty is small: the start */
		in->mem = memory;
	}
	char err[512];
	memset(err, 'x', sizeof(err));
	if (mig_take(in, type, p, len, final, err, sizeof(err))) {
		if (!memchr(err, 0, sizeof(err)) || !err[0] || strchr(err, '\n'))
			die("a record refused without a one-line reason");
		return false;
	}
	if (in->phase == MIG_DONE) {
		check_done(in);
		return false;
	}
	return true;
}

static void records(const uint8_t *data, size_t size)
{
	struct mig_incoming in;
	mig_incoming_init(&in);
	while (size >= 6) {
		uint32_t len;
		memcpy(&len, data + 2, 4);
		size_t n = len < size - 6 ? len : size - 6;
		if (!feed(&in, data[0], data + 6, n, data[1] & 1))
			break;
		data += 6 + n;
		size -= 6 + n;
	}
	mig_incoming_free(&in);
}

static void file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("snapshot", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET))
		die("cannot make the file");
	char err[512];
	struct mig_stream *s = mig_file_reader(fd, key, err, sizeof(err));
	struct mig_incoming in;
	mig_incoming_init(&in);
	for (bool more = s != NULL; more;) {
		uint8_t type;
		const uint8_t *p;
		size_t len;
		bool final;
		memset(err, 'x', sizeof(err));
		if (mig_recv(s, &type, &p, &len, &final, 100, err, sizeof(err))) {
			if (!memchr(err, 0, sizeof(err)) || !err[0] || strchr(err, '\n'))
				die("a file refused without a one-line reason");
			break;
		}
		if (len > MIG_PAYLOAD_MAX)
			die("a record of %zu bytes came through", len);
		more = feed(&in, type, p, len, final);
	}
	mig_incoming_free(&in);
	mig_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		file(data + 1, size - 1);
	else
		records(data + 1, size - 1);
	return 0;
}
