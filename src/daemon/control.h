/*
 * The control API: a Unix stream socket on which each connection carries
 * one JSON request line and gets one JSON reply line (docs/daemon.md,
 * "Control API").
 *
 * The socket (control_socket.c)
 *
 *   Ownership.  A path is held through a lock file next to it (PATH.lock,
 *   an open-file-description lock, with the holder's pid written in it).
 *   control_open refuses a path that another process holds (naming it), a
 *   path at which some other program listens (naming it too), and a path
 *   that exists but is not a socket: it never removes anything but a stale
 *   socket (one nobody listens on, left by a process that was killed).
 *
 *   Service.  Every connection is non-blocking and has its own state, so a
 *   slow or idle client delays nobody: control_serve does whatever can be
 *   done now on every connection and returns.  The caller polls one
 *   descriptor, control_fd(), that becomes readable whenever there is work:
 *   a new connection, data, room to write a reply, or a deadline passed.
 *   A request ends at a newline, at the client's end of stream, or after
 *   CONTROL_QUIET_MS without more data; past CONTROL_MAX_REQUEST bytes it
 *   is answered "request too long".  A connection that has not sent a whole
 *   request within CONTROL_REQUEST_MS, or not read its reply within that
 *   time, is answered (where it can be) and closed.  At most
 *   CONTROL_MAX_CLIENTS connections are served at a time; one more is told
 *   so in an error reply and closed at once.
 *
 * The requests (control.c): control_handle checks and carries out one
 * request; a bad one gets {"ok":false,"error":"..."} and changes nothing.
 */
#ifndef OPSUB_DAEMON_CONTROL_H
#define OPSUB_DAEMON_CONTROL_H

#include <stddef.h>

#define CONTROL_MAX_REQUEST 65536      /* bytes of one request line, newline excluded */
#define CONTROL_MAX_CLIENTS 32         /* connections served at the same time */
#define CONTROL_REQUEST_MS  10000      /* to send a whole request, and to read the reply */
#define CONTROL_QUIET_MS    200        /* data, then this long without more, ends a request */

struct daemon;
struct control;

/* Takes the control socket at path (see "Ownership" above).  NULL, with a
 * one-line reason, when the path is held, in use, or not a socket. */
struct control *control_open(const char *path, char *err, size_t errlen);
/* The one descriptor to poll for POLLIN. */
int control_fd(const struct control *c);
/* Serves every connection as far as it can without waiting. */
void control_serve(struct control *c, struct daemon *d);
/* Closes every connection, removes the socket and the lock file. NULL is ok. */
void control_close(struct control *c);

/* The control socket a daemon without "control" takes, and that opsub ctl
 * talks to without --socket: $OPSUB_SOCKET, else /run/opsub/opsub.sock for
 * root (control_open makes /run/opsub if missing), else
 * $XDG_RUNTIME_DIR/opsub.sock, else /tmp/opsub-UID.sock: never a name
 * another user could take first.  malloc'ed (NULL: out of memory). */
#define CONTROL_ROOT_DIR "/run/opsub"
char *control_default_path(void);

/* A control socket path of this process's own, for the set-ups that are not
 * configured by the operator (opsub demo, opsub run --net), so that they
 * never take a daemon's socket: $XDG_RUNTIME_DIR/opsub-WHAT-PID.sock, or
 * /tmp/opsub-WHAT-PID.sock without it.  malloc'ed. */
char *control_private_path(const char *what);

/* The reply to one request of len bytes (a malloc'ed JSON line without the
 * newline); never NULL. */
char *control_handle(struct daemon *d, const char *request, size_t len);
/* The same from a client connected on client_fd: NULL when a migration,
 * snapshot or restore job took the connection over (it has a duplicate
 * and writes progress lines and the reply itself; the caller closes its
 * own descriptor). */
char *control_handle_client(struct daemon *d, const char *request, size_t len, int client_fd);

/* The reply that refuses a request: {"ok":false,"error":MESSAGE}, the
 * message cut to whole UTF-8 characters within 511 bytes.  For every
 * request's handler (control.c, capture.c, migrate_request.c). */
struct json_t;
struct json_t *control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
