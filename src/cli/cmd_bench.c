/*
 * opsub bench --mode M --scenario tx|rx|fwd --size BYTES --guests N
 *             --seconds S [--json]
 *
 * One scenario, measured on the daemon with N guests in I/O mode M:
 *   tx   each guest runs pktgen (writes every byte) into the null sink
 *        (which reads every byte); counted: frames the guests sent;
 *   rx   the null source sends SIZE-byte broadcast frames (every byte
 *        written), each guest runs sink (reads and checks every byte);
 *        counted: frames the guests received;
 *   fwd  the null source feeds every guest, each runs l2fwd back out to
 *        the null sink; counted: frames the guests forwarded.
 * CPU time per packet, by role, over the measured window:
 *   guest   the guests' processes: translated code, gates, the trusted
 *           driver (opsub), the guest's own driver (passthrough, paravirt's
 *           virtio driver) or its trapped register accesses (emulated);
 *   host    the daemon's threads but the DMA engine: paravirt's backends,
 *           the daemon's loop;
 *   device  the NIC's DMA engine, which stands for hardware: it busy-polls
 *           pinned to CPU 1, so its CPU time is the window; device_busy is
 *           the share of its iterations that moved frames (nic.h), and
 *           device_work_ns_per_pkt that share of its time per packet.
 * guest + host is the software cost of the interface (software_ns_per_pkt).
 * Guests, backends and the daemon share CPU 0.
 */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "util/host_info.h"
#include "util/parse.h"

#define WARMUP_MS 700
#define GUEST_CPU 0
#define DEVICE_CPU 1

static const char help_text[] =
	"usage: opsub bench [--mode M] [--scenario S] [--size BYTES] [--guests N] [--seconds S] [--json]\n"
	"Measures one I/O scenario on the daemon with the example guests and prints the\n"
	"packet rate and the CPU time per packet of the guests, the host and the NIC's\n"
	"DMA engine (busy-polling, pinned to CPU 1; guests and daemon on CPU 0).\n\n"
	"options:\n"
	"  --mode M        I/O mode of every guest: opsub (default), passthrough,\n"
	"                  paravirt, emulated\n"
	"  --scenario S    tx: each guest sends to the null sink (default);\n"
	"                  rx: the null source sends to every guest;\n"
	"                  fwd: every guest forwards from the null source to the sink\n"
	"  --size BYTES    frame size, 60..1514 (default 64)\n"
	"  --guests N      number of guests, 1..32 (default 1)\n"
	"  --seconds S     measured time after a 0.7 s warm-up, at least 0.5 (default 5)\n"
	"  --json          print one JSON object instead of a sentence\n"
	"Exits 1 if the run did not complete (e.g. the example guests are not built).\n";

static const char *const modes[] = {"opsub", "passthrough", "paravirt", "emulated"};
enum scenario { TX, RX, FWD };
static const char *const scenarios[] = {"tx", "rx", "fwd"};

struct sample {
	uint64_t ns, packets, bytes, guest_cpu, host_cpu, device_cpu;
	uint64_t device_work_tsc, device_awake_tsc;
	unsigned running;   /* guests running when it was taken */
};

