/*
 * test_nic_wire.c: wire backends: spec errors, pcap replay forwarded by a
 * driver back out to a pcap file byte for byte, and a real TAP interface
 * (skipped when /dev/net/tun or CAP_NET_ADMIN is missing).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nic_rig.h"

#define WINDOW    1u
#define MEM_SIZE  (8u << 20)
#define BUF_SIZE  2048u
#define RING      16u

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };

/* ---- spec errors --------------------------------------------------- */

/* Each bad spec is refused with one line naming the problem and what is
 * accepted. */
static void test_bad_specs_get_one_line_errors(void **state)
{
	(void)state;
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "", "null, null:SIZE" },
		{ "nul", "unknown wire 'nul'" },
		{ "null:10", "bad frame size '10'" },
		{ "null:64x", "bad frame size" },
		{ "null:99999", "60 <= SIZE <= 2048" },
		{ "null:64,02:00:00:00:00", "bad destination MAC" },
		{ "null:64,02:00:00:00:00:01,zz", "bad source MAC" },
		{ "null:64,02:00:00:00:00:01,02:00:00:00:00:02,x", "too many" },
		{ "loop:1", "loop takes no arguments" },
		{ "pcap", "pcap:IN,OUT" },
		{ "pcap:a.pcap", "two comma-separated" },
		{ "pcap:,", "both files empty" },
		{ "pcap:a,b,c", "two comma-separated" },
		{ "pcap:/nonexistent/in.pcap,", "cannot read '/nonexistent" },
		{ "pcap:,/nonexistent/out.pcap", "cannot write" },
		{ "tap", "tap:IFNAME" },
		{ "tap:", "bad interface name" },
		{ "tap:a-name-far-too-long", "1 to 15 characters" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		struct wire *w = wire_open(bad[i].spec, err, sizeof(err));
		if (w)
			fail_msg("'%s' was accepted", bad[i].spec);
		if (!strstr(err, bad[i].says) || strchr(err, '\n'))
			fail_msg("'%s' -> '%s', want one line with '%s'",
			         bad[i].spec, err, bad[i].says);
	}
	struct nic_config cfg;
	char err[256];
	nic_config_defaults(&cfg);
	cfg.num_queues = NIC_MAX_QUEUES + 1;
	assert_null(nic_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "use 1 to 4096"));
	nic_config_defaults(&cfg);
	cfg.wire = "bogus";
	assert_null(nic_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown wire"));
}

