/* opsub run [options] PROGRAM [ARGS...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "fs/fs_options.h"
#include "monitor/monitor.h"
#include "util/parse.h"

extern char **environ;

static const char help_text[] =
	"usage: opsub run [options] PROGRAM [ARGS...]\n"
	"Runs an x86-64 Linux program under the translator: a static one (gcc, g++ or\n"
	"musl-gcc -static, PIE or not), or a dynamically linked one with --host-libs.\n"
	"Its stdin, stdout and stderr are yours; opsub exits with its status.\n\n"
	"options:\n"
	"  --mem SIZE          guest memory, 64M..4G (default 4G)\n"
	"  --stats             print translator statistics on stderr at the end\n"
	"  --trace-syscalls    print every guest system call on stderr\n"
	"  --seconds N         stop the guest after N seconds and exit 0\n"
	"  --no-verify         skip the verifier (for measuring its cost only)\n"
	"  --root DIR|ARCHIVE  the guest's root file system: a copy of DIR or of an\n"
	"                      archive (tar, cpio, zip, 7z, ISO 9660; gzip, xz, zstd, ...)\n"
	"                      made in memory at the start (default: empty, with /tmp\n"
	"                      and /dev)\n"
	"  --host-libs         show the host's library directories (/lib/x86_64-linux-gnu,\n"
	"                      /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, and musl's\n"
	"                      /usr/lib/x86_64-linux-musl), glibc's locales\n"
	"                      (/usr/lib/locale) and Debian's /etc/alternatives\n"
	"                      read-only at the same paths: what a dynamically linked\n"
	"                      program needs\n"
	"  --volume HOSTDIR:GUESTDIR[:ro]\n"
	"                      show HOSTDIR read-only at GUESTDIR (repeatable, up to 16)\n"
	"  --tmp-size SIZE     what the guest may write to its file system, 1M..16G\n"
	"                      (default 64M); it stays in memory and goes at the end\n"
	"  --net WIRE          give the guest a port of an embedded NIC on WIRE:\n"
	"                      null, null:SIZE[,DST[,SRC]], loop, pcap:IN,OUT, tap:IFNAME\n"
	"  --io MODE           I/O mode with --net: opsub (default), passthrough,\n"
	"                      paravirt, emulated\n"
	"  --mac MAC           the port's MAC with --net (default 02:00:00:00:00:01)\n";

static const char *const io_names[] = {"opsub", "passthrough", "paravirt", "emulated"};

/* The file-system options' text: o->fs borrows from here, and run --net
 * passes the volumes on as given. */
struct fs_args {
	const char *volume[FS_MAX_VOLUMES];
	char buf[FS_MAX_VOLUMES][FS_VOLUME_BUF];
};

/* The one-guest shortcut: a daemon with an embedded NIC and this guest,
 * which owns the port (promiscuous), until it ends or --seconds. */
