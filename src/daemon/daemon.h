/*
 * The daemon: owns the NIC model and its wire, runs each guest in a host
 * process of its own (exec'd fresh, jailed with seccomp), maps every guest's
 * memory at its window of the device address space, bridges the host's own
 * queue pair to a TAP interface, and serves the control API.
 *
 * Device address space: window 0 is the host port's buffers; guest slot s
 * has its memory at window 1 + 2s and its ring area at window 2 + 2s.
 *
 * Everything a guest or a request can get wrong ends in a one-line error;
 * a guest that faults, loops or is killed loses its queues and windows, and
 * the NIC goes on serving the others.
 */
#ifndef OPSUB_DAEMON_DAEMON_H
#define OPSUB_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "driver/link.h"
#include "nic/nic.h"
#include "opsub_abi.h"

#define DAEMON_MAX_GUESTS  128
#define DAEMON_DEFAULT_SOCKET "/tmp/opsub.sock"
#define GUEST_NAME_MAX     32
#define GUEST_MAX_ARGS     32
#define NIC_MAX_WEIGHT_API 1000            /* weight: 1..this, as the NIC takes */

struct guest_config {
	char name[GUEST_NAME_MAX];
	char *argv[GUEST_MAX_ARGS + 2];   /* program, args, NULL (owned) */
	uint64_t mem;                      /* bytes */
	uint8_t mac[6];
	unsigned queues;                   /* NIC queue pairs of its port */
	uint64_t rate_bps, rate_pps;       /* TX limit of the whole guest, 0 = none */
	unsigned weight;                   /* WRR weight of each of its queues */
	enum opsub_net_mode io;
	bool promiscuous;                  /* also frames no other guest takes */
	char *output;                      /* stdout/stderr file, NULL: inherit */
	bool stats;                        /* opsub --stats for this guest */
	bool trace_syscalls, no_verify;    /* opsub run's options, for run --net */
};

struct daemon_config {
	struct nic_config nic;
	char *wire;                        /* owned copy of nic.wire */
	unsigned ring_size;
	char *control;                     /* Unix socket path, NULL: none */
	char *host_tap;                    /* host port TAP interface, NULL: none */
	char *host_ip;                     /* its IPv4 address/prefix, NULL: leave it */
	double seconds;                    /* stop after this long, 0: never */
	bool exit_with_guests;             /* stop when the last guest ends */
	unsigned nguests;
	struct guest_config guest[DAEMON_MAX_GUESTS];
};

/* Parses a JSON config (docs/daemon.md).  0, or -1 with a one-line reason
 * naming the offending field. */
int config_parse(const char *json, struct daemon_config *cfg, char *err, size_t errlen);
int config_load(const char *path, struct daemon_config *cfg, char *err, size_t errlen);
/* Parses one guest object (also used by the control API's "add"). */
struct json_t;
int config_guest(struct json_t *obj, struct guest_config *g, char *err, size_t errlen);
void config_free(struct daemon_config *cfg);
void config_guest_free(struct guest_config *g);
void config_defaults(struct daemon_config *cfg);

enum guest_state { GUEST_FREE, GUEST_RUNNING, GUEST_EXITED };

struct guest_counters { uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, rx_dropped; };
struct vhost;

struct guest {
	enum guest_state state;
	struct guest_config cfg;
	unsigned slot;
	pid_t pid;
	int status;                        /* exit status once EXITED */
	int link_sock, mem_fd, ring_fd, page_fd;
	struct link_page *page;            /* shared with the guest process: untrusted */
	uint32_t generation;               /* of the link page, the daemon's own count */
	void *mem_map, *ring_map;          /* the daemon's (the NIC's) view */
	unsigned nqueues;
	uint16_t queue[LINK_MAX_QUEUES];
	uint16_t retiring[LINK_MAX_QUEUES];   /* taken away, freed once acknowledged */
	unsigned nretiring;
	int filter;                        /* NIC filter slot, -1: none */
	struct vhost *vhost;               /* paravirt: its backend worker */
	int kick_fd, call_fd;              /* paravirt: notifications both ways */
	uint64_t started_ns;
	struct guest_counters retired;     /* counted on queues it no longer has */
	struct guest_counters last;        /* for rates: counters at last_ns */
	uint64_t last_ns;
};

struct host_port;

struct daemon {
	struct daemon_config cfg;
	struct nic *nic;
	struct guest guest[DAEMON_MAX_GUESTS];
	bool queue_used[NIC_MAX_QUEUES];
	struct host_port *host;
	int control_fd;
	uint64_t start_ns;
	bool stopping;
	int exit_status;                   /* of the last guest to end (run --net) */
};

/* Starts the NIC, the host port and the guests of the config; runs until
 * a stop request, SIGINT/SIGTERM, --seconds, or (exit_with_guests) the end
 * of the last guest; then tears everything down (wire files complete).
 * `tick`, when set, is called about every tick_ms (the demo's live table).
 * Returns the process exit status. */
int daemon_run(struct daemon *d, void (*tick)(struct daemon *d, void *arg), unsigned tick_ms, void *arg);

/* Guest lifecycle (guests.c).  All return 0, or -1 with a reason. */
int guest_start(struct daemon *d, const struct guest_config *cfg, char *err, size_t errlen);
int guest_remove(struct daemon *d, const char *name, char *err, size_t errlen);
/* A change of rate (bps, pps), weight or queue count; only the fields
 * marked present change, and they are checked here whatever their value. */
struct guest_change {
	bool has_rate_bps, has_rate_pps, has_weight, has_queues;
	uint64_t rate_bps, rate_pps;
	int64_t weight, queues;
};
int guest_change(struct daemon *d, const char *name, const struct guest_change *c, char *err, size_t errlen);
/* Reaps ended guest processes and reclaims their resources; finishes
 * queue hand-backs that were acknowledged or timed out. */
void guests_poll(struct daemon *d);
struct guest *guest_find(struct daemon *d, const char *name);
void guest_counters(const struct daemon *d, const struct guest *g, struct guest_counters *c);
unsigned guests_running(const struct daemon *d);

/* Host port (host_port.c): the daemon's own queue pair bridged to TAP. */
struct host_port *host_port_start(struct nic *nic, unsigned queue, const char *tap, const char *ip,
                                  unsigned ring_size, char *err, size_t errlen);
void host_port_stop(struct host_port *h);

/* Paravirt backend (vhost.c): a worker thread driving the guest's first
 * queue from its virtqueues; kick_fd and call_fd are the guest's eventfds. */
struct vhost *vhost_start(struct nic *nic, struct guest *g, int kick_fd, int call_fd, unsigned ring_size,
                          char *err, size_t errlen);
void vhost_stop(struct vhost *v);
/* CPU time the worker has used so far (host CPU of paravirt I/O). */
uint64_t vhost_cpu_ns(const struct vhost *v);

/* Control API (control.c): newline-delimited JSON requests. */
int control_listen(const char *path, char *err, size_t errlen);
/* Serves one connection that is ready; false when the daemon must stop. */
void control_accept(struct daemon *d);
/* The reply to one request line (a malloc'ed JSON string). */
char *control_handle(struct daemon *d, const char *line);

#endif