/* Control calls refuse bad arguments with a message. */
static void test_bad_control_calls(void **state)
{
	(void)state;
	struct nic_config cfg;
	char err[256];
	nic_config_defaults(&cfg);
	cfg.num_queues = 4;
	struct nic *nic = nic_create(&cfg, err, sizeof(err));
	assert_non_null(nic);
	static uint8_t mem[4096];
	assert_int_equal(nic_window_map(nic, NIC_MAX_WINDOWS, mem, 4096, err,
	                                sizeof(err)), -1);
	assert_int_equal(nic_window_map(nic, 1, mem, 0, err, sizeof(err)), -1);
	assert_int_equal(nic_window_map(nic, 1, mem, (1ull << 32) + 1, err,
	                                sizeof(err)), -1);
	assert_int_equal(nic_window_map(nic, 1, mem, 4096, err, sizeof(err)), 0);
	assert_int_equal(nic_window_map(nic, 1, mem, 4096, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "already mapped"));
	struct nic_filter f = { .vlan = 4096, .queue = 0 };
	assert_int_equal(nic_filter_add(nic, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "VLAN 4096"));
	f = (struct nic_filter){ .vlan = NIC_VLAN_ANY, .queue = 4 };
	assert_int_equal(nic_filter_add(nic, &f, err, sizeof(err)), -1);
	f = (struct nic_filter){ .vlan = NIC_VLAN_ANY, .flags = 0x80 };
	assert_int_equal(nic_filter_add(nic, &f, err, sizeof(err)), -1);
	f.flags = 0;
	for (unsigned i = 0; i < NIC_MAX_FILTERS; i++)
		assert_int_equal(nic_filter_add(nic, &f, err, sizeof(err)),
		                 (int)i);
	assert_int_equal(nic_filter_add(nic, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "full"));
	assert_int_equal(nic_filter_clear(nic, 7, err, sizeof(err)), 0);
	assert_int_equal(nic_filter_clear(nic, 7, err, sizeof(err)), -1);
	assert_int_equal(nic_filter_add(nic, &f, err, sizeof(err)), 7);
	assert_int_equal(nic_queue_reset(nic, 4, err, sizeof(err)), -1);
	assert_int_equal(nic_start(nic, err, sizeof(err)), 0);
	assert_int_equal(nic_start(nic, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already running"));
	nic_destroy(nic);
}

/* ---- pcap in -> driver forwarding -> pcap out ---------------------- */

static void write_pcap(const char *path, unsigned frames)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *out = pcap_dump_open(dead, path);
	assert_non_null(out);
	uint8_t frame[1514];
	for (unsigned i = 0; i < frames; i++) {
		uint32_t len = 60 + (i * 131) % (1514 - 60);
		memcpy(frame, MAC_A, 6);
		memset(frame + 6, 0x02, 6);
		frame[12] = 0x08;
		frame[13] = 0x00;
		for (uint32_t b = 14; b < len; b++)
			frame[b] = (uint8_t)(i * 3 + b);
		struct pcap_pkthdr hdr = { .ts = { 1000 + i, 0 }, .caplen = len,
		                           .len = len };
		pcap_dump((u_char *)out, &hdr, frame);
	}
	pcap_dump_close(out);
	pcap_close(dead);
}

/* A driver forwards every received frame from queue 0's RX ring to its TX
 * ring (zero copy: the RX buffer is transmitted). The input has more
 * frames than the RX ring: the lossless wire waits. OUT must equal IN. */
static void test_pcap_in_forward_pcap_out(void **state)
{
	(void)state;
	char in_path[] = "/tmp/opsub-nic-in-XXXXXX";
	char out_path[] = "/tmp/opsub-nic-out-XXXXXX";
	int fd_in = mkstemp(in_path), fd_out = mkstemp(out_path);
	assert_true(fd_in >= 0 && fd_out >= 0);
	close(fd_in);
	close(fd_out);
	const unsigned frames = 200;
	write_pcap(in_path, frames);

	char spec[128], err[256];
	snprintf(spec, sizeof(spec), "pcap:%s,%s", in_path, out_path);
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.num_queues = 1;
	cfg.wire = spec;
	struct nic_rig r;
	nic_rig_open_stopped(&r, &cfg, WINDOW, MEM_SIZE);
	struct nic_filter f = { .vlan = NIC_VLAN_ANY };
	memcpy(f.mac, MAC_A, 6);
	assert_int_equal(nic_filter_add(r.nic, &f, err, sizeof(err)), 0);
	nic_rig_start(&r);

	uint64_t tx_dev, rx_dev, bufs_dev;
	void *tx_ring = nic_arena_alloc(&r.arena, RING * 16, 64, &tx_dev);
	void *rx_ring = nic_arena_alloc(&r.arena, RING * 16, 64, &rx_dev);
	nic_arena_alloc(&r.arena, 2 * RING * BUF_SIZE, 64, &bufs_dev);
	struct nic_queue_regs *regs = nic_queue_regs(r.nic, 0);
	struct nic_txq txq;
	struct nic_rxq rxq;
	nic_txq_start(&txq, regs, tx_ring, tx_dev, RING, nic_queue_doorbell_fd(r.nic, 0));
	nic_rxq_start(&rxq, regs, rx_ring, rx_dev, RING, nic_queue_doorbell_fd(r.nic, 0));
	/* Buffers circulate: RX -> TX -> back to RX when TX completes. */
	uint64_t pending[RING];
	unsigned free_count = 0;
	uint64_t free_bufs[2 * RING];
	for (unsigned i = 0; i < 2 * RING; i++)
		free_bufs[free_count++] = bufs_dev + i * BUF_SIZE;

	unsigned forwarded = 0;
	for (int spins = 0; forwarded < frames && spins < 500000; spins++) {
		uint32_t done = nic_txq_reap(&txq);
		for (uint32_t i = 0; i < done; i++)
			free_bufs[free_count++] =
				pending[(txq.clean - done + i) & (RING - 1)];
		while (nic_rxq_free(&rxq) > 0 && free_count > 0)
			nic_rxq_post(&rxq, free_bufs[--free_count], BUF_SIZE);
		nic_rxq_kick(&rxq);
		uint32_t index;
		struct nic_rx_desc d;
		while (nic_txq_free(&txq) > 0 && nic_rxq_poll(&rxq, &index, &d)) {
			assert_int_equal(d.status, NIC_RXD_STA_DD | NIC_RXD_STA_EOP);
			pending[txq.tail] = d.addr;
			nic_txq_post(&txq, d.addr, d.length, NIC_TXD_CMD_EOP, 0);
			forwarded++;
		}
		nic_txq_kick(&txq);
		usleep(20);
	}
	assert_int_equal(forwarded, frames);
	assert_true(WAIT_FOR(nic_reg_read32(&regs->tx_head) == txq.tail));
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.rx_dropped, 0);
	assert_int_equal(gs.rx_frames, frames);
	nic_rig_close(&r);   /* closes OUT */

	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *a = pcap_open_offline(in_path, perr);
	pcap_t *b = pcap_open_offline(out_path, perr);
	assert_non_null(a);
	assert_non_null(b);
	struct pcap_pkthdr *ha, *hb;
	const u_char *da, *db;
	unsigned compared = 0;
	while (pcap_next_ex(a, &ha, &da) == 1) {
		assert_int_equal(pcap_next_ex(b, &hb, &db), 1);
		assert_int_equal(hb->caplen, ha->caplen);
		assert_int_equal(hb->len, ha->len);
		assert_memory_equal(db, da, ha->caplen);
		compared++;
	}
	assert_int_equal(pcap_next_ex(b, &hb, &db), PCAP_ERROR_BREAK);
	assert_int_equal(compared, frames);
	pcap_close(a);
	pcap_close(b);
	unlink(in_path);
	unlink(out_path);
}

