// Exercises the allocator the way a binary-trees benchmark does: complete binary trees of small nodes built, walked and freed depth after depth (mallocng maps and unmaps its groups over and over); argv[1] = maximum depth.
// args: 14
#include <stdio.h>
#include <stdlib.h>

struct node { struct node *left, *right; };

static struct node *build(int depth)
{
	struct node *n = malloc(sizeof *n);
	if (!n) {
		printf("out of memory\n");
		exit(1);
	}
	n->left = depth > 0 ? build(depth - 1) : NULL;
	n->right = depth > 0 ? build(depth - 1) : NULL;
	return n;
}

static long check(const struct node *n) { return 1 + (n->left ? check(n->left) + check(n->right) : 0); }

static void drop(struct node *n)
{
	if (n->left) {
		drop(n->left);
		drop(n->right);
	}
	free(n);
}

int main(int argc, char **argv)
{
	int max = argc > 1 ? atoi(argv[1]) : 14;
	if (max < 6)
		max = 6;
	struct node *stretch = build(max + 1);
	printf("stretch tree of depth %d\t check: %ld\n", max + 1, check(stretch));
	drop(stretch);
	struct node *long_lived = build(max);
	for (int depth = 4; depth <= max; depth += 2) {
		long iterations = 1L << (max - depth + 4), sum = 0;
		for (long i = 0; i < iterations; i++) {
			struct node *t = build(depth);
			sum += check(t);
			drop(t);
		}
		printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, sum);
	}
	printf("long lived tree of depth %d\t check: %ld\n", max, check(long_lived));
	drop(long_lived);
	return 0;
}
