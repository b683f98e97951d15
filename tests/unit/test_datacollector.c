/* test_datacollector.c: a deployment's dataCollector as a table of accepted and
 * refused shapes, its normalized form, and the rolling rate's folders across
 * period boundaries (year end, month end, leap day, hour and minute). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/datacollector.h"

struct shape {
	const char *json;
	int ok;
	const char *says; /* in the message when refused */
};

static const struct shape shapes[] = {
    {"{\"collections\":{}}", 1, NULL},
    {"{\"collections\":{\"model_inputs\":{\"dataCollectionMode\":\"enabled\"}}}", 1, NULL},
    {"{\"collections\":{\"a-b_c\":{\"samplingRate\":0}},\"rollingRate\":\"minute\"}", 1, NULL},
    {"{\"collections\":{\"x\":null}}", 1, NULL},
    {"{\"collections\":{\"x\":{\"clientId\":\"abc\",\"dataId\":\"azureml:d:1\"}}}", 1, NULL},
    {"{}", 0, "collections"},
    {"[]", 0, "an object"},
    {"{\"collections\":[]}", 0, "collections"},
    {"{\"collections\":{\"x\":{\"dataCollectionMode\":1}}}", 0, "dataCollectionMode"},
    {"{\"collections\":{\"x\":{\"samplingRate\":-0.1}}}", 0, "samplingRate"},
    {"{\"collections\":{\"x\":{\"samplingRate\":\"1\"}}}", 0, "samplingRate"},
    {"{\"collections\":{\"a/b\":{}}}", 0, "collection name"},
    {"{\"collections\":{\"_x\":{}}}", 0, "collection name"},
    {"{\"collections\":{\"x\":3}}", 0, "an object"},
    {"{\"collections\":{},\"rollingRate\":\"Second\"}", 0, "rollingRate"},
    {"{\"collections\":{},\"requestLogging\":{\"captureHeaders\":\"a\"}}", 0, "captureHeaders"},
    {"{\"collections\":{},\"requestLogging\":{\"captureHeaders\":[\"a:b\"]}}", 0,
     "captureHeaders"},
};

static void test_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		cJSON *o = cJSON_Parse(shapes[i].json);
		struct datacollector d;
		struct error err;
		int rc;

		assert_non_null(o);
		rc = datacollector_from_json(o, &d, &err);
		cJSON_Delete(o);
		if (shapes[i].ok) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_int_equal(err.status, 400);
		if (strstr(err.message, shapes[i].says) == NULL)
			fail_msg("%s: '%s' lacks '%s'", shapes[i].json, err.message, shapes[i].says);
	}
}

static void test_normalized(void **state)
{
	struct datacollector d, back;
	struct error err;
	char *text;

	(void)state;
	assert_int_equal(
	    datacollector_from_text("{\"collections\":{\"model_inputs\":{\"dataCollectionMode\":"
				    "\"ENABLED\"},\"request\":{\"samplingRate\":0.5}},"
				    "\"rollingRate\":\"day\"}",
				    &d, &err),
	    0);
	text = datacollector_to_text(&d);
	assert_string_equal(text,
			    "{\"collections\":{\"model_inputs\":{\"dataCollectionMode\":\"Enabled\","
			    "\"samplingRate\":1},\"request\":{\"dataCollectionMode\":\"Disabled\","
			    "\"samplingRate\":0.5}},\"rollingRate\":\"Day\",\"requestLogging\":{"
			    "\"captureHeaders\":[]}}");
	assert_int_equal(datacollector_from_text(text, &back, &err), 0);
	assert_memory_equal(&d, &back, sizeof d);
	assert_true(datacollector_active(&d));
	assert_non_null(datacollector_find(&d, "request"));
	assert_null(datacollector_find(&d, "response"));
	free(text);
}

struct period_case {
	enum dc_rolling r;
	int64_t t;
	const char *folder;
	int64_t end;
};

static const struct period_case periods[] = {
    {DC_ROLL_HOUR, 1709662585, "2024/03/05/18", 1709665200},   /* 18:16:25 */
    {DC_ROLL_HOUR, 1709665199, "2024/03/05/18", 1709665200},   /* the last second */
    {DC_ROLL_HOUR, 1709665200, "2024/03/05/19", 1709668800},
    {DC_ROLL_MINUTE, 1709662585, "2024/03/05/18/16", 1709662620},
    {DC_ROLL_DAY, 1709251199, "2024/02/29", 1709251200},       /* leap day */
    {DC_ROLL_DAY, 1709251200, "2024/03/01", 1709337600},
    {DC_ROLL_MONTH, 1706745599, "2024/01", 1706745600},         /* January's last second */
    {DC_ROLL_MONTH, 1733011200, "2024/12", 1735689600},
    {DC_ROLL_YEAR, 1735689599, "2024", 1735689600},
    {DC_ROLL_YEAR, 1735689600, "2025", 1767225600},
};

static void test_periods(void **state)
{
	char buf[32];
	int64_t end;

	(void)state;
	for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++) {
		assert_int_equal(datacollector_period(periods[i].r, periods[i].t, buf, sizeof buf,
						      &end),
				 0);
		assert_string_equal(buf, periods[i].folder);
		assert_int_equal(end, periods[i].end);
	}
	assert_int_equal(datacollector_period(DC_ROLL_MINUTE, 0, buf, 8, &end), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_normalized),
	    cmocka_unit_test(test_periods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
