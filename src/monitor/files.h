/*
 * What files.c (calls on descriptors) and paths.c (calls on paths) share:
 * the stat of a node or a description in the guest's view, and whether a
 * description is a directory.
 */
#ifndef OPSUB_MONITOR_FILES_H
#define OPSUB_MONITOR_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/memfs.h"
#include "monitor/fdtab.h"
#include "monitor/monitor.h"

bool is_dir_of(const struct ofile *of);
void stat_node(const struct mnode *n, struct stat *st);
/* 0 or -errno */
int stat_of(const struct ofile *of, struct stat *st);
/* Writes st to the guest at addr when r is 0; returns r, or -EFAULT. */
int put_stat(struct monitor *m, uint64_t addr, int r, const struct stat *st);
/* statfs for the in-memory tree (volume: read-only). */
int64_t put_statfs(struct monitor *m, uint64_t addr, bool volume);

#endif
