/*
 * The attacker of the forgery test.  forger WINDOW ADDR: the victim's
 * secret is at device address (WINDOW << 32) | ADDR.
 *
 * passthrough mode: it writes a TX descriptor pointing there itself; the NIC,
 * trusting descriptors like real hardware without an IOMMU, reads the
 * victim's memory and sends it; the frame comes back to this promiscuous
 * port and the forger prints "STOLEN: <secret>".  Before that it has the
 * NIC write a frame over code it has run (a receive buffer on that page):
 * the translator is not told, and the forger prints "STALE: ..." when the
 * old translation still runs.
 *
 * opsub mode: the trusted driver takes only guest addresses; the forger
 * tries every way to name memory that is not its own (addresses beyond its
 * memory, the victim's device address, ranges that run off the end or wrap,
 * overflowing lengths, read-only or unaligned receive buffers, a receive
 * buffer on a page of code it has run, receive buffers on pages that lost
 * write permission or became code after the driver took a buffer there)
 * and prints how many were refused.
 * It exits 0 when it stole nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nic_ring.h"
#include "opsub.h"

static long hypercall(long nr, long a0, long a1)
{
	register long rdi __asm__("rdi") = a0, rsi __asm__("rsi") = a1;
	long r = nr;
	__asm__ volatile("vmcall" : "+a"(r) : "r"(rdi), "r"(rsi) : "memory");
	return r;
}

/* Passthrough doorbells: this code is the driver, so it wakes a sleeping
 * NIC itself (NET_KICK), as the SDK does. */
static void tx_kick(struct nic_txq *tx)
{
	if (nic_txq_ring(tx))
		hypercall(OPSUB_HC_NET_KICK, 0, 0);
}

static void rx_kick(struct nic_rxq *rx)
{
	if (nic_rxq_ring(rx))
		hypercall(OPSUB_HC_NET_KICK, 0, 0);
}

static int look_for_secret(const uint8_t *f, uint32_t len)
{
	for (uint32_t i = 0; i + 7 <= len; i++)
		if (!memcmp(f + i, "SECRET-", 7)) {
			printf("STOLEN: %.*s\n", (int)(len - i < 40 ? len - i : 40), (const char *)f + i);
			return 1;
		}
	return 0;
}

/* A page holding `mov eax, 1; ret`, run once, so its code is translated
 * and the page watched. */
static int (*run_once_code(void))(void)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	static const uint8_t ret1[] = {0xb8, 1, 0, 0, 0, 0xc3};
	memcpy(p, ret1, sizeof(ret1));
	int (*f)(void) = (int (*)(void))(uintptr_t)p;
	return f() == 1 ? f : NULL;
}

/* The NIC receives a frame into code the forger has run: its destination
 * MAC is `mov eax, 2; ret`.  Prints STALE when the old code still runs. */
static void dma_over_code(struct nic_txq *tx, struct nic_rxq *rx, uint64_t base, uint8_t *frame,
                          int (*code)(void))
{
	static const uint8_t mac_code[6] = {0xb8, 2, 0, 0, 0, 0xc3};
	memset(frame, 0, 60);
	memcpy(frame, mac_code, 6);
	frame[12] = 0x88, frame[13] = 0xb5;
	nic_txq_post(tx, base + (uint64_t)(uintptr_t)frame, 60, NIC_TXD_CMD_EOP, 0);
	tx_kick(tx);
	uint64_t end = opsub_clock_ns() + 1000000000ull;
	struct nic_rx_desc d;
	uint32_t index;
	while (!nic_rxq_poll(rx, &index, &d))
		if (opsub_clock_ns() > end) {
			printf("dma_over_code: no frame came back\n");
			return;
		}
	const volatile uint8_t *bytes = (const uint8_t *)(uintptr_t)code;
	int r = code();
	if (r == 1 && bytes[1] == 2)
		printf("STALE: the NIC rewrote code the forger had run and the old translation still runs "
		       "(returned %d, memory says mov eax, %d)\n", r, bytes[1]);
	else
		printf("code follows memory (returned %d)\n", r);
}

