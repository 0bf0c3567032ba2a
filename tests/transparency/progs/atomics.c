// Exercises atomics on one thread: <stdatomic.h> on 8..64-bit types, CAS loops, atomic_flag, fences, __sync builtins, 16-byte cmpxchg16b, lock-prefixed bts/xadd, a spinlock and a seqlock.
// cflags: -mcx16
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

static _Atomic uint8_t a8 = 250;
static _Atomic int16_t a16 = -5;
static _Atomic uint32_t a32 = 1;
static _Atomic int64_t a64 = 1LL << 40;
static atomic_flag flag = ATOMIC_FLAG_INIT;
static _Atomic(void *) aptr;
static unsigned __int128 wide __attribute__((aligned(16)));
static volatile long plain = 100;

static atomic_int lock_word;
static void spin_lock(atomic_int *l)
{
	int expected = 0;
	while (!atomic_compare_exchange_weak_explicit(l, &expected, 1, memory_order_acquire, memory_order_relaxed))
		expected = 0;
}
static void spin_unlock(atomic_int *l) { atomic_store_explicit(l, 0, memory_order_release); }

struct seq { atomic_uint seq; int a, b; };
static void seq_write(struct seq *s, int a, int b)
{
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel);
	s->a = a;
	s->b = b;
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
}
static int seq_read(struct seq *s, int *a, int *b)
{
	unsigned tries = 0, v0, v1;
	do {
		v0 = atomic_load_explicit(&s->seq, memory_order_acquire);
		*a = s->a;
		*b = s->b;
		atomic_thread_fence(memory_order_acquire);
		v1 = atomic_load_explicit(&s->seq, memory_order_relaxed);
		tries++;
	} while (v0 != v1 || (v0 & 1));
	return (int)tries;
}

