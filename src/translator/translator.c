/* The translator's public entry points (translator.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translator/cache.h"

static void on_code_write(uint64_t page_addr, void *arg)
{
	tr_invalidate_page(arg, page_addr);
}

int tr_init(struct translator *t, struct guest_mem *gm, struct rt_ctx *ctx, uint64_t *ibl,
            const struct tr_config *cfg, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->gm = gm;
	t->ctx = ctx;
	t->ibl = ibl;
	t->verify = cfg->verify;
	t->measure = cfg->measure;
	if (tr_cache_init(t, cfg->cache_size ? cfg->cache_size : TR_CACHE_DEFAULT, err, errlen))
		return -1;
	gm->on_code_write = on_code_write;
	gm->on_code_write_arg = t;
	return 0;
}

void tr_destroy(struct translator *t)
{
	if (t->gm)
		t->gm->on_code_write = NULL;
	tr_cache_destroy(t);
	free(t->fetched);
}

/* Translation is trusted to pass the verifier; when it does not, running
 * the guest on would be unsafe, so this guest ends here. */
static uint32_t build_or_die(struct translator *t, uint64_t pc)
{
	char err[256];
	uint32_t id = tr_build(t, pc, err, sizeof(err));
	if (!id) {
		fprintf(stderr, "opsub: internal error: translation of guest code at 0x%lx rejected: %s\n",
		        pc, err);
		abort();
	}
	return id;
}

static uint32_t block_at(struct translator *t, uint64_t pc)
{
	uint32_t id = tr_find(t, pc);
	return id ? id : build_or_die(t, pc);
}

uint64_t tr_entry(struct translator *t, uint64_t pc)
{
	uint32_t id = block_at(t, pc);   /* may grow t->blocks */
	return (uint64_t)(uintptr_t)(t->rx + t->blocks[id].entry);
}

uint64_t tr_take_branch(struct translator *t, uint32_t exit_id)
{
	uint64_t target = t->exits[exit_id].target;
	uint64_t flushes = t->stats.flushes;
	uint32_t id = block_at(t, target);
	/* A flush while translating forgot the exit: nothing to link then. */
	if (t->stats.flushes == flushes && t->exits[exit_id].kind == EXITK_HYPERCALL)
		tr_link_resume(t, exit_id, id);
	else if (t->stats.flushes == flushes)
		tr_link(t, exit_id, id);
	return (uint64_t)(uintptr_t)(t->rx + t->blocks[id].entry);
}

uint64_t tr_take_switch(struct translator *t, uint32_t exit_id, unsigned index, uint64_t target)
{
	uint64_t flushes = t->stats.flushes;
	uint32_t id = block_at(t, target);
	if (t->stats.flushes == flushes)
		tr_link_switch(t, exit_id, index, id);
	return (uint64_t)(uintptr_t)(t->rx + t->blocks[id].entry);
}

uint64_t tr_indirect(struct translator *t, uint64_t target)
{
	t->stats.ibl_misses++;
	uint32_t id = block_at(t, target);
	tr_ibl_insert(t, id);
	return (uint64_t)(uintptr_t)(t->rx + t->blocks[id].entry);
}

uint32_t tr_translate_only(struct translator *t, uint64_t pc, char *err, size_t errlen)
{
	return tr_build(t, pc, err, errlen);
}
