/* test_sparkline.c: scaling and rendering of ui/console/sparkline.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ui/console/sparkline.h"

static void test_scales_zero_to_max(void **s)
{
	double v[] = {0, 1, 2, 4, 8};
	int out[5];

	(void)s;
	assert_true(sparkline_scale(v, 5, 5, 8, out) == 8.0);
	/* round(v / 8 * 7) */
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 2);
	assert_int_equal(out[3], 4);
	assert_int_equal(out[4], 7);
}

static void test_flat_series_is_flat_top(void **s)
{
	double v[] = {3, 3, 3};
	int out[3];

	(void)s;
	sparkline_scale(v, 3, 3, 8, out);
	for (int i = 0; i < 3; i++)
		assert_int_equal(out[i], 7);
}

static void test_missing_and_padding(void **s)
{
	double v[] = {-1, NAN, 2};
	int out[6];

	(void)s;
	assert_true(sparkline_scale(v, 3, 6, 8, out) == 2.0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(out[i], -1);
	assert_int_equal(out[5], 7);
}

static void test_keeps_last_width_samples(void **s)
{
	double v[] = {100, 1, 2};
	int out[2];

	(void)s;
	/* the 100 is out of the window and does not flatten the rest */
	assert_true(sparkline_scale(v, 3, 2, 8, out) == 2.0);
	assert_int_equal(out[0], 4); /* round(3.5) */
	assert_int_equal(out[1], 7);
}

static void test_all_zero_and_empty(void **s)
{
	double v[] = {0, 0};
	int out[4];

	(void)s;
	assert_true(sparkline_scale(v, 2, 2, 8, out) == 0.0);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_true(sparkline_scale(v, 0, 4, 8, out) == 0.0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], -1);
	assert_true(sparkline_scale(v, 2, 0, 8, out) == 0.0);
}

static void test_render_utf8_and_ascii(void **s)
{
	int lv[] = {0, 3, -1, 7};
	char buf[64];

	(void)s;
	assert_int_equal(sparkline_render(lv, 4, 1, buf, sizeof buf), 4);
	assert_string_equal(buf, "\xe2\x96\x81\xe2\x96\x84 \xe2\x96\x88");
	assert_int_equal(sparkline_render(lv, 4, 0, buf, sizeof buf), 4);
	assert_string_equal(buf, "_: #");
}

static void test_render_truncates(void **s)
{
	int lv[] = {7, 7, 7};
	char buf[8];

	(void)s;
	assert_int_equal(sparkline_render(lv, 3, 1, buf, sizeof buf), 2);
	assert_int_equal(strlen(buf), 6);
	assert_int_equal(sparkline_render(lv, 3, 0, buf, 3), 2);
	assert_string_equal(buf, "##");
	assert_int_equal(sparkline_render(lv, 3, 0, buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scales_zero_to_max),
	    cmocka_unit_test(test_flat_series_is_flat_top),
	    cmocka_unit_test(test_missing_and_padding),
	    cmocka_unit_test(test_keeps_last_width_samples),
	    cmocka_unit_test(test_all_zero_and_empty),
	    cmocka_unit_test(test_render_utf8_and_ascii),
	    cmocka_unit_test(test_render_truncates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
