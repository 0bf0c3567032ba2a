/* The metrics endpoint: libmicrohttpd on its own thread (metrics.h). */
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon.h"
#include "daemon/metrics_snapshot.h"

#define SNAPSHOT_WAIT_MS   1000   /* then a scrape answers the last snapshot */
#define MAX_CONNECTIONS    16
#define CONNECTION_TIMEOUT 10     /* seconds a connection may stay idle */
#define CONTENT_TYPE       "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct MHD_Daemon *http;
	pthread_mutex_t lock;
	pthread_cond_t taken;
	bool wanted;                      /* a scrape waits for a snapshot */
	uint64_t generation;              /* snapshots taken */
	struct metrics_snapshot snapshot; /* the last one, under lock */
	struct metrics_snapshot scratch;  /* built by the main loop, outside the lock */
};

/* The snapshot for a scrape: a fresh one from the main loop, or the last
 * one if the main loop has not answered within SNAPSHOT_WAIT_MS. */
static struct metrics_snapshot *snapshot_copy(struct metrics *m)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SNAPSHOT_WAIT_MS / 1000;
	pthread_mutex_lock(&m->lock);
	uint64_t want = m->generation + 1;
	__atomic_store_n(&m->wanted, true, __ATOMIC_RELEASE);
	while (m->generation < want && pthread_cond_timedwait(&m->taken, &m->lock, &until) != ETIMEDOUT)
		continue;
	int rc = metrics_snapshot_copy(s, &m->snapshot);
	pthread_mutex_unlock(&m->lock);
	if (rc) {
		metrics_snapshot_free(s);
		free(s);
		return NULL;
	}
	return s;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
                              size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result plain(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return answer(conn, status, "text/plain; charset=utf-8", strdup(text), strlen(text));
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	struct metrics *m = cls;
	if (!*state) {   /* the headers only: come back for the body */
		*state = m;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;   /* a body is not expected: ignored */
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics is served here\n");
	if (strcmp(url, "/metrics"))
		return plain(conn, MHD_HTTP_NOT_FOUND, "opsub: the metrics are at /metrics\n");
	struct metrics_snapshot *s = snapshot_copy(m);
	char *text = NULL;
	size_t len = 0;
	FILE *out = s ? open_memstream(&text, &len) : NULL;
	if (out) {
		metrics_snapshot_render(s, out);
		fclose(out);
	}
	if (s)
		metrics_snapshot_free(s);
	free(s);
	if (!text)
		return plain(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "opsub: out of memory\n");
	return answer(conn, MHD_HTTP_OK, CONTENT_TYPE, text, len);
}

struct metrics *metrics_start(struct daemon *d, const char *listen, char *err, size_t errlen)
{
	uint32_t addr;
	uint16_t port;
	if (!metrics_parse_listen(listen, &addr, &port, err, errlen))
		return NULL;
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->taken, NULL);
	metrics_snapshot_take(d, &m->snapshot);   /* something to answer from the start */
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = addr};
	errno = 0;
	/* epoll or poll, never select: a daemon of a thousand guests holds
	 * descriptors far above FD_SETSIZE */
	m->http = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL, serve, m,
	                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
	                           (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	                           (unsigned)CONNECTION_TIMEOUT, MHD_OPTION_END);
	if (!m->http) {
		snprintf(err, errlen, "metrics: cannot listen on %s: %s (is the port taken? change \"metrics\")", listen,
		         errno ? strerror(errno) : "libmicrohttpd refused (its reason is in the log above)");
		pthread_cond_destroy(&m->taken);
		pthread_mutex_destroy(&m->lock);
		metrics_snapshot_free(&m->snapshot);
		free(m);
		return NULL;
	}
	return m;
}

void metrics_poll(struct metrics *m, struct daemon *d)
{
	if (!m || !__atomic_load_n(&m->wanted, __ATOMIC_ACQUIRE))
		return;
	metrics_snapshot_take(d, &m->scratch);
	pthread_mutex_lock(&m->lock);
	struct metrics_snapshot last = m->snapshot;   /* its guest array is the next scratch's */
	m->snapshot = m->scratch;
	m->scratch = last;
	m->generation++;
	m->wanted = false;
	pthread_cond_broadcast(&m->taken);
	pthread_mutex_unlock(&m->lock);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->http);
	pthread_cond_destroy(&m->taken);
	pthread_mutex_destroy(&m->lock);
	metrics_snapshot_free(&m->snapshot);
	metrics_snapshot_free(&m->scratch);
	free(m);
}

char *metrics_render_now(struct daemon *d)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	char *text = NULL;
	size_t len = 0;
	FILE *out = s ? open_memstream(&text, &len) : NULL;
	if (out) {
		metrics_snapshot_take(d, s);
		metrics_snapshot_render(s, out);
		fclose(out);
	}
	if (s)
		metrics_snapshot_free(s);
	free(s);
	return text;
}
