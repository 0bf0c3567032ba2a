// cflags: -fopenmp
// variants: glibc dyn
// OpenMP with a team of four on the guest's one CPU: a parallel reduction,
// a parallel for with a dynamic schedule, critical sections, a barrier,
// and tasks.  musl has no libgomp: glibc builds only.
#include <omp.h>
#include <stdio.h>

int main(void)
{
	omp_set_num_threads(4);
	long sum = 0;
	int team = 0;
#pragma omp parallel reduction(+ : sum)
	{
#pragma omp single
		team = omp_get_num_threads();
		for (long i = omp_get_thread_num(); i < 8000000; i += omp_get_num_threads())
			sum += i % 7;
	}
	double acc[64] = {0};
#pragma omp parallel for schedule(dynamic, 3)
	for (int i = 0; i < 64; i++)
		for (int k = 1; k <= 20000; k++)
			acc[i] += 1.0 / (k + i);
	double total = 0;
	for (int i = 0; i < 64; i++)
		total += acc[i];
	int crit = 0, after = 0;
#pragma omp parallel
	{
#pragma omp critical
		crit++;
#pragma omp barrier
#pragma omp atomic
		after += crit;
	}
	long fib_tasks = 0;
#pragma omp parallel
#pragma omp single
	for (int t = 0; t < 100; t++) {
#pragma omp task
		{
#pragma omp atomic
			fib_tasks += t;
		}
	}
	printf("team %d, sum %ld, harmonic rows %.9f, critical %d then %d, tasks %ld\n", team, sum, total, crit, after,
	       fib_tasks);
	return 0;
}
