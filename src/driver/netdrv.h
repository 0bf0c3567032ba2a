/*
 * The trusted NIC driver of one guest process.
 *
 * It runs outside the sandbox and is reached only through the network
 * hypercalls (include/opsub_abi.h).  In opsub mode it is the only code
 * that writes this guest's NIC descriptors: it copies each request out of
 * guest memory before checking it, checks every buffer (inside guest
 * memory, no wrap-around, a sane length, the right page protections, and
 * for receive buffers no page the translator holds translations of, so a
 * DMA never changes translated code behind its back), turns guest
 * addresses into device addresses of the guest's own window, writes the
 * descriptors into rings the guest cannot touch, rings the doorbells, and
 * hands completed buffers back.  One gate crossing per burst, no copy of
 * packet data.
 *
 * In passthrough mode it only maps the NIC queue page into guest memory
 * and the guest's SDK drives the rings itself (unsafe by design: the upper
 * bound for speed, and the target of the forgery tests).
 */
#ifndef OPSUB_DRIVER_NETDRV_H
#define OPSUB_DRIVER_NETDRV_H

#include <stddef.h>
#include <stdint.h>

struct monitor;

/* Receives the boot message on the link socket: afterwards *mem_fd and
 * *mem_size describe the guest memory the daemon created.  0, or -1 with a
 * reason in err. */
int netdrv_boot(int link_sock, int *mem_fd, uint64_t *mem_size, char *err, size_t errlen);

/* Attaches the driver to the monitor (after the sandbox exists): maps the
 * ring area, hooks the network hypercalls.  0, or -1 with a reason. */
int netdrv_attach(struct monitor *m, char *err, size_t errlen);

/* Reads every message waiting on the link socket (queue descriptors,
 * migration requests for monitor/freeze.h); -1 once the daemon closed it. */
int netdrv_pull_link(void);

#endif