static int passthrough(const struct opsub_net_info *info, uint64_t target)
{
	uint32_t size = info->ring_size;
	uint8_t *mem = mmap(NULL, 2 * (size_t)size * 16 + 65 * 2048, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int (*code)(void) = run_once_code();
	struct nic_queue_regs *regs = (struct nic_queue_regs *)(uintptr_t)info->regs;
	struct nic_txq tx;
	struct nic_rxq rx;
	uint64_t base = info->dev_base;
	uint8_t *bufs = mem + 2 * (size_t)size * 16;
	/* no doorbell eventfd in guest code (-1): the kicks above wake the
	 * NIC, and the set-up below is followed by one of them */
	nic_reg_write32(&regs->control, 0);
	nic_txq_start(&tx, regs, (struct nic_tx_desc *)mem, base + (uint64_t)(uintptr_t)mem, size, -1);
	nic_rxq_start(&rx, regs, (struct nic_rx_desc *)(mem + (size_t)size * 16),
	              base + (uint64_t)(uintptr_t)mem + (uint64_t)size * 16, size, -1);
	if (code)   /* first, so the first frame lands on the code */
		nic_rxq_post(&rx, base + (uint64_t)(uintptr_t)code, 2048);
	for (unsigned i = 0; i < 64; i++)
		nic_rxq_post(&rx, base + (uint64_t)(uintptr_t)(bufs + i * 2048), 2048);
	rx_kick(&rx);
	if (code)
		dma_over_code(&tx, &rx, base, bufs + 64 * 2048, code);
	/* the forged descriptor: someone else's memory, read again every
	 * 50 ms (the victim may not have written its secret yet) */
	uint64_t end = opsub_clock_ns() + 5000000000ull, next = 0;
	while (opsub_clock_ns() < end) {
		if (opsub_clock_ns() >= next) {
			nic_txq_reap(&tx);
			nic_txq_post(&tx, target - 12, 128, NIC_TXD_CMD_EOP, 0);
			tx_kick(&tx);
			next = opsub_clock_ns() + 50000000ull;
		}
		struct nic_rx_desc d;
		uint32_t index;
		while (nic_rxq_poll(&rx, &index, &d)) {
			if (look_for_secret(mem + (d.addr - base - (uint64_t)(uintptr_t)mem), (uint16_t)d.writeback))
				return 1;
			nic_rxq_post(&rx, d.addr, 2048);
			rx_kick(&rx);
		}
	}
	printf("nothing stolen\n");
	return 0;
}

/* One NET_BURST that sends the frame at addr (len bytes), or with rx
 * posts the receive buffer at addr; whether the driver took it, and its
 * answer in *rc. */
static bool burst_one(uint64_t addr, uint32_t len, int rx, long *rc)
{
	static struct opsub_net_pkt pkt;
	static uint64_t post, done[8];
	static struct opsub_net_burst b;
	pkt = (struct opsub_net_pkt){addr, len, 0};
	post = addr;
	b = (struct opsub_net_burst){.tx = (uint64_t)(uintptr_t)&pkt, .post = (uint64_t)(uintptr_t)&post,
	                             .done = (uint64_t)(uintptr_t)done, .done_n = 8,
	                             .tx_n = rx ? 0 : 1, .post_n = rx ? 1 : 0};
	*rc = hypercall(OPSUB_HC_NET_BURST, 0, (long)&b);
	return rx ? b.post_n : b.tx_n;
}

/* A page the driver has just taken a receive buffer from, then changed:
 * a driver that remembers pages it found writable must forget them when
 * their protection changes.  Returns the address of another buffer on the
 * page, or 0 if the first was not taken. */
enum revoke { MADE_READ_ONLY, UNMAPPED, RAN_AS_CODE, REVOKES };
static uint64_t revoked_page(enum revoke how)
{
	static const uint8_t ret1[] = {0xb8, 1, 0, 0, 0, 0xc3};
	int prot = PROT_READ | PROT_WRITE | (how == RAN_AS_CODE ? PROT_EXEC : 0);
	uint8_t *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long rc;
	if (p == MAP_FAILED || !burst_one((uint64_t)(uintptr_t)p, 0, 1, &rc))
		return 0;
	if (how == MADE_READ_ONLY)
		mprotect(p, 4096, PROT_READ);
	else if (how == UNMAPPED)
		munmap(p, 4096);
	else {
		memcpy(p + 3072, ret1, sizeof(ret1));
		if (((int (*)(void))(uintptr_t)(p + 3072))() != 1)
			return 0;
	}
	return (uint64_t)(uintptr_t)p + 2048;
}

static int opsub_mode(uint64_t target)
{
	static uint8_t own[4096] __attribute__((aligned(64)));
	extern char __executable_start[];
	int (*code)(void) = run_once_code();
	if (!code) {
		printf("forger: cannot run code on a page of its own\n");
		return 1;
	}
	const struct { const char *what; uint64_t addr; uint32_t len; int rx; } tries[] = {
		{"the victim's device address", target, 64, 0},
		{"an address above 4 GiB", (1ull << 32) + 0x1000, 64, 0},
		{"beyond its memory", 0xfffff000ull, 64, 0},
		{"a range that wraps around", 0xffffffffffffff00ull, 0x200, 0},
		{"an unmapped page", 0x10000, 64, 0},
		{"an overflowing length", (uint64_t)(uintptr_t)own, 65535, 0},
		{"a runt frame", (uint64_t)(uintptr_t)own, 4, 0},
		{"a receive buffer in its read-only code", (uint64_t)(uintptr_t)__executable_start, 0, 1},
		{"an unaligned receive buffer", (uint64_t)(uintptr_t)own + 3, 0, 1},
		{"a receive buffer at the victim's device address", target & ~63ull, 0, 1},
		{"a receive buffer on a page of code it has run", (uint64_t)(uintptr_t)code + 64, 0, 1},
	};
	static const char *const revoked[REVOKES] = {
		"a receive buffer on a page made read-only after a buffer there was taken",
		"a receive buffer on a page unmapped after a buffer there was taken",
		"a receive buffer on a page run as code after a buffer there was taken",
	};
	unsigned refused = 0, n = sizeof(tries) / sizeof(tries[0]);
	long rc;
	for (unsigned i = 0; i < n; i++) {
		if (!burst_one(tries[i].addr, tries[i].len, tries[i].rx, &rc) && rc == -EINVAL)
			refused++;
		else
			printf("ACCEPTED: %s (rc %ld)\n", tries[i].what, rc);
	}
	for (enum revoke how = 0; how < REVOKES; how++, n++) {
		uint64_t addr = revoked_page(how);
		if (!addr)
			printf("forger: the first buffer for \"%s\" was not taken\n", revoked[how]);
		else if (!burst_one(addr, 0, 1, &rc) && rc == -EINVAL)
			refused++;
		else
			printf("ACCEPTED: %s (rc %ld)\n", revoked[how], rc);
	}
	printf("refused %u of %u forged buffers\n", refused, n);
	return refused == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: forger WINDOW ADDR\n");
		return 2;
	}
	uint64_t target = strtoull(argv[1], NULL, 0) << 32 | strtoull(argv[2], NULL, 0);
	static struct opsub_net_info info;
	long rc = hypercall(OPSUB_HC_NET_OPEN, 0, (long)&info);
	if (rc < 0) {
		fprintf(stderr, "forger: no network port (%ld)\n", rc);
		return 2;
	}
	if (info.mode == OPSUB_IO_PASSTHROUGH)
		return passthrough(&info, target) ? 3 : 0;
	return opsub_mode(target);
}
