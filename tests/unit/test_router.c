/* test_router.c: split proportions, mirror share, swaps under concurrency. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/router.h"
#include "state/resource.h"

#define PICKS 100000

static struct traffic make_traffic(const char *spec[], const int pct[], size_t n)
{
	struct traffic t = {0};

	for (size_t i = 0; i < n; i++)
		assert_int_equal(traffic_set(&t, spec[i], pct[i]), 0);
	return t;
}

/* Each deployment's share of PICKS is within 5 sigma of pct/total. */
static void check_split(const char *names[], const int pct[], size_t n)
{
	struct traffic t = make_traffic(names, pct, n);
	struct router *r = router_new(&t, NULL);
	long counts[8] = {0};
	int total = 0;

	assert_non_null(r);
	for (size_t i = 0; i < n; i++)
		total += pct[i];
	assert_int_equal(router_total(r), total);
	for (int k = 0; k < PICKS; k++) {
		const char *d = router_pick(r, router_random());
		size_t i;

		assert_non_null(d);
		for (i = 0; i < n && strcmp(d, names[i]) != 0; i++)
			;
		assert_true(i < n);
		counts[i]++;
	}
	for (size_t i = 0; i < n; i++) {
		double p = (double)pct[i] / total;
		double sigma = sqrt(PICKS * p * (1 - p));

		if (pct[i] == 0)
			assert_int_equal(counts[i], 0);
		assert_true(fabs(counts[i] - PICKS * p) <= 5 * sigma + 1e-9);
	}
	router_unref(r);
	traffic_clear(&t);
}

static void test_split_90_10(void **state)
{
	const char *names[] = {"blue", "green"};
	const int pct[] = {90, 10};

	(void)state;
	check_split(names, pct, 2);
}

static void test_split_50_50(void **state)
{
	const char *names[] = {"blue", "green"};
	const int pct[] = {50, 50};

	(void)state;
	check_split(names, pct, 2);
}

static void test_split_100_0(void **state)
{
	const char *names[] = {"blue", "green"};
	const int pct[] = {100, 0};

	(void)state;
	check_split(names, pct, 2);
}

static void test_split_33_33_34(void **state)
{
	const char *names[] = {"blue", "green", "red"};
	const int pct[] = {33, 33, 34};

	(void)state;
	check_split(names, pct, 3);
}

/* The pick is a pure function of the random number: the extremes land on
 * the first and last deployments. */
static void test_pick_edges(void **state)
{
	const char *names[] = {"blue", "green"};
	const int pct[] = {1, 99};
	struct traffic t = make_traffic(names, pct, 2);
	struct router *r = router_new(&t, NULL);

	(void)state;
	assert_string_equal(router_pick(r, 0), "blue");
	assert_string_equal(router_pick(r, UINT64_MAX), "green");
	assert_int_equal(router_weight(r, "green"), 99);
	assert_int_equal(router_weight(r, "nope"), 0);
	router_unref(r);
	traffic_clear(&t);
}

static void test_all_zero(void **state)
{
	const char *names[] = {"blue", "green"};
	const int pct[] = {0, 0};
	struct traffic t = make_traffic(names, pct, 2);
	struct router *r = router_new(&t, NULL);
	struct router *empty = router_new(NULL, NULL);

	(void)state;
	assert_null(router_pick(r, router_random()));
	assert_null(router_pick(empty, router_random()));
	assert_null(router_mirror(empty, 0));
	assert_null(router_pick(NULL, 1));
	router_unref(r);
	router_unref(empty);
	traffic_clear(&t);
}

static void test_mirror_share(void **state)
{
	const char *live[] = {"blue"};
	const int lpct[] = {100};
	const char *mir[] = {"green"};
	const int mpct[] = {20};
	struct traffic l = make_traffic(live, lpct, 1);
	struct traffic m = make_traffic(mir, mpct, 1);
	struct router *r = router_new(&l, &m);
	long hits = 0;
	double sigma = sqrt(PICKS * 0.2 * 0.8);

	(void)state;
	for (int k = 0; k < PICKS; k++) {
		uint64_t x = router_random();
		const char *d = router_mirror(r, x);

		assert_string_equal(router_pick(r, x), "blue");
		if (d != NULL) {
			assert_string_equal(d, "green");
			hits++;
		}
	}
	assert_true(fabs(hits - PICKS * 0.2) <= 5 * sigma);
	router_unref(r);
	traffic_clear(&l);
	traffic_clear(&m);
}

static void test_random_differs(void **state)
{
	uint64_t a = router_random(), b = router_random();

	(void)state;
	assert_true(a != b);
}

struct swap_ctx {
	struct router_slot *slot;
	atomic_int stop;
	atomic_long picks;
};

static void *picker(void *arg)
{
	struct swap_ctx *c = arg;
	long n = 0;

	while (!atomic_load(&c->stop) && n < 2000000) {
		struct router *r = router_slot_get(c->slot);
		const char *d = router_pick(r, router_random());

		/* Every router ever set has full traffic, so a pick never fails. */
		if (d == NULL || (strcmp(d, "blue") != 0 && strcmp(d, "green") != 0))
			fail_msg("bad pick %s", d ? d : "(null)");
		router_unref(r);
		n++;
	}
	atomic_fetch_add(&c->picks, n);
	return NULL;
}

/* Pickers keep going while the control plane swaps 100/0 -> 0/100 many
 * times: no failed pick, and (under ASan) no leak or use after free. */
static void test_concurrent_swap(void **state)
{
	const char *names[] = {"blue", "green"};
	struct router_slot slot;
	struct swap_ctx c = {.slot = &slot};
	pthread_t th[3];

	(void)state;
	router_slot_init(&slot);
	{
		const int pct[] = {100, 0};
		struct traffic t = make_traffic(names, pct, 2);

		router_slot_set(&slot, router_new(&t, NULL));
		traffic_clear(&t);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, picker, &c), 0);
	for (int step = 0; step < 20000; step++) {
		int pct[2];
		struct traffic t;

		pct[0] = 100 - (step % 11) * 10;
		pct[1] = 100 - pct[0];
		t = make_traffic(names, pct, 2);
		router_slot_set(&slot, router_new(&t, NULL));
		traffic_clear(&t);
	}
	atomic_store(&c.stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_true(atomic_load(&c.picks) > 0);
	router_slot_cleanup(&slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_90_10),	    cmocka_unit_test(test_split_50_50),
	    cmocka_unit_test(test_split_100_0),	    cmocka_unit_test(test_split_33_33_34),
	    cmocka_unit_test(test_pick_edges),	    cmocka_unit_test(test_all_zero),
	    cmocka_unit_test(test_mirror_share),    cmocka_unit_test(test_random_differs),
	    cmocka_unit_test(test_concurrent_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
