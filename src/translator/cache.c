/*
 * Code cache bookkeeping: the cache memory, blocks, the pc hash, exits and
 * their links, the IBL table, invalidation and flushing.  Block building is
 * in translate.c.
 */
#include "translator/cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gates/gate.h"

/* Slots of the pc hash at start, and buckets of the page hash.  The pc
 * hash doubles whenever it holds more blocks than half its slots, and a
 * probe reads slots in a row, most often one cache line: a compiler (cc1,
 * 128,000 blocks) spent 5-7% of its run in lookups when each step of a
 * chain loaded another block.  It starts small, so that a small guest
 * does not spread its few blocks over 512 KiB of slots (a program of 300
 * blocks: 160 KiB less resident). */
#define PC_HASH_SLOTS_START (1u << 12)
#define PAGE_HASH_BUCKETS (1u << 16)
#define PAGE_HASH_MASK (PAGE_HASH_BUCKETS - 1)

static void *grow(void *p, uint32_t *cap, size_t elem)
{
	uint32_t n = *cap ? *cap * 2 : 1024;
	void *q = realloc(p, (size_t)n * elem);
	if (!q) {
		fprintf(stderr, "opsub: out of memory for translator tables\n");
		abort();
	}
	*cap = n;
	return q;
}

/* Maps the cache twice: writable for the translator, executable near the
 * gates so that every jump between them fits a rel32. */
