/* test_signals.c: a monitor's definition: ISO durations, windows, Azure's
 * defaults (thresholds, the deployment's own collected data), filters. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/monitor/signals.h"

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(signals_duration("P7D"), 7 * 86400);
	assert_int_equal(signals_duration("P0D"), 0);
	assert_int_equal(signals_duration("PT1H30M"), 5400);
	assert_int_equal(signals_duration("P1W"), 7 * 86400);
	assert_int_equal(signals_duration("P1DT12H"), 36 * 3600);
	assert_int_equal(signals_duration("PT45S"), 45);
	assert_int_equal(signals_duration("7D"), -1);
	assert_int_equal(signals_duration("P"), -1);
	assert_int_equal(signals_duration("P1H"), -1); /* hours need the T */
	assert_int_equal(signals_duration("PT1W"), -1);
	assert_int_equal(signals_duration("P-1D"), -1);
}

static void test_windows(void **state)
{
	struct monitor_input in = {.kind = INPUT_ROLLING, .window_size = 86400,
				   .window_offset = 3600};
	int64_t s, e;

	(void)state;
	signals_window(&in, 1000000, &s, &e);
	assert_int_equal(e, 1000000 - 3600);
	assert_int_equal(s, 1000000 - 3600 - 86400);
	in.kind = INPUT_FIXED;
	signals_window(&in, 1000000, &s, &e);
	assert_true(s == 0 && e == 0);
}

static const char *definition =
    "{\"monitoringTarget\":{\"taskType\":\"Classification\",\"deploymentId\":"
    "\"/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/"
    "workspaces/w/onlineEndpoints/churn/deployments/blue\"},"
    "\"signals\":{"
    " \"d\":{\"signalType\":\"DataDrift\",\"referenceData\":{\"inputDataType\":\"Fixed\","
    "  \"jobInputType\":\"uri_file\",\"uri\":\"azureml:train:1\"}},"
    " \"p\":{\"signalType\":\"PredictionDrift\",\"referenceData\":{\"inputDataType\":\"Fixed\","
    "  \"jobInputType\":\"uri_file\",\"uri\":\"azureml:out:1\"},\"metricThresholds\":["
    "  {\"dataType\":\"Numerical\",\"metric\":\"TwoSampleKolmogorovSmirnovTest\"},"
    "  {\"dataType\":\"Categorical\",\"metric\":\"population_stability_index\","
    "   \"threshold\":{\"value\":0.3}}]},"
    " \"q\":{\"signalType\":\"DataQuality\",\"mode\":\"Disabled\",\"referenceData\":"
    "  {\"inputDataType\":\"Static\",\"jobInputType\":\"uri_folder\",\"uri\":\"/data\","
    "  \"windowStart\":\"2026-01-01T00:00:00Z\",\"windowEnd\":\"2026-01-02T00:00:00Z\"},"
    "  \"features\":{\"filterType\":\"FeatureSubset\",\"features\":[\"age\"]},"
    "  \"featureDataTypeOverride\":{\"age\":\"Categorical\"}}},"
    "\"alertNotificationSettings\":{\"webhookNotificationSettings\":{\"urls\":"
    " [\"http://127.0.0.1:9/hook\"]}}}";

static void test_defaults(void **state)
{
	cJSON *o = cJSON_Parse(definition);
	struct monitor_def *d = calloc(1, sizeof *d);
	struct error err;
	const struct monitor_signal *s;

	(void)state;
	assert_int_equal(signals_parse(o, d, &err), 0);
	assert_string_equal(d->endpoint, "churn");
	assert_string_equal(d->deployment, "blue");
	assert_int_equal(d->nsignals, 3);
	assert_int_equal(d->nwebhooks, 1);
	s = &d->signals[0]; /* Azure's drift defaults; the deployment's own inputs */
	assert_int_equal(s->nthresholds, 2);
	assert_int_equal(s->thresholds[0].metric, STATS_WASSERSTEIN);
	assert_true(s->thresholds[0].value == 0.1 && !s->thresholds[0].categorical);
	assert_int_equal(s->thresholds[1].metric, STATS_JENSEN_SHANNON);
	assert_true(s->thresholds[1].categorical);
	assert_string_equal(s->production.uri, "azureml:churn-blue-model_inputs:1");
	assert_int_equal(s->production.kind, INPUT_ROLLING);
	s = &d->signals[1];
	assert_string_equal(s->production.uri, "azureml:churn-blue-model_outputs:1");
	assert_true(s->thresholds[0].value == 0.05 && s->thresholds[1].value == 0.3);
	s = &d->signals[2];
	assert_false(s->enabled);
	assert_int_equal(s->nthresholds, 6); /* 3 rates x 2 data types, all 0 */
	assert_true(signals_wants(s, "age") && !signals_wants(s, "income"));
	assert_int_equal(signals_override(s, "age"), 1);
	assert_int_equal(signals_override(s, "income"), -1);
	assert_int_equal(s->reference.window_end - s->reference.window_start, 86400);
	signals_cleanup(d);
	free(d);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_windows),
	    cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
