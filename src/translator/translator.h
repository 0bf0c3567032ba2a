/*
 * The translator: guest code runs only as translated blocks in a code cache
 * outside the sandbox.
 *
 * A block is translated when first run (decode -> policy -> emit), checked by
 * the verifier, and only then made reachable.  Block layout in the cache:
 *
 *   (int3 in front, part of no block, so that the body is 32-byte aligned)
 *   ibl_entry:  check the target, restore the guest's r11 from its IBL slot
 *               or leave it there (arrival by lookup; translate.c, prologue)
 *   body:       the translated instructions (arrival by a direct link)
 *               ... ending in jumps to exit stubs
 *   stubs:      mov dword gs:[exit_id], N ; jmp gate_exit
 *   [entry:     mov gs:[ibl_r11], r11 ; jmp body -- where the block keeps
 *               the guest's r11 in its slot; else the entry is the body]
 *
 * Direct branches start out jumping to their stub; the first time one is
 * taken, the dispatcher translates the target and patches the jump to go
 * straight to the target's entry (block linking).  Indirect branches and
 * returns look the target up inline in the IBL table (see ctx.h) and only
 * leave translated code on a miss.
 *
 * Writes to guest pages holding translated code (self-modifying code, JITs)
 * invalidate the blocks on those pages: they are unlinked, dropped from the
 * lookup structures and retranslated when next run.  When the cache is full
 * it is flushed as a whole.
 */
#ifndef OPSUB_TRANSLATOR_TRANSLATOR_H
#define OPSUB_TRANSLATOR_TRANSLATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gates/ctx.h"
#include "sandbox/guest_mem.h"
#include "translator/policy.h"

#define TR_CACHE_DEFAULT   (64u << 20)
#define TR_BLOCK_MAX_INSNS 64
#define TR_BLOCK_MAX_BYTES 4096

enum exit_kind {
	EXITK_BRANCH,    /* direct branch to `target`, linkable */
	EXITK_SYSCALL,   /* guest syscall at pc; continue at target */
	EXITK_HYPERCALL, /* guest hypercall at pc; continue at target */
	EXITK_CPUID,     /* cpuid at pc; continue at target */
	EXITK_XGETBV,    /* xgetbv at pc; continue at target */
	EXITK_FAULT,     /* guest fault: signal, at pc, address fault_addr */
	EXITK_SWITCH,    /* a switch (translate.c, switch_site) whose table entry for the
	                  * index in CTX_IBL_TARGET names no block yet; the guest target
	                  * is in register reg, or with reg SWITCH_FROM_TABLE the 8 bytes
	                  * of the guest's table (at target) for that index; patch: the
	                  * switch table's number */
	EXITK_SWITCH_LINK, /* never taken: a switch table entry linked to a block, put
	                  * back to the switch's stub when that block dies; patch: the
	                  * entry's number among all switch tables' */
};

struct exit {
	uint64_t pc;           /* guest pc of the instruction that exits */
	uint64_t target;       /* branch target or next pc */
	uint64_t fault_addr;
	uint32_t block;        /* block id the exit belongs to */
	uint32_t patch;        /* cache offset of the rel32 that jumps to the stub (0: none) */
	uint32_t stub;         /* cache offset of the stub */
	uint32_t next_link;    /* next exit linked to the same target block (0: end) */
	uint8_t kind;
	uint8_t signal;
	uint8_t reg;           /* SWITCH: the register that holds the guest target */
#define SWITCH_FROM_TABLE 0xff   /* (none: jmp [table + I*8]) */
	bool r11_in_slot;      /* BRANCH: the guest's r11 is in CTX_IBL_R11 at the jump, so a
	                        * link goes to the target's slot_entry */
	const char *why;       /* FAULT: what was refused, for the report */
};

struct block {
	uint64_t pc, pc_end;           /* guest bytes [pc, pc_end) */
	uint64_t table, table_end;     /* guest bytes of a switch table it depends on, watched
	                                * like its own (none: equal) */
	uint32_t ibl_entry, entry, end; /* cache offsets: the IBL entry, the entry for arrivals
	                                 * with the guest's r11 in r11 (after the exit stubs where
	                                 * the block keeps r11 in its slot), the end */
	uint32_t slot_entry;           /* cache offset of the entry for arrivals with the guest's
	                                * r11 in CTX_IBL_R11 (the IBL entry's after its check) */
	uint32_t start;                /* cache offset of its first byte: the IBL entry, or the miss
	                                * path in front of it (translate.c, prologue) */
	uint32_t body;                 /* cache offset of the first instruction's translation */
	uint32_t map_first, map_count; /* instruction map: host offset (from body) -> guest pc */
	uint32_t exits_first, exits_end; /* its exits: ids [first, end) */
	uint16_t r11_slot_to;          /* the guest's r11 is in CTX_IBL_R11, not r11, from the body
	                                * up to this host offset (from body; 0: never) */
	uint32_t links;                /* first exit linked to this block (0: none) */
	uint32_t ibl_miss;             /* cache offset of the rel32 of its IBL entry's miss jump */
	uint32_t ibl_next;             /* next block in its IBL slot's chain (0: none; cache.c) */
	bool live;
	bool r11_idle;                 /* the guest's r11 stays in its slot in the body (translate.c) */
};

