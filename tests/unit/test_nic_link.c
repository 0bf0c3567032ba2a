/*
 * test_nic_link.c: the link page between the daemon and a guest process
 * (driver/link.h).  The trusted driver acts on the queue set of one
 * generation only: a snapshot taken while the daemon rewrites the page is
 * never a mix of two sets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "driver/link.h"

static const uint16_t SET_A[LINK_MAX_QUEUES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint16_t SET_B[LINK_MAX_QUEUES] = {40, 41};

struct writer {
	struct link_page *page;
	uint32_t generation;
	int stop;
	unsigned long published;
};

/* The daemon side: publishes set A (16 queues) and set B (2) in turn. */
static void *publish_loop(void *arg)
{
	struct writer *w = arg;
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		bool a = w->published++ % 2 == 0;
		link_publish(w->page, &w->generation, a ? 16 : 2, a ? SET_A : SET_B, 0);
	}
	return NULL;
}

static bool is_set(const struct link_queues *s, const uint16_t *set, unsigned n)
{
	return s->nqueues == n && !memcmp(s->queue, set, n * sizeof(uint16_t));
}

static void test_snapshot_is_one_generation(void **state)
{
	(void)state;
	struct link_page *page = calloc(1, 4096);
	assert_non_null(page);
	struct writer w = {.page = page};
	link_publish(page, &w.generation, 2, SET_B, 0);
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, publish_loop, &w), 0);
	unsigned long taken = 0, mixed = 0;
	for (unsigned i = 0; i < 2000000; i++) {
		struct link_queues s;
		if (!link_read(page, &s))
			continue;
		taken++;
		assert_true(s.generation % 2 == 0);
		if (!is_set(&s, SET_A, 16) && !is_set(&s, SET_B, 2))
			mixed++;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	assert_true(taken > 0);
	assert_true(w.published > 1000);
	if (mixed)
		fail_msg("%lu of %lu snapshots mixed two queue sets", mixed, taken);
	free(page);
}

/* A queue count beyond the page's array (a corrupt page) is cut to it. */
static void test_snapshot_bounds_the_count(void **state)
{
	(void)state;
	struct link_page *page = calloc(1, 4096);
	assert_non_null(page);
	uint32_t generation = 0;
	link_publish(page, &generation, 2, SET_B, 0);
	page->nqueues = 1000000;
	struct link_queues s;
	assert_true(link_read(page, &s));
	assert_int_equal(s.nqueues, LINK_MAX_QUEUES);
	page->generation = 7;   /* odd: being rewritten, for ever */
	assert_false(link_read(page, &s));
	free(page);
}

/* The draining mask travels with its set, and never marks queue[0] (the
 * one the port receives on), whatever the page says. */
static void test_draining_is_never_the_receiving_queue(void **state)
{
	(void)state;
	struct link_page *page = calloc(1, 4096);
	assert_non_null(page);
	uint32_t generation = 0;
	link_publish(page, &generation, 2, SET_B, 1u << 1);
	struct link_queues s;
	assert_true(link_read(page, &s));
	assert_int_equal(s.draining, 1u << 1);
	link_publish(page, &generation, 2, SET_B, 0xffff);
	assert_true(link_read(page, &s));
	assert_int_equal(s.draining, 0xfffe);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_is_one_generation),
		cmocka_unit_test(test_snapshot_bounds_the_count),
		cmocka_unit_test(test_draining_is_never_the_receiving_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
