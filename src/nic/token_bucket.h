/*
 * token_bucket.h: the rate limiters of the TX scheduler (per queue: bits
 * and packets; per port: bits). Engine thread only.
 *
 * A frame may go when the bucket holds at least its cost; the bucket fills
 * at rate tokens per second. Tokens are conserved, so over any long
 * interval the rate is exact. The fill is capped at burst after an idle
 * interval, as in any shaper; but after an interval in which frames were
 * held back (backlogged), it is capped only at TB_CATCH_UP_NS of the rate:
 * then the interval was an engine stall (the host did not run the engine
 * thread), not the queue's choice, and the model makes up for its own
 * stalls so that configured rates hold on a busy host.
 */
#ifndef OPSUB_NIC_TOKEN_BUCKET_H
#define OPSUB_NIC_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define TB_CATCH_UP_NS 50000000u     /* 50 ms: a few host time slices */

struct token_bucket {
	bool limited;           /* false: rate 0, every frame may go */
	double per_ns;          /* tokens added per nanosecond */
	double burst;           /* capacity after an idle interval */
	double catch_up;        /* capacity after a backlogged interval */
	double tokens;
	uint64_t last_ns;       /* time of the last refill */
};

/* Sets rate (tokens/s, 0 = unlimited) and burst (0 = default_burst_ns of
 * the rate, at least min_burst). A limited bucket keeps the tokens it
 * has, up to the new burst, so a change takes effect without a burst or a
 * gap; a newly limited one starts full. */
static inline void tb_configure(struct token_bucket *tb, uint64_t rate,
                                uint64_t burst, uint64_t default_burst_ns,
                                uint64_t min_burst, uint64_t now_ns)
{
	bool was_limited = tb->limited;
	tb->limited = rate != 0;
	tb->per_ns = (double)rate / 1e9;
	if (burst == 0)
		burst = (uint64_t)(tb->per_ns * (double)default_burst_ns);
	if (burst < min_burst)
		burst = min_burst;
	tb->burst = (double)burst;
	tb->catch_up = tb->per_ns * TB_CATCH_UP_NS;
	if (tb->catch_up < tb->burst)
		tb->catch_up = tb->burst;
	if (tb->last_ns == 0 || !was_limited)
		tb->tokens = tb->burst;
	if (tb->tokens > tb->burst)
		tb->tokens = tb->burst;
	tb->last_ns = now_ns;
}

/* backlogged: frames have been waiting for tokens since the last refill. */
static inline void tb_refill(struct token_bucket *tb, uint64_t now_ns,
                             bool backlogged)
{
	if (!tb->limited || now_ns <= tb->last_ns)
		return;
	double cap = backlogged ? tb->catch_up : tb->burst;
	tb->tokens += tb->per_ns * (double)(now_ns - tb->last_ns);
	if (tb->tokens > cap)
		tb->tokens = cap;
	tb->last_ns = now_ns;
}

static inline bool tb_allows(const struct token_bucket *tb, double cost)
{
	return !tb->limited || tb->tokens >= cost;
}

/* An unlimited bucket keeps its tokens, so a limit set later starts from
 * a full bucket rather than from a debt. */
static inline void tb_take(struct token_bucket *tb, double cost)
{
	if (tb->limited)
		tb->tokens -= cost;
}

#endif
