/*
 * wire_tap.c: tap:IFNAME, a Linux TAP interface (IFF_TAP | IFF_NO_PI),
 * created if absent (needs CAP_NET_ADMIN) and brought up. The descriptor is
 * non-blocking: receive reads up to a batch of frames per poll into a small
 * buffer, transmit writes each frame once; a frame the kernel will not take
 * is counted in errors and dropped (lossy both ways).
 */
#include "nic/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAP_BATCH 64
/* A read longer than WIRE_MAX_FRAME means the frame did not fit. */
#define TAP_SLOT  (WIRE_MAX_FRAME + 1)

struct tap_wire {
	struct wire wire;
	int fd;
	unsigned first, count;  /* buffered frames offered by rx_peek */
	uint32_t len[TAP_BATCH];
	uint8_t buf[TAP_BATCH][TAP_SLOT];
};

static void tap_tx_burst(struct wire *w, const struct wire_frame *frames,
                         unsigned n)
{
	struct tap_wire *tw = (struct tap_wire *)w;
	uint64_t sent = 0, bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		if (write(tw->fd, frames[i].data, frames[i].len) ==
		    (ssize_t)frames[i].len) {
			sent++;
			bytes += frames[i].len;
		}
	}
	wire_count(&w->stats.tx_frames, sent);
	wire_count(&w->stats.tx_bytes, bytes);
	wire_count(&w->stats.errors, n - sent);
}

static void tap_fill(struct tap_wire *tw)
{
	tw->first = tw->count = 0;
	while (tw->count < TAP_BATCH) {
		ssize_t got = read(tw->fd, tw->buf[tw->count], TAP_SLOT);
		if (got < 0) {
			if (errno != EAGAIN && errno != EINTR)
				wire_count(&tw->wire.stats.errors, 1);
			return;
		}
		if (got < WIRE_MIN_FRAME || got > WIRE_MAX_FRAME) {
			wire_count(&tw->wire.stats.errors, 1);
			continue;
		}
		tw->len[tw->count++] = (uint32_t)got;
	}
}

static unsigned tap_rx_peek(struct wire *w, struct wire_frame *frames,
                            unsigned max)
{
	struct tap_wire *tw = (struct tap_wire *)w;
	if (tw->first == tw->count)
		tap_fill(tw);
	unsigned n = tw->count - tw->first;
	if (n > max)
		n = max;
	for (unsigned i = 0; i < n; i++)
		frames[i] = (struct wire_frame){ .data = tw->buf[tw->first + i],
		                                 .len = tw->len[tw->first + i] };
	return n;
}

static void tap_rx_consume(struct wire *w, unsigned n)
{
	struct tap_wire *tw = (struct tap_wire *)w;
	uint64_t bytes = 0;
	for (unsigned i = 0; i < n; i++)
		bytes += tw->len[tw->first + i];
	tw->first += n;
	wire_count(&w->stats.rx_frames, n);
	wire_count(&w->stats.rx_bytes, bytes);
}

static void tap_close(struct wire *w)
{
	struct tap_wire *tw = (struct tap_wire *)w;
	if (tw->fd >= 0)
		close(tw->fd);
	free(tw);
}

static int tap_rx_fd(const struct wire *w)
{
	return ((const struct tap_wire *)w)->fd;
}

static const struct wire_ops tap_ops = {
	.tx_burst = tap_tx_burst,
	.rx_peek = tap_rx_peek,
	.rx_consume = tap_rx_consume,
	.close = tap_close,
	.rx_fd = tap_rx_fd,
};

static bool bring_up(const char *name, char *err, size_t errlen)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	strcpy(req.ifr_name, name);
	bool ok = sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &req) == 0;
	req.ifr_flags |= IFF_UP;
	ok = ok && ioctl(sock, SIOCSIFFLAGS, &req) == 0;
	if (!ok)
		snprintf(err, errlen, "tap:%s: cannot bring the interface up: %s",
		         name, strerror(errno));
	if (sock >= 0)
		close(sock);
	return ok;
}

struct wire *wire_tap_open(const char *args, char *err, size_t errlen)
{
	if (!args || !*args || strlen(args) >= IFNAMSIZ || strchr(args, '/')) {
		snprintf(err, errlen, "tap: bad interface name '%s': use "
		         "tap:IFNAME with 1 to %d characters", args ? args : "",
		         IFNAMSIZ - 1);
		return NULL;
	}
	struct tap_wire *tw = calloc(1, sizeof(*tw));
	if (!tw) {
		snprintf(err, errlen, "tap: out of memory");
		return NULL;
	}
	tw->wire.ops = &tap_ops;
	tw->wire.kind = "tap";
	tw->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tw->fd < 0) {
		snprintf(err, errlen, "tap:%s: cannot open /dev/net/tun: %s",
		         args, strerror(errno));
		tap_close(&tw->wire);
		return NULL;
	}
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	req.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(req.ifr_name, args);
	if (ioctl(tw->fd, TUNSETIFF, &req) < 0) {
		snprintf(err, errlen, "tap:%s: cannot attach (TUNSETIFF): %s%s",
		         args, strerror(errno), errno == EPERM ?
		         " (creating a TAP interface needs CAP_NET_ADMIN)" : "");
		tap_close(&tw->wire);
		return NULL;
	}
	if (!bring_up(args, err, errlen)) {
		tap_close(&tw->wire);
		return NULL;
	}
	return &tw->wire;
}
