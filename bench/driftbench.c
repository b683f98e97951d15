/*
 * driftbench: the cost of live drift (runtime/monitor/drift.c) measured through its
 * API, for bench/monitor.py (`make bench-drift` builds build/bench/driftbench): a reference of REF rows x FEATURES normal features, a
 * monitor with DataDrift (normalized Wasserstein) and DataQuality on all of them, then
 * ROWS rows fed to drift_row as the collector's writer thread feeds them, with one
 * drift_tick (a recount of the window) every RATE rows: RATE rows a second.
 *
 *   driftbench [REF [FEATURES [ROWS [RATE]]]]     (4000 30 1000000 10000)
 *
 * stdout: one JSON object: ns_per_row (drift_row: staging the row, what the collector's
 * writer pays), ms_per_recount (drift_tick, on the monitors' ticker: counting RATE staged
 * rows into the window, then the recount over a full window), core_share_at_rate (both,
 * for RATE rows a second, as a share of one core), and the features' last values. CPU
 * time of this thread only.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bench/benchlib.h"
#include "runtime/monitor/columns.h"
#include "runtime/monitor/dataset.h"
#include "runtime/monitor/drift.h"
#include "runtime/monitor/signals.h"

#define POOL 1024

static uint64_t seed = 88172645463325252ull;

/* POOL rows of nf cells each, the text as a collected record holds it. */
static struct cell *make_rows(size_t nf, double shift, char (*names)[8], char (*texts)[24])
{
	struct cell *rows = calloc(POOL * nf, sizeof *rows);

	for (size_t i = 0; rows && i < POOL * nf; i++) {
		size_t f = i % nf;
		double v = bench_normal(&seed) + (f == 0 ? shift : 0);
		rows[i].key = names[f];
		rows[i].klen = strlen(names[f]);
		rows[i].kind = CELL_DOUBLE;
		rows[i].num = v;
		rows[i].tlen = (size_t)snprintf(texts[i], 24, "%.6f", v);
		rows[i].text = texts[i];
	}
	return rows;
}

static const char *definition =
    "{\"monitoringTarget\":{\"taskType\":\"Classification\",\"deploymentId\":"
    "\"/onlineEndpoints/bench/deployments/blue\"},\"signals\":{"
    "\"drift\":{\"signalType\":\"DataDrift\",\"features\":{\"filterType\":\"AllFeatures\"},"
    "\"productionData\":{\"inputDataType\":\"Rolling\",\"jobInputType\":\"uri_folder\","
    "\"uri\":\"azureml:bench-blue-model_inputs:1\",\"windowSize\":\"P1D\",\"windowOffset\":\"P0D\"},"
    "\"referenceData\":{\"inputDataType\":\"Fixed\",\"jobInputType\":\"uri_file\","
    "\"uri\":\"ref\"}},"
    "\"quality\":{\"signalType\":\"DataQuality\",\"features\":{\"filterType\":\"AllFeatures\"},"
    "\"productionData\":{\"inputDataType\":\"Rolling\",\"jobInputType\":\"uri_folder\","
    "\"uri\":\"azureml:bench-blue-model_inputs:1\",\"windowSize\":\"P1D\",\"windowOffset\":\"P0D\"},"
    "\"referenceData\":{\"inputDataType\":\"Fixed\",\"jobInputType\":\"uri_file\","
    "\"uri\":\"ref\"}}}}";

int main(int argc, char **argv)
{
	size_t nref = argc > 1 ? strtoul(argv[1], NULL, 10) : 4000;
	size_t nf = argc > 2 ? strtoul(argv[2], NULL, 10) : 30;
	size_t nrows = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
	size_t rate = argc > 4 ? strtoul(argv[4], NULL, 10) : 10000;
	char(*names)[8] = calloc(nf, sizeof *names);
	char(*texts)[24] = calloc(POOL * nf, sizeof *texts);
	struct monitor_def *def = calloc(1, sizeof *def);
	struct columns *ref = columns_new("/tmp", NULL);
	struct drift *d = drift_new();
	struct cell *pool;
	struct error err;
	cJSON *defj = cJSON_Parse(definition), *out, *live;
	char *text;
	double t0, rows_cpu = 0, tick_cpu = 0;
	size_t ticks = 0;
	int64_t now = 1000000;

	if (nf == 0 || nf > 1000 || rate == 0 || !names || !texts || !def || !ref || !d || !defj)
		return 2;
	for (size_t f = 0; f < nf; f++)
		snprintf(names[f], sizeof names[f], "%zu", f);
	/* the reference */
	pool = make_rows(nf, 0, names, texts);
	for (size_t i = 0; pool && i < nref; i++)
		if (columns_row(ref, pool + (i % POOL) * nf, nf, &err) < 0)
			return 2;
	free(pool);
	if (columns_finish(ref, &err) < 0 || signals_parse(defj, def, &err) < 0 ||
	    drift_configure(d, "bench", "blue", "model_inputs", "bench", ref, &def->signals[0],
			    &def->signals[1], &err) < 0) {
		fprintf(stderr, "driftbench: %s\n", err.message);
		return 1;
	}
	/* production: feature 0 moved by half a standard deviation */
	pool = make_rows(nf, 0.5, names, texts);
	if (pool == NULL)
		return 2;
	for (size_t i = 0; i < nrows;) {
		size_t n = nrows - i < rate ? nrows - i : rate;
		t0 = bench_now(CLOCK_THREAD_CPUTIME_ID);
		for (size_t k = 0; k < n; k++, i++)
			drift_row(d, "bench", "blue", "model_inputs", pool + (i % POOL) * nf, nf);
		rows_cpu += bench_now(CLOCK_THREAD_CPUTIME_ID) - t0;
		if (n == rate) {
			t0 = bench_now(CLOCK_THREAD_CPUTIME_ID);
			drift_tick(d, ++now);
			tick_cpu += bench_now(CLOCK_THREAD_CPUTIME_ID) - t0;
			ticks++;
		}
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "rows", (double)nrows);
	cJSON_AddNumberToObject(out, "features", (double)nf);
	cJSON_AddNumberToObject(out, "rate", (double)rate);
	cJSON_AddNumberToObject(out, "ns_per_row", rows_cpu / (double)nrows * 1e9);
	cJSON_AddNumberToObject(out, "ms_per_recount", ticks ? tick_cpu / (double)ticks * 1e3 : 0);
	cJSON_AddNumberToObject(out, "core_share_at_rate",
				(rows_cpu / (double)nrows * (double)rate +
				 (ticks ? tick_cpu / (double)ticks : 0)));
	live = drift_json(d, "bench", "blue");
	if (live)
		cJSON_AddItemToObject(out, "live", live);
	text = cJSON_PrintUnformatted(out);
	puts(text ? text : "{}");
	free(text);
	cJSON_Delete(out);
	cJSON_Delete(defj);
	free(pool);
	free(texts);
	free(names);
	signals_cleanup(def);
	free(def);
	drift_free(d);
	columns_free(ref);
	return 0;
}
