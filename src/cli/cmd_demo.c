/*
 * opsub demo [--seconds N] [--json] [--guests N]: the daemon on the embedded
 * default set-up — pktgen -> l2fwd -> sink over the NIC's internal switch,
 * and a responder that the host pings through its own port (a TAP) — with a
 * live table of per-guest packet and bit rates.  --guests N adds idle
 * listeners (sink, each with a MAC of its own) up to N guests; the table
 * then shows the busiest DEMO_ROWS and a line for all of them.
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
#define DEMO_SET 4u                    /* pktgen, l2fwd, sink, responder */
#define DEMO_QUEUES 64u                /* the NIC's queue pairs, unless more guests need more */
#define DEMO_ROWS 20u                  /* guests shown in the table, the busiest */

static const char config_template[] =
	"{\"nic\": {\"wire\": \"loop\", \"queues\": %u},"
	" %s"
	" \"guests\": ["
	"  {\"name\": \"pktgen\", \"program\": \"%s/pktgen\", \"args\": [\"--size\", \"64\", \"--dst\", \"02:00:00:00:00:02\"],"
	"   \"mac\": \"02:00:00:00:00:01\", \"rate\": \"1.5G\", \"output\": \"/dev/null\"},"
	"  {\"name\": \"l2fwd\", \"program\": \"%s/l2fwd\", \"args\": [\"--dst\", \"02:00:00:00:00:03\"],"
	"   \"mac\": \"02:00:00:00:00:02\", \"output\": \"/dev/null\"},"
	"  {\"name\": \"sink\", \"program\": \"%s/sink\", \"mac\": \"02:00:00:00:00:03\", \"output\": \"/dev/null\"},"
	"  {\"name\": \"responder\", \"program\": \"%s/responder\", \"args\": [\"" RESPONDER_IP "/24\"],"
	"   \"mac\": \"02:00:00:00:00:04\", \"output\": \"/dev/null\"}"
	"%s ]}";

/* Guests beyond the demo's set: idle listeners, each with its own MAC
 * (02:00:01:xx:xx:xx, apart from the set's), as small as a guest may be. */
static const char extra_template[] =
	", {\"name\": \"idle-%u\", \"program\": \"%s/sink\", \"mac\": \"02:00:01:%02x:%02x:%02x\","
	" \"mem\": \"64M\", \"output\": \"/dev/null\"}";

struct demo {
	bool tty, json, host_port;
	pid_t ping;
	unsigned ticks;
	struct row *rows;                  /* one per guest, for the table (room for nrows) */
	unsigned nrows;
};

