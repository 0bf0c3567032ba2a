#include "monitor/stats.h"

#include "monitor/monitor.h"

void stats_print(const struct monitor *m, FILE *f)
{
	const struct tr_stats *s = &m->tr.stats;
	double run_ms = (double)(monitor_now_ns() - m->start_ns) / 1e6;
	double tr_ms = (double)s->translate_ns / 1e6, v_ms = (double)s->verify_ns / 1e6;
	uint64_t lookups = m->ctx->ibl_count;
	fprintf(f, "opsub stats (%.1f ms):\n", run_ms);
	fprintf(f, "  start-up to first instruction %.2f ms\n", (double)(m->first_insn_ns - m->start_ns) / 1e6);
	fprintf(f, "  blocks translated     %lu (%lu guest instructions)\n", s->blocks, s->guest_insns);
	fprintf(f, "  code cache bytes      %lu\n", s->cache_bytes);
	fprintf(f, "  direct links          %lu\n", s->links);
	fprintf(f, "  indirect lookups      %lu (misses %lu)\n", lookups, s->ibl_misses);
	fprintf(f, "  switch tables         %lu (their jumps are no lookups)\n", s->switches);
	fprintf(f, "  invalidations         %lu blocks\n", s->invalidations);
	fprintf(f, "  cache flushes         %lu\n", s->flushes);
	if (s->unwatched)
		fprintf(f, "  unwatched code pages  %lu (no host mapping slot left)\n", s->unwatched);
	fprintf(f, "  translation time      %.2f ms (%.0f ns per guest instruction)\n", tr_ms,
	        s->guest_insns ? (double)s->translate_ns / (double)s->guest_insns : 0.0);
	fprintf(f, "  verifier time         %.2f ms (%.1f%% of translation time)\n", v_ms,
	        s->translate_ns ? 100.0 * (double)s->verify_ns / (double)s->translate_ns : 0.0);
	fprintf(f, "  syscalls              %lu, hypercalls %lu\n", m->syscalls, m->hypercalls);
	fprintf(f, "  subtractions by class:\n");
	for (size_t i = 0; i < policy_class_count; i++)
		if (s->classes[i] && policy_classes[i].action != SUB_PASS)
			fprintf(f, "    %-28s %lu\n", policy_classes[i].name, s->classes[i]);
	fprintf(f, "  operand rewrites:\n");
	for (unsigned i = 0; i < FORM_COUNT; i++)
		if (s->forms[i])
			fprintf(f, "    %-28s %lu\n", policy_forms[i].name, s->forms[i]);
}
