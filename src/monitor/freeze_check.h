/*
 * The checks on a guest state (monitor/guest_state.h) read back by a new
 * guest process: the state may come from the network (a migration) or a
 * file (a snapshot), so nothing in it is taken on trust.  gs_check looks
 * at the bytes only (it is pure, and fuzzed: tests/fuzz/fuzz_state.c);
 * what can be known only in the running process (the port the daemon
 * gave, the instruction bytes at rip) is checked where the state is
 * applied (freeze_state.c, driver/netdrv_state.c).
 *
 * After gs_check succeeds, the view's pointers point into the caller's
 * buffer, which must be the process's own copy, 8-byte aligned, and not
 * change afterwards.
 */
#ifndef OPSUB_MONITOR_FREEZE_CHECK_H
#define OPSUB_MONITOR_FREEZE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/guest_state.h"
#include "opsub_abi.h"

struct gs_view {
	const struct guest_state_header *header;
	const struct gs_cpu *cpu;
	const struct gs_clock *clock;
	const struct gs_memory *memory;
	const uint8_t *prot;                     /* memory->pages bytes */
	const struct gs_personality *personality;
	const struct gs_syscall *syscall;
	const struct gs_driver *driver;
	const uint64_t *posted;                  /* driver->posted entries */
	const struct opsub_net_pkt *received;    /* driver->received entries */
	const uint64_t *returned;                /* driver->returned entries */
};

/* Checks the `len` bytes at buf as a state for a guest memory of mem_size
 * bytes on a host whose MXCSR accepts the bits in mxcsr_mask and that
 * executes the optional CPU model rows cpu_rows (host_optional_rows: every
 * row the guest was shown must be among them): the header,
 * the sections (each once, sizes exact), and every field against what the
 * state itself says (addresses inside guest memory and mapped with the
 * protection they need, rip executable, flags a user program can hold,
 * the XSAVE header within the guest CPU model, counts within bounds).
 * Returns 0 and fills v, or -1 with a one-line reason in err naming the
 * section and the field. */
int gs_check(const uint8_t *buf, size_t len, uint64_t mem_size, uint32_t mxcsr_mask, uint32_t cpu_rows,
             struct gs_view *v, char *err, size_t errlen);


#endif
