/*
 * nic.c: the NIC's lifetime, register file, engine start/stop, and the
 * daemon's control functions. Control functions write the global registers
 * and then have the engine take them in (nic_engine_call), so a change is
 * in force when the function returns.
 */
#include "nic/nic_internal.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

void nic_config_defaults(struct nic_config *cfg)
{
	*cfg = (struct nic_config){
		.num_queues = NIC_DEFAULT_QUEUES,
		.wire = "null",
		.line_rate_bps = 0,
		.poll_mode = NIC_POLL_ADAPTIVE,
		.dma_cpu = -1,
	};
}

/* ---- engine calls -------------------------------------------------- */

void nic_engine_call(struct nic *nic, void (*fn)(struct nic *, unsigned),
                     unsigned arg)
{
	if (!nic->running) {
		fn(nic, arg);
		return;
	}
	nic->call_fn = fn;
	nic->call_arg = arg;
	uint64_t seq = nic->call_seq + 1;
	/* seq_cst, then the look at asleep: the engine's mirror image is in
	 * nic_idle.c, so a sleeping engine is always woken for a call */
	__atomic_store_n(&nic->call_seq, seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&nic->asleep, __ATOMIC_SEQ_CST))
		idle_wake_engine(nic);
	/* The engine answers within an iteration, or one nap. */
	for (unsigned spins = 0;
	     __atomic_load_n(&nic->call_done, __ATOMIC_ACQUIRE) != seq; spins++) {
		if (spins < 1000) {
			__builtin_ia32_pause();
		} else {
			struct timespec nap = { 0, 10000 };
			nanosleep(&nap, NULL);
		}
	}
}

/* ---- lifetime ------------------------------------------------------ */

/* A shared-memory object of size bytes, sealed against resizing: a process
 * it is handed to cannot shrink it under the NIC's mapping (SIGBUS here). */
static int sealed_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int new_queue_page(unsigned q)
{
	char name[32];
	snprintf(name, sizeof(name), "opsub-nic-queue-%u", q);
	return sealed_memfd(name, NIC_QUEUE_PAGE_SIZE);
}

/* Maps fd over [at, at + size) of the reserved range. */
static bool map_over(void *at, size_t size, int fd)
{
	return mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
	            0) != MAP_FAILED;
}

/* One reserved range, so the model indexes pages as before; each page is
 * its own object, so a driver can be given its queue page and nothing
 * else (a memfd gives whoever holds it the whole object). */
