/*
 * opsub demo [--seconds N] [--json]: the daemon on the embedded default
 * set-up — pktgen -> l2fwd -> sink over the NIC's internal switch, and a
 * responder that the host pings through its own port (a TAP) — with a live
 * table of per-guest packet and bit rates.
 */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "util/parse.h"

#define DEMO_TAP "opsub-demo0"
#define HOST_IP "10.11.0.1/24"
#define RESPONDER_IP "10.11.0.2"

static const char config_template[] =
	"{\"nic\": {\"wire\": \"loop\", \"queues\": 64},"
	" %s"
	" \"guests\": ["
	"  {\"name\": \"pktgen\", \"program\": \"%s/pktgen\", \"args\": [\"--size\", \"64\", \"--dst\", \"02:00:00:00:00:02\"],"
	"   \"mac\": \"02:00:00:00:00:01\", \"rate\": \"1.5G\", \"output\": \"/dev/null\"},"
	"  {\"name\": \"l2fwd\", \"program\": \"%s/l2fwd\", \"args\": [\"--dst\", \"02:00:00:00:00:03\"],"
	"   \"mac\": \"02:00:00:00:00:02\", \"output\": \"/dev/null\"},"
	"  {\"name\": \"sink\", \"program\": \"%s/sink\", \"mac\": \"02:00:00:00:00:03\", \"output\": \"/dev/null\"},"
	"  {\"name\": \"responder\", \"program\": \"%s/responder\", \"args\": [\"" RESPONDER_IP "/24\"],"
	"   \"mac\": \"02:00:00:00:00:04\", \"output\": \"/dev/null\"}"
	" ]}";

struct demo {
	bool tty, json, host_port;
	pid_t ping;
	unsigned ticks;
};

static const char *const io_names[] = {"opsub", "passthrough", "paravirt", "emulated"};

/* One rate sample per guest since the previous tick. */
static void rates(struct daemon *d, struct guest *g, double *txp, double *rxp, double *txb, double *rxb)
{
	struct guest_counters c;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	guest_counters(d, g, &c);
	double dt = (double)(now - g->last_ns) / 1e9;
	*txp = dt > 0 ? (double)(c.tx_packets - g->last.tx_packets) / dt : 0;
	*rxp = dt > 0 ? (double)(c.rx_packets - g->last.rx_packets) / dt : 0;
	*txb = dt > 0 ? (double)(c.tx_bytes - g->last.tx_bytes) * 8 / dt : 0;
	*rxb = dt > 0 ? (double)(c.rx_bytes - g->last.rx_bytes) * 8 / dt : 0;
	g->last = c;
	g->last_ns = now;
}

/* 1234567 -> "1.23 M" */
static void si(char out[16], double v)
{
	static const char *const unit[] = {"", "k", "M", "G"};
	unsigned u = 0;
	while (v >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	snprintf(out, 16, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
}

static void start_ping(struct demo *demo)
{
	pid_t demo_pid = getpid();
	demo->ping = fork();
	if (demo->ping == 0) {
		/* gone with the demo, however it ends; and the signals the demo
		 * takes in its main loop are not blocked in ping */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != demo_pid)
			_exit(0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("ping", "ping", "-q", "-i", "0.2", RESPONDER_IP, (char *)NULL);
		_exit(127);
	}
}

static void tick(struct daemon *d, void *arg)
{
	struct demo *demo = arg;
	if (demo->ticks++ == 0 && demo->host_port)
		start_ping(demo);
	if (demo->json)
		return;
	double t = (double)demo->ticks;
	if (demo->tty)
		printf("\033[H\033[J");
	printf("opsub demo: guests sharing one NIC (internal switch), %.0f s%s\n", t,
	       demo->tty ? "   [Ctrl-C stops]" : "");
	printf("%-10s %-6s %-6s %10s %10s %10s %10s %10s\n", "guest", "io", "queues", "tx pkt/s", "tx bit/s",
	       "rx pkt/s", "rx bit/s", "rx drops");
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
		struct guest *g = &d->guest[i];
		if (g->state == GUEST_FREE)
			continue;
		double txp, rxp, txb, rxb;
		rates(d, g, &txp, &rxp, &txb, &rxb);
		char v[4][16];
		si(v[0], txp);
		si(v[1], txb);
		si(v[2], rxp);
		si(v[3], rxb);
		printf("%-10s %-6s %-6u %10s %10s %10s %10s %10llu%s\n", g->cfg.name, io_names[g->cfg.io], g->nqueues,
		       v[0], v[1], v[2], v[3], (unsigned long long)g->last.rx_dropped,
		       g->state == GUEST_EXITED ? "  (ended)" : "");
	}
	struct nic_global_stats_regs s;
	nic_global_stats(d->nic, &s);
	printf("NIC: DMA engine %.1f s CPU, %llu frames switched, %llu for no one, %llu DMA errors%s\n",
	       (double)nic_dma_cpu_ns(d->nic) / 1e9, (unsigned long long)s.tx_frames,
	       (unsigned long long)s.rx_no_match, (unsigned long long)s.dma_errors,
	       demo->host_port ? "; host pings the responder at " RESPONDER_IP " via " DEMO_TAP : "");
	fflush(stdout);
}

static void final_json(struct daemon *d, double seconds)
{
	json_t *guests = json_array();
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
		struct guest *g = &d->guest[i];
		if (g->state == GUEST_FREE)
			continue;
		struct guest_counters c = g->retired;
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b}",
			"name", g->cfg.name, "io", io_names[g->cfg.io],
			"tx_packets", (json_int_t)c.tx_packets, "rx_packets", (json_int_t)c.rx_packets,
			"tx_bytes", (json_int_t)c.tx_bytes, "rx_bytes", (json_int_t)c.rx_bytes,
			"rx_dropped", (json_int_t)c.rx_dropped,
			"tx_mpps", (double)c.tx_packets / seconds / 1e6, "rx_mpps", (double)c.rx_packets / seconds / 1e6,
			"moving", c.tx_packets + c.rx_packets > 0);
		/* stopped by the demo at its end, or ended before: how */
		bool ended = !g->stopped_by_daemon;
		json_object_set_new(o, "ended", json_boolean(ended));
		if (ended) {
			json_object_set_new(o, "status", json_integer(g->status));
			json_object_set_new(o, "reason", json_string(g->end_reason));
		}
		json_array_append_new(guests, o);
	}
	json_t *o = json_pack("{s:f, s:o}", "seconds", seconds, "guests", guests);
	char *s = json_dumps(o, JSON_COMPACT);
	puts(s);
	free(s);
	json_decref(o);
}

