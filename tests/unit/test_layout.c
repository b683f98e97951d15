/* test_layout.c: pane rectangles of ui/console/layout.h at several sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/console/layout.h"

/* Every pane inside the screen, none overlapping, header first, hint last. */
static void check_tiles(const struct layout *l, int cols, int lines)
{
	const struct rect *r[] = {&l->header, &l->table, &l->detail, &l->message, &l->hint};
	int cells = 0;

	for (int i = 0; i < 5; i++) {
		assert_true(r[i]->h > 0 && r[i]->w > 0);
		assert_true(r[i]->y >= 0 && r[i]->x >= 0);
		assert_true(r[i]->y + r[i]->h <= lines && r[i]->x + r[i]->w <= cols);
		cells += r[i]->h * r[i]->w;
		for (int j = 0; j < i; j++) {
			int oy = r[i]->y < r[j]->y + r[j]->h && r[j]->y < r[i]->y + r[i]->h;
			int ox = r[i]->x < r[j]->x + r[j]->w && r[j]->x < r[i]->x + r[i]->w;

			assert_false(oy && ox);
		}
	}
	assert_int_equal(cells, cols * lines);
	assert_int_equal(l->header.y, 0);
	assert_int_equal(l->hint.y, lines - 1);
	assert_int_equal(l->message.y, lines - 2);
}

static void test_80x24(void **s)
{
	struct layout l;

	(void)s;
	assert_int_equal(layout_compute(80, 24, &l), 0);
	check_tiles(&l, 80, 24);
	assert_false(l.wide);
	assert_int_equal(l.table.y, 1);
	assert_int_equal(l.table.h, 13);
	assert_int_equal(l.detail.h, 8);
	assert_int_equal(l.detail.w, 80);
}

static void test_120x40(void **s)
{
	struct layout l;

	(void)s;
	assert_int_equal(layout_compute(120, 40, &l), 0);
	check_tiles(&l, 120, 40);
	assert_false(l.wide);
	assert_int_equal(l.detail.h, 12);
	assert_int_equal(l.table.h, 40 - 3 - 12);
}

static void test_200x60_is_wide(void **s)
{
	struct layout l;

	(void)s;
	assert_int_equal(layout_compute(200, 60, &l), 0);
	check_tiles(&l, 200, 60);
	assert_true(l.wide);
	assert_int_equal(l.table.w, 120);
	assert_int_equal(l.detail.x, 120);
	assert_int_equal(l.detail.w, 80);
	assert_int_equal(l.table.h, 57);
	assert_int_equal(l.detail.h, 57);
}

static void test_too_small(void **s)
{
	struct layout l;

	(void)s;
	assert_int_equal(layout_compute(79, 24, &l), -1);
	assert_int_equal(l.table.h, 0);
	assert_int_equal(layout_compute(80, 23, &l), -1);
	assert_int_equal(layout_compute(0, 0, &l), -1);
	assert_int_equal(layout_compute(-5, 100, &l), -1);
}

static void test_every_size_tiles(void **s)
{
	struct layout l;

	(void)s;
	for (int c = LAYOUT_MIN_COLS; c <= 260; c += 7)
		for (int r = LAYOUT_MIN_LINES; r <= 90; r += 5) {
			assert_int_equal(layout_compute(c, r, &l), 0);
			check_tiles(&l, c, r);
			assert_true(l.table.h >= 4);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_80x24),
	    cmocka_unit_test(test_120x40),
	    cmocka_unit_test(test_200x60_is_wide),
	    cmocka_unit_test(test_too_small),
	    cmocka_unit_test(test_every_size_tiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
