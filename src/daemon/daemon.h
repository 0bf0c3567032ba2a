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

#include "daemon/guest_output.h"
#include "daemon/log.h"
#include "daemon/vhost_state.h"
#include "driver/link.h"
#include "fs/fs.h"
#include "nic/nic.h"
#include "opsub_abi.h"

/* The guests the daemon holds at most: the table grows with demand, but
 * slot s has DMA windows 1 + 2s and 2 + 2s (window 0 is the host port's). */
#define DAEMON_MAX_GUESTS  ((NIC_MAX_WINDOWS - 1) / 2)
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
	char *output;                      /* stdout/stderr file, NULL: labelled lines in the log */
	bool stats;                        /* opsub --stats for this guest */
	bool trace_syscalls, no_verify;    /* opsub run's options, for run --net */
	bool share_stdio;                  /* run --net: the daemon's stdout and stderr, as they are */
	unsigned cpu_weight;               /* CPU share, cgroup v2 scale 1..10000 (cpu_limit.h); 0: the default 100 */
	double cpu_max;                    /* CPU cap in cores (0.5: half a core), 0: none */
	/* its file system (fs/fs.h), passed to guest-proc as its options */
	char *root;                        /* root image, NULL: an empty root (owned) */
	char *volume[FS_MAX_VOLUMES];      /* "HOSTDIR:GUESTDIR[:ro]", as given (owned) */
	unsigned nvolumes;
	uint64_t tmp_size;                 /* bytes the guest may write, 0: FS_TMP_SIZE_DEFAULT */
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
	char *log;                         /* log target (log.h): NULL stderr, "syslog", or a file */
	char *metrics;                     /* metrics endpoint "A.B.C.D:PORT" (metrics.h), NULL: none */
	enum log_level log_level;          /* the least level logged; 0 = LOG_LEVEL_INFO */
	bool migration;                    /* "migration" given: migrate, snapshot and restore work */
	uint8_t mig_key[32];               /* its pre-shared key (the key_file's bytes) */
	char *mig_key_file;                /* its path, for the log */
	char *mig_listen;                  /* "HOST:PORT" to take migrations on, NULL: none */
	unsigned pool_queues;              /* nic "pool": queue pairs of the pool device, 0: none */
	unsigned nguests;
	struct guest_config *guest;        /* [nguests], grown by config_guest_append (owned) */
	unsigned guest_cap;                /* room in guest[] */
};

/* Parses a JSON config (docs/daemon.md) and makes every check that needs
 * nothing but the text.  0, or -1 with a one-line reason naming the
 * offending field. */
int config_parse(const char *json, struct daemon_config *cfg, char *err, size_t errlen);
int config_parse_buffer(const char *json, size_t len, struct daemon_config *cfg, char *err, size_t errlen);
/* Reads a config from a regular file of at most CONFIG_MAX_BYTES. */
#define CONFIG_MAX_BYTES (1u << 20)
int config_load(const char *path, struct daemon_config *cfg, char *err, size_t errlen);
/* A wire spec as far as its text tells (kind, arguments, pcap input and
 * output not the same file): 0, or -1 with a reason (config_wire.c). */
int config_check_wire(const char *spec, char *err, size_t errlen);
/* A name Linux takes for a network interface (1..IFNAMSIZ-1 bytes). */
bool config_ifname_ok(const char *name);
/* A MAC a port can have: unicast and not all zeros. */
bool config_mac_ok(const uint8_t mac[6]);
/* Parses one guest object (also used by the control API's "add"). */
struct json_t;
int config_guest(struct json_t *obj, struct guest_config *g, char *err, size_t errlen);
/* The same for a guest that arrives by migration or from a snapshot: no
 * "output" (a stream may not name files for the daemon to write), and the
 * program is only named, not read (it runs from its state). */
int config_guest_from_stream(struct json_t *obj, struct guest_config *g, char *err, size_t errlen);
/* A listen address "HOST:PORT" (IPv4 or IPv6 address in brackets, numeric):
 * 0, or -1 with a reason. */
