/* test_names.c: Azure's name rule and version rule, as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "state/names.h"

struct name_case {
	const char *name;
	int ok;
};

static const struct name_case names[] = {
    {"abc", 1},
    {"blue", 1},
    {"my-endpoint-1", 1},
    {"A1b", 1},
    {"abcdefghijabcdefghijabcdefghij12", 1},  /* 32 */
    {"abcdefghijabcdefghijabcdefghij123", 0}, /* 33 */
    {"ab", 0},
    {"", 0},
    {NULL, 0},
    {"1abc", 0},
    {"-abc", 0},
    {"abc-", 0},
    {"ab--c", 0},
    {"ab_c", 0},
    {"ab.c", 0},
    {"ab c", 0},
    {"../etc", 0},
    {"abc/def", 0},
    {"caf\xc3\xa9", 0},
};

static void test_names_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct error err = {0};
		int rc = names_check(names[i].name, "endpoint name", &err);

		if (names[i].ok) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "ValidationError");
		assert_non_null(strstr(err.message, "endpoint name"));
	}
}

static void test_name_reason(void **state)
{
	struct error err = {0};

	(void)state;
	names_check("abc-", "deployment name", &err);
	assert_non_null(strstr(err.message, "dash"));
	names_check("9abc", "deployment name", &err);
	assert_non_null(strstr(err.message, "letter"));
	names_check("ab", "deployment name", &err);
	assert_non_null(strstr(err.message, "at least 3"));
}

static const struct name_case versions[] = {
    {"1", 1},
    {"2", 1},
    {"10", 1},
    {"123456789012345", 1},
    {"1234567890123456", 0},
    {"0", 0},
    {"01", 0},
    {"", 0},
    {NULL, 0},
    {"-1", 0},
    {"1.0", 0},
    {"v1", 0},
    {"1a", 0},
    {" 1", 0},
};

static void test_versions_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		struct error err = {0};
		int rc = names_check_version(versions[i].name, "model version", &err);

		assert_int_equal(rc, versions[i].ok ? 0 : -1);
		if (!versions[i].ok) {
			assert_int_equal(err.status, 400);
			assert_non_null(strstr(err.message, "model version"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_table),
	    cmocka_unit_test(test_name_reason),
	    cmocka_unit_test(test_versions_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
