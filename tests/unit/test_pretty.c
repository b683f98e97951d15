/* test_pretty: ui/console/pretty.h's layout of JSON answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ui/console/pretty.h"

static void expect(const char *in, const char *want)
{
	char *got = pretty_json(in, strlen(in));

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_layouts(void **state)
{
	(void)state;
	expect("[0.25,0.75]", "[0.25, 0.75]");
	expect("{\"error\":{\"code\":\"BadInput\",\"message\":\"x\"}}",
	       "{\n  \"error\": {\n    \"code\": \"BadInput\",\n    \"message\": \"x\"\n  }\n}");
	expect("[[0.1,0.9],[0.8,0.2]]", "[\n  [0.1, 0.9],\n  [0.8, 0.2]\n]");
	expect("{}", "{}");
	expect("[]", "[]");
	expect("42", "42");
	expect("{\"a\\\"b\":[]}", "{\n  \"a\\\"b\": []\n}");
}

static void test_long_arrays_one_per_line(void **state)
{
	char in[512] = "[", *got;
	int lines = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		snprintf(in + strlen(in), sizeof in - strlen(in), "%s0.12345", i ? "," : "");
	snprintf(in + strlen(in), sizeof in - strlen(in), "]");
	got = pretty_json(in, strlen(in));
	assert_non_null(got);
	for (const char *c = got; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 21); /* [, 20 values, ] */
	free(got);
}

static void test_not_json(void **state)
{
	(void)state;
	assert_null(pretty_json("not json", 8));
	assert_null(pretty_json("{\"a\":", 5));
	assert_null(pretty_json(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_long_arrays_one_per_line),
	    cmocka_unit_test(test_not_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
