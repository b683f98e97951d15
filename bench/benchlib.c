/* benchlib.c: clocks, medians and random numbers for the micro-benchmarks. */
#include "bench/benchlib.h"

#include <math.h>
#include <stdlib.h>

double bench_now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

double bench_unit(uint64_t *s)
{
	return (double)(bench_rng(s) >> 11) / 9007199254740992.0;
}

double bench_normal(uint64_t *s)
{
	double u = bench_unit(s) + 1e-12, v = bench_unit(s);

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