/* ---- tap ----------------------------------------------------------- */

/* A frame sent by the NIC shows up on the TAP interface (seen by a packet
 * socket bound to it), and a frame sent into the interface arrives on the
 * NIC's RX queue. */
static void test_tap_both_ways(void **state)
{
	(void)state;
	char name[IFNAMSIZ], spec[64], err[256];
	snprintf(name, sizeof(name), "opsubt%d", (int)getpid() % 100000);
	snprintf(spec, sizeof(spec), "tap:%s", name);
	struct wire *probe = wire_open(spec, err, sizeof(err));
	if (!probe) {
		print_message("skipping tap test: %s\n", err);
		skip();
	}
	wire_close(probe);

	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.num_queues = 1;
	cfg.wire = spec;
	struct nic_rig r;
	nic_rig_open_stopped(&r, &cfg, WINDOW, MEM_SIZE);
	int sock = socket(AF_PACKET, SOCK_RAW, htons(0x88b5));
	if (sock < 0) {
		nic_rig_close(&r);
		print_message("skipping tap test: packet socket: %s\n",
		              strerror(errno));
		skip();
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
	                           .sll_protocol = htons(0x88b5),
	                           .sll_ifindex = (int)if_nametoindex(name) };
	assert_int_equal(bind(sock, (struct sockaddr *)&sll, sizeof(sll)), 0);

	struct nic_filter f = { .vlan = NIC_VLAN_ANY };
	memcpy(f.mac, MAC_A, 6);
	assert_int_equal(nic_filter_add(r.nic, &f, err, sizeof(err)), 0);
	nic_rig_start(&r);
	uint64_t tx_dev, rx_dev, buf_dev, rxbuf_dev;
	void *tx_ring = nic_arena_alloc(&r.arena, RING * 16, 64, &tx_dev);
	void *rx_ring = nic_arena_alloc(&r.arena, RING * 16, 64, &rx_dev);
	uint8_t *buf = nic_arena_alloc(&r.arena, BUF_SIZE, 64, &buf_dev);
	uint8_t *rxbufs = nic_arena_alloc(&r.arena, RING * BUF_SIZE, 64,
	                                  &rxbuf_dev);
	struct nic_queue_regs *regs = nic_queue_regs(r.nic, 0);
	struct nic_txq txq;
	struct nic_rxq rxq;
	nic_txq_start(&txq, regs, tx_ring, tx_dev, RING, nic_queue_doorbell_fd(r.nic, 0));
	nic_rxq_start(&rxq, regs, rx_ring, rx_dev, RING, nic_queue_doorbell_fd(r.nic, 0));
	for (unsigned i = 0; i < RING - 1; i++)
		nic_rxq_post(&rxq, rxbuf_dev + i * BUF_SIZE, BUF_SIZE);
	nic_rxq_kick(&rxq);
	assert_true(nic_queue_wait_status(regs, 3, 3, 5000));

	/* NIC -> interface */
	uint8_t frame[100];
	memset(frame, 0xff, 6);
	memcpy(frame + 6, MAC_A, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (unsigned i = 14; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	memcpy(buf, frame, sizeof(frame));
	nic_txq_post(&txq, buf_dev, sizeof(frame), NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&txq);
	struct pollfd p = { .fd = sock, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);
	uint8_t got[2048];
	assert_int_equal(recv(sock, got, sizeof(got), 0), sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));

	/* interface -> NIC (other traffic, e.g. IPv6 neighbour discovery,
	 * may arrive too: it is multicast and matches no filter) */
	memcpy(frame, MAC_A, 6);
	memset(frame + 6, 0x02, 6);
	assert_int_equal(sendto(sock, frame, sizeof(frame), 0,
	                        (struct sockaddr *)&sll, sizeof(sll)),
	                 sizeof(frame));
	uint32_t index;
	struct nic_rx_desc d;
	assert_true(WAIT_FOR(nic_rxq_poll(&rxq, &index, &d)));
	assert_int_equal(d.length, sizeof(frame));
	assert_memory_equal(rxbufs + index * BUF_SIZE, frame, sizeof(frame));
	struct wire_stats ws;
	wire_read_stats(nic_wire(r.nic), &ws);
	assert_int_equal(ws.tx_frames, 1);
	assert_true(ws.rx_frames >= 1);

	close(sock);
	nic_rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_specs_get_one_line_errors),
		cmocka_unit_test(test_bad_control_calls),
		cmocka_unit_test(test_pcap_in_forward_pcap_out),
		cmocka_unit_test(test_tap_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
