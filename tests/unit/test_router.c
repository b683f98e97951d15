/* test_router.c: split proportions, mirror share, swaps under concurrency. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

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

#define PICKERS 3
#define SWAPS 20000
#define ROUNDS 20           /* the swaps come in rounds; each picker picks in every one */
#define WAIT_MS (120 * 1000) /* a generous bound on a picker's progress, for loaded machines */

struct swap_ctx {
	struct router_slot *slot;
	atomic_int stop;
	atomic_long picks[PICKERS]; /* per picker, published after each pick */
	atomic_long bad;            /* failed or unknown picks */
};

struct picker_arg {
	struct swap_ctx *c;
	int id;
};

static void *picker(void *arg)
{
	struct picker_arg *a = arg;
	struct swap_ctx *c = a->c;

	for (long n = 1; !atomic_load(&c->stop); n++) {
		struct router *r = router_slot_get(c->slot);
		const char *d = router_pick(r, router_random());

		/* Every router ever set has full traffic, so a pick never fails. */
		if (d == NULL || (strcmp(d, "blue") != 0 && strcmp(d, "green") != 0))
			atomic_fetch_add(&c->bad, 1);
		router_unref(r);
		atomic_fetch_add(&c->picks[a->id], 1);
		if (n % 256 == 0)
			sched_yield(); /* the swapper runs even where threads are not preempted */
	}
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until every picker has picked since seen[] (then updates seen[]); 0,
 * or -1 when one made no progress within WAIT_MS. Polls: the pickers may not
 * have been scheduled yet on a busy machine. */
static int wait_for_picks(struct swap_ctx *c, long seen[PICKERS])
{
	int64_t until = now_ms() + WAIT_MS;
	struct timespec nap = {0, 1000000};

	for (int i = 0; i < PICKERS; i++) {
		while (atomic_load(&c->picks[i]) == seen[i]) {
			if (now_ms() > until)
				return -1;
			nanosleep(&nap, NULL);
		}
		seen[i] = atomic_load(&c->picks[i]);
	}
	return 0;
}

static void set_split(struct router_slot *slot, const char *names[], int blue)
{
	const int pct[] = {blue, 100 - blue};
	struct traffic t = make_traffic(names, pct, 2);

	router_slot_set(slot, router_new(&t, NULL));
	traffic_clear(&t);
}

/* Pickers keep going while the control plane swaps 100/0 -> 0/100 many
 * times: no failed pick, and (under ASan) no leak or use after free. Every
 * picker is seen picking before the swaps start and again in each round of
 * them, however the threads are scheduled, so picks and swaps overlap. */
static void test_concurrent_swap(void **state)
{
	const char *names[] = {"blue", "green"};
	struct router_slot slot;
	struct swap_ctx c = {.slot = &slot};
	struct picker_arg args[PICKERS];
	long seen[PICKERS] = {0};
	pthread_t th[PICKERS];
	int stalled;

	(void)state;
	router_slot_init(&slot);
	set_split(&slot, names, 100);
	for (int i = 0; i < PICKERS; i++) {
		args[i] = (struct picker_arg){&c, i};
		assert_int_equal(pthread_create(&th[i], NULL, picker, &args[i]), 0);
	}
	stalled = wait_for_picks(&c, seen);
	for (int step = 0; step < SWAPS && !stalled; step++) {
		set_split(&slot, names, 100 - (step % 11) * 10);
		if ((step + 1) % (SWAPS / ROUNDS) == 0)
			stalled = wait_for_picks(&c, seen);
	}
	atomic_store(&c.stop, 1);
	for (int i = 0; i < PICKERS; i++)
		pthread_join(th[i], NULL);
	router_slot_cleanup(&slot);
	assert_int_equal(stalled, 0);
	assert_int_equal(atomic_load(&c.bad), 0);
	for (int i = 0; i < PICKERS; i++)
		assert_true(atomic_load(&c.picks[i]) >= ROUNDS + 1);
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