static int map_cache(struct translator *t, size_t size, char *err, size_t errlen)
{
	int fd = memfd_create("opsub-code-cache", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		snprintf(err, errlen, "cannot create the code cache: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint64_t gates = (uint64_t)(uintptr_t)gate_exit & ~0xfffffull;
	t->rx = MAP_FAILED;
	for (uint64_t step = 1; step < 64 && t->rw != MAP_FAILED; step++) {
		uint64_t hint = gates - step * (32ull << 20);
		void *p = mmap((void *)hint, size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE,
		               fd, 0);
		if (p != MAP_FAILED) {
			t->rx = p;
			break;
		}
	}
	close(fd);
	if (t->rw == MAP_FAILED || t->rx == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the code cache near opsub's gates");
		if (t->rw != MAP_FAILED)
			munmap(t->rw, size);
		return -1;
	}
	t->cache_size = size;
	return 0;
}

void tr_cache_destroy(struct translator *t)
{
	if (t->rx)
		munmap(t->rx, t->cache_size);
	if (t->rw)
		munmap(t->rw, t->cache_size);
	free(t->blocks);
	free(t->exits);
	if (gate_fast_table == t->fast_resume) {
		static uint64_t none;
		gate_fast_table = &none;
		gate_fast_mask = 0;
	}
	free(t->fast_resume);
	free(t->map);
	free(t->hash);
	free(t->page_hash);
	free(t->ibl_heads);
	free(t->prefs);
	memset(t, 0, sizeof(*t));
}

static void ibl_clear_all(uint64_t *ibl)
{
	for (unsigned i = 0; i < IBL_ENTRIES; i++)
		ibl[i] = (uint64_t)(uintptr_t)gate_ibl_miss;
}

/* All but the two hashes and the IBL slot heads, which tr_cache_init has
 * zeroed by calloc: their pages are then touched as blocks arrive, not all
 * at start (a page fault costs 10 us on some hosts). */
static void reset_all_but_hashes(struct translator *t)
{
	t->cache_used = t->reserved;
	t->nblocks = 1;
	t->nexits = EXIT_FIRST_STUB;
	t->nmap = 0;
	t->nprefs = 1;
	t->nswitch = 0;
	if (t->ibl)
		ibl_clear_all(t->ibl);
}

void tr_cache_reset(struct translator *t)
{
	memset(t->hash, 0, (size_t)(t->hash_mask + 1) * sizeof(struct pc_slot));
	memset(t->page_hash, 0, (size_t)(PAGE_HASH_MASK + 1) * sizeof(uint32_t));
	memset(t->ibl_heads, 0, IBL_ENTRIES * sizeof(uint32_t));
	t->nhashed = 0;
	reset_all_but_hashes(t);
}

int tr_cache_init(struct translator *t, size_t size, char *err, size_t errlen)
{
	if (map_cache(t, size, err, errlen))
		return -1;
	t->hash = calloc(PC_HASH_SLOTS_START, sizeof(struct pc_slot));
	t->page_hash = calloc(PAGE_HASH_BUCKETS, sizeof(uint32_t));
	t->ibl_heads = calloc(IBL_ENTRIES, sizeof(uint32_t));
	if (!t->hash || !t->page_hash || !t->ibl_heads) {
		snprintf(err, errlen, "out of memory for the block hash");
		return -1;
	}
	t->hash_mask = PC_HASH_SLOTS_START - 1;
	reset_all_but_hashes(t);
	return 0;
}

uint32_t tr_new_block(struct translator *t)
{
	if (t->nblocks >= t->blocks_cap)
		t->blocks = grow(t->blocks, &t->blocks_cap, sizeof(struct block));
	memset(&t->blocks[t->nblocks], 0, sizeof(struct block));
	return t->nblocks++;
}

uint32_t tr_new_exit(struct translator *t)
{
	if (t->nexits >= t->exits_cap) {
		uint32_t old = t->exits_cap, cap = old;
		t->exits = grow(t->exits, &t->exits_cap, sizeof(struct exit));
		/* the fast gate's table: as many entries as exits can have ids */
		t->fast_resume = grow(t->fast_resume, &cap, sizeof(uint64_t));
		memset(t->fast_resume + old, 0, (size_t)(cap - old) * sizeof(uint64_t));
		gate_fast_table = t->fast_resume;   /* cap: a power of two (grow) */
		gate_fast_mask = cap - 1;
	}
	memset(&t->exits[t->nexits], 0, sizeof(struct exit));
	t->fast_resume[t->nexits] = 0;
	return t->nexits++;
}

void tr_map_add(struct translator *t, uint16_t host_off, uint16_t guest_off)
{
	if (t->nmap >= t->map_cap)
		t->map = grow(t->map, &t->map_cap, sizeof(struct insn_map));
	t->map[t->nmap++] = (struct insn_map){host_off, guest_off};
}

/* The slot where a probe for a pc with this low half starts: the top bits
 * of a multiplicative hash, which spreads the runs of nearby pcs. */
static uint32_t home(const struct translator *t, uint32_t pc_lo)
{
	return (uint32_t)(pc_lo * 0x9e3779b1u) >> (32 - __builtin_ctz(t->hash_mask + 1));
}

uint32_t tr_find(struct translator *t, uint64_t pc)
{
	for (uint32_t i = home(t, (uint32_t)pc);; i = (i + 1) & t->hash_mask) {
		const struct pc_slot *s = &t->hash[i];
		if (!s->id)
			return 0;
		if (s->pc_lo == (uint32_t)pc && t->blocks[s->id].pc == pc)
			return s->id;
	}
}

static uint32_t *page_bucket(struct translator *t, uint64_t page)
{
	return &t->page_hash[(page ^ (page >> 12)) & PAGE_HASH_MASK];
}

/* Puts block id in the pc hash; a block already there for the same pc
 * (only tr_translate_only builds one twice) gives its slot to the newer.
 * Returns whether a slot was taken. */
static bool hash_insert(struct translator *t, uint32_t id)
{
	uint64_t pc = t->blocks[id].pc;
	uint32_t i = home(t, (uint32_t)pc);
	for (; t->hash[i].id; i = (i + 1) & t->hash_mask) {
		if (t->hash[i].pc_lo == (uint32_t)pc && t->blocks[t->hash[i].id].pc == pc) {
			t->hash[i].id = id;
			return false;
		}
	}
	t->hash[i] = (struct pc_slot){(uint32_t)pc, id};
	return true;
}

/* Twice the slots, every live block hashed again. */
static void hash_grow(struct translator *t)
{
	uint32_t n = (t->hash_mask + 1) * 2;
	struct pc_slot *h = calloc(n, sizeof(struct pc_slot));
	if (!h) {
		fprintf(stderr, "opsub: out of memory for the block hash\n");
		abort();
	}
	free(t->hash);
	t->hash = h;
	t->hash_mask = n - 1;
	for (uint32_t id = 1; id < t->nblocks; id++)
		if (t->blocks[id].live)
			hash_insert(t, id);
}

/* Takes block id out of the pc hash: the slots after it in its run move
 * back where their probes would otherwise stop at the hole (Knuth's
 * deletion for linear probing, no tombstones). */
static void hash_remove(struct translator *t, uint32_t id)
{
	uint32_t hole = home(t, (uint32_t)t->blocks[id].pc);
	while (t->hash[hole].id != id) {
		if (!t->hash[hole].id)
			return;   /* not hashed */
		hole = (hole + 1) & t->hash_mask;
	}
	for (uint32_t j = (hole + 1) & t->hash_mask; t->hash[j].id; j = (j + 1) & t->hash_mask) {
		/* slot j may fill the hole unless its home lies after the
		 * hole, up to j, cyclically */
		uint32_t k = home(t, t->hash[j].pc_lo);
		if (((j - k) & t->hash_mask) >= ((j - hole) & t->hash_mask)) {
			t->hash[hole] = t->hash[j];
			hole = j;
		}
	}
	t->hash[hole] = (struct pc_slot){0, 0};
	t->nhashed--;
}

/* Puts block id on the chains of the pages of guest bytes [from, to), and
 * watches them: a change kills the block (tr_invalidate_page).  None for a
 * block outside guest memory (a fault block); p cannot wrap below
 * gm->size <= 4 GiB. */
static void watch_pages(struct translator *t, uint32_t id, uint64_t from, uint64_t to)
{
	uint64_t end = to < t->gm->size ? to : t->gm->size;
	for (uint64_t p = page_down(from); p < end; p += GUEST_PAGE) {
		if (t->nprefs >= t->prefs_cap)
			t->prefs = grow(t->prefs, &t->prefs_cap, sizeof(struct page_ref));
		uint32_t *ph = page_bucket(t, p / GUEST_PAGE);
		t->prefs[t->nprefs] = (struct page_ref){(uint32_t)(p / GUEST_PAGE), id, *ph};
		*ph = t->nprefs++;
		t->stats.unwatched += !gm_watch(t->gm, p);
	}
}

void tr_publish(struct translator *t, uint32_t id)
{
	struct block *b = &t->blocks[id];
	b->live = true;
	if (hash_insert(t, id) && ++t->nhashed > (t->hash_mask + 1) / 2)
		hash_grow(t);
	watch_pages(t, id, b->pc, b->pc_end);
	watch_pages(t, id, b->table, b->table_end);
}

static uint64_t host_addr(const struct translator *t, uint32_t off)
{
	return (uint64_t)(uintptr_t)(t->rx + off);
}

static void write_rel32(struct translator *t, uint32_t at, uint32_t target)
{
	int32_t rel = (int32_t)target - (int32_t)(at + 4);
	memcpy(t->rw + at, &rel, 4);
}

void tr_link(struct translator *t, uint32_t exit_id, uint32_t target)
{
	struct exit *x = &t->exits[exit_id];
	struct block *b = &t->blocks[target];
	write_rel32(t, x->patch, x->r11_in_slot ? b->slot_entry : b->entry);
	x->next_link = b->links;
	b->links = exit_id;
	t->stats.links++;
}

/* Entry number `entry` of all switch tables together (the writable view
 * holds them right after the IBL table). */
static uint64_t *switch_entry(struct translator *t, uint32_t entry)
{
	return &t->ibl[IBL_ENTRIES + entry];
}

void tr_switch_fill(struct translator *t, uint32_t site)
{
	const struct exit *x = &t->exits[site];
	for (unsigned i = 0; i < SWITCH_ENTRIES; i++)
		*switch_entry(t, x->patch * SWITCH_ENTRIES + i) = host_addr(t, x->stub);
}

void tr_link_switch(struct translator *t, uint32_t site, unsigned index, uint32_t target)
{
	uint32_t entry = t->exits[site].patch * SWITCH_ENTRIES + (index & (SWITCH_ENTRIES - 1));
	uint32_t stub = t->exits[site].stub, x = tr_new_exit(t);   /* may move t->exits */
	struct block *b = &t->blocks[target];
	t->exits[x] = (struct exit){.kind = EXITK_SWITCH_LINK, .pc = t->exits[site].pc, .target = b->pc,
	                            .block = t->exits[site].block, .patch = entry, .stub = stub,
	                            .next_link = b->links};
	b->links = x;
	/* arrivals have the guest's r11 in its slot (translate.c, switch_site) */
	*switch_entry(t, entry) = host_addr(t, b->slot_entry);
	t->stats.links++;
}

void tr_link_resume(struct translator *t, uint32_t exit_id, uint32_t target)
{
	if (t->fast_resume[exit_id])
		return;   /* linked already (an entry is cleared when its block dies) */
	struct block *b = &t->blocks[target];
	t->fast_resume[exit_id] = (uint64_t)(uintptr_t)(t->rx + b->entry);
	t->exits[exit_id].next_link = b->links;
	b->links = exit_id;
}

/* IBL slot chains.  A slot of the table holds the IBL entry of one block,
 * the head; a target with the same low bits arrives there, misses its
 * compare and takes the entry's miss jump.  That jump goes to the gate,
 * or, patched here, to the IBL entry of the next block of the same slot,
 * which compares again (an IBL entry is made to be reached with any
 * target: it checks the slot before it runs anything).  So two hot
 * targets whose low bits agree (ruby 3.1's hash loop: 400,000 of its
 * 435,000 misses alternated between two) cost the second one a compare
 * and a direct jump instead of a full gate each time.  The block that
 * missed last goes first (as it did when a slot held one block), and of
 * more than IBL_CHAIN_MAX (cache.h) the oldest leaves. */

/* Points block id's miss jump at block next's IBL entry, or at the gate. */
static void ibl_chain_to(struct translator *t, uint32_t id, uint32_t next)
{
	t->blocks[id].ibl_next = next;
	uint32_t at = t->blocks[id].ibl_miss;
	int32_t rel = (int32_t)((next ? host_addr(t, t->blocks[next].ibl_entry)
	                              : (uint64_t)(uintptr_t)gate_ibl_miss) - host_addr(t, at + 4));
	memcpy(t->rw + at, &rel, 4);
}

/* Takes block id out of its slot's chain. */
static void ibl_remove(struct translator *t, uint32_t id)
{
	unsigned i = t->blocks[id].pc & (IBL_ENTRIES - 1);
	uint32_t next = t->blocks[id].ibl_next, x = t->ibl_heads[i];
	if (x == id) {
		t->ibl_heads[i] = next;
		t->ibl[i] = next ? host_addr(t, t->blocks[next].ibl_entry) : (uint64_t)(uintptr_t)gate_ibl_miss;
	} else {
		while (x && t->blocks[x].ibl_next != id)
			x = t->blocks[x].ibl_next;
		if (x)
			ibl_chain_to(t, x, next);
	}
	ibl_chain_to(t, id, 0);
}

void tr_ibl_insert(struct translator *t, uint32_t id)
{
	unsigned i = t->blocks[id].pc & (IBL_ENTRIES - 1);
	ibl_remove(t, id);   /* wherever it was (never a loop): it goes first */
	uint32_t head = t->ibl_heads[i], n = 1;
	for (uint32_t x = head; x; x = t->blocks[x].ibl_next)
		if (++n == IBL_CHAIN_MAX && t->blocks[x].ibl_next) {
			ibl_chain_to(t, t->blocks[x].ibl_next, 0);   /* the oldest leaves */
			ibl_chain_to(t, x, 0);
			break;
		}
	ibl_chain_to(t, id, head);
	t->ibl_heads[i] = id;
	t->ibl[i] = host_addr(t, t->blocks[id].ibl_entry);
}

static void kill_block(struct translator *t, uint32_t id)
{
	struct block *b = &t->blocks[id];
	hash_remove(t, id);
	ibl_remove(t, id);
	/* every link into it goes back to its stub, every fast gate resume
	 * into it is forgotten */
	for (uint32_t x = b->links; x; x = t->exits[x].next_link) {
		if (t->exits[x].kind == EXITK_HYPERCALL)
			t->fast_resume[x] = 0;
		else if (t->exits[x].kind == EXITK_SWITCH_LINK)
			*switch_entry(t, t->exits[x].patch) = host_addr(t, t->exits[x].stub);
		else
			write_rel32(t, t->exits[x].patch, t->exits[x].stub);
	}
	b->links = 0;
	b->live = false;
	t->stats.invalidations++;
}

void tr_invalidate_page(struct translator *t, uint64_t addr)
{
	uint32_t page = (uint32_t)(addr / GUEST_PAGE);
	/* Every block on the page dies and leaves the page's chain. */
	for (uint32_t *r = page_bucket(t, page); *r;) {
		struct page_ref *ref = &t->prefs[*r];
		if (ref->page != page) {
			r = &ref->next;
			continue;
		}
		if (t->blocks[ref->block].live)
			kill_block(t, ref->block);
		*r = ref->next;
	}
	/* Links from dead blocks may still point at live ones: harmless, a dead
	 * block only runs if it was already running when it died. */
}

/* The block whose translated instructions hold host_pc, and host_pc's
 * offset from the block's body; NULL for any other address. */
static const struct block *block_at(const struct translator *t, uint64_t host_pc, uint32_t *rel)
{
	uint64_t rx = (uint64_t)(uintptr_t)t->rx;
	if (host_pc < rx + t->reserved || host_pc >= rx + t->cache_used)
		return NULL;
	uint32_t off = (uint32_t)(host_pc - rx);
	/* blocks are laid out in id order until the next flush */
	uint32_t lo = 1, hi = t->nblocks;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		if (t->blocks[mid].ibl_entry <= off)
			lo = mid;
		else
			hi = mid;
	}
	const struct block *b = &t->blocks[lo];
	if (lo >= t->nblocks || off < b->body || off >= b->end)
		return NULL;
	*rel = off - b->body;
	return b;
}

bool tr_guest_pc(const struct translator *t, uint64_t host_pc, uint64_t *guest_pc)
{
	uint32_t rel;
	const struct block *b = block_at(t, host_pc, &rel);
	if (!b)
		return false;
	uint64_t pc = b->pc;
	for (uint32_t i = 0; i < b->map_count; i++) {
		const struct insn_map *m = &t->map[b->map_first + i];
		if (m->host_off > rel)
			break;
		pc = b->pc + m->guest_off;
	}
	*guest_pc = pc;
	return true;
}

bool tr_insn_start(const struct translator *t, uint64_t host_pc, uint64_t *guest_pc, bool *r11_in_slot)
{
	uint32_t rel;
	const struct block *b = block_at(t, host_pc, &rel);
	for (uint32_t i = 0; b && i < b->map_count; i++) {
		const struct insn_map *m = &t->map[b->map_first + i];
		if (m->host_off == rel) {
			*guest_pc = b->pc + m->guest_off;
			*r11_in_slot = rel < b->r11_slot_to;
			return true;
		}
		if (m->host_off > rel)
			break;
	}
	return false;
}

const struct exit *tr_exit(const struct translator *t, uint32_t exit_id)
{
	return exit_id >= EXIT_FIRST_STUB && exit_id < t->nexits ? &t->exits[exit_id] : NULL;
}