int config_check_listen(const char *text, char *err, size_t errlen);
void config_free(struct daemon_config *cfg);
void config_guest_free(struct guest_config *g);
void config_defaults(struct daemon_config *cfg);
/* A new zeroed guest at the end of cfg->guest (counted in nguests), the
 * array grown as needed: NULL when memory or DAEMON_MAX_GUESTS runs out.
 * A pointer into cfg->guest is good until the next append. */
struct guest_config *config_guest_append(struct daemon_config *cfg);

enum guest_state { GUEST_FREE, GUEST_RUNNING, GUEST_EXITED };

struct guest_counters { uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, rx_dropped; };

/* A move of an on-demand guest between the pool and a dedicated queue
 * (queues.c): queue[0] is the new queue, queue[1] the old one, draining. */
enum move_phase { MOVE_SWITCH = 1, MOVE_DRAIN };
struct move {
	bool active;
	enum move_phase phase;
	uint64_t started_ns, steered_ns;   /* begun, and the MAC steered to the new queue */
	uint64_t drained_at;               /* MOVE_DRAIN from the pool: pool_uplink_taken to wait for */
	uint64_t sent_at;                  /* its TX ring empty: pool_uplink_sent to wait for, + 1; 0: not yet */
};
/* What placement by demand knows of a guest's traffic (queues.c). */
struct demand {
	uint64_t look_ns, look_frames;     /* the last look */
	uint64_t rate;                     /* frames/s over the last full look */
	unsigned busy_looks;               /* pooled: looks in a row at a busy rate */
	uint64_t since_ns, idle_ns;        /* dedicated: how long it has been idle */
	uint64_t placed_ns;                /* when it got its dedicated queue */
};
struct vhost;

struct guest {
	enum guest_state state;
	struct guest_config cfg;
	unsigned slot;
	pid_t pid;
	int status;                        /* exit status once EXITED (128 + signal if killed) */
	int wait_status;                   /* once EXITED: as waitpid gave it */
	bool stopped_by_daemon;            /* the daemon killed it (stop, remove, reload) */
	bool from_config;                  /* started from the config file: a reload may remove it */
	struct guest_output output;        /* its output and report pipes (guest_output.h) */
	char end_reason[GUEST_LAST_WORDS + 128];   /* once EXITED: how it ended, in words */
	uint64_t ended_ns;
	int link_sock, mem_fd, ring_fd, page_fd;
	int pid_fd;                        /* a pidfd of its process in output_epoll, -1: none (reaped by the sweep) */
	struct link_page *page;            /* shared with the guest process: untrusted */
	uint32_t generation;               /* of the link page, the daemon's own count */
	void *mem_map, *ring_map;          /* the daemon's (the NIC's) view */
	unsigned nqueues;
	uint16_t queue[LINK_MAX_QUEUES];
	uint16_t retiring[LINK_MAX_QUEUES];   /* taken away, freed once acknowledged */
	unsigned nretiring;
	int filter;                        /* filter slot on filter_nic (the NIC or the pool), -1: none */
	struct nic *filter_nic;
	int old_filter;                    /* moving from the pool: its pool filter, until the move ends; -1: none */
	struct nic *old_filter_nic;
	bool on_demand;                    /* no "queues" pinned: placed by its traffic (queues.c) */
	bool pool_mapped;                  /* its windows are mapped in the pool device too */
	struct move move;
	struct demand demand;
	unsigned moves;                    /* moves between the pool and a dedicated queue */
	struct vhost *vhost;               /* paravirt: its backend worker */
	uint32_t cpu_rows;                 /* optional CPU model rows it was shown (gates/cpu_model.h): this
	                                    * host's, or for one restored here the state's */
	int kick_fd, call_fd;              /* paravirt: notifications both ways */
	uint64_t started_ns;
	struct guest_counters retired;     /* counted on queues it no longer has */
	struct guest_counters last;        /* for rates: counters at last_ns */
	uint64_t last_ns;
	struct mig_job *migrating;         /* a migration or snapshot of it runs (migrate.h), NULL: none */
};

