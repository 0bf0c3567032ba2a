// Exercises tight integer loops over a small array: fannkuch-redux (every permutation of 1..n, prefix reversals counted), checksum and maximum flips; argv[1] = n.
// args: 8
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	if (n < 3 || n > 12)
		n = 8;
	int perm[16], perm1[16], count[16], maxflips = 0, checksum = 0, r = n, permcount = 0;
	for (int i = 0; i < n; i++)
		perm1[i] = i;
	for (;;) {
		for (; r != 1; r--)
			count[r - 1] = r;
		for (int i = 0; i < n; i++)
			perm[i] = perm1[i];
		int flips = 0;
		for (int k; (k = perm[0]) != 0; flips++)
			for (int i = 0, j = k; i < j; i++, j--) {
				int t = perm[i];
				perm[i] = perm[j];
				perm[j] = t;
			}
		if (flips > maxflips)
			maxflips = flips;
		checksum += permcount % 2 == 0 ? flips : -flips;
		/* the next permutation: rotate the first r + 1 */
		for (;;) {
			if (r == n) {
				printf("%d\nPfannkuchen(%d) = %d\n", checksum, n, maxflips);
				return 0;
			}
			int first = perm1[0];
			for (int i = 0; i < r; i++)
				perm1[i] = perm1[i + 1];
			perm1[r] = first;
			if (--count[r] > 0)
				break;
			r++;
		}
		permcount++;
	}
}
