/*
 * The requests that start migrations, snapshots and restores (migrate.h):
 * every field checked, the guest's descriptors duplicated for the job's
 * thread, the job started (migrate.c runs it to its end).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/migrate_job.h"
#include "util/json_keys.h"

/* The reply to a request without a client to take over (the job's end
 * is in the log). */
static json_t *started(void)
{
	return json_pack("{s:b, s:b}", "ok", 1, "started", 1);
}

static json_t *need_migration(const struct daemon *d, const char *cmd)
{
	if (!d->cfg.migration || !d->mig)
		return control_error("%s needs \"migration\": {\"key_file\": ...} in the daemon's config (docs/migration.md)", cmd);
	return NULL;
}

/* A guest a job may take as its source: running, in a mode that moves. */
static json_t *source_guest(struct daemon *d, const char *cmd, const char *name, struct guest **out)
{
	struct guest *g = name ? guest_find(d, name) : NULL;
	if (!name)
		return control_error("%s needs \"guest\": a guest's name", cmd);
	if (!g || g->state != GUEST_RUNNING)
		return control_error("no running guest named '%s'", name);
	if (g->cfg.io == OPSUB_IO_PASSTHROUGH)
		return control_error("guest '%s' is in passthrough mode: its NIC state lives in the device its own code programs, "
		             "which opsub cannot pause or move; %s works for opsub and paravirt guests", name, cmd);
	if (g->cfg.io == OPSUB_IO_EMULATED)
		return control_error("guest '%s' is in emulated mode, which does not support %s (opsub and paravirt guests do)",
		             name, cmd);
	if (g->cfg.root || g->cfg.nvolumes)
		return control_error("guest '%s' has a root image or volumes: host files do not move with a guest, so it "
		                     "cannot %s (guests with only their in-memory /tmp can, while they have no file open)",
		                     name, cmd);
	if (g->migrating)
		return control_error("guest '%s' is being migrated or snapshotted already", name);
	if (g->move.active || g->nretiring)
		return control_error("guest '%s' is moving between queues (the pool and a dedicated one); try again in a "
		                     "moment", name);
	*out = g;
	return NULL;
}

static int dup_guest(struct mig_job *j, struct guest *g)
{
	struct daemon *d = j->d;
	j->slot = g->slot;
	/* the device of its queues (all on one: it is not moving), and their
	 * numbers there */
	j->nic = queue_ref(d, g->queue[0]).nic;
	j->mem_size = g->cfg.mem;
	j->cpu_rows = g->cpu_rows;
	j->window = guest_mem_window(g);
	j->nqueues = g->nqueues;
	for (unsigned i = 0; i < g->nqueues; i++)
		j->queue[i] = (uint16_t)queue_ref(d, g->queue[i]).q;
	j->vhost = g->vhost;
	j->cfg = g->cfg;
	for (unsigned i = 0; g->cfg.argv[i]; i++)
		j->cfg.argv[i] = strdup(g->cfg.argv[i]);
	j->cfg.output = NULL;
	j->cfg.root = g->cfg.root ? strdup(g->cfg.root) : NULL;   /* owned, as the guest's (not sent) */
	for (unsigned i = 0; i < g->cfg.nvolumes; i++)
		j->cfg.volume[i] = strdup(g->cfg.volume[i]);
	j->mem_fd = fcntl(g->mem_fd, F_DUPFD_CLOEXEC, 3);
	j->link_sock = fcntl(g->link_sock, F_DUPFD_CLOEXEC, 3);
	j->pid = g->pid;
	j->pidfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
	return j->mem_fd < 0 || j->link_sock < 0 || j->pidfd < 0 ? -1 : 0;
}

/* An absolute path, as the requests take (the daemon's working directory
 * is not the client's). */
static bool absolute(const char *p)
{
	return p && p[0] == '/' && strlen(p) < 4096;
}