struct host_port;

struct daemon {
	struct daemon_config cfg;
	struct nic *nic;
	/* The guest table: guest[s] is slot s, allocated when first used and
	 * kept until the daemon ends (threads and migration jobs hold struct
	 * guest *; a free slot is GUEST_FREE), so slots 0..nslots-1 are all
	 * allocated.  A new guest takes the lowest free slot.  Iterate with
	 * DAEMON_FOR_EACH_GUEST. */
	struct guest **guest;
	unsigned nslots, slot_cap;
	int output_epoll;                  /* the guests' output pipes and pidfds (guests.c); 0: not made yet */
	uint64_t swept_ns;                 /* guests_poll's last waitpid(-1) sweep */
	bool queue_used[NIC_MAX_QUEUES];
	struct pool *pool;                 /* the pool device (pool.h), started when first needed; NULL: not yet */
	unsigned pool_uplink;              /* its NIC queue */
	struct host_port *host;
	struct control *control;           /* the control socket (control.h), NULL: none */
	struct metrics *metrics;           /* the metrics endpoint (metrics.h), NULL: none */
	uint64_t start_ns;
	bool stopping;
	const char *stop_reason;           /* why it stops, for the log; NULL: a stop request */
	int exit_status;                   /* of the last guest to end (run --net) */
	const char *config_path;           /* re-read on SIGHUP; NULL: none (demo, run, bench) */
	const char *log_override;          /* --log: wins over the config's "log", also on reload */
	const char *version;               /* for the start line; NULL: unknown */
	bool started;                      /* daemon_run got past its start (its guests ran) */
	double run_seconds;                /* once daemon_run returns: from start to stop */
	struct migrate *mig;               /* migrations, snapshots and restores in progress (migrate.h) */
	struct cpu_limit *cpu;             /* the guests' CPU groups (cpu_limit.h), NULL: not set up */
};

/* Starts the NIC, the host port and the guests of the config; runs until
 * a stop request, SIGINT, SIGTERM or SIGQUIT, --seconds, or
 * (exit_with_guests) the end of the last guest; then tears everything down
 * (guests killed, control socket removed, TAP interface gone, wire files
 * complete).  SIGHUP reloads (daemon_reload), SIGUSR1 logs the counters
 * (daemon_log_stats), SIGUSR2 is ignored.  Every start, change and end is
 * logged (log.h) to cfg.log.  `tick`, when set, is called about every
 * tick_ms (the demo's live table).  Returns the process exit status. */
int daemon_run(struct daemon *d, void (*tick)(struct daemon *d, void *arg), unsigned tick_ms, void *arg);

/* SIGHUP (reload.c): reopens the log (a rotated file), then, with a config
 * file, re-reads it and applies it to the running daemon: guests no longer
 * listed (that came from the config) are removed, new ones started, those
 * whose program, args, mem, mac, io, promiscuous, output or stats changed
 * restarted, and rate, pps, weight and queues changed in place.  The nic,
 * control, host_port, seconds and metrics keys are read at start only: a change is
 * logged as not applied.  A config that does not load changes nothing. */
void daemon_reload(struct daemon *d);
/* SIGUSR1: one log line per guest with its counters, and one for the NIC. */
void daemon_log_stats(struct daemon *d);
/* Seconds since the daemon started (monotonic), and the wall-clock time
 * now in seconds since 1970: the time stamps of a `stats` reply. */
double daemon_uptime(const struct daemon *d);
double daemon_wall_time(void);

/* Guest lifecycle (guests.c).  All return 0, or -1 with a reason.  Guests
 * are started from the daemon's main thread only: a guest process dies
 * with the thread that forked it (PR_SET_PDEATHSIG), and guest_start
 * refuses any other thread.  Each start, end, removal and change is logged
 * with its reason. */
