// Exercises recursion: naive fib, mutual recursion (even/odd, Hofstadter F/M), Ackermann, Hanoi, N-queens, permutations; argv[1] = fib n.
#include <stdio.h>
#include <stdlib.h>

static unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int is_odd(unsigned n);
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

static int hof_m(int n);
static int hof_f(int n) { return n == 0 ? 1 : n - hof_m(hof_f(n - 1)); }
static int hof_m(int n) { return n == 0 ? 0 : n - hof_f(hof_m(n - 1)); }

static unsigned long ack_calls;
static unsigned long ack(unsigned long m, unsigned long n)
{
	ack_calls++;
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ack(m - 1, 1);
	return ack(m - 1, ack(m, n - 1));
}

static unsigned long hanoi_moves, hanoi_sig;
static void hanoi(int n, int from, int to, int via)
{
	if (n == 0)
		return;
	hanoi(n - 1, from, via, to);
	hanoi_moves++;
	hanoi_sig = hanoi_sig * 31 + (unsigned long)(from * 3 + to);
	hanoi(n - 1, via, to, from);
}

static int queens(int n, int row, unsigned cols, unsigned d1, unsigned d2)
{
	if (row == n)
		return 1;
	int count = 0;
	for (int c = 0; c < n; c++) {
		unsigned a = 1u << c, b = 1u << (row + c), d = 1u << (row - c + n - 1);
		if ((cols & a) || (d1 & b) || (d2 & d))
			continue;
		count += queens(n, row + 1, cols | a, d1 | b, d2 | d);
	}
	return count;
}

static unsigned long perm_count, perm_hash;
static void permute(int *a, int k, int n)
{
	if (k == n) {
		unsigned long h = 0;
		for (int i = 0; i < n; i++)
			h = h * 10 + (unsigned long)a[i];
		perm_count++;
		perm_hash = perm_hash * 1000003u ^ h;
		return;
	}
	for (int i = k; i < n; i++) {
		int t = a[k]; a[k] = a[i]; a[i] = t;
		permute(a, k + 1, n);
		t = a[k]; a[k] = a[i]; a[i] = t;
	}
}

/* Recursion through a struct of function pointers (a tiny expression tree). */
struct node {
	int (*eval)(const struct node *);
	int val;
	const struct node *l, *r;
};
static int ev_num(const struct node *n) { return n->val; }
static int ev_add(const struct node *n) { return n->l->eval(n->l) + n->r->eval(n->r); }
static int ev_mul(const struct node *n) { return n->l->eval(n->l) * n->r->eval(n->r); }

static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 24;
	printf("fib(%u) = %lu\n", n, fib(n));
	for (unsigned i = 0; i <= 20; i++)
		printf("%lu%c", fib(i), i == 20 ? '\n' : ' ');
	printf("is_even(10001)=%d is_odd(10001)=%d is_even(5000)=%d\n",
	       is_even(10001), is_odd(10001), is_even(5000));
	printf("hofstadter F:");
	for (int i = 0; i < 20; i++)
		printf(" %d", hof_f(i));
	printf("\nhofstadter M:");
	for (int i = 0; i < 20; i++)
		printf(" %d", hof_m(i));
	printf("\n");
	for (unsigned long m = 0; m <= 3; m++) {
		for (unsigned long k = 0; k <= (m == 3 ? 6u : 8u); k++) {
			ack_calls = 0;
			unsigned long r = ack(m, k);
			printf("ack(%lu,%lu)=%lu calls=%lu\n", m, k, r, ack_calls);
		}
	}
	hanoi(16, 0, 2, 1);
	printf("hanoi(16): moves=%lu sig=%016lx\n", hanoi_moves, hanoi_sig);
	for (int q = 1; q <= 9; q++)
		printf("queens(%d)=%d\n", q, queens(q, 0, 0, 0, 0));
	int a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	permute(a, 0, 8);
	printf("permutations(8): count=%lu hash=%016lx\n", perm_count, perm_hash);
	struct node n2 = {ev_num, 2, 0, 0}, n3 = {ev_num, 3, 0, 0}, n7 = {ev_num, 7, 0, 0};
	struct node add = {ev_add, 0, &n2, &n3}, mul = {ev_mul, 0, &add, &n7};
	struct node top = {ev_add, 0, &mul, &mul};
	printf("tree eval = %d\n", top.eval(&top));
	printf("gcd(1071,462)=%d gcd(832040,514229)=%d\n", gcd(1071, 462), gcd(832040, 514229));
	return 0;
}
