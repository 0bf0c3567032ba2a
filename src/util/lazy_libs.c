#include "util/lazy_libs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct lazy_lib {
	const char *soname, *package;
	void *handle;                   /* set once, by whichever thread gets there first */
};

static struct lazy_lib pcap_lib = {"libpcap.so.0.8", "libpcap0.8", NULL};
static struct lazy_lib http_lib = {"libmicrohttpd.so.12", "libmicrohttpd12", NULL};
static struct lazy_lib archive_lib = {"libarchive.so.13", "libarchive13", NULL};

static void *lib_open(struct lazy_lib *l, char *err, size_t errlen)
{
	void *h = __atomic_load_n(&l->handle, __ATOMIC_ACQUIRE);
	if (h)
		return h;
	h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);   /* reference-counted: a racing second open is harmless */
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s (install the Debian package %s)", l->soname, dlerror(),
		         l->package);
		return NULL;
	}
	__atomic_store_n(&l->handle, h, __ATOMIC_RELEASE);
	return h;
}

static void *lib_symbol(struct lazy_lib *l, const char *name)
{
	char err[512];
	void *h = lib_open(l, err, sizeof(err)), *f = h ? dlsym(h, name) : NULL;
	if (!f) {
		if (h)
			snprintf(err, sizeof(err), "%s has no %s (reinstall the Debian package %s)", l->soname, name,
			         l->package);
		fprintf(stderr, "opsub: %s\n", err);
		exit(1);
	}
	return f;
}

int lazy_libs_open_all(char *err, size_t errlen)
{
	return lib_open(&pcap_lib, err, errlen) && lib_open(&http_lib, err, errlen) &&
	       lib_open(&archive_lib, err, errlen) ? 0 : -1;
}

/* The real function, looked up on the first call. */
#define REAL(lib, name)                                                                  \
	static typeof(&name) real;                                                       \
	typeof(&name) f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                      \
	if (!f) {                                                                        \
		f = (typeof(&name))lib_symbol(&lib, #name);                              \
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);                            \
	}

/* ret name(params) { return real(args); }; the compiler checks params and
 * ret against the library's own header. */
#define LAZY(lib, ret, name, params, args) \
	ret name params                     \
	{                                   \
		REAL(lib, name)             \
		return f args;              \
	}
#define LAZY_VOID(lib, name, params, args) \
	void name params                    \
	{                                   \
		REAL(lib, name)             \
		f args;                     \
	}

LAZY_VOID(pcap_lib, pcap_close, (pcap_t *p), (p))
LAZY(pcap_lib, int, pcap_datalink, (pcap_t *p), (p))
LAZY(pcap_lib, const char *, pcap_datalink_val_to_name, (int dlt), (dlt))
LAZY_VOID(pcap_lib, pcap_dump, (u_char *user, const struct pcap_pkthdr *h, const u_char *sp), (user, h, sp))
LAZY_VOID(pcap_lib, pcap_dump_close, (pcap_dumper_t *d), (d))
LAZY(pcap_lib, int, pcap_dump_flush, (pcap_dumper_t *d), (d))
LAZY(pcap_lib, pcap_dumper_t *, pcap_dump_fopen, (pcap_t *p, FILE *fp), (p, fp))
LAZY(pcap_lib, pcap_dumper_t *, pcap_dump_open, (pcap_t *p, const char *path), (p, path))
LAZY(pcap_lib, char *, pcap_geterr, (pcap_t *p), (p))
LAZY(pcap_lib, int, pcap_next_ex, (pcap_t *p, struct pcap_pkthdr **h, const u_char **data), (p, h, data))
LAZY(pcap_lib, pcap_t *, pcap_open_dead, (int linktype, int snaplen), (linktype, snaplen))
LAZY(pcap_lib, pcap_t *, pcap_open_offline, (const char *path, char *errbuf), (path, errbuf))

LAZY(http_lib, enum MHD_Result, MHD_add_response_header, (struct MHD_Response *r, const char *h, const char *c),
     (r, h, c))
LAZY(http_lib, struct MHD_Response *, MHD_create_response_from_buffer,
     (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))
LAZY_VOID(http_lib, MHD_destroy_response, (struct MHD_Response *r), (r))
LAZY(http_lib, enum MHD_Result, MHD_queue_response, (struct MHD_Connection *c, unsigned int status,
     struct MHD_Response *r), (c, status, r))
LAZY_VOID(http_lib, MHD_stop_daemon, (struct MHD_Daemon *d), (d))
LAZY(http_lib, struct MHD_Daemon *, MHD_start_daemon_va, (unsigned int flags, uint16_t port,
     MHD_AcceptPolicyCallback apc, void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),
     (flags, port, apc, apc_cls, dh, dh_cls, ap))

/* Variadic: its options go on to the va_list form. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

LAZY(archive_lib, struct archive *, archive_read_new, (void), ())
LAZY(archive_lib, int, archive_read_free, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_open_fd, (struct archive *a, int fd, size_t block), (a, fd, block))
LAZY(archive_lib, int, archive_read_next_header, (struct archive *a, struct archive_entry **e), (a, e))
LAZY(archive_lib, la_ssize_t, archive_read_data, (struct archive *a, void *buf, size_t len), (a, buf, len))
LAZY(archive_lib, const char *, archive_error_string, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_bzip2, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_compress, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_gzip, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_lz4, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_lzip, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_lzma, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_xz, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_filter_zstd, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_format_7zip, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_format_cpio, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_format_empty, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_format_iso9660, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_format_tar, (struct archive *a), (a))
LAZY(archive_lib, int, archive_read_support_format_zip, (struct archive *a), (a))
LAZY(archive_lib, __LA_MODE_T, archive_entry_filetype, (struct archive_entry *e), (e))
LAZY(archive_lib, __LA_MODE_T, archive_entry_perm, (struct archive_entry *e), (e))
LAZY(archive_lib, const char *, archive_entry_pathname, (struct archive_entry *e), (e))
LAZY(archive_lib, const char *, archive_entry_hardlink, (struct archive_entry *e), (e))
LAZY(archive_lib, const char *, archive_entry_symlink, (struct archive_entry *e), (e))
LAZY(archive_lib, la_int64_t, archive_entry_size, (struct archive_entry *e), (e))
LAZY(archive_lib, int, archive_entry_size_is_set, (struct archive_entry *e), (e))
LAZY(archive_lib, time_t, archive_entry_mtime, (struct archive_entry *e), (e))
LAZY(archive_lib, long, archive_entry_mtime_nsec, (struct archive_entry *e), (e))
LAZY(archive_lib, int, archive_entry_mtime_is_set, (struct archive_entry *e), (e))
