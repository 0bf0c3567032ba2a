/* The receiver's checks of a migration stream or snapshot (migrate_recv.h). */
#include "daemon/migrate_recv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gates/cpu_model.h"
#include "gates/host.h"
#include "monitor/guest_state.h"
#include "sandbox/guest_mem.h"
#include "util/parse.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* sections of a state: far more than the guest process writes, far fewer
 * than would make its walk long */
#define STATE_SECTIONS_MAX 64u

void mig_incoming_init(struct mig_incoming *in)
{
	memset(in, 0, sizeof(*in));
	in->mem_fd = -1;
}

void mig_incoming_free(struct mig_incoming *in)
{
	config_guest_free(&in->cfg);
	free(in->state);
	in->state = NULL;
}

static const char *record_name(uint8_t t)
{
	static const char *const names[] = {"KEY_CHECK", "HELLO", "READY", "REFUSE", "PAGES", "STATE", "END",
	                                    "RESUMED", "FAILED", "HOLES"};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "an unknown record";
}

static int take_hello(struct mig_incoming *in, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct mig_hello h;
	if (len < sizeof(h))
		FAIL("HELLO is %zu bytes, shorter than its header", len);
	memcpy(&h, p, sizeof(h));
	if (h.version != MIG_VERSION)
		FAIL("the source speaks migration version %u, this daemon %u", h.version, MIG_VERSION);
	if (h.config_len != len - sizeof(h))
		FAIL("HELLO's config length %u does not fill the record (%zu bytes)", h.config_len, len - sizeof(h));
	if (h.reserved)
		FAIL("HELLO's reserved field is %u, not 0", h.reserved);
	/* before any page comes: a guest keeps the CPU it was shown */
	if (cpu_model_fits(h.cpu_optional, host_optional_rows(), err, errlen))
		return -1;
	if (h.mem_size < GUEST_MEM_MIN || h.mem_size > GUEST_SPACE || h.mem_size % MIG_PAGE_SIZE)
		FAIL("guest memory of %llu bytes: not a size a guest can have (64M..4G, whole pages)",
		     (unsigned long long)h.mem_size);
	json_error_t je;
	json_t *o = json_loadb((const char *)p + sizeof(h), h.config_len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		FAIL("the guest's config is not valid JSON: %s", je.text);
	int rc = config_guest_from_stream(o, &in->cfg, err, errlen);
	json_decref(o);
	if (rc)
		return -1;
	if (in->cfg.mem != h.mem_size)
		FAIL("the guest's config says \"mem\" %llu but HELLO %llu", (unsigned long long)in->cfg.mem,
		     (unsigned long long)h.mem_size);
	in->mem_size = h.mem_size;
	in->cpu_rows = h.cpu_optional;
	in->pages = h.mem_size / MIG_PAGE_SIZE;
	in->resident_pages = h.resident_pages > in->pages ? in->pages : h.resident_pages;
	in->phase = MIG_WANT_PAGES;
	return 0;
}

static int take_pages(struct mig_incoming *in, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct mig_pages_head h;
	if (len < sizeof(h))
		FAIL("PAGES is %zu bytes, shorter than its header", len);
	memcpy(&h, p, sizeof(h));
	if (h.count == 0 || h.count > MIG_PAGES_PER_RECORD)
		FAIL("PAGES holds %u pages (1..%u)", h.count, MIG_PAGES_PER_RECORD);
	size_t at = sizeof(h);
	for (uint32_t i = 0; i < h.count; i++) {
		struct mig_page_entry e;
		if (len - at < sizeof(e))
			FAIL("PAGES ends inside its entry %u of %u", i, h.count);
		memcpy(&e, p + at, sizeof(e));
		at += sizeof(e);
		if (e.page >= in->pages)
			FAIL("page %u is past the end of guest memory (%llu pages)", e.page, (unsigned long long)in->pages);
		if (e.kind == MIG_PAGE_DATA) {
			if (len - at < MIG_PAGE_SIZE)
				FAIL("PAGES ends inside the data of page %u", e.page);
			if (in->mem)
				memcpy(in->mem + (uint64_t)e.page * MIG_PAGE_SIZE, p + at, MIG_PAGE_SIZE);
			at += MIG_PAGE_SIZE;
			in->data_pages++;
		} else if (e.kind == MIG_PAGE_ZERO) {
			if (in->mem)
				memset(in->mem + (uint64_t)e.page * MIG_PAGE_SIZE, 0, MIG_PAGE_SIZE);
			in->zero_pages++;
		} else
			FAIL("page %u has an unknown kind %u", e.page, e.kind);
	}
	if (at != len)
		FAIL("PAGES has %zu bytes after its %u entries", len - at, h.count);
	return 0;
}

static int take_holes(struct mig_incoming *in, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct mig_holes_head h;
	if (len < sizeof(h))
		FAIL("HOLES is %zu bytes, shorter than its header", len);
	memcpy(&h, p, sizeof(h));
	if (h.count == 0 || h.count > MIG_HOLES_PER_RECORD || len - sizeof(h) != (size_t)h.count * sizeof(struct mig_hole))
		FAIL("HOLES holds %u ranges in %zu bytes (1..%u ranges of %zu bytes)", h.count, len - sizeof(h),
		     MIG_HOLES_PER_RECORD, sizeof(struct mig_hole));
	for (uint32_t i = 0; i < h.count; i++) {
		struct mig_hole r;
		memcpy(&r, p + sizeof(h) + (size_t)i * sizeof(r), sizeof(r));
		if (r.pages == 0 || r.page >= in->pages || r.pages > in->pages - r.page)
			FAIL("hole %llu+%llu is not inside guest memory (%llu pages)", (unsigned long long)r.page,
			     (unsigned long long)r.pages, (unsigned long long)in->pages);
		if (r.page < in->holes_end)
			FAIL("hole %llu+%llu is out of order", (unsigned long long)r.page, (unsigned long long)r.pages);
		in->holes_end = r.page + r.pages;
		off_t at = (off_t)(r.page * MIG_PAGE_SIZE), bytes = (off_t)(r.pages * MIG_PAGE_SIZE);
		if (in->mem_fd >= 0) {
			if (fallocate(in->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, bytes))
				FAIL("cannot free pages of the new guest memory: %s", strerror(errno));
		} else if (in->mem)
			memset(in->mem + at, 0, (size_t)bytes);
	}
	in->holes = true;
	return 0;
}

int mig_check_state_header(const uint8_t *state, size_t len, uint64_t mem_size, enum opsub_net_mode io,
                           char *err, size_t errlen)
{
	struct guest_state_header h;
	if (len < sizeof(h))
		FAIL("the guest state is %zu bytes, shorter than its header", len);
	memcpy(&h, state, sizeof(h));
	if (memcmp(h.magic, GUEST_STATE_MAGIC, sizeof(h.magic)))
		FAIL("the guest state does not start with %s", GUEST_STATE_MAGIC);
	if (h.version != GUEST_STATE_VERSION)
		FAIL("guest state version %u, this opsub reads %u", h.version, GUEST_STATE_VERSION);
	if (h.size != len)
		FAIL("the guest state says it is %u bytes but %zu came", h.size, len);
	if (h.mem_size != mem_size)
		FAIL("the guest state is of a %llu-byte memory, the guest's is %llu", (unsigned long long)h.mem_size,
		     (unsigned long long)mem_size);
	if (h.io_mode != GUEST_STATE_NO_PORT && h.io_mode != (uint32_t)io)
		FAIL("the guest state's port is in I/O mode %u, the config's %u", h.io_mode, (unsigned)io);
	if (h.sections > STATE_SECTIONS_MAX)
		FAIL("the guest state has %u sections (at most %u)", h.sections, STATE_SECTIONS_MAX);
	return cpu_model_fits(h.cpu_optional, host_optional_rows(), err, errlen);
}

static int take_state(struct mig_incoming *in, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct mig_state_head h;
	if (in->state)
		FAIL("a second STATE");
	if (len < sizeof(h))
		FAIL("STATE is %zu bytes, shorter than its header", len);
	memcpy(&h, p, sizeof(h));
	if (h.state_len > GUEST_STATE_MAX || h.state_len != len - sizeof(h))
		FAIL("STATE carries %zu bytes but says %u (at most %u)", len - sizeof(h), h.state_len, GUEST_STATE_MAX);
	if (h.has_vring > 1 || h.reserved || h.has_vring != (in->cfg.io == OPSUB_IO_PARAVIRT))
		FAIL("STATE %s the paravirt backend's state for a %sparavirt guest", h.has_vring ? "carries" : "lacks",
		     h.has_vring ? "non-" : "");
	if (mig_check_state_header(p + sizeof(h), h.state_len, in->mem_size, in->cfg.io, err, errlen))
		return -1;
	uint32_t rows;
	memcpy(&rows, p + sizeof(h) + offsetof(struct guest_state_header, cpu_optional), sizeof(rows));
	if (rows != in->cpu_rows)
		FAIL("the guest state's CPU rows 0x%x are not HELLO's 0x%x", rows, in->cpu_rows);
	in->state = malloc(h.state_len);
	if (!in->state)
		FAIL("out of memory for the guest state");
	memcpy(in->state, p + sizeof(h), h.state_len);
	in->state_len = h.state_len;
	in->has_vring = h.has_vring;
	in->vring = h.vring;
	return 0;
}

static int take_end(struct mig_incoming *in, const uint8_t *p, size_t len, bool final, char *err, size_t errlen)
{
	if (!final)
		FAIL("END is not the stream's last record");
	if (!in->state)
		FAIL("END before the guest state");
	if (len != sizeof(in->end))
		FAIL("END is %zu bytes, not %zu", len, sizeof(in->end));
	memcpy(&in->end, p, sizeof(in->end));
	if (in->end.data_pages != in->data_pages || in->end.zero_pages != in->zero_pages)
		FAIL("END counts %llu pages and %llu zero pages, %llu and %llu came",
		     (unsigned long long)in->end.data_pages, (unsigned long long)in->end.zero_pages,
		     (unsigned long long)in->data_pages, (unsigned long long)in->zero_pages);
	in->phase = MIG_DONE;
	return 0;
}

static int take(struct mig_incoming *in, uint8_t type, const uint8_t *p, size_t len, bool final, char *err,
                size_t errlen)
{
	if (in->phase == MIG_DONE)
		FAIL("%s after END", record_name(type));
	if (final && type != MIG_END)
		FAIL("the stream ends with %s, not END", record_name(type));
	if (in->phase == MIG_WANT_HELLO) {
		if (type != MIG_HELLO)
			FAIL("%s before HELLO", record_name(type));
		return take_hello(in, p, len, err, errlen);
	}
	switch (type) {
	case MIG_PAGES:
		if (in->state || in->holes)
			FAIL("PAGES after %s", in->state ? "the guest state" : "HOLES");
		return take_pages(in, p, len, err, errlen);
	case MIG_HOLES:
		if (in->state)
			FAIL("HOLES after the guest state");
		return take_holes(in, p, len, err, errlen);
	case MIG_STATE:
		return take_state(in, p, len, err, errlen);
	case MIG_END:
		return take_end(in, p, len, final, err, errlen);
	default:
		FAIL("%s where PAGES, HOLES, STATE or END belong", record_name(type));
	}
}

int mig_take(struct mig_incoming *in, uint8_t type, const uint8_t *p, size_t len, bool final, char *err,
             size_t errlen)
{
	int rc = take(in, type, p, len, final, err, errlen);
	if (rc)
		make_one_line(err, errlen);   /* the config and jansson's excerpt of it are the sender's text */
	return rc;
}