int guest_start(struct daemon *d, const struct guest_config *cfg, char *err, size_t errlen);
/* A guest that arrives by migration or from a snapshot: its memory is
 * mem_fd (filled; the guest keeps a duplicate), its process is started
 * with `guest-proc --restore` and given the guest state (state_fd, a
 * memfd) with LINK_MIG_STATE after LINK_BOOT (and LINK_VIRTIO); a
 * paravirt backend starts from `vring` (vhost_start_at checks it).  Its link socket (dup'ed) goes to *link_out for
 * the reply to LINK_MIG_STATE. */
struct guest_restore {
	int mem_fd, state_fd;
	bool has_vring;
	struct vhost_state vring;          /* paravirt: where the source's backend stood */
};
int guest_start_restored(struct daemon *d, const struct guest_config *cfg, const struct guest_restore *r,
                         int *link_out, char *err, size_t errlen);
/* A destination starts the guest's process early, with r->state_fd -1,
 * so that its start-up is not part of the downtime: the process boots on
 * the memory being filled and waits; this gives it its paravirt backend
 * (from r->vring) and its state, and *link_out as guest_start_restored. */
int guest_give_state(struct daemon *d, const char *name, const struct guest_restore *r, int *link_out, char *err,
                     size_t errlen);
int guest_remove(struct daemon *d, const char *name, char *err, size_t errlen);
/* A change of rate (bps, pps), weight, queue count, CPU weight or CPU cap;
 * only the fields marked present change, and they are checked here
 * whatever their value (CPU settings: refused where CPU control is
 * unavailable, cpu_limit.h). */
struct guest_change {
	bool has_rate_bps, has_rate_pps, has_weight, has_queues;
	uint64_t rate_bps, rate_pps;
	int64_t weight, queues;
	bool has_cpu_weight, has_cpu_max;  /* CPU share and cap (cpu_limit.h); cpu_max 0: no cap */
	int64_t cpu_weight;
	double cpu_max;
};
int guest_change(struct daemon *d, const char *name, const struct guest_change *c, char *err, size_t errlen);
/* Passes on guest output (guest_output.h); reaps ended guest processes,
 * logs how each ended and reclaims its resources; finishes queue
 * hand-backs that were acknowledged. */
void guests_poll(struct daemon *d);
struct guest *guest_find(struct daemon *d, const char *name);
/* Every slot of the table in slot order, free ones included (check
 * g->state):  DAEMON_FOR_EACH_GUEST(d, g) { if (g->state == ...) ... }
 * break and continue work as in any for loop. */
#define DAEMON_FOR_EACH_GUEST(d, g) \
	for (struct guest *g = (d)->nslots ? (d)->guest[0] : NULL; g; \
	     g = g->slot + 1 < (d)->nslots ? (d)->guest[g->slot + 1] : NULL)
/* Frees the guest table (and the epoll set of guests.c) once daemon_run
 * has returned and the caller has read what it wanted of the guests. */
void guests_free(struct daemon *d);
void guest_counters(const struct daemon *d, const struct guest *g, struct guest_counters *c);
unsigned guests_running(const struct daemon *d);

/* The guests' queue pairs (queues.c).  One numbering: ids below the NIC's
 * queue count are its own queue pairs (dedicated), the ones above are the
 * pool device's (pool.h): id = NIC queues + pool queue. */
struct pool;
struct qref { struct nic *nic; unsigned q; };
struct qref queue_ref(const struct daemon *d, unsigned id);
bool queue_pooled(const struct daemon *d, unsigned id);
/* A free queue pair of the NIC or of the pool (started if need be), reset
 * and admin up: its id, or -1 with a reason. */
int queue_take(struct daemon *d, bool pooled, char *err, size_t errlen);
/* Its counters go to the guest's retired ones; the queue is free again. */
void queue_release(struct daemon *d, struct guest *g, unsigned id);
/* Hands the guest process queue id's descriptors (before a generation
 * names it). */
void queue_send(struct daemon *d, struct guest *g, unsigned id);
/* The guest's TX limit shared evenly by its queues, and its weight. */
void queues_apply_sched(struct daemon *d, struct guest *g);
/* Publishes the guest's queue set in its link page. */
void queues_publish(struct guest *g);
/* Steers the guest's MAC to queue[0] (on its device), replacing the
 * filter it had; unsteer removes it. */
