/*
 * Translator internals shared by cache.c (bookkeeping) and translate.c
 * (block building).  Not for other modules: they use translator.h.
 */
#ifndef OPSUB_TRANSLATOR_CACHE_H
#define OPSUB_TRANSLATOR_CACHE_H

#include "translator/translator.h"

int tr_cache_init(struct translator *t, size_t size, char *err, size_t errlen);
void tr_cache_destroy(struct translator *t);
/* Forgets every block, exit and IBL entry (a flush). */
void tr_cache_reset(struct translator *t);

uint32_t tr_new_block(struct translator *t);
uint32_t tr_new_exit(struct translator *t);
void tr_map_add(struct translator *t, uint16_t host_off, uint16_t guest_off);

/* Live block at pc, or 0. */
uint32_t tr_find(struct translator *t, uint64_t pc);
/* Makes a verified block reachable: pc hash, page watches. */
void tr_publish(struct translator *t, uint32_t id);
/* Patches a branch exit to jump straight to block `target`. */
void tr_link(struct translator *t, uint32_t exit_id, uint32_t target);
/* Points every entry of switch exit site's table at the site's stub. */
void tr_switch_fill(struct translator *t, uint32_t site);
/* Points entry index of switch exit site's table at block `target`. */
void tr_link_switch(struct translator *t, uint32_t site, unsigned index, uint32_t target);
/* Lets the fast gate resume a hypercall exit straight in block `target`. */
void tr_link_resume(struct translator *t, uint32_t exit_id, uint32_t target);
/* Makes block id reachable through the IBL table: first of its slot's
 * chain, which holds at most IBL_CHAIN_MAX blocks (cache.c). */
#define IBL_CHAIN_MAX 4
void tr_ibl_insert(struct translator *t, uint32_t id);

/* Builds, verifies and publishes the block at pc (translate.c); returns its
 * id, or 0 when the verifier rejected it (with the reason in err). */
uint32_t tr_build(struct translator *t, uint64_t pc, char *err, size_t errlen);

#endif
