/*
 * nic_regs.h: the NIC model's register file and descriptor formats.
 *
 * This is the hardware contract. A driver (in any process) and the model
 * agree on nothing but what is written here; docs/nic.md describes every
 * register in prose and says what was taken from the Intel e1000/82599.
 *
 * The register file is laid out as below in the model's own address space,
 * but each page is a shared-memory object of its own:
 *
 *   offset 0                      global area, 64 KiB (the daemon only; never
 *                                 handed to another process)
 *   offset 64 KiB + q * 4 KiB     queue page of queue pair q (its driver):
 *                                 nic_queue_page_fd(q), mapped at offset 0
 *
 * so a driver process holds its own queue pages and nothing else of the
 * device; a queue that changes owner gets a new page object.
 *
 * Layouts are fixed by explicit reserved fields and checked with
 * static_assert on every offset, rather than with __attribute__((packed)):
 * every field is naturally aligned, so the compiler inserts no padding, and
 * the registers stay usable with atomic loads and stores (a packed member
 * would be assumed misaligned).
 *
 * Who writes what: "driver" fields are written by the queue's driver and
 * read by the NIC; "NIC" fields the other way round; "daemon" fields are the
 * global area, written through the control functions of nic.h. A field is
 * never written by both sides, except irq_arm (the driver sets it, the NIC
 * clears it when it fires).
 *
 * Doorbells: the driver's registers the NIC acts on (tx_tail, rx_tail,
 * control). The NIC's DMA engine sleeps when no queue has work and the
 * wire has no input; while it sleeps it sets nic_asleep in every queue
 * page, and a driver that writes a doorbell then also writes that queue's
 * doorbell eventfd (nic.h: nic_queue_doorbell_fd), like a NIC's doorbell
 * interrupt. nic_ring.h does both steps.
 */
#ifndef OPSUB_NIC_REGS_H
#define OPSUB_NIC_REGS_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sizes and limits ---------------------------------------------- */

#define NIC_GLOBAL_AREA_SIZE  0x40000u          /* 256 KiB */
#define NIC_QUEUE_PAGE_SIZE   0x1000u           /* 4 KiB per queue pair */
#define NIC_QUEUE_PAGE_OFFSET(q) \
	((uint64_t)NIC_GLOBAL_AREA_SIZE + (uint64_t)(q) * NIC_QUEUE_PAGE_SIZE)
#define NIC_REGS_SIZE(nq)     NIC_QUEUE_PAGE_OFFSET(nq)

#define NIC_MAX_QUEUES        4096u
#define NIC_DEFAULT_QUEUES    64u
#define NIC_MAX_FILTERS       4096u

#define NIC_RING_MIN          8u                /* entries, power of two */
#define NIC_RING_DEFAULT      1024u
#define NIC_RING_MAX          4096u

#define NIC_MAX_FRAME         2048u             /* bytes on the wire, no FCS */
#define NIC_MIN_FRAME         14u               /* an Ethernet header */

/* Device addresses: window = addr >> 32, offset = addr & 0xffffffff. */
/* 16384 windows: the daemon gives each guest two (memory and ring area),
 * so up to 8191 guests besides the host port's window 0. */
#define NIC_MAX_WINDOWS       16384u
#define NIC_WINDOW_SHIFT      32
#define NIC_DEV_ADDR(window, offset) \
	(((uint64_t)(window) << NIC_WINDOW_SHIFT) | (uint32_t)(offset))

/* ---- descriptors (16 bytes, e1000 legacy layout) ------------------- */

/* TX descriptor. The driver writes addr, length, cmd (and vlan); the NIC
 * writes status and errors back when cmd has RS or the descriptor failed. */
struct nic_tx_desc {
	uint64_t addr;          /* device address of the frame */
	uint16_t length;        /* frame length in bytes, 14..2048 (2044 with VLE) */
	uint8_t reserved0;      /* e1000 CSO; ignored */
	uint8_t cmd;            /* NIC_TXD_CMD_* */
	uint8_t status;         /* NIC_TXD_STA_* (NIC) */
	uint8_t errors;         /* NIC_DESC_ERR_* (NIC); e1000 CSS */
	uint16_t vlan;          /* 802.1Q TCI inserted when cmd has VLE */
};
static_assert(sizeof(struct nic_tx_desc) == 16, "tx desc size");
static_assert(offsetof(struct nic_tx_desc, length) == 8, "tx length");
static_assert(offsetof(struct nic_tx_desc, cmd) == 11, "tx cmd");
static_assert(offsetof(struct nic_tx_desc, status) == 12, "tx status");
static_assert(offsetof(struct nic_tx_desc, errors) == 13, "tx errors");
static_assert(offsetof(struct nic_tx_desc, vlan) == 14, "tx vlan");