static bool create_register_file(struct nic *nic, char *err, size_t errlen)
{
	nic->regs_size = NIC_REGS_SIZE(nic->num_queues);
	nic->regs_map = mmap(NULL, nic->regs_size, PROT_NONE,
	                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (nic->regs_map == MAP_FAILED) {
		nic->regs_map = NULL;
		snprintf(err, errlen, "nic: cannot reserve the register file: %s",
		         strerror(errno));
		return false;
	}
	nic->global_fd = sealed_memfd("opsub-nic-global", NIC_GLOBAL_AREA_SIZE);
	if (nic->global_fd < 0 ||
	    !map_over(nic->regs_map, NIC_GLOBAL_AREA_SIZE, nic->global_fd)) {
		snprintf(err, errlen, "nic: cannot create the global registers: %s",
		         strerror(errno));
		return false;
	}
	for (unsigned q = 0; q < nic->num_queues; q++) {
		nic->page_fds[q] = new_queue_page(q);
		if (nic->page_fds[q] < 0 ||
		    !map_over(nic_queue_regs(nic, q), NIC_QUEUE_PAGE_SIZE,
		              nic->page_fds[q])) {
			snprintf(err, errlen, "nic: cannot create the page of queue "
			         "%u: %s", q, strerror(errno));
			return false;
		}
	}
	nic->global = nic->regs_map;
	return true;
}

/* Power-on values (the memfd starts zeroed). */
static void init_registers(struct nic *nic, uint64_t line_rate_bps)
{
	struct nic_global_regs *g = nic->global;
	g->dev_ctrl = NIC_CTRL_LINK_UP;
	g->num_queues = nic->num_queues;
	g->line_rate_bps = line_rate_bps;
	for (unsigned q = 0; q < nic->num_queues; q++) {
		g->sched[q].weight = 1;
		g->sched[q].admin = NIC_ADMIN_UP;
		struct nic_queue_regs *regs = nic_queue_regs(nic, q);
		regs->tx_ring_size = regs->rx_ring_size = NIC_RING_DEFAULT;
		nic->queues[q].regs = regs;
		rx_wait_reset(nic, &nic->queues[q]);
	}
}

struct nic *nic_create(const struct nic_config *cfg, char *err, size_t errlen)
{
	struct nic *nic = NULL;
	if (cfg->num_queues < 1 || cfg->num_queues > NIC_MAX_QUEUES) {
		snprintf(err, errlen, "nic: %u queue pairs asked for: use 1 to %u",
		         cfg->num_queues, NIC_MAX_QUEUES);
		goto refused;
	}
	if (cfg->dma_cpu >= CPU_SETSIZE) {
		snprintf(err, errlen, "nic: DMA CPU %d out of range: use -1 "
		         "(no pinning) or a CPU number", cfg->dma_cpu);
		goto refused;
	}
	nic = calloc(1, sizeof(*nic));
	if (!nic) {
		snprintf(err, errlen, "nic: out of memory");
		goto refused;
	}
	nic->global_fd = nic->new_page_fd = nic->new_doorbell_fd = -1;
	nic->epoll_fd = nic->wake_fd = -1;
	nic->num_queues = cfg->num_queues;
	nic->rx_wait_ns = cfg->rx_wait_ns ? cfg->rx_wait_ns
	                                  : NIC_RX_WAIT_DEFAULT_NS;
	nic->poll_mode = cfg->poll_mode;
	nic->dma_cpu = cfg->dma_cpu;
	unsigned a, b, c, d;
	nic->has_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c >> 8 & 1);
	pthread_mutex_init(&nic->ctl_lock, NULL);

	nic->queues = calloc(nic->num_queues, sizeof(*nic->queues));
	nic->irq_fds = malloc(nic->num_queues * sizeof(*nic->irq_fds));
	nic->page_fds = malloc(nic->num_queues * sizeof(*nic->page_fds));
	nic->doorbell_fds = malloc(nic->num_queues * sizeof(*nic->doorbell_fds));
	nic->steer = malloc(sizeof(*nic->steer));
	nic->rx_dirty_list = calloc(nic->num_queues, sizeof(uint16_t));
	nic->active = calloc(nic->num_queues, sizeof(unsigned));
	nic->vlan_scratch = malloc(NIC_TX_BATCH * sizeof(*nic->vlan_scratch));
	for (unsigned q = 0; nic->irq_fds && q < nic->num_queues; q++)
		nic->irq_fds[q] = -1;   /* so nic_destroy closes only real ones */
	for (unsigned q = 0; nic->page_fds && q < nic->num_queues; q++)
		nic->page_fds[q] = -1;
	for (unsigned q = 0; nic->doorbell_fds && q < nic->num_queues; q++)
		nic->doorbell_fds[q] = -1;
	if (!nic->queues || !nic->irq_fds || !nic->page_fds || !nic->steer ||
	    !nic->doorbell_fds ||
	    !nic->rx_dirty_list || !nic->vlan_scratch || !nic->active) {
		snprintf(err, errlen, "nic: out of memory");
		goto fail;
	}
	for (unsigned q = 0; q < nic->num_queues; q++) {
		nic->irq_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		nic->doorbell_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (nic->irq_fds[q] < 0 || nic->doorbell_fds[q] < 0) {
			snprintf(err, errlen, "nic: cannot create interrupt "
			         "eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	if (!create_register_file(nic, err, errlen))
		goto fail;
	init_registers(nic, cfg->line_rate_bps);

	nic->wire = cfg->wire_backend ? cfg->wire_backend : wire_open(cfg->wire, err, errlen);
	if (!nic->wire)
		goto fail;
	nic->wire->deliver = rx_deliver_burst;
	nic->wire->deliver_ctx = nic;
	if (idle_init(nic, err, errlen))
		goto fail;
	migrate_init(nic);

	engine_reload_config(nic, 0);
	return nic;
fail:
	if (!nic->wire)
		nic->wire = cfg->wire_backend;   /* so that nic_destroy closes it */
	nic_destroy(nic);
	return NULL;
refused:
	wire_close(cfg->wire_backend);
	return NULL;
}

void nic_destroy(struct nic *nic)
{
	if (!nic)
		return;
	nic_stop(nic);
	idle_destroy(nic);
	wire_close(nic->wire);
	if (nic->regs_map)
		munmap(nic->regs_map, nic->regs_size);
	if (nic->global_fd >= 0)
		close(nic->global_fd);
	for (unsigned q = 0; nic->irq_fds && q < nic->num_queues; q++)
		if (nic->irq_fds[q] >= 0)
			close(nic->irq_fds[q]);
	for (unsigned q = 0; nic->page_fds && q < nic->num_queues; q++)
		if (nic->page_fds[q] >= 0)
			close(nic->page_fds[q]);
	for (unsigned q = 0; nic->doorbell_fds && q < nic->num_queues; q++)
		if (nic->doorbell_fds[q] >= 0)
			close(nic->doorbell_fds[q]);
	free(nic->doorbell_fds);
	free(nic->irq_fds);
	free(nic->page_fds);
	free(nic->queues);
	free(nic->steer);
	free(nic->rx_dirty_list);
	free(nic->active);
	free(nic->vlan_scratch);
	pthread_mutex_destroy(&nic->ctl_lock);
	free(nic);
}

int nic_start(struct nic *nic, char *err, size_t errlen)
{
	pthread_mutex_lock(&nic->ctl_lock);
	int rc = -1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (nic->dma_cpu >= 0) {
		cpu_set_t cpus;
		CPU_ZERO(&cpus);
		CPU_SET(nic->dma_cpu, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	if (nic->running) {
		snprintf(err, errlen, "nic: the DMA engine is already running");
	} else {
		__atomic_store_n(&nic->stop, 0, __ATOMIC_RELAXED);
		int e = pthread_create(&nic->thread, &attr, nic_engine_main, nic);
		if (e == 0) {
			nic->running = true;
			rc = 0;
		} else if (e == EINVAL && nic->dma_cpu >= 0) {
			snprintf(err, errlen, "nic: cannot pin the DMA engine to "
			         "CPU %d: not available to this process",
			         nic->dma_cpu);
		} else {
			snprintf(err, errlen, "nic: cannot start the DMA engine: %s",
			         strerror(e));
		}
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&nic->ctl_lock);
	return rc;
}

void nic_stop(struct nic *nic)
{
	pthread_mutex_lock(&nic->ctl_lock);
	if (nic->running) {
		__atomic_store_n(&nic->stop, 1, __ATOMIC_RELEASE);
		idle_wake_engine(nic);
		pthread_join(nic->thread, NULL);
		nic->running = false;
	}
	pthread_mutex_unlock(&nic->ctl_lock);
}

uint64_t nic_dma_cpu_ns(struct nic *nic)
{
	pthread_mutex_lock(&nic->ctl_lock);
	uint64_t total = nic->cpu_ns_before;
	clockid_t clock;
	struct timespec ts;
	if (nic->running && pthread_getcpuclockid(nic->thread, &clock) == 0 &&
	    clock_gettime(clock, &ts) == 0)
		total += (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	pthread_mutex_unlock(&nic->ctl_lock);
	return total;
}

void nic_engine_busy(struct nic *nic, uint64_t *work, uint64_t *awake)
{
	*work = __atomic_load_n(&nic->tsc_work, __ATOMIC_RELAXED);
	*awake = __atomic_load_n(&nic->tsc_awake, __ATOMIC_RELAXED);
}

/* ---- register file ------------------------------------------------- */

int nic_queue_page_fd(const struct nic *nic, unsigned q)
{
	return q < nic->num_queues ? nic->page_fds[q] : -1;
}

unsigned nic_num_queues(const struct nic *nic)
{
	return nic->num_queues;
}

struct nic_queue_regs *nic_queue_regs(struct nic *nic, unsigned q)
{
	return (struct nic_queue_regs *)((uint8_t *)nic->regs_map +
	                                 NIC_QUEUE_PAGE_OFFSET(q));
}

const struct nic_global_regs *nic_global_regs(const struct nic *nic)
{
	return nic->global;
}

int nic_queue_irq_fd(const struct nic *nic, unsigned q)
{
	return q < nic->num_queues ? nic->irq_fds[q] : -1;
}

int nic_queue_doorbell_fd(const struct nic *nic, unsigned q)
{
	return q < nic->num_queues ? nic->doorbell_fds[q] : -1;
}

uint64_t nic_engine_sleeps(const struct nic *nic)
{
	return __atomic_load_n(&nic->sleeps, __ATOMIC_RELAXED);
}

const struct wire *nic_wire(const struct nic *nic)
{
	return nic->wire;
}

/* ---- control ------------------------------------------------------- */

static bool check_queue(const struct nic *nic, unsigned q, char *err,
                        size_t errlen)
{
	if (q < nic->num_queues)
		return true;
	snprintf(err, errlen, "nic: no queue pair %u (this NIC has 0..%u)", q,
	         nic->num_queues - 1);
	return false;
}

int nic_queue_reset(struct nic *nic, unsigned q, char *err, size_t errlen)
{
	if (!check_queue(nic, q, err, errlen))
		return -1;
	/* Made here, mapped by the engine between iterations; so is the
	 * doorbell eventfd, which whoever held the old one can no longer
	 * drain. */
	int fd = new_queue_page(q);
	int doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0 || doorbell < 0) {
		snprintf(err, errlen, "nic: cannot make a new page for queue %u: "
		         "%s", q, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (doorbell >= 0)
			close(doorbell);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	nic->new_page_fd = fd;
	nic->new_doorbell_fd = doorbell;
	nic->reset_failed = false;
	nic_engine_call(nic, engine_reset_queue, q);
	bool failed = nic->reset_failed;
	if (nic->new_doorbell_fd >= 0) {   /* not taken: the page failed */
		close(nic->new_doorbell_fd);
		nic->new_doorbell_fd = -1;
	}
	pthread_mutex_unlock(&nic->ctl_lock);
	if (failed)
		snprintf(err, errlen, "nic: cannot map a new page for queue %u",
		         q);
	return failed ? -1 : 0;
}

/* Under ctl_lock: the engine re-reads the global registers. */
static void commit_config(struct nic *nic)
{
	nic_engine_call(nic, engine_reload_config, 0);
}

int nic_queue_set_admin(struct nic *nic, unsigned q, bool up, char *err,
                        size_t errlen)
{
	if (!check_queue(nic, q, err, errlen))
		return -1;
	pthread_mutex_lock(&nic->ctl_lock);
	nic->global->sched[q].admin = up ? NIC_ADMIN_UP : 0;
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
	return 0;
}

int nic_queue_set_rate(struct nic *nic, unsigned q,
                       const struct nic_rate *rate, char *err, size_t errlen)
{
	if (!check_queue(nic, q, err, errlen))
		return -1;
	pthread_mutex_lock(&nic->ctl_lock);
	struct nic_queue_sched_regs *s = &nic->global->sched[q];
	s->rate_bps = rate->bps;
	s->rate_pps = rate->pps;
	s->burst_bytes = rate->burst_bytes;
	s->burst_packets = rate->burst_packets;
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
	return 0;
}

int nic_queue_set_weight(struct nic *nic, unsigned q, unsigned weight,
                         char *err, size_t errlen)
{
	if (!check_queue(nic, q, err, errlen))
		return -1;
	if (weight < 1 || weight > NIC_MAX_WEIGHT) {
		snprintf(err, errlen, "nic: weight %u for queue %u: use 1 to %u",
		         weight, q, NIC_MAX_WEIGHT);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	nic->global->sched[q].weight = weight;
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
	return 0;
}

void nic_set_line_rate(struct nic *nic, uint64_t bps)
{
	pthread_mutex_lock(&nic->ctl_lock);
	nic->global->line_rate_bps = bps;
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
}

void nic_set_link(struct nic *nic, bool up)
{
	pthread_mutex_lock(&nic->ctl_lock);
	if (up)
		nic->global->dev_ctrl |= NIC_CTRL_LINK_UP;
	else
		nic->global->dev_ctrl &= ~NIC_CTRL_LINK_UP;
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
}

int nic_filter_add(struct nic *nic, const struct nic_filter *filter,
                   char *err, size_t errlen)
{
	if (!check_queue(nic, filter->queue, err, errlen))
		return -1;
	if (filter->vlan > 4095 && filter->vlan != NIC_VLAN_ANY) {
		snprintf(err, errlen, "nic: filter VLAN %u: use 0 to 4095 or "
		         "any", filter->vlan);
		return -1;
	}
	if (filter->flags & ~(NIC_FILTER_BROADCAST | NIC_FILTER_PROMISC)) {
		snprintf(err, errlen, "nic: filter flags 0x%x: only broadcast "
		         "(0x%x) and promiscuous (0x%x) may be set",
		         filter->flags, NIC_FILTER_BROADCAST, NIC_FILTER_PROMISC);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	struct nic_filter_regs *table = nic->global->filter;
	unsigned slot = 0;
	while (slot < NIC_MAX_FILTERS && (table[slot].flags & NIC_FILTER_VALID))
		slot++;
	if (slot == NIC_MAX_FILTERS) {
		pthread_mutex_unlock(&nic->ctl_lock);
		snprintf(err, errlen, "nic: the filter table is full (%u "
		         "entries): clear one first", NIC_MAX_FILTERS);
		return -1;
	}
	memcpy(table[slot].mac, filter->mac, 6);
	table[slot].vlan = filter->vlan;
	table[slot].queue = filter->queue;
	table[slot].flags = filter->flags | NIC_FILTER_VALID;
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
	return (int)slot;
}

int nic_filter_clear(struct nic *nic, unsigned slot, char *err,
                     size_t errlen)
{
	if (slot >= NIC_MAX_FILTERS) {
		snprintf(err, errlen, "nic: no filter slot %u (0..%u)", slot,
		         NIC_MAX_FILTERS - 1);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	struct nic_filter_regs *entry = &nic->global->filter[slot];
	if (!(entry->flags & NIC_FILTER_VALID)) {
		pthread_mutex_unlock(&nic->ctl_lock);
		snprintf(err, errlen, "nic: filter slot %u is not in use", slot);
		return -1;
	}
	memset(entry, 0, sizeof(*entry));
	commit_config(nic);
	pthread_mutex_unlock(&nic->ctl_lock);
	return 0;
}

int nic_queue_set_mirror(struct nic *nic, unsigned q, struct nic_mirror *m,
                         char *err, size_t errlen)
{
	if (!check_queue(nic, q, err, errlen))
		return -1;
	pthread_mutex_lock(&nic->ctl_lock);
	nic->call_mirror = m;
	nic->call_mirror_only_if = NULL;
	nic_engine_call(nic, engine_set_mirror, q);
	pthread_mutex_unlock(&nic->ctl_lock);
	return 0;
}

void nic_queue_unset_mirror(struct nic *nic, unsigned q, struct nic_mirror *m)
{
	if (q >= nic->num_queues || !m)
		return;
	pthread_mutex_lock(&nic->ctl_lock);
	nic->call_mirror = NULL;
	nic->call_mirror_only_if = m;
	nic_engine_call(nic, engine_set_mirror, q);
	pthread_mutex_unlock(&nic->ctl_lock);
}

/* ---- statistics ---------------------------------------------------- */

#define READ(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

void nic_queue_stats(const struct nic *nic, unsigned q,
                     struct nic_queue_stats_regs *out)
{
	const struct nic_queue_stats_regs *s = &nic->queues[q].regs->stats;
	*out = (struct nic_queue_stats_regs){
		.tx_packets = READ(s->tx_packets),
		.tx_bytes = READ(s->tx_bytes),
		.rx_packets = READ(s->rx_packets),
		.rx_bytes = READ(s->rx_bytes),
		.rx_dropped = READ(s->rx_dropped),
		.dma_errors = READ(s->dma_errors),
		.desc_errors = READ(s->desc_errors),
		.throttled = READ(s->throttled),
	};
}

void nic_global_stats(const struct nic *nic,
                      struct nic_global_stats_regs *out)
{
	const struct nic_global_stats_regs *s = &nic->global->stats;
	*out = (struct nic_global_stats_regs){
		.rx_frames = READ(s->rx_frames),
		.rx_bytes = READ(s->rx_bytes),
		.tx_frames = READ(s->tx_frames),
		.tx_bytes = READ(s->tx_bytes),
		.rx_no_match = READ(s->rx_no_match),
		.rx_dropped = READ(s->rx_dropped),
		.dma_errors = READ(s->dma_errors),
		.wire_errors = READ(s->wire_errors),
	};
}