struct insn_map { uint16_t host_off, guest_off; };

/* A slot of the pc hash: a live block and the low half of its pc, which
 * decides the slot and settles most probes without loading the block. */
struct pc_slot { uint32_t pc_lo, id; };   /* id 0: empty */

/* A block on a guest page: the page's blocks are a chain in a hash bucket. */
struct page_ref { uint32_t page, block, next; };

struct tr_stats {
	uint64_t blocks, guest_insns, cache_bytes;
	uint64_t links, ibl_misses, invalidations, flushes;
	uint64_t switches;             /* switches given a switch table (translate.c) */
	uint64_t unwatched;            /* code pages the host could not write-protect */
	uint64_t translate_ns, verify_ns;
	uint64_t classes[32];          /* per policy class (index into policy_classes) */
	uint64_t forms[FORM_COUNT];
};

struct translator {
	struct guest_mem *gm;
	struct rt_ctx *ctx;
	uint64_t *ibl;                 /* writable view of ctx->ibl_code (ctx_create) */
	uint32_t *ibl_heads;           /* by IBL slot: the block its entry names, first of the
	                                * slot's chain (0: the miss gate; cache.c) */
	uint8_t *rx, *rw;              /* two views of the code cache */
	size_t cache_size, cache_used;
	uint32_t reserved;             /* cache bytes of the shared stubs at the start */
	struct block *blocks;          /* id 0 unused */
	uint32_t nblocks, blocks_cap;
	struct exit *exits;            /* ids below EXIT_FIRST_STUB unused */
	uint64_t *fast_resume;         /* by exit id, a power-of-two table: gate_fast_table */
	uint32_t nexits, exits_cap;
	uint32_t nswitch;              /* switch tables in use (ctx.h, SWITCH_TABLES) */
	struct insn_map *map;
	uint32_t nmap, map_cap;
	struct pc_slot *hash;          /* pc -> block, open addressing, at least twice as many slots
	                                * as live blocks */
	uint32_t hash_mask, nhashed;
	struct page_ref *prefs;        /* index 0 unused */
	uint32_t nprefs, prefs_cap;
	uint32_t *page_hash;           /* guest page -> page_ref chains */
	struct guest_insn *fetched;    /* a block's instructions, decoded once (translate.c) */
	bool verify;                   /* run the verifier on every block (default) */
	bool measure;                  /* --stats: IBL counters in the code, translation times */
	struct tr_stats stats;
};

struct tr_config {
	size_t cache_size;
	bool verify;
	bool measure;
};

/* Sets up the code cache (near the gates, so rel32 jumps reach them) and the
 * IBL table of ctx through its writable view ibl (ctx_create).  Returns 0,
 * or -1 with a one-line reason. */
int tr_init(struct translator *t, struct guest_mem *gm, struct rt_ctx *ctx, uint64_t *ibl,
            const struct tr_config *cfg, char *err, size_t errlen);
void tr_destroy(struct translator *t);

/* Host address of the direct entry of the block at guest pc, translating
 * it if needed.  Never fails: code that cannot run becomes a block that
 * raises the matching guest fault. */
uint64_t tr_entry(struct translator *t, uint64_t pc);

/* Handles a taken exit stub of kind EXITK_BRANCH or EXITK_HYPERCALL: links
 * it (a branch jumps straight to the target block from then on; a
 * hypercall may resume there through the fast gate) and returns the
 * target's entry. */
uint64_t tr_take_branch(struct translator *t, uint32_t exit_id);

/* Handles a taken switch stub (EXITK_SWITCH) for index, whose guest
 * target the switch's register gives: links the switch table's entry for
 * index to the target block and returns the target's entry. */
uint64_t tr_take_switch(struct translator *t, uint32_t exit_id, unsigned index, uint64_t target);

/* Handles an IBL miss: enters the target in the table, returns its entry. */
uint64_t tr_indirect(struct translator *t, uint64_t target);

const struct exit *tr_exit(const struct translator *t, uint32_t exit_id);

/* Drops all translations of guest code on the page at addr. */
void tr_invalidate_page(struct translator *t, uint64_t addr);

/* Maps a host pc inside the code cache to the guest pc of the instruction
 * it belongs to; false when host_pc is not translated code. */
bool tr_guest_pc(const struct translator *t, uint64_t host_pc, uint64_t *guest_pc);

/* True when host_pc is the first host instruction of a guest instruction's
 * translation (*guest_pc gets that instruction's pc): there the guest's
 * state is exactly its architectural state before the instruction, so the
 * guest may be resumed at *guest_pc from any translation.  One exception:
 * where *r11_in_slot comes back true, the guest's r11 is in the context's
 * CTX_IBL_R11 slot (translate.c, prologue) and the host's r11 is scratch. */
bool tr_insn_start(const struct translator *t, uint64_t host_pc, uint64_t *guest_pc, bool *r11_in_slot);

/* Translates the block at pc without running it, for the fuzzer and tests:
 * returns the block id, or 0 with the verifier's reason in err. */
uint32_t tr_translate_only(struct translator *t, uint64_t pc, char *err, size_t errlen);

#endif
