/*
 * test_yaml: YAML documents (a conda file, an MLmodel) to JSON trees, and the
 * documents refused with the line that says why: duplicate keys (PyYAML takes
 * the last, a lookup the first), NUL bytes, aliases, nesting past the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state/yaml.h"

static cJSON *parse(const char *text, struct error *err)
{
	memset(err, 0, sizeof *err);
	return yaml_to_json(text, strlen(text), err);
}

static void test_conda_file(void **state)
{
	struct error err;
	cJSON *j = parse("name: churn\ndependencies:\n  - python=3.10\n  - pip:\n    - xgboost\n"
			 "channels: ~\n",
			 &err);
	cJSON *deps;

	(void)state;
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring, "churn");
	deps = cJSON_GetObjectItem(j, "dependencies");
	assert_int_equal(cJSON_GetArraySize(deps), 2);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(deps, 1), "pip"),
					       0)
				->valuestring,
			    "xgboost");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "channels")));
	cJSON_Delete(j);
}

static void test_refusals_name_the_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"name: a\ndependencies: []\nname: b\n", "YAML line 3: duplicate key \"name\""},
	    {"a:\n  b: 1\n  b: 2\n", "YAML line 3: duplicate key \"b\""},
	    {"a: \"x\\0y\"\n", "YAML line 1: a NUL byte in a string"},
	    {"a: &x 1\nb: *x\n", "YAML line 1: anchors are not supported"},
	    {"a: [1, *x]\n", "aliases are not supported"},
	};
	struct error err;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_null(parse(cases[i].text, &err));
		assert_int_equal(err.status, 400);
		if (strstr(err.message, cases[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].text, err.message,
				 cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conda_file),
	    cmocka_unit_test(test_refusals_name_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
