/* monrun.c: one monitor run (monrun.h). */
#include "runtime/monitor/monrun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/monitor/columns.h"
#include "runtime/monitor/dataset.h"

#define CACHE_MAX (2 * SIGNALS_MAX)

/* A dataset read once for the run: a reference, or a production window read
 * against one reference. */
struct loaded {
	char uri[SIGNAL_URI_MAX + 1];
	int64_t start, end;
	const struct columns *ref; /* production: what it was read against */
	struct columns *cols;
	uint64_t rows;
};

struct run {
	const struct monrun_config *cfg;
	struct loaded cache[CACHE_MAX];
	size_t n;
};

static void iso(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The dataset of an input (read now, or from the cache). */
static struct loaded *load(struct run *r, const struct monitor_input *in,
			   const struct columns *ref, const char *role, struct error *err)
{
	struct dataset_window w = {0, 0};
	struct loaded *l;
	char *path = NULL;
	struct error e;

	signals_window(in, r->cfg->now, &w.start, &w.end);
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->cache[i].uri, in->uri) && r->cache[i].start == w.start &&
		    r->cache[i].end == w.end && r->cache[i].ref == ref)
			return &r->cache[i];
	if (r->n == CACHE_MAX) {
		error_set(err, 500, "InternalError", "too many datasets in one run");
		return NULL;
	}
	l = &r->cache[r->n];
	memset(l, 0, sizeof *l);
	snprintf(l->uri, sizeof l->uri, "%s", in->uri);
	l->start = w.start;
	l->end = w.end;
	l->ref = ref;
	if (r->cfg->resolve(r->cfg->ctx, in->uri, &path, &e) < 0) {
		error_set(err, e.status, e.code, "%s data %.300s: %s", role, in->uri, e.message);
		return NULL;
	}
	if ((l->cols = columns_new(r->cfg->tmpdir, ref)) == NULL) {
		free(path);
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	if (dataset_read(path, w.start || w.end ? &w : NULL, columns_row, l->cols, &l->rows, &e) <
		0 ||
	    columns_finish(l->cols, &e) < 0) {
		error_set(err, e.status == 404 ? 400 : e.status, e.code, "%s data %.300s: %s", role,
			  in->uri, e.message);
		columns_free(l->cols);
		free(path);
		return NULL;
	}
	free(path);
	r->n++;
	return l;
}

/* ---- one feature -------------------------------------------------------- */

static double metric_value(enum stats_metric m, const struct columns_drift *d,
			   const struct columns_info *pi)
{
	const struct stats_quality *q = &pi->quality;

	switch (m) {
	case STATS_WASSERSTEIN: return d->normalized_wasserstein;
	case STATS_KS: return d->num.ks_pvalue;
	case STATS_CHI2: return d->cat.chi2_pvalue;
	case STATS_JENSEN_SHANNON:
		return d->categorical ? d->cat.jensen_shannon : d->num.jensen_shannon;
	case STATS_PSI: return d->categorical ? d->cat.psi : d->num.psi;
	case STATS_NULL_RATE: return stats_rate(q->nulls, q->rows);
	case STATS_TYPE_ERROR_RATE: return stats_rate(q->type_errors, q->rows);
	case STATS_OUT_OF_BOUNDS_RATE: return stats_rate(q->out_of_bounds, q->rows);
	default: return NAN;
	}
}

static void add_entry(cJSON *arr, const char *feature, int categorical,
		      const struct metric_threshold *t, double v, int passed)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "feature", feature);
	cJSON_AddStringToObject(e, "dataType", categorical ? "Categorical" : "Numerical");
	cJSON_AddStringToObject(e, "metric", stats_metric_name(t->metric));
	if (isnan(v))
		cJSON_AddNullToObject(e, "value");
	else if (isinf(v))
		cJSON_AddNumberToObject(e, "value", v > 0 ? 1e308 : -1e308);
	else
		cJSON_AddNumberToObject(e, "value", v);
	cJSON_AddNumberToObject(e, "threshold", t->value);
	cJSON_AddBoolToObject(e, "passed", passed);
	cJSON_AddItemToArray(arr, e);
}