int queues_steer(struct daemon *d, struct guest *g, char *err, size_t errlen);
void queues_unsteer(struct guest *g);
/* The guest's queues at its start: "queues" pinned dedicated ones, or on
 * demand a pool queue (a dedicated one if the pool cannot serve it), and
 * its filter; unplace gives everything back. */
int queues_place(struct daemon *d, struct guest *g, char *err, size_t errlen);
void queues_unplace(struct daemon *d, struct guest *g);
/* Maps the guest's windows in the pool device (when there is one). */
int pool_map_guest(struct daemon *d, struct guest *g, char *err, size_t errlen);
void pool_unmap_guest(struct daemon *d, struct guest *g);
/* Placement by demand: moves on-demand guests between the pool and
 * dedicated queues by their traffic, and carries moves on.  Called at
 * least every QUEUES_DEMAND_TICK_MS. */
#define QUEUES_DEMAND_TICK_MS 2
void queues_demand(struct daemon *d);
struct queues_status {
	const char *placement;             /* "pinned", "dedicated", "pool", "none" */
	bool pooled, moving;
};
void queues_status(const struct daemon *d, const struct guest *g, struct queues_status *out);
/* A guest slot's DMA windows: its memory and its ring area. */
static inline unsigned guest_mem_window(const struct guest *g) { return 1 + 2 * g->slot; }
static inline unsigned guest_ring_window(const struct guest *g) { return 2 + 2 * g->slot; }

/* Host port (host_port.c): the daemon's own queue pair bridged to TAP. */
struct host_port *host_port_start(struct nic *nic, unsigned queue, const char *tap, const char *ip,
                                  unsigned ring_size, char *err, size_t errlen);
void host_port_stop(struct host_port *h);

/* Paravirt backend (vhost.c): a worker thread driving the guest's first
 * queue from its virtqueues; kick_fd and call_fd are the guest's eventfds. */
struct vhost *vhost_start(struct nic *nic, struct guest *g, int kick_fd, int call_fd, unsigned ring_size,
                          char *err, size_t errlen);
/* Live migration (docs/migration.md; the state is in daemon/vhost_state.h).
 *
 * The destination: vhost_start going on from a migrated backend's state
 * (NULL: from the start).  The state comes from the network: refused with
 * a reason unless vhost_state_check passes for ring_size; once the guest's
 * virtqueues attach, the worker checks they agree with it (else the port
 * stays silent, logged) and gives the guest one interrupt. */
struct vhost *vhost_start_at(struct nic *nic, struct guest *g, int kick_fd, int call_fd, unsigned ring_size,
                             const struct vhost_state *from, char *err, size_t errlen);
/* The source's switch-over, after the guest is paused and its queue
 * quiesced (nic_queue_quiesce): the worker takes no new transmit entry,
 * waits (at most half of timeout_ns) for the NIC to send what it posted,
 * hands the guest the received frames the NIC holds that it has buffers
 * for, acknowledges, and from then on touches neither the rings nor guest
 * memory.  Any thread; 0 once parked, or -1 if it did not park within
 * timeout_ns (the request is then withdrawn: the worker goes on).  Parking
 * a parked backend is 0 at once. */
int vhost_park(struct vhost *v, uint64_t timeout_ns);
/* While parked: its indices into *out (0), else -1. */
int vhost_export(struct vhost *v, struct vhost_state *out);
/* While parked: received frames the NIC held that the guest had no buffer
 * for (they are lost if the migration completes; unparked, the guest gets
 * them); 0 when not parked. */
uint64_t vhost_stranded_frames(struct vhost *v);
/* The worker goes on where it stopped (a migration that failed). */
void vhost_unpark(struct vhost *v);
/* Ends the worker; a parked one takes nothing more from the rings (its
 * guest may run elsewhere now).  NULL is ok. */
void vhost_stop(struct vhost *v);

/* Control API: see daemon/control.h. */

#endif
