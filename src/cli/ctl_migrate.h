/*
 * ctl_migrate.h: the words of `opsub ctl migrate|snapshot|restore` made
 * into requests (docs/migration.md, daemon/migrate.h):
 *
 *   migrate NAME HOST:PORT       {"cmd":"migrate","guest":NAME,"to":"HOST:PORT"}
 *   snapshot NAME FILE [--stop]  {"cmd":"snapshot","guest":NAME,"file":ABSOLUTE-FILE[,"stop":true]}
 *   restore FILE [NAME]          {"cmd":"restore","file":ABSOLUTE-FILE[,"name":NAME]}
 *
 * A relative FILE is made absolute against the client's working directory
 * (the daemon's is another).  The daemon answers these with progress lines
 * ({"progress":"..."}) before the reply object.
 */
#ifndef OPSUB_CLI_CTL_MIGRATE_H
#define OPSUB_CLI_CTL_MIGRATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether cmd is one of these requests. */
bool ctl_is_migration(const char *cmd);
/* Fills request r (which has "cmd") from argv[1..argc); 0, or -1 with a
 * one-line reason. */
int ctl_migrate_request(json_t *r, int argc, char **argv, char *err, size_t errlen);

#endif