static int run_net(const struct monitor_opts *o, const struct fs_args *fa, const char *wire,
                   enum opsub_net_mode io, const uint8_t mac[6], char **argv)
{
	static struct daemon d;
	config_defaults(&d.cfg);
	d.cfg.wire = strdup(wire);
	d.cfg.nic.wire = d.cfg.wire;
	d.cfg.nic.num_queues = 4;
	d.cfg.seconds = o->seconds;
	d.cfg.exit_with_guests = true;
	d.cfg.control = control_private_path("run");   /* never a daemon's socket */
	struct guest_config *g = config_guest_append(&d.cfg);
	if (!g) {
		fprintf(stderr, "opsub: out of memory\n");
		return 1;
	}
	snprintf(g->name, sizeof(g->name), "guest");
	for (int i = 0; argv[i] && i < GUEST_MAX_ARGS + 1; i++)
		g->argv[i] = strdup(argv[i]);
	g->mem = o->mem_size;
	memcpy(g->mac, mac, 6);
	g->queues = 1;
	g->weight = 1;
	g->io = io;
	g->promiscuous = true;
	g->stats = o->stats;
	g->trace_syscalls = o->trace_syscalls;
	g->no_verify = o->no_verify;
	/* the file system as given: the guest process checks it again */
	g->root = o->fs.root ? strdup(o->fs.root) : NULL;
	for (unsigned v = 0; v < o->fs.nvolumes; v++)
		g->volume[v] = strdup(fa->volume[v]);
	g->nvolumes = o->fs.nvolumes;
	g->tmp_size = o->fs.tmp_size;
	/* the guest is the foreground program: its stdio is opsub's, unlabelled,
	 * and its exit status is opsub's; the log says only what goes wrong
	 * around it (a guest killed by a signal, a wire that dropped frames) */
	g->share_stdio = true;
	d.cfg.log_level = LOG_LEVEL_WARNING;
	int rc = daemon_run(&d, NULL, 0, NULL);
	config_free(&d.cfg);
	guests_free(&d);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct monitor_opts o = {.mem_size = GUEST_MEM_DEFAULT, .mem_fd = -1};
	const char *net = NULL;
	enum opsub_net_mode io = OPSUB_IO_OPSUB;
	uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	static struct fs_args fa;   /* o.fs borrows from it until the guest ends */
	char why[512];
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(help_text, stdout);
			return 0;
		} else if (!strcmp(a, "--stats")) {
			o.stats = true;
		} else if (!strcmp(a, "--trace-syscalls")) {
			o.trace_syscalls = true;
		} else if (!strcmp(a, "--no-verify")) {
			o.no_verify = true;
		} else if (!strcmp(a, "--mem")) {
			if (++i == argc || !parse_size(argv[i], &o.mem_size) || o.mem_size < GUEST_MEM_MIN ||
			    o.mem_size > GUEST_SPACE || o.mem_size % GUEST_PAGE)
				return usage_error("run", "--mem needs a size from 64M to 4G in whole pages, e.g. 512M");
		} else if (!strcmp(a, "--seconds")) {
			if (++i == argc || !parse_seconds(argv[i], &o.seconds))
				return usage_error("run", "--seconds needs a number of seconds, e.g. 5");
		} else if (!strcmp(a, "--net")) {
			char why[256];
			if (++i == argc)
				return usage_error("run", "--net needs a wire: null, loop, pcap:IN,OUT or tap:IFNAME");
			if (config_check_wire(argv[i], why, sizeof(why)))
				return usage_error("run", "--net: %s", why);
			net = argv[i];
		} else if (!strcmp(a, "--io")) {
			unsigned m = 0;
			if (++i < argc)
				while (m < 4 && strcmp(argv[i], io_names[m]))
					m++;
			if (i == argc || m == 4)
				return usage_error("run", "--io must be opsub, passthrough, paravirt or emulated");
			io = (enum opsub_net_mode)m;
		} else if (!strcmp(a, "--mac")) {
			if (++i == argc || !parse_mac(argv[i], mac) || !config_mac_ok(mac))
				return usage_error("run", "--mac needs a unicast MAC like 02:00:00:00:00:01");
		} else if (!strcmp(a, "--host-libs")) {
			if (fs_add_host_libs(&o.fs, fa.buf, fa.volume, why, sizeof(why)))
				return usage_error("run", "--host-libs: %s", why);
		} else if (fs_is_option(a)) {
			const char *val = ++i < argc ? argv[i] : NULL;
			if (fs_take_option(&o.fs, fa.buf, a, val, why, sizeof(why)))
				return usage_error("run", "%s", why);
			if (!strcmp(a, "--volume"))
				fa.volume[o.fs.nvolumes - 1] = val;   /* as given, for run --net */
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			return usage_error("run", "unknown option %s", a);
		}
	}
	if (i == argc)
		return usage_error("run", "no PROGRAM given");
	if (net)
		return run_net(&o, &fa, net, io, mac, argv + i);
	if (io != OPSUB_IO_OPSUB)
		return usage_error("run", "--io needs --net");
	return monitor_run(&o, argv[i], argv + i, environ);
}