#define NIC_TXD_CMD_EOP  0x01u  /* end of packet: required (no chaining) */
#define NIC_TXD_CMD_RS   0x08u  /* report status: write DD back, may interrupt */
#define NIC_TXD_CMD_VLE  0x40u  /* insert an 802.1Q tag carrying vlan */

#define NIC_TXD_STA_DD   0x01u  /* descriptor done */
#define NIC_TXD_STA_ERR  0x02u  /* not sent; errors says why */

/* RX descriptor. The driver writes addr and length (= buffer capacity); the
 * NIC writes the second quadword back in one 64-bit store: length becomes
 * the frame length, then status, errors and vlan. */
struct nic_rx_desc {
	uint64_t addr;          /* device address of the buffer */
	union {
		struct {
			uint16_t length;    /* driver: capacity; NIC: frame length */
			uint16_t reserved0; /* e1000 checksum; written 0 */
			uint8_t status;     /* NIC_RXD_STA_* */
			uint8_t errors;     /* NIC_DESC_ERR_* */
			uint16_t vlan;      /* stripped 802.1Q TCI when status has VP */
		};
		uint64_t writeback;     /* the whole quadword, for one store */
	};
};
static_assert(sizeof(struct nic_rx_desc) == 16, "rx desc size");
static_assert(offsetof(struct nic_rx_desc, length) == 8, "rx length");
static_assert(offsetof(struct nic_rx_desc, status) == 12, "rx status");
static_assert(offsetof(struct nic_rx_desc, errors) == 13, "rx errors");
static_assert(offsetof(struct nic_rx_desc, vlan) == 14, "rx vlan");

#define NIC_RXD_STA_DD   0x01u  /* descriptor done */
#define NIC_RXD_STA_EOP  0x02u  /* end of packet: always, one frame per buffer */
#define NIC_RXD_STA_VP   0x08u  /* an 802.1Q tag was stripped into vlan */
#define NIC_RXD_STA_ERR  0x40u  /* no frame delivered; errors says why */

/* errors field of both descriptor kinds */
#define NIC_DESC_ERR_DMA     0x01u  /* buffer not inside one mapped window */
#define NIC_DESC_ERR_LENGTH  0x02u  /* TX: bad length; RX: frame > capacity */
#define NIC_DESC_ERR_FORMAT  0x04u  /* TX: EOP missing (chaining unsupported) */

/* ---- queue page (one per queue pair, 4 KiB) ------------------------ */

#define NIC_LINE 64
#define NIC_PAD(used) uint8_t NIC_PAD_NAME(__LINE__)[NIC_LINE - (used)]
#define NIC_PAD_NAME(l) NIC_PAD_CAT(pad_, l)
#define NIC_PAD_CAT(a, b) a##b

struct nic_queue_stats_regs {       /* NIC writes; cleared by queue reset */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_dropped;    /* steered here, but no descriptor / queue stopped */
	uint64_t dma_errors;    /* descriptors or rings outside the windows */
	uint64_t desc_errors;   /* malformed descriptors, RX frame > capacity */
	uint64_t throttled;     /* rounds the rate limiter held a ready frame */
};
static_assert(sizeof(struct nic_queue_stats_regs) == NIC_LINE, "stats line");

struct nic_queue_regs {
	/* Doorbells and heads each own a cache line: the two sides write
	 * different lines, so a doorbell never invalidates what the other side
	 * is polling. */
	uint32_t tx_tail;       /* 0x000 driver: next TX descriptor it will fill */
	NIC_PAD(4);
	uint32_t rx_tail;       /* 0x040 driver: next RX descriptor it will post */
	NIC_PAD(4);
	uint32_t tx_head;       /* 0x080 NIC: next TX descriptor it will process */
	NIC_PAD(4);
	uint32_t rx_head;       /* 0x0c0 NIC: next RX descriptor it will fill */
	NIC_PAD(4);
	uint32_t irq_arm;       /* 0x100 driver writes 1; NIC clears on firing */
	NIC_PAD(4);

	/* 0x140 configuration (driver), latched on enable 0->1 */
	uint64_t tx_ring_base;  /* device address, 16-byte aligned */
	uint64_t rx_ring_base;
	uint32_t tx_ring_size;  /* entries, power of two, 8..4096 */
	uint32_t rx_ring_size;
	uint32_t control;       /* NIC_QCTL_* */
	uint32_t reserved0;
	NIC_PAD(32);

	/* 0x180 status (NIC) */
	uint32_t status;        /* NIC_QSTA_* */
	uint32_t tx_error;      /* NIC_QERR_* why TX stopped, while TX_ERR */
	uint32_t rx_error;      /* NIC_QERR_* why RX stopped, while RX_ERR */
	NIC_PAD(12);

	struct nic_queue_stats_regs stats;  /* 0x1c0 (NIC) */

