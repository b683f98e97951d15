/* test_slider.c: the traffic-split rule of ui/console/slider.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/console/slider.h"

static void expect_split(const int *got, const int *want, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	assert_true(slider_valid(got, n));
}

static void test_two_way_moves(void **s)
{
	int v[2] = {90, 10};

	(void)s;
	assert_int_equal(slider_move(v, 2, 1, 1), 1);
	expect_split(v, (int[]){89, 11}, 2);
	assert_int_equal(slider_move(v, 2, 1, 10), 10);
	expect_split(v, (int[]){79, 21}, 2);
	assert_int_equal(slider_move(v, 2, 0, -100), -79);
	expect_split(v, (int[]){0, 100}, 2);
	assert_int_equal(slider_move(v, 2, 1, 5), 0);
	expect_split(v, (int[]){0, 100}, 2);
	assert_int_equal(slider_move(v, 2, 0, 0), 0);
}

static void test_clamps_at_bounds(void **s)
{
	int v[2] = {95, 5};

	(void)s;
	assert_int_equal(slider_move(v, 2, 0, 10), 5);
	expect_split(v, (int[]){100, 0}, 2);
	assert_int_equal(slider_move(v, 2, 1, -10), 0);
	expect_split(v, (int[]){100, 0}, 2);
	assert_int_equal(slider_move(v, 2, 1, 10), 10);
	expect_split(v, (int[]){90, 10}, 2);
}

static void test_proportional_three_way(void **s)
{
	int v[3] = {50, 30, 20};

	(void)s;
	/* others 80 -> 70 keeping 5:3 : 43.75 / 26.25 -> 44 / 26 */
	slider_move(v, 3, 2, 10);
	expect_split(v, (int[]){44, 26, 30}, 3);
	/* giving back keeps the ratio too */
	slider_move(v, 3, 2, -30);
	expect_split(v, (int[]){63, 37, 0}, 3);
}

static void test_tie_goes_to_lower_index(void **s)
{
	int v[3] = {98, 1, 1};
	int w[3] = {0, 50, 50};

	(void)s;
	slider_move(v, 3, 0, 1);
	expect_split(v, (int[]){99, 1, 0}, 3);
	slider_move(w, 3, 0, 1);
	expect_split(w, (int[]){1, 50, 49}, 3);
}

static void test_others_at_zero_share_equally(void **s)
{
	int v[3] = {100, 0, 0};
	int w[4] = {0, 0, 100, 0};

	(void)s;
	slider_move(v, 3, 0, -1);
	expect_split(v, (int[]){99, 1, 0}, 3);
	slider_move(w, 4, 2, -10);
	expect_split(w, (int[]){4, 3, 90, 3}, 4);
}

static void test_all_zero(void **s)
{
	int v[3] = {0, 0, 0};

	(void)s;
	assert_int_equal(slider_move(v, 3, 1, -1), 0);
	expect_split(v, (int[]){0, 0, 0}, 3);
	assert_int_equal(slider_move(v, 3, 1, 1), 100);
	expect_split(v, (int[]){0, 100, 0}, 3);
}

static void test_single_deployment(void **s)
{
	int v[1] = {100};

	(void)s;
	assert_int_equal(slider_move(v, 1, 0, 1), 0);
	assert_int_equal(slider_move(v, 1, 0, -1), -100);
	assert_int_equal(v[0], 0);
	assert_int_equal(slider_move(v, 1, 0, 10), 100);
	assert_int_equal(v[0], 100);
}

static void test_bad_arguments(void **s)
{
	int v[2] = {60, 40};

	(void)s;
	assert_int_equal(slider_move(v, 2, 2, 1), 0);
	assert_int_equal(slider_move(v, 2, -1, 1), 0);
	assert_int_equal(slider_move(v, 0, 0, 1), 0);
	expect_split(v, (int[]){60, 40}, 2);
}

static void test_normalize(void **s)
{
	int a[3] = {50, 50, 50};
	int b[2] = {-5, 30};
	int c[2] = {0, 0};

	(void)s;
	slider_normalize(a, 3);
	expect_split(a, (int[]){34, 33, 33}, 3);
	slider_normalize(b, 2);
	expect_split(b, (int[]){0, 100}, 2);
	slider_normalize(c, 2);
	expect_split(c, (int[]){0, 0}, 2);
	assert_false(slider_valid((int[]){50, 40}, 2));
	assert_false(slider_valid((int[]){110, -10}, 2));
	assert_true(slider_valid((int[]){0, 0}, 2));
}

/* Every sequence of moves keeps a valid split. */
static void test_invariant_random_walk(void **s)
{
	int v[5] = {20, 20, 20, 20, 20};
	unsigned seed = 12345;
	const int steps[] = {1, -1, 10, -10, 37, -100, 100};

	(void)s;
	for (int k = 0; k < 5000; k++) {
		seed = seed * 1103515245u + 12345u;
		int i = (int)((seed >> 8) % 5);
		int d = steps[(seed >> 16) % 7];
		int before = v[i];
		int moved = slider_move(v, 5, i, d);

		assert_int_equal(v[i], before + moved);
		assert_true(slider_valid(v, 5));
		assert_int_equal(slider_sum(v, 5), 100);
	}
}

static void test_mirror(void **s)
{
	int live[3] = {100, 0, 0};
	int mirror[3] = {0, 0, 0};

	(void)s;
	assert_int_equal(slider_mirror_move(mirror, live, 3, 0, 10), -1);
	assert_int_equal(mirror[0], 0);
	assert_int_equal(slider_mirror_move(mirror, live, 3, 1, 10), 0);
	assert_int_equal(mirror[1], 10);
	assert_int_equal(slider_mirror_move(mirror, live, 3, 1, 100), 0);
	assert_int_equal(mirror[1], SLIDER_MAX_MIRROR);
	/* one mirror target: moving another one clears the first */
	assert_int_equal(slider_mirror_move(mirror, live, 3, 2, 5), 0);
	assert_int_equal(mirror[1], 0);
	assert_int_equal(mirror[2], 5);
	assert_int_equal(slider_mirror_move(mirror, live, 3, 2, -50), 0);
	assert_int_equal(mirror[2], 0);
	/* lowering to 0 on a live deployment is allowed */
	assert_int_equal(slider_mirror_move(mirror, live, 3, 0, -1), 0);
	assert_int_equal(slider_mirror_move(mirror, live, 3, 5, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_way_moves),
	    cmocka_unit_test(test_clamps_at_bounds),
	    cmocka_unit_test(test_proportional_three_way),
	    cmocka_unit_test(test_tie_goes_to_lower_index),
	    cmocka_unit_test(test_others_at_zero_share_equally),
	    cmocka_unit_test(test_all_zero),
	    cmocka_unit_test(test_single_deployment),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_invariant_random_walk),
	    cmocka_unit_test(test_mirror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