struct bench {
	enum scenario scenario;
	double seconds;
	uint64_t first_tick_ns;
	struct sample a, b;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of a process (all its threads), in ns; 0 once it is gone. */
static uint64_t process_cpu_ns(pid_t pid)
{
	clockid_t clock;
	struct timespec ts;
	if (clock_getcpuclockid(pid, &clock) || clock_gettime(clock, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t own_process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sample(struct daemon *d, enum scenario sc, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	s->ns = now_ns();
	s->device_cpu = nic_dma_cpu_ns(d->nic);
	s->host_cpu = own_process_cpu_ns() - s->device_cpu;   /* includes the backends' threads */
	nic_engine_busy(d->nic, &s->device_work_tsc, &s->device_awake_tsc);
	DAEMON_FOR_EACH_GUEST(d, g) {
		if (g->state != GUEST_RUNNING)
			continue;
		s->running++;
		struct guest_counters c;
		guest_counters(d, g, &c);
		s->packets += sc == RX ? c.rx_packets : c.tx_packets;
		s->bytes += sc == RX ? c.rx_bytes : c.tx_bytes;
		s->guest_cpu += process_cpu_ns(g->pid);
	}
}

/* The clock decides, not the number of ticks: after a slow start (guests
 * starting on a busy host) the daemon delivers the ticks it owes at once. */
static void tick(struct daemon *d, void *arg)
{
	struct bench *b = arg;
	uint64_t now = now_ns();
	if (!b->first_tick_ns)
		b->first_tick_ns = now;
	if (!b->a.ns) {
		if (now - b->first_tick_ns >= WARMUP_MS * 1000000ull)
			sample(d, b->scenario, &b->a);
	} else if (now - b->a.ns >= (uint64_t)(b->seconds * 1e9)) {
		sample(d, b->scenario, &b->b);
		d->stopping = true;
	}
}

int cmd_bench(int argc, char **argv)
{
	unsigned mode = 0, sc = 0, guests = 1;
	uint64_t size = 64;
	double seconds = 5;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(help_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--mode")) {
			for (mode = 0; mode < 4 && strcmp(v, modes[mode]); mode++)
				;
			if (mode == 4)
				return usage_error("bench", "--mode must be opsub, passthrough, paravirt or emulated");
		} else if (!strcmp(a, "--scenario")) {
			for (sc = 0; sc < 3 && strcmp(v, scenarios[sc]); sc++)
				;
			if (sc == 3)
				return usage_error("bench", "--scenario must be tx, rx or fwd");
		} else if (!strcmp(a, "--size")) {
			if (!parse_size(v, &size) || size < 60 || size > 1514)
				return usage_error("bench", "--size must be 60..1514 bytes");
		} else if (!strcmp(a, "--guests")) {
			guests = (unsigned)atoi(v);
			if (guests < 1 || guests > 32)
				return usage_error("bench", "--guests must be 1..32");
		} else if (!strcmp(a, "--seconds")) {
			if (!parse_seconds(v, &seconds) || seconds < 0.5)
				return usage_error("bench", "--seconds must be at least 0.5");
		} else {
			return usage_error("bench", "unknown argument %s", a);
		}
		i++;
	}

	char dir[PATH_MAX], sz[16], wire[64];
	example_guest_dir(dir, sizeof(dir));
	snprintf(sz, sizeof(sz), "%lu", size);
	snprintf(wire, sizeof(wire), sc == TX ? "null" : "null:%lu,ff:ff:ff:ff:ff:ff,02:00:00:00:99:99", size);

	static struct daemon d;
	config_defaults(&d.cfg);
	d.cfg.wire = strdup(wire);
	d.cfg.nic.wire = d.cfg.wire;
	d.cfg.nic.poll_mode = NIC_POLL_BUSY;
	d.cfg.nic.dma_cpu = DEVICE_CPU;
	d.cfg.nic.num_queues = guests + 1 < 4 ? 4 : guests + 1;
	d.cfg.log_level = LOG_LEVEL_WARNING;   /* the figures are the output; the log only says what went wrong */
	for (unsigned i = 0; i < guests; i++) {
		struct guest_config *g = config_guest_append(&d.cfg);
		if (!g) {
			fprintf(stderr, "opsub bench: out of memory\n");
			return 1;
		}
		static const char *const prog[] = {"pktgen", "sink", "l2fwd"};
		char path[PATH_MAX + 16];
		snprintf(g->name, sizeof(g->name), "g%u", i);
		snprintf(path, sizeof(path), "%s/%s", dir, prog[sc]);
		g->argv[0] = strdup(path);
		if (sc == TX) {
			g->argv[1] = strdup("--size");
			g->argv[2] = strdup(sz);
		}
		g->mem = 256ull << 20;
		uint8_t mac[6] = {0x02, 0, 0, 0, 0x10, (uint8_t)(i + 1)};
		memcpy(g->mac, mac, 6);
		g->queues = 1;
		g->weight = 1;
		g->io = (enum opsub_net_mode)mode;
		g->output = strdup("/dev/null");
	}
	/* Guests (forked from here), paravirt backends and the daemon share
	 * CPU 0; the NIC pins its engine to CPU 1 itself. */
	cpu_set_t cpu0;
	CPU_ZERO(&cpu0);
	CPU_SET(GUEST_CPU, &cpu0);
	sched_setaffinity(0, sizeof(cpu0), &cpu0);
	struct bench b = {.scenario = (enum scenario)sc, .seconds = seconds};
	int rc = daemon_run(&d, tick, 100, &b);
	config_free(&d.cfg);
	guests_free(&d);
	if (rc || !b.b.ns) {
		fprintf(stderr, "opsub bench: the run did not complete (are the guests built? make)\n");
		return 1;
	}
	if (b.a.running < guests || b.b.running < guests) {
		fprintf(stderr, "opsub bench: only %u of %u guests ran through the measurement (the log above says why)\n",
		        b.a.running < b.b.running ? b.a.running : b.b.running, guests);
		return 1;
	}
	double dt = (double)(b.b.ns - b.a.ns) / 1e9, pkts = (double)(b.b.packets - b.a.packets);
	double mpps = pkts / dt / 1e6, gbps = (double)(b.b.bytes - b.a.bytes) * 8 / dt / 1e9;
	double per = pkts > 0 ? 1 / pkts : 0;
	double guest_ns = (double)(b.b.guest_cpu - b.a.guest_cpu) * per, host_ns = (double)(b.b.host_cpu - b.a.host_cpu) * per;
	double dev_ns = (double)(b.b.device_cpu - b.a.device_cpu) * per;
	uint64_t awake = b.b.device_awake_tsc - b.a.device_awake_tsc;
	double busy = awake ? (double)(b.b.device_work_tsc - b.a.device_work_tsc) / (double)awake : 0;
	struct host_info h;
	host_info_read(&h);
	if (json)
		printf("{\"mode\":\"%s\",\"scenario\":\"%s\",\"size\":%lu,\"guests\":%u,\"mpps\":%.4f,\"gbps\":%.4f,"
		       "\"guest_ns_per_pkt\":%.1f,\"host_ns_per_pkt\":%.1f,\"device_ns_per_pkt\":%.1f,"
		       "\"software_ns_per_pkt\":%.1f,\"device_busy\":%.3f,\"device_work_ns_per_pkt\":%.1f,"
		       "\"seconds\":%.3f,\"cpu\":\"%s\",\"kernel\":\"%s\",\"load1\":%.2f}\n",
		       modes[mode], scenarios[sc], size, guests, mpps, gbps, guest_ns, host_ns, dev_ns,
		       guest_ns + host_ns, busy, dev_ns * busy, dt, h.cpu, h.kernel, h.load1);
	else
		printf("%s %s %lu bytes, %u guest%s: %.3f Mpps, %.3f Gbit/s; CPU per packet: guest %.1f ns, "
		       "host %.1f ns, device %.1f ns (busy %.0f%%) (%.2f s; %s, Linux %s, load %.2f)\n",
		       modes[mode], scenarios[sc], size, guests, guests > 1 ? "s" : "", mpps, gbps, guest_ns,
		       host_ns, dev_ns, busy * 100, dt, h.cpu, h.kernel, h.load1);
	return 0;
}
