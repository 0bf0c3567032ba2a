/*
 * The guest state of a migration or snapshot (docs/migration.md): what the
 * guest process knows of its guest, written by a paused guest process
 * (LINK_MIG_SAVE) and read back by a new one (LINK_MIG_STATE), possibly on
 * another host.  The daemons carry it as bytes and check only this header;
 * freeze.c checks everything else before using it: the state may come from
 * the network.
 *
 * Layout: struct guest_state_header, then sections until `size`, each a
 * struct guest_state_section followed by `size` bytes (8-byte aligned).
 */
#ifndef OPSUB_MONITOR_GUEST_STATE_H
#define OPSUB_MONITOR_GUEST_STATE_H

#include <stdint.h>

#include "gates/xsave_layout.h"

#define GUEST_STATE_MAGIC   "OPSUBGS1"
#define GUEST_STATE_VERSION 3
/* One protection byte per guest page (4 GiB: 1 MiB) plus the rest. */
#define GUEST_STATE_MAX     ((1u << 20) + (1u << 20))
#define GUEST_STATE_NO_PORT 0xffffffffu

struct guest_state_header {
	char magic[8];              /* GUEST_STATE_MAGIC */
	uint32_t version;           /* GUEST_STATE_VERSION */
	uint32_t size;              /* of the whole state, header included */
	uint64_t mem_size;          /* guest memory, bytes */
	uint32_t io_mode;           /* enum opsub_net_mode of its port; GUEST_STATE_NO_PORT without one */
	uint32_t sections;
	uint32_t cpu_optional;      /* the optional CPU model rows the guest was shown (gates/cpu_model.h) */
	uint32_t reserved;          /* 0 */
};

enum guest_state_tag {
	GS_CPU = 1, GS_CLOCK, GS_MEMORY, GS_PERSONALITY, GS_SYSCALL, GS_DRIVER,
};
#define GS_SECTIONS 6               /* a state holds each section exactly once */

struct guest_state_section {
	uint32_t tag;               /* enum guest_state_tag */
	uint32_t size;              /* bytes that follow, a multiple of 8 */
};

/* ---- the sections (freeze_state.c writes them, freeze_check.c checks them) ---- */

/* GS_CPU: the guest at an instruction boundary. */
struct gs_cpu {
	uint64_t gpr[16];           /* rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8 .. r15 */
	uint64_t rflags;
	uint64_t rip;               /* guest pc of the next instruction */
	uint64_t fs_base, gs_base;  /* the emulated segment bases */
	uint8_t xsave[XSAVE_SIZE_AVX];  /* x87 | SSE | AVX, standard format (gates/xsave_layout.h) */
};

/* GS_CLOCK: the guest's view of clocks 0 .. 7 (CLOCK_REALTIME ..
 * CLOCK_BOOTTIME) when the state was written, ns, each in [0, 2^62).
 * ns[CLOCK_REALTIME] is the source host's real time, from which the
 * destination tells how long the guest was away (monitor/guest_clock.h). */
struct gs_clock {
	int64_t ns[8];
};

/* GS_MEMORY: followed by `pages` bytes, one per guest page: GP_R, GP_W,
 * GP_X, GP_MAPPED of sandbox/guest_mem.h (no watch or log bit: the
 * destination translates afresh and logs nothing). pages = mem_size/4096. */
struct gs_memory {
	uint64_t brk_start, brk;
	uint64_t mmap_top, mmap_low;
	uint64_t pages;
};

/* GS_PERSONALITY: what the Linux personality remembers of the guest. */
struct gs_personality {
	uint64_t tid_address;
	uint64_t sigmask;
	uint32_t closed_fds;        /* bit per descriptor 0..2 */
	uint32_t reserved;          /* 0 */
	uint64_t sigactions[65][4]; /* by signal number, the kernel's struct sigaction; [0] is 0 */
	/* monitor/signals.h: pending signals, the alternate stack, the timers */
	uint64_t sigpending;        /* bit sig-1 of each pending signal */
	int32_t sigcode[64];        /* si_code of pending signal sig at [sig-1] */
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags;    /* SS_DISABLE (2), or 0, with or without SS_AUTODISARM */
	uint32_t reserved2;         /* 0 */
	uint64_t itimer_ns[3][2];   /* ITIMER_REAL, _VIRTUAL, _PROF: ns left (0: off), interval ns */
};

/* GS_SYSCALL: whether the guest was inside a blocking call.  Then rip is
 * that call's instruction and rax its number: the destination makes the
 * call again. */
enum { GS_CALL_NONE = 0, GS_CALL_SYSCALL = 1, GS_CALL_HYPERCALL = 2 };
struct gs_syscall {
	uint32_t kind;              /* GS_CALL_* */
	uint32_t reserved;          /* 0 */
	uint64_t nr;                /* the call number (= rax), 0 for GS_CALL_NONE */
};

/* GS_DRIVER: the port as the trusted driver sees it (driver/netdrv_state.c).
 * Followed, in opsub mode, by uint64_t posted[posted] (receive buffers to
 * post again), struct opsub_net_pkt received[received] (frames received
 * and not yet handed to the guest: they come in its next NET_BURST's rx),
 * uint64_t returned[returned] (buffers to hand back in its next
 * NET_BURST's done); all guest addresses.  Other modes have no arrays. */
#define GS_DRIVER_MAX_POSTED   4096u      /* NIC_RING_MAX: one receive ring */
#define GS_DRIVER_MAX_RECEIVED 4096u
#define GS_DRIVER_MAX_RETURNED 65536u     /* LINK_MAX_QUEUES transmit rings of NIC_RING_MAX, and more */
struct gs_driver {
	uint32_t mode;              /* = the header's io_mode */
	uint32_t opened;            /* 1 after NET_OPEN */
	uint8_t mac[6];             /* what NET_OPEN answered (struct opsub_net_info) */
	uint16_t info_mode;
	uint32_t ports;
	uint32_t ring_size;
	uint32_t reserved;          /* 0 */
	uint64_t regs, dev_base, shared, shared_size;
	uint64_t tx_refused;        /* NET_STATS's driver count */
	uint32_t posted, received, returned, reserved2;
};

#endif