/* The entries of one feature; 1 when one failed, 0 none, -1 with err. */
static int feature(const struct monitor_signal *s, const struct loaded *ref,
		   const struct loaded *prod, size_t col, cJSON *arr, struct error *err)
{
	const char *name = columns_name(ref->cols, col);
	int pcol = columns_find(prod->cols, name), over = signals_override(s, name), failed = 0;
	struct columns_info ri, pi;
	struct columns_drift d;
	int drift = s->type != SIGNAL_DATA_QUALITY, categorical;

	memset(&d, 0, sizeof d);
	columns_info(ref->cols, col, &ri);
	if (ri.type == STATS_TYPE_NONE)
		return 0; /* never a value in the reference: nothing to compare with */
	categorical = over >= 0 ? over : ri.categorical;
	memset(&pi, 0, sizeof pi);
	if (pcol >= 0)
		columns_info(prod->cols, (size_t)pcol, &pi);
	if (drift && columns_drift(ref->cols, col, prod->cols, categorical, &d, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nthresholds; i++) {
		const struct metric_threshold *t = &s->thresholds[i];
		double v;
		int ok;
		if (t->categorical != categorical)
			continue;
		v = metric_value(t->metric, &d, &pi);
		ok = stats_metric_passed(t->metric, v, t->value);
		failed |= !ok;
		add_entry(arr, name, categorical, t, v, ok);
	}
	return failed;
}

/* ---- one signal --------------------------------------------------------- */

/* Features a FeatureSubset names must be in the reference. */
static int subset_known(const struct monitor_signal *s, const struct loaded *ref,
			struct error *err)
{
	for (size_t i = 0; i < s->nfeatures; i++)
		if (columns_find(ref->cols, s->features[i]) < 0)
			return error_set(err, 400, "InvalidData",
					 "signal %s: feature '%.128s' is not a column of the "
					 "reference data %.300s",
					 s->name, s->features[i], ref->uri);
	return 0;
}

/* Production rows but none of the reference's columns: a schema mismatch. */
static int columns_common(const struct monitor_signal *s, const struct loaded *ref,
			  const struct loaded *prod, struct error *err)
{
	if (prod->rows == 0)
		return 0;
	for (size_t c = 0; c < columns_count(ref->cols); c++) {
		struct columns_info pi;
		int p = columns_find(prod->cols, columns_name(ref->cols, c));
		if (p < 0)
			continue;
		columns_info(prod->cols, (size_t)p, &pi);
		if (pi.quality.nulls < pi.quality.rows)
			return 0;
	}
	return error_set(err, 400, "InvalidData",
			 "signal %s: the production data %.300s has no column in common with the "
			 "reference data %.300s",
			 s->name, prod->uri, ref->uri);
}

static cJSON *dataset_json(const struct loaded *l, int window)
{
	cJSON *o = cJSON_CreateObject();
	char t[32];

	cJSON_AddStringToObject(o, "uri", l->uri);
	cJSON_AddNumberToObject(o, "rows", (double)l->rows);
	if (window && (l->start || l->end)) {
		iso(t, sizeof t, l->start);
		cJSON_AddStringToObject(o, "windowStart", t);
		iso(t, sizeof t, l->end);
		cJSON_AddStringToObject(o, "windowEnd", t);
	}
	return o;
}

static cJSON *signal_run(struct run *r, const struct monitor_signal *s, int *failed,
			 struct error *err)
{
	struct loaded *ref = load(r, &s->reference, NULL, "reference", err), *prod;
	cJSON *o, *arr;
	int any = 0, rc = 0;

	if (ref == NULL)
		return NULL;
	if (ref->rows == 0) {
		error_set(err, 400, "InvalidData", "signal %s: the reference data %.300s is empty",
			  s->name, s->reference.uri);
		return NULL;
	}
	if (subset_known(s, ref, err) < 0 ||
	    (prod = load(r, &s->production, ref->cols, "production", err)) == NULL ||
	    columns_common(s, ref, prod, err) < 0)
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "signalType", signal_type_name(s->type));
	cJSON_AddItemToObject(o, "reference", dataset_json(ref, 0));
	cJSON_AddItemToObject(o, "production", dataset_json(prod, 1));
	arr = cJSON_AddArrayToObject(o, "features");
	for (size_t c = 0; c < columns_count(ref->cols) && rc >= 0; c++)
		if (signals_wants(s, columns_name(ref->cols, c)) &&
		    (rc = feature(s, ref, prod, c, arr, err)) > 0)
			any = 1;
	if (rc < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "status", any ? "Failed" : "Passed");
	*failed |= any;
	return o;
}

cJSON *monrun_run(const struct monrun_config *cfg, int *failed, struct error *err)
{
	struct run *r = calloc(1, sizeof *r);
	cJSON *out = cJSON_CreateObject(), *sigs, *one;
	char t[32];

	*failed = 0;
	if (r == NULL || out == NULL) {
		free(r);
		cJSON_Delete(out);
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	iso(t, sizeof t, cfg->now);
	cJSON_AddStringToObject(out, "time", t);
	sigs = cJSON_AddObjectToObject(out, "signals");
	for (size_t i = 0; i < cfg->def->nsignals && out; i++) {
		const struct monitor_signal *s = &cfg->def->signals[i];
		if (!s->enabled)
			continue;
		if (cfg->cancel && atomic_load(cfg->cancel)) {
			error_set(err, 409, "Canceled", "the run was canceled");
			cJSON_Delete(out);
			out = NULL;
		} else if ((one = signal_run(r, s, failed, err)) == NULL) {
			cJSON_Delete(out);
			out = NULL;
		} else {
			cJSON_AddItemToObject(sigs, s->name, one);
		}
	}
	if (out)
		cJSON_AddStringToObject(out, "status", *failed ? "Failed" : "Passed");
	for (size_t i = 0; i < r->n; i++)
		columns_free(r->cache[i].cols);
	free(r);
	return out;
}
