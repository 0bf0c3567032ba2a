/*
 * Code rewritten by the device while it is being translated.
 *
 * The guest makes its receive buffers executable and, round after round,
 * sends itself frames (the wire loops them back) whose payload is one of
 * two instructions of the same length followed by `mov eax, ID; ret`:
 *
 *   A: movabs rax, imm64                      (no memory operand)
 *   B: bt qword gs:[0], rax                   (a gs:-relative bit test)
 *
 * and, while the NIC's DMA engine (opsub, passthrough modes) or the
 * paravirt backend writes those frames into the buffers from another
 * thread, calls every buffer of its pool at the payload.  Each call that
 * finds the buffer changed since its last translation makes the translator
 * read code that another thread is writing.  A translator that read the
 * guest's bytes twice could classify A (emitted as written) and emit B:
 * a bt on the runtime context, which reads any host bit.  Here every
 * translation must come from one snapshot (translate.c: fetch), so the
 * guest sees A's result, B's result, or a plain ret.  A frame written half
 * way may leave a torn mix of A and B, which can fault the guest: that is a
 * guest fault, reported as such.
 *
 * Usage: codedma ROUNDS.  Prints counts and "ok codedma" at the end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "opsub.h"

#define ARCH_SET_GS 0x1001
#define NBUFS       64u
#define PAYLOAD     14u          /* code starts right after the Ethernet header */
#define FRAME_LEN   64u
#define ID_A        0xa11u
#define ID_B        0xb22u
#define RAX_IN      5u           /* what rax holds on entry: a plain ret returns it */

static const uint8_t code_a[] = {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,             /* movabs rax, imm64 */
                                 0xb8, ID_A & 0xff, ID_A >> 8, 0, 0, 0xc3};      /* mov eax, ID_A; ret */
static const uint8_t code_b[] = {0x65, 0x48, 0x0f, 0xa3, 0x04, 0x25, 0, 0, 0, 0, /* bt qword gs:[0], rax */
                                 0xb8, ID_B & 0xff, ID_B >> 8, 0, 0, 0xc3};      /* mov eax, ID_B; ret */

static uint64_t gs_area[8];

static uint32_t call(const uint8_t *at)
{
	uint64_t rax = RAX_IN;
	__asm__ volatile("call *%1" : "+a"(rax) : "r"(at) : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
	                 "memory", "cc");
	return (uint32_t)rax;
}

/* `mov eax, ID` taken from a frame the device was still writing: each of
 * the immediate's two bytes from A or from B.  Harmless (no instruction
 * changed class), and counted apart. */
static bool torn_id(uint32_t id)
{
	return id >> 16 == 0 && ((id & 0xff) == (ID_A & 0xff) || (id & 0xff) == (ID_B & 0xff)) &&
	       (id >> 8 == ID_A >> 8 || id >> 8 == ID_B >> 8);
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	struct opsub_port *p = opsub_port_open(0, NBUFS);
	if (!p) {
		printf("FAIL codedma: no port (run with --net loop)\n");
		return 1;
	}
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)gs_area) != 0) {
		printf("FAIL codedma: arch_prctl\n");
		return 1;
	}
	/* find the pool: take every buffer, make its pages executable */
	struct opsub_buf all[NBUFS];
	unsigned n = opsub_buf_alloc(p, all, NBUFS);
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (unsigned i = 0; i < n; i++) {
		lo = (uintptr_t)all[i].data < lo ? (uintptr_t)all[i].data : lo;
		hi = (uintptr_t)all[i].data + OPSUB_NET_BUF_SIZE > hi ? (uintptr_t)all[i].data + OPSUB_NET_BUF_SIZE : hi;
		memset(all[i].data, 0xc3, OPSUB_NET_BUF_SIZE);
	}
	lo &= ~(uintptr_t)4095;
	hi = (hi + 4095) & ~(uintptr_t)4095;
	if (n < 16 || mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
		printf("FAIL codedma: pool of %u buffers, mprotect\n", n);
		return 1;
	}
	uint8_t *pool[NBUFS];
	for (unsigned i = 0; i < n; i++)
		pool[i] = all[i].data;
	/* keep 16 for transmitting, give the rest to the port for receiving */
	struct opsub_buf tx[16];
	memcpy(tx, all, sizeof(tx));
	opsub_buf_free(p, all + 16, n - 16);

	const uint8_t *mac = opsub_port_mac(p);
	uint64_t ran_a = 0, ran_b = 0, ran_ret = 0, ran_torn = 0, changed_after = 0, received = 0;
	for (unsigned r = 0; r < rounds; r++) {
		/* frames A and B alternating, for the wire to bring back */
		for (unsigned i = 0; i < 16; i++) {
			uint8_t *f = tx[i].data;
			memcpy(f, mac, 6);
			memset(f + 6, 0x02, 6);
			f[12] = 0x88, f[13] = 0xb5;
			memset(f + PAYLOAD, 0xc3, FRAME_LEN - PAYLOAD);
			memcpy(f + PAYLOAD, (r + i) % 2 ? code_b : code_a, sizeof(code_a));
			tx[i].len = FRAME_LEN;
		}
		unsigned sent = opsub_tx_burst(p, tx, 16);
		/* call every buffer while the frames land */
		for (unsigned i = 0; i < n; i++) {
			uint32_t id = call(pool[i] + PAYLOAD);
			if (id == ID_A)
				ran_a++;
			else if (id == ID_B)
				ran_b++;
			else if (id == RAX_IN)
				ran_ret++;
			else if (torn_id(id))
				ran_torn++;
			else {
				printf("FAIL codedma: a buffer returned 0x%x\n", id);
				return 1;
			}
			uint8_t first = pool[i][PAYLOAD];
			changed_after += (id == ID_A && first != 0x48) || (id == ID_B && first != 0x65) ||
			                 (id == RAX_IN && first != 0xc3);
		}
		/* a write to each page drops its translations, so that the
		 * driver takes its buffers again (opsub mode refuses to post a
		 * receive buffer on a page of code) */
		for (uintptr_t a = lo; a < hi; a += 4096)
			*(volatile uint8_t *)a = *(volatile uint8_t *)a;
		/* take the frames back and the transmit buffers with them */
		struct opsub_buf got[NBUFS];
		uint64_t deadline = opsub_clock_ns() + 50000000ull;
		unsigned have = 0;
		while (have < sent && opsub_clock_ns() < deadline) {
			unsigned k = opsub_rx_burst(p, got, NBUFS);
			received += k;
			have += k;
			opsub_buf_free(p, got, k);
		}
		unsigned k = 0;
		while (k < 16 && opsub_clock_ns() < deadline + 1000000000ull) {
			k += opsub_buf_alloc(p, tx + k, 16 - k);
			opsub_tx_burst(p, tx, 0);                        /* sending nothing reclaims */
			unsigned late = opsub_rx_burst(p, got, NBUFS);
			received += late;
			opsub_buf_free(p, got, late);
		}
		if (k < 16) {
			printf("FAIL codedma: transmit buffers not back (%u of 16)\n", k);
			return 1;
		}
	}
	printf("rounds %u received %lu ran A %lu B %lu ret %lu torn %lu changed-after-run %lu\n", rounds,
	       (unsigned long)received, (unsigned long)ran_a, (unsigned long)ran_b, (unsigned long)ran_ret,
	       (unsigned long)ran_torn, (unsigned long)changed_after);
	printf("ok codedma\n");
	return 0;
}