/* A guest's line of the table. */
struct row {
	struct guest *g;
	double txp, rxp, txb, rxb;
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

/* Busier (more packets per second, sent and received) first; then by slot. */
static int busier(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	double ex = x->txp + x->rxp, ey = y->txp + y->rxp;
	if (ex != ey)
		return ex < ey ? 1 : -1;
	return (x->g->slot > y->g->slot) - (x->g->slot < y->g->slot);
}

static void print_row(const char *name, const char *io, unsigned queues, const struct row *r,
                      unsigned long long drops, const char *note)
{
	char v[4][16];
	si(v[0], r->txp);
	si(v[1], r->txb);
	si(v[2], r->rxp);
	si(v[3], r->rxb);
	printf("%-10s %-6s %-6u %10s %10s %10s %10s %10llu%s\n", name, io, queues, v[0], v[1], v[2], v[3], drops, note);
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
	/* every guest's rates, for the rows and the line of all of them */
	unsigned n = 0, ended = 0, queues = 0;
	struct row all = {0};
	unsigned long long drops = 0;
	DAEMON_FOR_EACH_GUEST(d, g) {
		if (g->state == GUEST_FREE)
			continue;
		if (n == demo->nrows) {
			unsigned more = demo->nrows ? 2 * demo->nrows : 64;
			struct row *r = realloc(demo->rows, more * sizeof(*r));
			if (!r)
				break;   /* the table shows those it has room for */
			demo->rows = r;
			demo->nrows = more;
		}
		struct row *r = &demo->rows[n++];
		r->g = g;
		rates(d, g, &r->txp, &r->rxp, &r->txb, &r->rxb);
		all.txp += r->txp;
		all.rxp += r->rxp;
		all.txb += r->txb;
		all.rxb += r->rxb;
		drops += g->last.rx_dropped;
		queues += g->nqueues;
		ended += g->state == GUEST_EXITED;
	}
	/* many guests: the busiest first, the rest in the line of all */
	if (n > DEMO_ROWS)
		qsort(demo->rows, n, sizeof(*demo->rows), busier);
	for (unsigned i = 0; i < n && i < DEMO_ROWS; i++) {
		const struct row *r = &demo->rows[i];
		print_row(r->g->cfg.name, io_names[r->g->cfg.io], r->g->nqueues, r, r->g->last.rx_dropped,
		          r->g->state == GUEST_EXITED ? "  (ended)" : "");
	}
	if (n > DEMO_ROWS) {
		char note[96];
		snprintf(note, sizeof(note), "  (%u guests: %u running, %u ended; the busiest %u shown)", n, n - ended,
		         ended, DEMO_ROWS);
		print_row("all", "", queues, &all, drops, note);
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
	DAEMON_FOR_EACH_GUEST(d, g) {
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
	DAEMON_FOR_EACH_GUEST(d, g) {
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
	unsigned long guests = DEMO_SET;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			demo.json = true;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc && parse_seconds(argv[i + 1], &seconds))
			i++;
		else if (!strcmp(argv[i], "--guest-dir") && i + 1 < argc)
			guest_dir = argv[++i];
		else if (!strcmp(argv[i], "--guests")) {
			char *end;
			if (i + 1 < argc)
				guests = strtoul(argv[i + 1], &end, 10);
			if (i + 1 == argc || !argv[i + 1][0] || *end || guests < DEMO_SET || guests > DAEMON_MAX_GUESTS)
				return usage_error("demo", "--guests needs a number of guests from %u to %u", DEMO_SET,
				                   (unsigned)DAEMON_MAX_GUESTS);
			i++;
		}
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: opsub demo [--seconds N] [--json] [--guests N] [--guest-dir DIR] [--log TARGET]\n"
			       "Runs pktgen -> l2fwd -> sink over the NIC's internal switch, and a responder\n"
			       "that the host pings through its own TAP port (" DEMO_TAP ", when /dev/net/tun\n"
			       "can be opened), and shows each guest's packet and bit rates every second.\n\n"
			       "options:\n"
			       "  --seconds N    stop after N seconds (default: run until Ctrl-C)\n"
			       "  --json         no live table; at the end, one JSON object with each\n"
			       "                 guest's counters and whether it moved packets\n"
			       "  --guests N     run N guests (at least 4): the four above and N - 4 idle\n"
			       "                 listeners (sink, a MAC each) sharing the NIC; the table\n"
			       "                 then shows the busiest 20 and a line for all of them\n"
			       "  --guest-dir DIR  the directory of pktgen, l2fwd, sink and responder\n"
			       "                 (default: the example guests of this opsub)\n"
			       "  --log TARGET   log every event to TARGET: a file, \"syslog\" or \"stderr\"\n"
			       "                 (default: only errors, on stderr)\n"
			       "Exits 1, naming it and saying why, if a guest ended before the demo did.\n");
			return 0;
		} else
			return usage_error("demo", "unknown argument %s", argv[i]);
	}
	char dir[PATH_MAX], host[128] = "", err[512];
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
	/* a queue pair per guest, and one for the host port */
	unsigned queues = (unsigned)guests + demo.host_port > DEMO_QUEUES ? (unsigned)guests + demo.host_port : DEMO_QUEUES;
	if (queues > NIC_MAX_QUEUES)
		queues = NIC_MAX_QUEUES;   /* the config says what does not fit */
	size_t extra_len = (guests - DEMO_SET) * (sizeof(extra_template) + strlen(dir) + 16) + 1;
	size_t text_len = sizeof(config_template) + sizeof(host) + 4 * strlen(dir) + 16 + extra_len;
	char *extra = malloc(extra_len), *text = malloc(text_len);
	if (!extra || !text) {
		fprintf(stderr, "opsub demo: out of memory for %lu guests\n", guests);
		return 1;
	}
	size_t used = 0;
	extra[0] = 0;
	for (unsigned i = 1; i <= guests - DEMO_SET; i++)
		used += (size_t)snprintf(extra + used, extra_len - used, extra_template, i, dir, (i >> 16) & 0xff,
		                         (i >> 8) & 0xff, i & 0xff);
	snprintf(text, text_len, config_template, queues, host, dir, dir, dir, dir, extra);
	free(extra);
	int bad = config_parse(text, &d.cfg, err, sizeof(err));
	free(text);
	if (bad) {
		fprintf(stderr, "opsub demo: %s%s\n", err, strstr(err, "program") ? " (build the guests with make)" : "");
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
	guests_free(&d);
	free(demo.rows);
	return rc;
}
