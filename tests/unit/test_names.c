/* test_names.c: the endpoint name rule, the asset name rule and versions, as tables. */
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

/* The spec's asset pattern ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$ for models,
 * environments and code (the endpoint rule used to be applied to them). */
#define N255                                                                                       \
	"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"        \
	"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"        \
	"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"        \
	"abcdefghijabcde"
static const struct name_case assets[] = {
    {"py", 1},
    {"m", 1},
    {"my_model", 1},
    {"1model", 1},
    {"sklearn-regression_v2", 1},
    {"06d51e21-36cb-4802-89aa-2ed15c87c620", 1}, /* the SDK's anonymous code names */
    {"CliV2AnonymousEnvironment", 1},
    {N255, 1},
    {N255 "x", 0},
    {"", 0},
    {NULL, 0},
    {"_model", 0},
    {"-model", 0},
    {"my.model", 0},
    {"my model", 0},
    {"../etc", 0},
    {"a/b", 0},
    {"caf\xc3\xa9", 0},
};

static void test_assets_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
		struct error err = {0};
		int rc = names_check_asset(assets[i].name, "model name", &err);

		if (rc != (assets[i].ok ? 0 : -1))
			fail_msg("'%s': %s", assets[i].name ? assets[i].name : "(null)",
				 assets[i].ok ? err.message : "accepted");
		if (!assets[i].ok) {
			assert_int_equal(err.status, 400);
			assert_non_null(strstr(err.message, "model name"));
		}
	}
}

/* Versions are strings: "1", "1.0", labels, the SDK's 32-hex anonymous ones. */
static const struct name_case versions[] = {
    {"1", 1},
    {"2", 1},
    {"10", 1},
    {"0", 1},
    {"01", 1},
    {"1.0", 1},
    {"v1", 1},
    {"1a", 1},
    {"foo_bar-2", 1},
    {"d41d8cd98f00b204e9800998ecf8427e", 1},
    {"1234567890123456789012345678901234567890123456789012345678901234", 1}, /* 64 */
    {"12345678901234567890123456789012345678901234567890123456789012345", 0},
    {"", 0},
    {NULL, 0},
    {"-1", 0},
    {".1", 0},
    {"..", 0},
    {"1..2", 0},
    {"1/2", 0},
    {" 1", 0},
    {"1 ", 0},
    {"1:2", 0},
};

static void test_versions_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		struct error err = {0};
		int rc = names_check_version(versions[i].name, "model version", &err);

		if (rc != (versions[i].ok ? 0 : -1))
			fail_msg("'%s': %s", versions[i].name ? versions[i].name : "(null)",
				 versions[i].ok ? err.message : "accepted");
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
	    cmocka_unit_test(test_assets_table),
	    cmocka_unit_test(test_versions_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
