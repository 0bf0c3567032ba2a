/*
 * wire_null.c: the null wire. As a sink it reads every byte of every frame
 * (null_frame_sum64 into stats.tx_checksum, so the reads are real work the
 * compiler cannot drop). With a SIZE it is also an endless, lossless source
 * of null_frame.h frames, written straight into the RX buffers.
 */
#include "null_frame.h"
#include "nic/wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NULL_USAGE "null or null:SIZE[,DSTMAC[,SRCMAC]] with 60 <= SIZE <= 2048"

struct null_wire {
	struct wire wire;
	uint32_t frame_len;     /* 0: sink only */
	uint64_t next_seq;      /* sequence number of the first frame offered */
	uint8_t header[14];     /* destination, source, EtherType */
};

static void null_tx_burst(struct wire *w, const struct wire_frame *frames,
                          unsigned n)
{
	uint64_t sum = 0, bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		sum += null_frame_sum64(frames[i].data, frames[i].len);
		bytes += frames[i].len;
	}
	wire_count(&w->stats.tx_checksum, sum);
	wire_count(&w->stats.tx_frames, n);
	wire_count(&w->stats.tx_bytes, bytes);
}

static unsigned null_rx_peek(struct wire *w, struct wire_frame *frames,
                             unsigned max)
{
	struct null_wire *nw = (struct null_wire *)w;
	for (unsigned i = 0; i < max; i++)
		frames[i] = (struct wire_frame){ .data = nw->header,
		                                 .len = nw->frame_len,
		                                 .cookie = nw->next_seq + i };
	return max;
}

static void null_rx_write(struct wire *w, const struct wire_frame *frame,
                          uint8_t *dst)
{
	struct null_wire *nw = (struct null_wire *)w;
	null_frame_write(dst, nw->header, nw->frame_len, frame->cookie);
}

static void null_rx_consume(struct wire *w, unsigned n)
{
	struct null_wire *nw = (struct null_wire *)w;
	nw->next_seq += n;
	wire_count(&w->stats.rx_frames, n);
	wire_count(&w->stats.rx_bytes, (uint64_t)n * nw->frame_len);
}

static void null_close(struct wire *w)
{
	free(w);
}

static const struct wire_ops null_sink_ops = {
	.tx_burst = null_tx_burst,
	.close = null_close,
};

static const struct wire_ops null_source_ops = {
	.tx_burst = null_tx_burst,
	.rx_peek = null_rx_peek,
	.rx_write = null_rx_write,
	.rx_consume = null_rx_consume,
	.close = null_close,
};

/* Parses "aa:bb:cc:dd:ee:ff" exactly. */
static bool parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	int used = 0;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2],
	           &v[3], &v[4], &v[5], &used) != 6 || text[used] != '\0' ||
	    used != 17)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

struct wire *wire_null_open(const char *args, char *err, size_t errlen)
{
	/* Broadcast reaches every queue that accepts broadcast, so the source
	 * works without knowing any queue's MAC. */
	uint8_t dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	unsigned long size = 0;

	if (args) {
		char copy[64];
		if (strlen(args) >= sizeof(copy)) {
			snprintf(err, errlen, "null: spec too long: use " NULL_USAGE);
			return NULL;
		}
		strcpy(copy, args);
		char *save = NULL;
		char *size_text = strtok_r(copy, ",", &save);
		char *dst_text = strtok_r(NULL, ",", &save);
		char *src_text = strtok_r(NULL, ",", &save);
		char *end = NULL;
		errno = 0;
		if (size_text)
			size = strtoul(size_text, &end, 10);
		if (!size_text || errno || *end || size < NULL_FRAME_MIN ||
		    size > WIRE_MAX_FRAME) {
			snprintf(err, errlen, "null: bad frame size '%s': use "
			         NULL_USAGE, size_text ? size_text : "");
			return NULL;
		}
		if (dst_text && !parse_mac(dst_text, dst)) {
			snprintf(err, errlen, "null: bad destination MAC '%s': "
			         "use aa:bb:cc:dd:ee:ff", dst_text);
			return NULL;
		}
		if (src_text && !parse_mac(src_text, src)) {
			snprintf(err, errlen, "null: bad source MAC '%s': "
			         "use aa:bb:cc:dd:ee:ff", src_text);
			return NULL;
		}
		if (strtok_r(NULL, ",", &save)) {
			snprintf(err, errlen, "null: too many fields: use "
			         NULL_USAGE);
			return NULL;
		}
	}

	struct null_wire *nw = calloc(1, sizeof(*nw));
	if (!nw) {
		snprintf(err, errlen, "null: out of memory");
		return NULL;
	}
	nw->wire.ops = size ? &null_source_ops : &null_sink_ops;
	nw->wire.kind = "null";
	nw->wire.lossless = true;
	nw->frame_len = (uint32_t)size;
	memcpy(nw->header, dst, 6);
	memcpy(nw->header + 6, src, 6);
	nw->header[12] = NULL_FRAME_ETHERTYPE >> 8;
	nw->header[13] = NULL_FRAME_ETHERTYPE & 0xff;
	return &nw->wire;
}
