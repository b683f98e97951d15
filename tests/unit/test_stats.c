/* test_stats.c: the rules around the statistics, as tables: metric names,
 * pass/fail against a threshold, Spark's type inference and Azure's
 * categorical rule, casts for the data type error rate. The numbers
 * themselves are checked against SciPy in tests/e2e/test_monitor_stats.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/monitor/stats.h"

static void test_metric_names(void **state)
{
	enum stats_metric m;

	(void)state;
	for (int i = 0; i < STATS_METRICS; i++) {
		assert_int_equal(stats_metric_parse(stats_metric_name((enum stats_metric)i), &m), 0);
		assert_int_equal(m, i);
		assert_int_equal(stats_metric_parse(stats_metric_snake((enum stats_metric)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(stats_metric_parse("normalizedwassersteindistance", &m), 0);
	assert_int_equal(m, STATS_WASSERSTEIN);
	assert_int_equal(stats_metric_parse("chi_squared_test", &m), 0);
	assert_int_equal(m, STATS_CHI2);
	assert_int_equal(stats_metric_parse("Hellinger", &m), -1);
}

struct pass_case {
	enum stats_metric m;
	double value, threshold;
	int passed;
};

static const struct pass_case passes[] = {
    {STATS_WASSERSTEIN, 0.05, 0.1, 1},
    {STATS_WASSERSTEIN, 0.1, 0.1, 1}, /* Azure: breached when value > threshold */
    {STATS_WASSERSTEIN, 0.11, 0.1, 0},
    {STATS_JENSEN_SHANNON, 0.2, 0.1, 0},
    {STATS_KS, 0.01, 0.05, 0}, /* p-values: breached below */
    {STATS_KS, 0.05, 0.05, 1},
    {STATS_CHI2, 0.5, 0.05, 1},
    {STATS_NULL_RATE, 0.0, 0.0, 1},
    {STATS_NULL_RATE, 0.001, 0.0, 0},
    {STATS_OUT_OF_BOUNDS_RATE, NAN, 0.0, 1}, /* no rows: nothing breached */
};

static void test_metric_passed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++)
		assert_int_equal(stats_metric_passed(passes[i].m, passes[i].value,
						     passes[i].threshold),
				 passes[i].passed);
}

struct type_case {
	uint64_t ints, doubles, bools, strings, others;
	enum stats_type type;
};

static const struct type_case types[] = {
    {0, 0, 0, 0, 0, STATS_TYPE_NONE},    {10, 0, 0, 0, 0, STATS_TYPE_LONG},
    {10, 1, 0, 0, 0, STATS_TYPE_DOUBLE}, {0, 5, 0, 0, 0, STATS_TYPE_DOUBLE},
    {0, 0, 4, 0, 0, STATS_TYPE_BOOLEAN}, {0, 0, 0, 3, 0, STATS_TYPE_STRING},
    {5, 0, 0, 1, 0, STATS_TYPE_STRING},  {0, 0, 2, 0, 1, STATS_TYPE_STRING},
    {1, 0, 1, 0, 0, STATS_TYPE_STRING},
};

static void test_type_inference(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		struct stats_kinds k = {{types[i].ints, types[i].doubles, types[i].bools,
					 types[i].strings, types[i].others}};
		assert_int_equal(stats_type_infer(&k), types[i].type);
	}
}

static void test_categorical_rule(void **state)
{
	(void)state;
	assert_false(stats_type_categorical(STATS_TYPE_DOUBLE, 2, 1000));
	assert_true(stats_type_categorical(STATS_TYPE_STRING, 900, 1000));
	assert_true(stats_type_categorical(STATS_TYPE_BOOLEAN, 2, 1000));
	assert_true(stats_type_categorical(STATS_TYPE_LONG, 49, 1000));  /* 4.9 % */
	assert_false(stats_type_categorical(STATS_TYPE_LONG, 50, 1000)); /* 5 % */
	assert_false(stats_type_categorical(STATS_TYPE_LONG, 0, 0));
}

static void test_casts(void **state)
{
	(void)state;
	assert_true(stats_type_accepts(STATS_TYPE_LONG, STATS_KIND_DOUBLE, 0, NULL));
	assert_true(stats_type_accepts(STATS_TYPE_DOUBLE, STATS_KIND_BOOL, 0, NULL));
	assert_true(stats_type_accepts(STATS_TYPE_DOUBLE, STATS_KIND_STRING, 1, "12.5"));
	assert_false(stats_type_accepts(STATS_TYPE_DOUBLE, STATS_KIND_STRING, 0, "twelve"));
	assert_false(stats_type_accepts(STATS_TYPE_LONG, STATS_KIND_OTHER, 0, NULL));
	assert_true(stats_type_accepts(STATS_TYPE_BOOLEAN, STATS_KIND_STRING, 0, "Yes"));
	assert_false(stats_type_accepts(STATS_TYPE_BOOLEAN, STATS_KIND_STRING, 0, "maybe"));
	assert_true(stats_type_accepts(STATS_TYPE_STRING, STATS_KIND_INT, 0, NULL));
	assert_false(stats_type_accepts(STATS_TYPE_STRING, STATS_KIND_OTHER, 0, NULL));
}

static void test_sturges(void **state)
{
	(void)state;
	assert_int_equal(stats_sturges(0), 1);
	assert_int_equal(stats_sturges(1), 1);
	assert_int_equal(stats_sturges(2), 2);
	assert_int_equal(stats_sturges(1000), 11);   /* ceil(9.97 + 1) */
	assert_int_equal(stats_sturges(1024), 11);   /* log2 exact: 10 + 1 */
	assert_int_equal(stats_sturges(1000000), 21);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metric_names),    cmocka_unit_test(test_metric_passed),
	    cmocka_unit_test(test_type_inference),  cmocka_unit_test(test_categorical_rule),
	    cmocka_unit_test(test_casts),           cmocka_unit_test(test_sturges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