/* The demo's guests never end on their own: one that did (at start, most
 * likely: a program missing or not built) makes the demo fail, saying why.
 * The number of them. */
static unsigned report_ended(const struct daemon *d)
{
	unsigned n = 0;
	for (unsigned i = 0; i < DAEMON_MAX_GUESTS; i++) {
		const struct guest *g = &d->guest[i];
		if (g->state != GUEST_EXITED || g->stopped_by_daemon)
			continue;
		fprintf(stderr, "opsub demo: guest '%s' ended after %.3f s (status %d): %s\n", g->cfg.name,
		        (double)(g->ended_ns - g->started_ns) / 1e9, g->status, g->end_reason);
		n++;
	}
	return n;
}

int cmd_demo(int argc, char **argv)
{
	static struct daemon d;
	struct demo demo = {.tty = isatty(1), .ping = -1};
	double seconds = 0;
	const char *guest_dir = NULL, *log = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			demo.json = true;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc && parse_seconds(argv[i + 1], &seconds))
			i++;
		else if (!strcmp(argv[i], "--guests") && i + 1 < argc)
			guest_dir = argv[++i];
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: opsub demo [--seconds N] [--json] [--guests DIR] [--log TARGET]\n"
			       "Runs pktgen -> l2fwd -> sink over the NIC's internal switch, and a responder\n"
			       "that the host pings through its own TAP port (" DEMO_TAP ", when /dev/net/tun\n"
			       "can be opened), and shows each guest's packet and bit rates every second.\n\n"
			       "options:\n"
			       "  --seconds N    stop after N seconds (default: run until Ctrl-C)\n"
			       "  --json         no live table; at the end, one JSON object with each\n"
			       "                 guest's counters and whether it moved packets\n"
			       "  --guests DIR   the directory of pktgen, l2fwd, sink and responder\n"
			       "                 (default: the example guests of this opsub)\n"
			       "  --log TARGET   log every event to TARGET: a file, \"syslog\" or \"stderr\"\n"
			       "                 (default: only errors, on stderr)\n"
			       "Exits 1, naming it and saying why, if a guest ended before the demo did.\n");
			return 0;
		} else
			return usage_error("demo", "unknown argument %s", argv[i]);
	}
	char dir[PATH_MAX], host[128] = "", err[512];
	static char text[sizeof(config_template) + sizeof(host) + 4 * sizeof(dir)];
	if (guest_dir)
		snprintf(dir, sizeof(dir), "%s", guest_dir);
	else
		example_guest_dir(dir, sizeof(dir));
	/* The host port needs a TAP device; without one the responder idles. */
	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun >= 0) {
		close(tun);
		demo.host_port = true;
		snprintf(host, sizeof(host), "\"host_port\": {\"tap\": \"%s\", \"ip\": \"%s\"},", DEMO_TAP, HOST_IP);
	}
	snprintf(text, sizeof(text), config_template, host, dir, dir, dir, dir);
	if (config_parse(text, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "opsub demo: %s (build the guests with make)\n", err);
		return 1;
	}
	d.cfg.seconds = seconds;
	d.cfg.exit_with_guests = true;   /* no point going on with none left */
	/* the table and the summary at the end are the news */
	d.cfg.log_level = log ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR;
	d.log_override = log;
	d.version = opsub_version();
	d.cfg.control = control_private_path("demo");   /* never a daemon's socket */
	fprintf(stderr, "opsub demo: control socket %s (opsub ctl --socket %s list)\n", d.cfg.control, d.cfg.control);
	int rc = daemon_run(&d, tick, 1000, &demo);
	if (demo.ping > 0)
		kill(demo.ping, SIGTERM);
	if (d.started) {
		if (demo.json)
			final_json(&d, d.run_seconds > 0 ? d.run_seconds : 1);
		if (report_ended(&d))
			rc = 1;
	}
	config_free(&d.cfg);
	return rc;
}