int main(void)
{
	printf("lock-free: 1:%d 2:%d 4:%d 8:%d ptr:%d\n", atomic_is_lock_free(&a8), atomic_is_lock_free(&a16), atomic_is_lock_free(&a32),
	       atomic_is_lock_free(&a64), atomic_is_lock_free(&aptr));
	uint8_t o8 = atomic_fetch_add(&a8, 10);
	printf("u8: fetch_add old=%u new=%u\n", o8, atomic_load(&a8));
	int16_t o16 = atomic_fetch_sub(&a16, 32767);
	printf("i16: fetch_sub old=%d new=%d\n", o16, atomic_load(&a16));
	uint32_t o32a = atomic_fetch_or(&a32, 0xf0), o32b = atomic_fetch_and(&a32, 0x3c), o32c = atomic_fetch_xor(&a32, 0xffff);
	printf("u32: or %u and %u xor %u -> %u\n", o32a, o32b, o32c, atomic_load(&a32));
	int64_t o64 = atomic_exchange(&a64, -7);
	printf("i64: exchange old=%lld new=%lld\n", (long long)o64, (long long)atomic_load(&a64));
	int64_t exp = 3;
	_Bool ok1 = atomic_compare_exchange_strong(&a64, &exp, 9);
	printf("cas fail: ok=%d expected now %lld\n", ok1, (long long)exp);
	_Bool ok2 = atomic_compare_exchange_strong(&a64, &exp, 9);
	printf("cas succeed: ok=%d value %lld\n", ok2, (long long)atomic_load(&a64));
	/* CAS loop computing a running max and a multiply (no fetch_mul exists) */
	static _Atomic uint64_t prod = 1;
	for (uint64_t i = 1; i <= 20; i++) {
		uint64_t cur = atomic_load_explicit(&prod, memory_order_relaxed);
		while (!atomic_compare_exchange_weak(&prod, &cur, cur * i))
			;
	}
	printf("product via CAS = %llu\n", (unsigned long long)atomic_load(&prod));
	_Bool f1 = atomic_flag_test_and_set(&flag);
	_Bool f2 = atomic_flag_test_and_set(&flag);
	atomic_flag_clear(&flag);
	_Bool f3 = atomic_flag_test_and_set(&flag);
	printf("flag: %d %d after clear %d\n", f1, f2, f3);
	int x = 5;
	void *prev = atomic_exchange(&aptr, &x);
	printf("ptr exchange: prev null=%d now points to %d\n", prev == NULL, *(int *)atomic_load(&aptr));
	atomic_thread_fence(memory_order_seq_cst);
	atomic_signal_fence(memory_order_seq_cst);

	/* legacy __sync builtins */
	long v = __sync_fetch_and_add(&plain, 5);
	long w2 = __sync_add_and_fetch(&plain, 5);
	long w3 = __sync_sub_and_fetch(&plain, 1);
	long w4 = __sync_fetch_and_or(&plain, 0x100);
	long w5 = __sync_and_and_fetch(&plain, ~1L);
	long w6 = __sync_val_compare_and_swap(&plain, 366, 1000);
	_Bool b1 = __sync_bool_compare_and_swap(&plain, 1000, 2000);
	long w7 = __sync_lock_test_and_set(&plain, 42);
	__sync_synchronize();
	printf("__sync: %ld %ld %ld %ld %ld %ld %d %ld final %ld\n", v, w2, w3, w4, w5, w6, b1, w7, plain);
	__sync_lock_release(&plain);
	printf("after lock_release %ld\n", plain);

	/* 16-byte compare-exchange (lock cmpxchg16b) */
	wide = ((unsigned __int128)0x1111222233334444ull << 64) | 0x5555666677778888ull;
	unsigned __int128 expect = wide, desired = ((unsigned __int128)0xaaaabbbbccccddddull << 64) | 0xeeeeffff00001111ull;
	unsigned __int128 seen = __sync_val_compare_and_swap(&wide, expect, desired);
	_Bool again = __sync_bool_compare_and_swap(&wide, expect, desired);
	printf("cmpxchg16b: seen %016llx%016llx now %016llx%016llx second cas %d\n", (unsigned long long)(seen >> 64),
	       (unsigned long long)seen, (unsigned long long)(wide >> 64), (unsigned long long)wide, again);

	/* lock-prefixed bit test and set, xadd, xchg through inline asm */
	unsigned long bits = 0;
	unsigned char cf;
	__asm__ volatile("lock btsq $5, %0; setc %1" : "+m"(bits), "=q"(cf) : : "cc", "memory");
	printf("lock bts: bits=%lx cf=%u", bits, cf);
	__asm__ volatile("lock btsq $5, %0; setc %1" : "+m"(bits), "=q"(cf) : : "cc", "memory");
	printf(" again cf=%u", cf);
	__asm__ volatile("lock btrq $5, %0; setc %1" : "+m"(bits), "=q"(cf) : : "cc", "memory");
	printf(" btr cf=%u bits=%lx\n", cf, bits);
	long counter = 10, add = 7;
	__asm__ volatile("lock xaddq %0, %1" : "+r"(add), "+m"(counter) : : "memory");
	long swap = 99;
	__asm__ volatile("xchgq %0, %1" : "+r"(swap), "+m"(counter) : : "memory");
	printf("xadd old=%ld, xchg got %ld, counter %ld\n", add, swap, counter);
	int dec = 3;
	unsigned char zf;
	__asm__ volatile("lock decl %0; sete %1" : "+m"(dec), "=q"(zf) : : "cc", "memory");
	printf("lock dec: %d zf=%u\n", dec, zf);

	long total = 0;
	for (int i = 0; i < 10000; i++) {
		spin_lock(&lock_word);
		total += i;
		spin_unlock(&lock_word);
	}
	struct seq s = {0, 0, 0};
	int ra = 0, rb = 0, tries = 0;
	for (int i = 0; i < 1000; i++) {
		seq_write(&s, i, -i);
		tries += seq_read(&s, &ra, &rb);
	}
	printf("spinlock total %ld, seqlock last (%d,%d) seq %u tries %d\n", total, ra, rb, atomic_load(&s.seq), tries);
	return 0;
}
