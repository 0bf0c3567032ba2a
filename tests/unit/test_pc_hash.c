/*
 * The translator's pc hash (translator/cache.c): every live block is found
 * by its pc and no other, across growth, across removal of blocks from the
 * middle of long probe runs (pages invalidated), and for pcs that share
 * their low 32 bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sandbox/guest_mem.h"
#include "translator/cache.h"

#define MEM (64ull << 20)
#define FIRST_PC 0x100000ull
#define STEP 7        /* several blocks per slot run, 585 per page */
#define COUNT 50000   /* past several growths (4,096 slots at start) */

static struct guest_mem gm;
static struct translator t;

static uint32_t add_block(uint64_t pc)
{
	uint32_t id = tr_new_block(&t);
	t.blocks[id].pc = pc;
	t.blocks[id].pc_end = pc + 1;
	tr_publish(&t, id);
	return id;
}

static uint64_t pc_of(unsigned i) { return FIRST_PC + (uint64_t)i * STEP; }

static void test_find_grow_remove(void **state)
{
	(void)state;
	char err[200];
	/* translation-only guest memory (guest_mem.h): page bits as bookkeeping */
	gm.fd = -1;
	gm.size = MEM;
	gm.page = calloc(MEM / GUEST_PAGE, 1);
	assert_non_null(gm.page);
	for (uint64_t p = page_down(FIRST_PC); p < pc_of(COUNT); p += GUEST_PAGE)
		gm.page[p / GUEST_PAGE] = GP_MAPPED | GP_R | GP_X;
	t.gm = &gm;
	t.ibl = calloc(IBL_ENTRIES, sizeof(uint64_t));
	assert_non_null(t.ibl);
	assert_int_equal(tr_cache_init(&t, 1 << 20, err, sizeof(err)), 0);

	uint32_t *ids = calloc(COUNT, sizeof(uint32_t));
	assert_non_null(ids);
	for (unsigned i = 0; i < COUNT; i++)
		ids[i] = add_block(pc_of(i));
	assert_true(t.hash_mask + 1 > 65536);   /* it grew */
	for (unsigned i = 0; i < COUNT; i++) {
		assert_int_equal(tr_find(&t, pc_of(i)), ids[i]);
		assert_int_equal(tr_find(&t, pc_of(i) + 1), 0);
	}

	/* the same low half above 4 GiB is another pc (a fault block's) */
	uint64_t high = (1ull << 32) | pc_of(3);
	assert_int_equal(tr_find(&t, high), 0);
	uint32_t high_id = add_block(high);
	assert_int_equal(tr_find(&t, high), high_id);
	assert_int_equal(tr_find(&t, pc_of(3)), ids[3]);

	/* every other page dies: its blocks leave the hash, the rest stay
	 * reachable past the holes */
	uint64_t first_page = page_down(FIRST_PC), last = pc_of(COUNT - 1);
	for (uint64_t p = first_page; p <= last; p += 2 * GUEST_PAGE)
		tr_invalidate_page(&t, p);
	unsigned live = 0;
	for (unsigned i = 0; i < COUNT; i++) {
		bool dead = ((page_down(pc_of(i)) - first_page) / GUEST_PAGE) % 2 == 0;
		assert_int_equal(tr_find(&t, pc_of(i)), dead ? 0 : ids[i]);
		live += !dead;
	}
	assert_int_equal(t.nhashed, live + 1);
	assert_int_equal(tr_find(&t, high), high_id);

	/* blocks translated again on the dead pages get their new ids */
	for (unsigned i = 0; i < COUNT; i++)
		if (!tr_find(&t, pc_of(i)))
			ids[i] = add_block(pc_of(i));
	for (unsigned i = 0; i < COUNT; i++)
		assert_int_equal(tr_find(&t, pc_of(i)), ids[i]);

	/* a second block for a pc (tr_translate_only builds one regardless)
	 * takes its slot; the first one's death leaves the second found */
	uint32_t again = add_block(pc_of(5));
	assert_int_equal(tr_find(&t, pc_of(5)), again);
	tr_invalidate_page(&t, page_down(pc_of(5)));
	assert_int_equal(tr_find(&t, pc_of(5)), 0);
	again = add_block(pc_of(5));
	uint32_t newest = add_block(pc_of(5));
	assert_int_equal(tr_find(&t, pc_of(5)), newest);
	(void)again;

	/* a flush forgets them all */
	tr_cache_reset(&t);
	for (unsigned i = 0; i < COUNT; i += 97)
		assert_int_equal(tr_find(&t, pc_of(i)), 0);
	free(ids);
	free(t.ibl);
	tr_cache_destroy(&t);
	free(gm.page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_grow_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
