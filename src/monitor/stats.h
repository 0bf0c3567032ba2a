/* --stats: what the translator and the gates did for one guest. */
#ifndef OPSUB_SANDBOX_STATS_H
#define OPSUB_SANDBOX_STATS_H

#include <stdio.h>

struct monitor;

void stats_print(const struct monitor *m, FILE *f);

#endif
