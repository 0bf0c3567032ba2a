/*
 * wire_pcap.c: pcap:IN,OUT. Received frames are read from the libpcap file
 * IN, one at a time and losslessly (a frame waits until its queue has a
 * descriptor; at the end of the file the wire goes quiet). Transmitted
 * frames are appended to the libpcap file OUT (Ethernet link type), flushed
 * after every burst, so the file is complete whenever the engine is idle and
 * after wire_close.
 */
#include "nic/wire.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define PCAP_USAGE "pcap:IN,OUT (either file may be empty, not both)"

struct pcap_wire {
	struct wire wire;
	pcap_t *in;             /* NULL: no RX side, or end of file */
	const uint8_t *frame;   /* the frame offered, valid until consumed */
	uint32_t frame_len;
	pcap_t *dead;           /* the handle pcap_dump_open wants */
	pcap_dumper_t *out;
};

static void pcap_tx_burst(struct wire *w, const struct wire_frame *frames,
                          unsigned n)
{
	struct pcap_wire *pw = (struct pcap_wire *)w;
	if (!pw->out) {
		wire_count(&w->stats.errors, n);
		return;
	}
	struct pcap_pkthdr hdr;
	gettimeofday(&hdr.ts, NULL);
	uint64_t bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		hdr.caplen = hdr.len = frames[i].len;
		pcap_dump((u_char *)pw->out, &hdr, frames[i].data);
		bytes += frames[i].len;
	}
	if (pcap_dump_flush(pw->out) != 0) {
		wire_count(&w->stats.errors, n);
		return;
	}
	wire_count(&w->stats.tx_frames, n);
	wire_count(&w->stats.tx_bytes, bytes);
}

static unsigned pcap_rx_peek(struct wire *w, struct wire_frame *frames,
                             unsigned max)
{
	struct pcap_wire *pw = (struct pcap_wire *)w;
	while (!pw->frame && pw->in) {
		struct pcap_pkthdr *hdr;
		const u_char *data;
		int rc = pcap_next_ex(pw->in, &hdr, &data);
		if (rc != 1) {
			/* End of file (-2) or a read error: nothing more. */
			if (rc != PCAP_ERROR_BREAK)
				wire_count(&w->stats.errors, 1);
			pcap_close(pw->in);
			pw->in = NULL;
			break;
		}
		if (hdr->caplen != hdr->len || hdr->len < WIRE_MIN_FRAME ||
		    hdr->len > WIRE_MAX_FRAME) {
			wire_count(&w->stats.errors, 1);   /* truncated or odd */
			continue;
		}
		pw->frame = data;
		pw->frame_len = hdr->len;
	}
	if (!pw->frame || max == 0)
		return 0;
	frames[0] = (struct wire_frame){ .data = pw->frame,
	                                 .len = pw->frame_len };
	return 1;
}

static void pcap_rx_consume(struct wire *w, unsigned n)
{
	struct pcap_wire *pw = (struct pcap_wire *)w;
	if (n == 0 || !pw->frame)
		return;
	wire_count(&w->stats.rx_frames, 1);
	wire_count(&w->stats.rx_bytes, pw->frame_len);
	pw->frame = NULL;
}

static void pcap_wire_close(struct wire *w)
{
	struct pcap_wire *pw = (struct pcap_wire *)w;
	if (pw->in)
		pcap_close(pw->in);
	if (pw->out)
		pcap_dump_close(pw->out);   /* flushes and closes the file */
	if (pw->dead)
		pcap_close(pw->dead);
	free(pw);
}

static const struct wire_ops pcap_ops = {
	.tx_burst = pcap_tx_burst,
	.rx_peek = pcap_rx_peek,
	.rx_consume = pcap_rx_consume,
	.close = pcap_wire_close,
};

static bool open_input(struct pcap_wire *pw, const char *path, char *err,
                       size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pw->in = pcap_open_offline(path, perr);
	if (!pw->in) {
		snprintf(err, errlen, "pcap: cannot read '%s': %s", path, perr);
		return false;
	}
	if (pcap_datalink(pw->in) != DLT_EN10MB) {
		snprintf(err, errlen, "pcap: '%s' is not an Ethernet capture "
		         "(link type %s)", path,
		         pcap_datalink_val_to_name(pcap_datalink(pw->in)));
		return false;
	}
	return true;
}

static bool open_output(struct pcap_wire *pw, const char *path, char *err,
                        size_t errlen)
{
	pw->dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!pw->dead) {
		snprintf(err, errlen, "pcap: out of memory");
		return false;
	}
	pw->out = pcap_dump_open(pw->dead, path);
	if (!pw->out) {
		snprintf(err, errlen, "pcap: cannot write '%s': %s", path,
		         pcap_geterr(pw->dead));
		return false;
	}
	return true;
}

struct wire *wire_pcap_open(const char *args, char *err, size_t errlen)
{
	const char *comma = args ? strchr(args, ',') : NULL;
	if (!comma || strchr(comma + 1, ',')) {
		snprintf(err, errlen, "pcap: expected two comma-separated files:"
		         " use " PCAP_USAGE);
		return NULL;
	}
	if (comma == args && comma[1] == '\0') {
		snprintf(err, errlen, "pcap: both files empty: use " PCAP_USAGE);
		return NULL;
	}
	struct pcap_wire *pw = calloc(1, sizeof(*pw));
	char *in_path = strndup(args, (size_t)(comma - args));
	if (!pw || !in_path) {
		free(pw);
		free(in_path);
		snprintf(err, errlen, "pcap: out of memory");
		return NULL;
	}
	pw->wire.ops = &pcap_ops;
	pw->wire.kind = "pcap";
	pw->wire.lossless = true;
	bool ok = (!*in_path || open_input(pw, in_path, err, errlen)) &&
	          (!comma[1] || open_output(pw, comma + 1, err, errlen));
	free(in_path);
	if (!ok) {
		pcap_wire_close(&pw->wire);
		return NULL;
	}
	return &pw->wire;
}
