/* test_runs.c: sorted runs read back merged, across spills to the temporary
 * file: every value in order with its count, ties and -0.0 included; the
 * radix sort against qsort. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/monitor/runs.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252ull;

static double next_value(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	switch (rng % 4) {
	case 0: return (double)(int64_t)(rng % 1000) - 500;           /* ties */
	case 1: return ldexp((double)(rng >> 11), -53) * 1e6 - 5e5;   /* spread */
	case 2: return (rng & 8) ? 0.0 : -0.0;
	default: return ldexp((double)(rng >> 11), (int)(rng % 200) - 150) * ((rng & 16) ? 1 : -1);
	}
}

static void test_sort(void **state)
{
	size_t n = 100000;
	double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *t = malloc(n * sizeof *t);

	(void)state;
	for (size_t i = 0; i < n; i++)
		a[i] = b[i] = next_value();
	runs_sort(a, n, t);
	qsort(b, n, sizeof *b, cmp);
	for (size_t i = 0; i < n; i++)
		assert_true(a[i] == b[i]);
	free(a);
	free(b);
	free(t);
}

/* Two columns, one past the budget: spills, then a merged read of each. */
static void test_merge_across_spills(void **state)
{
	size_t n = RUNS_BUDGET * 2 + 12345, m = 1000;
	double *all = malloc(n * sizeof *all), *few = malloc(m * sizeof *few), v;
	struct runs *r = runs_new("/tmp");
	struct runs_reader *rd;
	struct error err;
	uint64_t count, total = 0;
	size_t i = 0;
	int a, b, k;

	(void)state;
	a = runs_column(r);
	b = runs_column(r);
	for (size_t j = 0; j < n; j++) {
		all[j] = next_value();
		assert_int_equal(runs_add(r, a, all[j], &err), 0);
		if (j < m) {
			few[j] = -all[j];
			assert_int_equal(runs_add(r, b, few[j], &err), 0);
		}
	}
	runs_finish(r);
	assert_int_equal(runs_count(r, a), n);
	qsort(all, n, sizeof *all, cmp);
	rd = runs_open(r, a, &err);
	assert_non_null(rd);
	while ((k = runs_next(rd, &v, &count, &err)) > 0) {
		assert_true(v == all[i]);
		for (uint64_t c = 0; c < count; c++)
			assert_true(all[i + c] == v);
		assert_true(i + count == n || all[i + count] != v); /* each value once */
		i += count;
		total += count;
	}
	assert_int_equal(k, 0);
	assert_int_equal(total, n);
	runs_close(rd);
	qsort(few, m, sizeof *few, cmp);
	rd = runs_open(r, b, &err);
	for (i = 0; runs_next(rd, &v, &count, &err) > 0; i += count)
		assert_true(v == few[i]);
	assert_int_equal(i, m);
	runs_close(rd);
	runs_free(r);
	free(all);
	free(few);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sort),
	    cmocka_unit_test(test_merge_across_spills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
