/*
 * wire_loop.c: a loopback plug. Every transmitted frame is handed straight
 * back to the NIC as a received frame (wire.deliver), which steers it and
 * copies it from the TX buffer into the RX buffer: one copy, like a NIC's
 * internal switch. Lossy: a frame whose queue has no descriptor is dropped.
 */
#include "nic/wire.h"

#include <stdio.h>
#include <stdlib.h>

static void loop_tx_burst(struct wire *w, const struct wire_frame *frames,
                          unsigned n)
{
	uint64_t bytes = 0;
	for (unsigned i = 0; i < n; i++)
		bytes += frames[i].len;
	wire_count(&w->stats.tx_frames, n);
	wire_count(&w->stats.tx_bytes, bytes);
	wire_count(&w->stats.rx_frames, n);
	wire_count(&w->stats.rx_bytes, bytes);
	w->deliver(w->deliver_ctx, frames, n);
}

static void loop_close(struct wire *w)
{
	free(w);
}

static const struct wire_ops loop_ops = {
	.tx_burst = loop_tx_burst,
	.close = loop_close,
};

struct wire *wire_loop_open(const char *args, char *err, size_t errlen)
{
	if (args) {
		snprintf(err, errlen, "loop takes no arguments (got 'loop:%s')",
		         args);
		return NULL;
	}
	struct wire *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "loop: out of memory");
		return NULL;
	}
	w->ops = &loop_ops;
	w->kind = "loop";
	return w;
}
