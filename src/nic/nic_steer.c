/* nic_steer.c: compiling the filter table and steering frames (nic_steer.h). */
#include "nic/nic_steer.h"

#include <string.h>

/* Keys: bits 0-47 MAC (0 for BROADCAST and PROMISC), 48-60 a VLAN code,
 * 61-62 the kind. Kinds start at 1, so no key is 0 (the empty slot). */
enum { KIND_EXACT = 1, KIND_BROADCAST = 2, KIND_PROMISC = 3 };
#define VLAN_CODE_ANY      4096u   /* filter: any VLAN, or untagged */
#define VLAN_CODE_UNTAGGED 4097u   /* frame: carries no 802.1Q tag */

static uint64_t make_key(unsigned kind, uint64_t mac, unsigned vlan_code)
{
	return (uint64_t)kind << 61 | (uint64_t)vlan_code << 48 | mac;
}

static unsigned slot_of(uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 52) &
	       (STEER_SLOTS - 1);
}

static uint64_t mac_bits(const uint8_t *mac)
{
	/* Two loads, not a 6-byte copy into a zeroed word, which would stall
	 * on store forwarding. */
	uint32_t low;
	uint16_t high;
	memcpy(&low, mac, 4);
	memcpy(&high, mac + 4, 2);
	return low | (uint64_t)high << 32;
}

static const struct qset *find(const struct steer_table *t, uint64_t key)
{
	for (unsigned i = slot_of(key);; i = (i + 1) & (STEER_SLOTS - 1)) {
		if (t->slots[i].key == key)
			return &t->sets[t->slots[i].set];
		if (t->slots[i].key == 0)
			return NULL;
	}
}

static void add_key(struct steer_table *t, uint64_t key, unsigned queue)
{
	unsigned i = slot_of(key);
	while (t->slots[i].key != 0 && t->slots[i].key != key)
		i = (i + 1) & (STEER_SLOTS - 1);
	if (t->slots[i].key == 0) {
		t->slots[i].key = key;
		t->slots[i].set = t->num_sets;
		memset(&t->sets[t->num_sets++], 0, t->words * sizeof(uint64_t));
	}
	t->sets[t->slots[i].set].bits[queue / 64] |= 1ull << (queue % 64);
}

void steer_compile(struct steer_table *t, const struct nic_filter_regs *f,
                   unsigned num_queues)
{
	memset(t->slots, 0, sizeof(t->slots));
	memset(t->cache, 0, sizeof(t->cache));
	t->num_sets = 0;
	t->words = qset_words(num_queues);
	for (unsigned i = 0; i < NIC_MAX_FILTERS; i++) {
		if (!(f[i].flags & NIC_FILTER_VALID) || f[i].queue >= num_queues)
			continue;
		unsigned vlan = f[i].vlan == NIC_VLAN_ANY ? VLAN_CODE_ANY
		                                          : f[i].vlan & 0xfff;
		add_key(t, make_key(KIND_EXACT, mac_bits(f[i].mac), vlan),
		        f[i].queue);
		if (f[i].flags & NIC_FILTER_BROADCAST)
			add_key(t, make_key(KIND_BROADCAST, 0, vlan), f[i].queue);
		if (f[i].flags & NIC_FILTER_PROMISC)
			add_key(t, make_key(KIND_PROMISC, 0, vlan), f[i].queue);
	}
}

/* Adds the queues of (kind, mac) for the frame's VLAN and for ANY. */
static void add_matches(const struct steer_table *t, struct qset *out,
                        unsigned kind, uint64_t mac, unsigned vlan_code)
{
	const struct qset *s[2] = {
		vlan_code == VLAN_CODE_UNTAGGED
			? NULL : find(t, make_key(kind, mac, vlan_code)),
		find(t, make_key(kind, mac, VLAN_CODE_ANY)),
	};
	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; s[k] && i < t->words; i++)
			out->bits[i] |= s[k]->bits[i];
}

const struct qset *steer_lookup(struct steer_table *t, const uint8_t *frame,
                                uint32_t len)
{
	uint64_t mac = mac_bits(frame);
	unsigned vlan_code = VLAN_CODE_UNTAGGED;
	if (len >= 18 && frame[12] == 0x81 && frame[13] == 0x00)
		vlan_code = ((unsigned)frame[14] << 8 | frame[15]) & 0xfff;

	uint64_t frame_key = (mac | (uint64_t)vlan_code << 48) + 1;
	struct steer_cached *c = &t->cache[slot_of(frame_key) &
	                                   (STEER_CACHE - 1)];
	if (c->key == frame_key)
		return &c->set;

	c->key = frame_key;
	memset(&c->set, 0, t->words * sizeof(uint64_t));
	add_matches(t, &c->set, KIND_EXACT, mac, vlan_code);
	if (frame[0] & 1)       /* group bit: broadcast or multicast */
		add_matches(t, &c->set, KIND_BROADCAST, 0, vlan_code);
	if (qset_empty(&c->set, t->words))
		add_matches(t, &c->set, KIND_PROMISC, 0, vlan_code);
	return &c->set;
}