	/* 0x200 (NIC) 1 while the DMA engine sleeps: it then notices a
	 * doorbell (tail, control) only when the driver also writes the
	 * queue's doorbell eventfd. Read after every doorbell write, with a
	 * full barrier between the two (nic_ring.h: nic_doorbell_write32). */
	uint32_t nic_asleep;
	NIC_PAD(4);

	uint8_t reserved[NIC_QUEUE_PAGE_SIZE - 0x240];
};
static_assert(sizeof(struct nic_queue_regs) == NIC_QUEUE_PAGE_SIZE, "page");
static_assert(offsetof(struct nic_queue_regs, tx_tail) == 0x000, "tx_tail");
static_assert(offsetof(struct nic_queue_regs, rx_tail) == 0x040, "rx_tail");
static_assert(offsetof(struct nic_queue_regs, tx_head) == 0x080, "tx_head");
static_assert(offsetof(struct nic_queue_regs, rx_head) == 0x0c0, "rx_head");
static_assert(offsetof(struct nic_queue_regs, irq_arm) == 0x100, "irq_arm");
static_assert(offsetof(struct nic_queue_regs, tx_ring_base) == 0x140, "txb");
static_assert(offsetof(struct nic_queue_regs, rx_ring_base) == 0x148, "rxb");
static_assert(offsetof(struct nic_queue_regs, tx_ring_size) == 0x150, "txs");
static_assert(offsetof(struct nic_queue_regs, rx_ring_size) == 0x154, "rxs");
static_assert(offsetof(struct nic_queue_regs, control) == 0x158, "control");
static_assert(offsetof(struct nic_queue_regs, status) == 0x180, "status");
static_assert(offsetof(struct nic_queue_regs, tx_error) == 0x184, "tx_error");
static_assert(offsetof(struct nic_queue_regs, rx_error) == 0x188, "rx_error");
static_assert(offsetof(struct nic_queue_regs, stats) == 0x1c0, "stats");
static_assert(offsetof(struct nic_queue_regs, nic_asleep) == 0x200, "asleep");

#define NIC_QCTL_TX_EN        0x1u  /* 0->1 latches the TX ring and starts it */
#define NIC_QCTL_RX_EN        0x2u  /* 0->1 latches the RX ring and starts it */
#define NIC_QCTL_VLAN_STRIP   0x4u  /* strip 802.1Q tags of received frames */

#define NIC_QSTA_TX_ACTIVE    0x01u /* TX ring latched: the NIC may touch it */
#define NIC_QSTA_RX_ACTIVE    0x02u
#define NIC_QSTA_TX_ERR       0x04u /* TX stopped on an error; write TX_EN=0 */
#define NIC_QSTA_RX_ERR       0x08u
#define NIC_QSTA_ADMIN_DOWN   0x10u /* the daemon has stopped this queue */

enum nic_queue_error {
	NIC_QERR_NONE = 0,
	NIC_QERR_RING_SIZE,     /* size not a power of two in 8..4096 */
	NIC_QERR_RING_ALIGN,    /* base not 16-byte aligned */
	NIC_QERR_RING_DMA,      /* ring not inside one mapped window */
	NIC_QERR_TAIL_RANGE,    /* tail >= ring size */
};

/* ---- global area (daemon, 64 KiB) ---------------------------------- */

struct nic_global_stats_regs {      /* NIC writes */
	uint64_t rx_frames;     /* frames that arrived from the wire */
	uint64_t rx_bytes;
	uint64_t tx_frames;     /* frames handed to the wire */
	uint64_t tx_bytes;
	uint64_t rx_no_match;   /* arrived, matched no filter: dropped */
	uint64_t rx_dropped;    /* per-queue rx_dropped, summed */
	uint64_t dma_errors;    /* per-queue dma_errors, summed */
	uint64_t wire_errors;   /* the wire backend's error count */
};
static_assert(sizeof(struct nic_global_stats_regs) == NIC_LINE, "gstats");

struct nic_queue_sched_regs {       /* daemon, one per queue pair */
	uint64_t rate_bps;      /* TX bit/s (frame bytes * 8), 0 = unlimited */
	uint64_t rate_pps;      /* TX packets/s, 0 = unlimited */
	uint32_t burst_bytes;   /* bucket depths; 0 = 4 ms of the rate */
	uint32_t burst_packets;
	uint32_t weight;        /* WRR weight, 1..1000 */
	uint32_t admin;         /* NIC_ADMIN_UP */
};
static_assert(sizeof(struct nic_queue_sched_regs) == 32, "sched");

#define NIC_ADMIN_UP          0x1u

