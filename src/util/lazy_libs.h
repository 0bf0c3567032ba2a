/* The libraries only some commands need, opened on first use.
 *
 * libpcap (capture, pcap wires), libmicrohttpd (the metrics endpoint) and
 * libarchive (guest root images) bring about 28 more shared objects with
 * them (GnuTLS, ICU, libxml2, libsystemd...).  Linked the usual way, every
 * opsub process maps and relocates them all at start, each guest process
 * too (the daemon execs one per guest): about 460 page faults and 12 ms
 * of a 23 ms start on a host whose page faults cost 10 us each.
 *
 * opsub's code calls their functions by their own names, as declared by
 * their headers; lazy_libs.c defines each function opsub uses, and the
 * definition opens the library (dlopen) on the first call of any of its
 * functions and jumps to the real one.  A library that cannot be opened
 * ends the process with one line naming the library and its Debian
 * package: opsub's own package depends on all three, so that happens only
 * on a broken installation. */
#ifndef OPSUB_UTIL_LAZY_LIBS_H
#define OPSUB_UTIL_LAZY_LIBS_H

#include <stddef.h>

/* Opens all three now: for the daemon, which should find a missing one at
 * start rather than in the middle of a request.  Returns 0, or -1 with a
 * one-line reason in err. */
int lazy_libs_open_all(char *err, size_t errlen);

#endif
