/* test_theme.c: theme file parsing of ui/console/theme.h, and the shipped themes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ui/console/theme.h"

static void test_colors(void **s)
{
	(void)s;
	assert_int_equal(theme_parse_color("default"), -1);
	assert_int_equal(theme_parse_color("red"), 1);
	assert_int_equal(theme_parse_color("white"), 7);
	assert_int_equal(theme_parse_color("bright-blue"), 12);
	assert_int_equal(theme_parse_color("0"), 0);
	assert_int_equal(theme_parse_color("255"), 255);
	assert_int_equal(theme_parse_color("256"), -2);
	assert_int_equal(theme_parse_color("12x"), -2);
	assert_int_equal(theme_parse_color("purple"), -2);
	assert_int_equal(theme_parse_color(""), -2);
}

static void test_color_to8(void **s)
{
	(void)s;
	assert_int_equal(theme_color_to8(-1), -1);
	assert_int_equal(theme_color_to8(3), 3);
	assert_int_equal(theme_color_to8(9), 1);
	assert_int_equal(theme_color_to8(196), 1); /* 5,0,0 */
	assert_int_equal(theme_color_to8(46), 2);  /* 0,5,0 */
	assert_int_equal(theme_color_to8(21), 4);  /* 0,0,5 */
	assert_int_equal(theme_color_to8(231), 7); /* 5,5,5 */
	assert_int_equal(theme_color_to8(16), 0);
	assert_int_equal(theme_color_to8(234), 0);
	assert_int_equal(theme_color_to8(252), 7);
}

static void test_parse_good_file(void **s)
{
	struct theme t;
	struct theme_problems pr = {0};
	const char *text = "; comment\n[theme]\nname = mine\n"
			   "header = white 24 bold underline\n"
			   "  cursor=black,cyan,reverse\n"
			   "# another\n\nstatus.failed = bright-red default\n";

	(void)s;
	theme_init_default(&t);
	assert_int_equal(theme_parse(text, &t, &pr), 0);
	assert_string_equal(t.name, "mine");
	assert_int_equal(t.style[THEME_HEADER].fg, 7);
	assert_int_equal(t.style[THEME_HEADER].bg, 24);
	assert_int_equal(t.style[THEME_HEADER].attrs, THEME_A_BOLD | THEME_A_UNDERLINE);
	assert_int_equal(t.style[THEME_CURSOR].fg, 0);
	assert_int_equal(t.style[THEME_CURSOR].bg, 6);
	assert_int_equal(t.style[THEME_CURSOR].attrs, THEME_A_REVERSE);
	assert_int_equal(t.style[THEME_STATUS_FAILED].fg, 9);
	assert_int_equal(t.style[THEME_STATUS_FAILED].bg, -1);
	assert_int_equal(t.style[THEME_STATUS_FAILED].attrs, 0);
}

static void test_problems_reported_rest_applies(void **s)
{
	struct theme t, def;
	struct theme_problems pr = {0};
	const char *text = "header = white blue\n"
			   "headr = red default\n"
			   "cursor = mauve default\n"
			   "slider = green default blinking\n"
			   "nonsense line\n"
			   "spark.p99 = 196 default bold\n";

	(void)s;
	theme_init_default(&def);
	theme_init_default(&t);
	assert_int_equal(theme_parse(text, &t, &pr), 4);
	assert_int_equal(pr.count, 4);
	assert_int_equal(pr.item[0].line, 2);
	assert_non_null(strstr(pr.item[0].message, "unknown element 'headr'"));
	assert_int_equal(pr.item[1].line, 3);
	assert_non_null(strstr(pr.item[1].message, "'mauve'"));
	assert_int_equal(pr.item[2].line, 4);
	assert_non_null(strstr(pr.item[2].message, "'blinking'"));
	assert_int_equal(pr.item[3].line, 5);
	/* good lines applied, bad ones left at the default */
	assert_int_equal(t.style[THEME_HEADER].bg, 4);
	assert_int_equal(t.style[THEME_SPARK_P99].fg, 196);
	assert_int_equal(t.style[THEME_CURSOR].bg, def.style[THEME_CURSOR].bg);
	assert_int_equal(t.style[THEME_SLIDER].fg, def.style[THEME_SLIDER].fg);
}

static void test_problem_cap(void **s)
{
	struct theme t;
	struct theme_problems pr = {0};
	char text[2048];
	size_t used = 0;

	(void)s;
	for (int i = 0; i < 40; i++)
		used += (size_t)snprintf(text + used, sizeof text - used, "x = y z\n");
	theme_init_default(&t);
	theme_parse(text, &t, &pr);
	assert_int_equal(pr.count, THEME_MAX_PROBLEMS);
	assert_int_equal(pr.item[THEME_MAX_PROBLEMS - 1].line, THEME_MAX_PROBLEMS);
}

static void test_elem_keys_unique(void **s)
{
	(void)s;
	for (int i = 0; i < THEME_COUNT; i++)
		for (int j = 0; j < i; j++)
			assert_string_not_equal(theme_elem_key(i), theme_elem_key(j));
	assert_string_equal(theme_elem_key(THEME_TABLE_HEADER), "table.header");
}

/* The themes shipped in themes/ parse without a single problem. */
static void test_shipped_themes(void **s)
{
	const char *src = getenv("MLDECK_SRC");
	char dir[1024], names[32][64], err[256];
	const char *want[] = {"default", "light", "monochrome", "solarized-dark", "high-contrast"};
	int n;

	(void)s;
	snprintf(dir, sizeof dir, "%s/themes", src ? src : ".");
	n = theme_list(dir, names, 32);
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		int found = 0;

		for (int i = 0; i < n; i++)
			found |= strcmp(names[i], want[w]) == 0;
		assert_true(found);
	}
	for (int i = 0; i < n; i++) {
		struct theme t;
		struct theme_problems pr = {0};

		assert_int_equal(theme_load(dir, names[i], &t, &pr, err, sizeof err), 0);
		if (pr.count)
			fail_msg("%s.ini line %d: %s", names[i], pr.item[0].line,
				 pr.item[0].message);
		assert_string_equal(t.name, names[i]);
	}
	assert_int_equal(
	    theme_load(dir, "no-such-theme", &(struct theme){0}, NULL, err, sizeof err), -1);
	assert_int_equal(theme_load(dir, "../etc", &(struct theme){0}, NULL, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_colors),
	    cmocka_unit_test(test_color_to8),
	    cmocka_unit_test(test_parse_good_file),
	    cmocka_unit_test(test_problems_reported_rest_applies),
	    cmocka_unit_test(test_problem_cap),
	    cmocka_unit_test(test_elem_keys_unique),
	    cmocka_unit_test(test_shipped_themes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