struct nic_filter_regs {            /* daemon */
	uint8_t mac[6];         /* destination MAC matched exactly */
	uint16_t vlan;          /* VLAN id 0..4095, or NIC_VLAN_ANY */
	uint16_t queue;         /* target queue pair */
	uint16_t flags;         /* NIC_FILTER_* */
	uint32_t reserved0;
};
static_assert(sizeof(struct nic_filter_regs) == 16, "filter");
static_assert(offsetof(struct nic_filter_regs, vlan) == 6, "filter vlan");
static_assert(offsetof(struct nic_filter_regs, queue) == 8, "filter queue");
static_assert(offsetof(struct nic_filter_regs, flags) == 10, "filter flags");

#define NIC_VLAN_ANY          0xffffu
#define NIC_FILTER_VALID      0x1u  /* the entry is in use */
#define NIC_FILTER_BROADCAST  0x2u  /* also broadcast and multicast frames */
#define NIC_FILTER_PROMISC    0x4u  /* also frames no other queue matched */

struct nic_global_regs {
	/* 0x0000 device */
	uint32_t dev_ctrl;      /* NIC_CTRL_* (daemon) */
	uint32_t dev_status;    /* NIC_STATUS_* (NIC) */
	uint32_t num_queues;    /* queue pairs, fixed at creation */
	uint32_t reserved0;
	uint64_t line_rate_bps; /* port bit/s shared by WRR, 0 = unlimited */
	NIC_PAD(24);
	struct nic_global_stats_regs stats;                 /* 0x0040 */
	uint8_t reserved1[0x1000 - 0x80];
	struct nic_queue_sched_regs sched[NIC_MAX_QUEUES];  /* 0x1000 */
	struct nic_filter_regs filter[NIC_MAX_FILTERS];     /* 0x21000 */
	uint8_t reserved2[NIC_GLOBAL_AREA_SIZE - 0x31000];
};
static_assert(sizeof(struct nic_global_regs) == NIC_GLOBAL_AREA_SIZE, "ga");
static_assert(offsetof(struct nic_global_regs, line_rate_bps) == 0x10, "lr");
static_assert(offsetof(struct nic_global_regs, stats) == 0x40, "gs");
static_assert(offsetof(struct nic_global_regs, sched) == 0x1000, "sched");
static_assert(offsetof(struct nic_global_regs, filter) == 0x21000, "filter");

#define NIC_CTRL_LINK_UP      0x1u  /* clear: no TX to, no RX from the wire */
#define NIC_STATUS_RUNNING    0x1u  /* the DMA engine thread is running */

/* ---- register accessors -------------------------------------------- */
/*
 * Every register and descriptor access that the other side may race with
 * goes through these. Reads are acquire and writes release: a driver that
 * fills descriptors and then writes the tail doorbell publishes the
 * descriptors with the doorbell, and the NIC that writes a descriptor back
 * and then the head publishes the frame bytes with it.
 *
 * On x86-64 (TSO) aligned loads and stores are atomic, loads are not
 * reordered with older loads, nor stores with older stores, so these
 * compile to plain MOVs: no fence instruction is needed (the same reasoning
 * as ixy's "no barriers on x86"). What they do buy is that the compiler
 * neither caches nor reorders them.
 */
static inline uint32_t nic_reg_read32(const uint32_t *reg)
{
	return __atomic_load_n(reg, __ATOMIC_ACQUIRE);
}

static inline void nic_reg_write32(uint32_t *reg, uint32_t value)
{
	__atomic_store_n(reg, value, __ATOMIC_RELEASE);
}

static inline uint64_t nic_reg_read64(const uint64_t *reg)
{
	return __atomic_load_n(reg, __ATOMIC_ACQUIRE);
}

static inline void nic_reg_write64(uint64_t *reg, uint64_t value)
{
	__atomic_store_n(reg, value, __ATOMIC_RELEASE);
}

/* Writes a doorbell of queue page regs (tx_tail, rx_tail or control) and
 * says whether the NIC sleeps, so that the queue's doorbell eventfd must
 * be written too. The exchange is a full barrier between the write and
 * the look at nic_asleep; the NIC does the mirror image (sets nic_asleep,
 * full barrier, looks at every doorbell once more before it sleeps), so
 * either it sees this write or this sees nic_asleep. No system call here:
 * the trusted driver on the fast gate uses it. */
static inline bool nic_doorbell_write32(struct nic_queue_regs *regs,
                                        uint32_t *reg, uint32_t value)
{
	__atomic_exchange_n(reg, value, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&regs->nic_asleep, __ATOMIC_SEQ_CST) != 0;
}

/* The RX write-back quadword: length, reserved, status, errors, vlan. */
static inline uint64_t nic_rx_writeback(uint16_t length, uint8_t status,
                                        uint8_t errors, uint16_t vlan)
{
	return (uint64_t)length | (uint64_t)status << 32 |
	       (uint64_t)errors << 40 | (uint64_t)vlan << 48;
}

#endif
