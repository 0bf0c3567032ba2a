/*
 * idle: the idle guest of bench/idle_guests: opens its port and sleeps in
 * opsub_port_wait until a frame comes (an hour at a time), dropping what
 * comes.  Unlike the example sink, which wakes every 100 ms, it costs no
 * CPU while nothing arrives.
 */
#include "opsub.h"

int main(void)
{
	struct opsub_port *p = opsub_port_open(0, 0);
	if (!p)
		return 1;
	struct opsub_buf b[32];
	for (;;) {
		unsigned n = opsub_rx_burst(p, b, 32);
		opsub_buf_free(p, b, n);
		if (!n)
			opsub_port_wait(p, 3600ull * 1000000000ull);
	}
}