json_t *migrate_request(struct daemon *d, json_t *req, int client_fd)
{
	static const char *const keys[] = {"cmd", "guest", "to", NULL};
	const char *unknown = json_unknown_key(req, keys);
	if (unknown)
		return control_error("migrate: unknown field '%s' (use guest, to)", unknown);
	json_t *e = need_migration(d, "migrate");
	struct guest *g = NULL;
	const char *to = json_string_value(json_object_get(req, "to"));
	if (e || (e = source_guest(d, "migrate", json_string_value(json_object_get(req, "guest")), &g)))
		return e;
	if (!to || !*to || strlen(to) > 300)
		return control_error("migrate needs \"to\": the destination daemon's HOST:PORT");
	struct mig_job *j = mig_job_new(d, JOB_SEND, client_fd);
	if (!j)
		return control_error("cannot start the migration: out of memory");
	snprintf(j->target, sizeof(j->target), "%s", to);
	snprintf(j->what, sizeof(j->what), "migration of guest '%s' to %s", g->cfg.name, to);
	if (dup_guest(j, g)) {
		mig_job_free(d, j);
		return control_error("cannot start the migration: %s", strerror(errno));
	}
	g->migrating = j;
	log_event("%s: starting (%llu MiB of memory, io %s)", j->what, (unsigned long long)(g->cfg.mem >> 20),
	          g->cfg.io == OPSUB_IO_PARAVIRT ? "paravirt" : "opsub");
	if (mig_job_start(d, j)) {
		g->migrating = NULL;
		return control_error("cannot start the migration's thread");
	}
	return client_fd >= 0 ? NULL : started();
}

json_t *snapshot_request(struct daemon *d, json_t *req, int client_fd)
{
	static const char *const keys[] = {"cmd", "guest", "file", "stop", NULL};
	const char *unknown = json_unknown_key(req, keys);
	if (unknown)
		return control_error("snapshot: unknown field '%s' (use guest, file, stop)", unknown);
	json_t *e = need_migration(d, "snapshot"), *stop = json_object_get(req, "stop");
	struct guest *g = NULL;
	const char *file = json_string_value(json_object_get(req, "file"));
	if (e || (e = source_guest(d, "snapshot", json_string_value(json_object_get(req, "guest")), &g)))
		return e;
	if (!absolute(file))
		return control_error("snapshot needs \"file\": an absolute path for the new snapshot file");
	if (stop && !json_is_boolean(stop))
		return control_error("snapshot: \"stop\" must be true or false");
	/* a new file only (the daemon may run as root): never one that exists */
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return control_error("snapshot: cannot create %s: %s%s", file, strerror(errno),
		             errno == EEXIST ? " (a snapshot is always a new file)" : "");
	struct mig_job *j = mig_job_new(d, JOB_SNAPSHOT, client_fd);
	if (!j) {
		close(fd);
		unlink(file);
		return control_error("cannot start the snapshot: out of memory");
	}
	j->out_fd = fd;
	j->stop_after = json_is_true(stop);
	snprintf(j->target, sizeof(j->target), "%s", file);
	snprintf(j->what, sizeof(j->what), "snapshot of guest '%s' to %s", g->cfg.name, file);
	if (dup_guest(j, g)) {
		mig_job_free(d, j);
		unlink(file);
		return control_error("cannot start the snapshot: %s", strerror(errno));
	}
	g->migrating = j;
	if (mig_job_start(d, j)) {
		g->migrating = NULL;
		unlink(file);
		return control_error("cannot start the snapshot's thread");
	}
	return client_fd >= 0 ? NULL : started();
}

json_t *restore_request(struct daemon *d, json_t *req, int client_fd)
{
	static const char *const keys[] = {"cmd", "file", "name", NULL};
	const char *unknown = json_unknown_key(req, keys);
	if (unknown)
		return control_error("restore: unknown field '%s' (use file, name)", unknown);
	json_t *e = need_migration(d, "restore"), *name = json_object_get(req, "name");
	if (e)
		return e;
	const char *file = json_string_value(json_object_get(req, "file"));
	if (!absolute(file))
		return control_error("restore needs \"file\": the absolute path of a snapshot file");
	const char *n = json_string_value(name);
	if (name && (!n || !*n || strlen(n) >= GUEST_NAME_MAX ||
	             strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(n)))
		return control_error("restore: \"name\" must be 1 to %d letters, digits, '.', '_' or '-'", GUEST_NAME_MAX - 1);
	if (mig_incoming_jobs(d->mig) >= MIG_MAX_INCOMING)
		return control_error("restore: %u incoming migrations and restores run already; try again", MIG_MAX_INCOMING);
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int e2 = errno;
		if (fd >= 0)
			close(fd);
		return control_error("restore: cannot read %s: %s", file, fd < 0 ? strerror(e2) : "not a regular file");
	}
	fcntl(fd, F_SETFL, 0);
	struct mig_job *j = mig_job_new(d, JOB_RESTORE, client_fd);
	if (!j) {
		close(fd);
		return control_error("cannot start the restore: out of memory");
	}
	j->conn_fd = fd;
	if (n)
		snprintf(j->rename, sizeof(j->rename), "%s", n);
	snprintf(j->target, sizeof(j->target), "%s", file);
	snprintf(j->what, sizeof(j->what), "restore from %s", file);
	if (mig_job_start(d, j))
		return control_error("cannot start the restore's thread");
	return client_fd >= 0 ? NULL : started();
}
