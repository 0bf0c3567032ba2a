/*
 * A receive buffer that becomes code after it was posted: the guest posts
 * a buffer on a fresh page, then writes `mov eax, 1; ret` there and runs
 * it (the translator now watches the page), then receives into that buffer
 * a frame whose first bytes are `mov eax, 2; ret` (its destination MAC).
 * The driver must drop the translations before handing the frame back, so
 * the code then returns 2.  Run it on a loop wire (the frame comes back);
 * it prints "ok rxcode" or "FAIL ...".
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "opsub.h"

static long hypercall(long nr, long a0, long a1)
{
	register long rdi __asm__("rdi") = a0, rsi __asm__("rsi") = a1;
	long r = nr;
	__asm__ volatile("vmcall" : "+a"(r) : "r"(rdi), "r"(rsi) : "memory");
	return r;
}

static struct opsub_net_burst b;
static uint64_t addrs[1], done[256];
static struct opsub_net_pkt pkt, got[1];

static long burst(unsigned tx_n, unsigned post_n, unsigned rx_n)
{
	b = (struct opsub_net_burst){.tx = (uint64_t)(uintptr_t)&pkt, .tx_n = tx_n,
	                             .post = (uint64_t)(uintptr_t)addrs, .post_n = post_n,
	                             .rx = (uint64_t)(uintptr_t)got, .rx_n = rx_n,
	                             .done = (uint64_t)(uintptr_t)done, .done_n = 256};
	return hypercall(OPSUB_HC_NET_BURST, 0, (long)&b);
}

int main(void)
{
	static struct opsub_net_info info;
	if (hypercall(OPSUB_HC_NET_OPEN, 0, (long)&info) < 0 || info.mode != OPSUB_IO_OPSUB) {
		printf("FAIL rxcode: needs a port in opsub mode\n");
		return 1;
	}
	uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static uint8_t frame[64] __attribute__((aligned(64)));
	if (code == MAP_FAILED) {
		printf("FAIL rxcode: mmap\n");
		return 1;
	}
	addrs[0] = (uint64_t)(uintptr_t)code;
	if (burst(0, 1, 0) != 0 || b.post_n != 1) {
		printf("FAIL rxcode: the buffer was not taken (post_n %u)\n", b.post_n);
		return 1;
	}
	static const uint8_t ret1[] = {0xb8, 1, 0, 0, 0, 0xc3}, ret2[] = {0xb8, 2, 0, 0, 0, 0xc3};
	memcpy(code, ret1, sizeof(ret1));
	int (*volatile f)(void) = (int (*)(void))(uintptr_t)code;
	int before = f();
	memcpy(frame, ret2, sizeof(ret2));
	frame[12] = 0x88, frame[13] = 0xb5;
	pkt = (struct opsub_net_pkt){(uint64_t)(uintptr_t)frame, 60, 0};
	if (burst(1, 0, 0) != 0 || b.tx_n != 1) {
		printf("FAIL rxcode: the frame was not sent\n");
		return 1;
	}
	uint64_t end = opsub_clock_ns() + 2000000000ull;
	while (opsub_clock_ns() < end) {
		if (burst(0, 0, 1) != 0) {
			printf("FAIL rxcode: receive failed\n");
			return 1;
		}
		if (b.rx_n == 1)
			break;
	}
	if (b.rx_n != 1 || got[0].addr != (uint64_t)(uintptr_t)code) {
		printf("FAIL rxcode: no frame came back into the buffer\n");
		return 1;
	}
	int after = f();
	if (before == 1 && after == 2)
		printf("ok rxcode\n");
	else
		printf("FAIL rxcode: the code returned %d then %d (memory says mov eax, %d)\n", before, after, code[1]);
	return 0;
}
