/*
 * statsprobe: runtime/monitor/stats.c on samples given as JSON, for
 * tests/e2e/test_monitor_stats.py, which compares every answer with SciPy's.
 *
 * stdin, one of:
 *   {"a": [numbers or null], "b": [...]}           numerical: W1, KS, JS, PSI
 *   {"ca": [strings or null], "cb": [...]}          categorical: JS, PSI, chi2
 *   {"ks": [d, n1, n2]} | {"kstwo": [n, x]} | {"smirnov": [n, x]} | {"chi2": [x, df]}
 *   {"files": [REFERENCE, PRODUCTION], "tmp": DIR}: the monitor's path, dataset.c and
 *     columns.c: per reference column its type, data quality and drift both ways
 *   or an array of such objects (one answer each, in an array).
 * stdout: one JSON object of results (null for NaN, "inf" for infinity).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runtime/monitor/dataset.h"
#include "runtime/monitor/columns.h"
#include "runtime/monitor/stats.h"

static void put(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else if (isinf(v))
		cJSON_AddStringToObject(o, k, v > 0 ? "inf" : "-inf");
	else
		cJSON_AddNumberToObject(o, k, v);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* The non-missing numbers of a JSON array, sorted. */
static double *numbers(const cJSON *arr, size_t *n)
{
	double *v = malloc(((size_t)cJSON_GetArraySize(arr) + 1) * sizeof *v);
	const cJSON *it;

	*n = 0;
	cJSON_ArrayForEach(it, arr) if (cJSON_IsNumber(it) && !isnan(it->valuedouble))
	    v[(*n)++] = it->valuedouble;
	qsort(v, *n, sizeof *v, cmp_double);
	return v;
}

static double sample_sd(const double *v, size_t n)
{
	long double s = 0, q = 0, mean;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	mean = s / n;
	for (size_t i = 0; i < n; i++)
		q += (v[i] - mean) * (v[i] - mean);
	return (double)sqrtl(q / (n - 1));
}

static void numerical(const cJSON *in, cJSON *out)
{
	size_t na, nb, i = 0, j = 0;
	double *a = numbers(cJSON_GetObjectItem(in, "a"), &na);
	double *b = numbers(cJSON_GetObjectItem(in, "b"), &nb);
	double lo = NAN, hi = NAN, sd = sample_sd(a, na);
	struct stats_num s;
	struct stats_num_result r;

	if (na && nb) {
		lo = fmin(a[0], b[0]);
		hi = fmax(a[na - 1], b[nb - 1]);
	}
	stats_num_init(&s, na, nb, lo, hi, stats_sturges(na < nb ? na : nb));
	while (i < na || j < nb) {
		double v = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
		uint64_t ca = 0, cb = 0;
		while (i < na && a[i] == v)
			ca++, i++;
		while (j < nb && b[j] == v)
			cb++, j++;
		stats_num_add(&s, v, ca, cb);
	}
	stats_num_finish(&s, &r);
	put(out, "wasserstein", r.wasserstein);
	put(out, "normalized_wasserstein", r.wasserstein / stats_wasserstein_norm(sd));
	put(out, "ks_statistic", r.ks_statistic);
	put(out, "ks_pvalue", r.ks_pvalue);
	put(out, "jensen_shannon", r.jensen_shannon);
	put(out, "psi", r.psi);
	put(out, "bins", s.bins);
	stats_num_cleanup(&s);
	free(a);
	free(b);
}

/* Index of string s in names (added when absent). */
static size_t category(const char ***names, size_t *k, const char *s)
{
	for (size_t i = 0; i < *k; i++)
		if (strcmp((*names)[i], s) == 0)
			return i;
	*names = realloc(*names, (*k + 1) * sizeof **names);
	(*names)[*k] = s;
	return (*k)++;
}

static void categorical(const cJSON *in, cJSON *out)
{
	const cJSON *ca = cJSON_GetObjectItem(in, "ca"), *cb = cJSON_GetObjectItem(in, "cb"), *it;
	size_t n = (size_t)(cJSON_GetArraySize(ca) + cJSON_GetArraySize(cb)) + 1, k = 0;
	uint64_t *xa = calloc(n, sizeof *xa), *xb = calloc(n, sizeof *xb), na = 0, nb = 0;
	const char **names = NULL;
	struct stats_cat_result r;

	cJSON_ArrayForEach(it, ca) if (cJSON_IsString(it)) xa[category(&names, &k,
								       it->valuestring)]++,
	    na++;
	cJSON_ArrayForEach(it, cb) if (cJSON_IsString(it)) xb[category(&names, &k,
								       it->valuestring)]++,
	    nb++;
	stats_cat(xa, xb, k, na, nb, &r);
	put(out, "jensen_shannon", r.jensen_shannon);
	put(out, "psi", r.psi);
	put(out, "chi2_statistic", r.chi2_statistic);
	put(out, "chi2_pvalue", r.chi2_pvalue);
	free(names);
	free(xa);
	free(xb);
}

static double arg(const cJSON *arr, int i)
{
	return cJSON_GetArrayItem(arr, i)->valuedouble;
}

static cJSON *column_facts(const struct columns *ref, const struct columns *prod, size_t c)
{
	cJSON *o = cJSON_CreateObject();
	struct columns_info ri, pi;
	struct columns_drift d;
	struct error err;
	int pc = columns_find(prod, columns_name(ref, c));

	columns_info(ref, c, &ri);
	columns_info(prod, (size_t)pc, &pi);
	cJSON_AddStringToObject(o, "type", stats_type_name(ri.type));
	cJSON_AddBoolToObject(o, "categorical", ri.categorical);
	put(o, "ref_values", (double)ri.values);
	put(o, "prod_values", (double)pi.values);
	put(o, "distinct", (double)ri.distinct);
	put(o, "null_rate", stats_rate(pi.quality.nulls, pi.quality.rows));
	put(o, "type_error_rate", stats_rate(pi.quality.type_errors, pi.quality.rows));
	put(o, "out_of_bounds_rate", stats_rate(pi.quality.out_of_bounds, pi.quality.rows));
	if (columns_drift(ref, c, prod, 0, &d, &err) == 0) {
		put(o, "normalized_wasserstein", d.normalized_wasserstein);
		put(o, "ks_pvalue", d.num.ks_pvalue);
		put(o, "num_jensen_shannon", d.num.jensen_shannon);
		put(o, "num_psi", d.num.psi);
	} else {
		cJSON_AddStringToObject(o, "numerical_error", err.message);
	}
	if (columns_drift(ref, c, prod, 1, &d, &err) == 0) {
		put(o, "cat_jensen_shannon", d.cat.jensen_shannon);
		put(o, "cat_psi", d.cat.psi);
		put(o, "chi2_pvalue", d.cat.chi2_pvalue);
	}
	return o;
}

static struct columns *read_profile(const char *path, const char *tmp, struct columns *ref,
				    cJSON *out)
{
	struct columns *p = columns_new(tmp, ref);
	struct error err;

	if (dataset_read(path, NULL, columns_row, p, NULL, &err) < 0 ||
	    columns_finish(p, &err) < 0) {
		cJSON_AddStringToObject(out, "error", err.message);
		columns_free(p);
		return NULL;
	}
	return p;
}

static void files(const cJSON *in, cJSON *out)
{
	const cJSON *f = cJSON_GetObjectItem(in, "files"), *t = cJSON_GetObjectItem(in, "tmp");
	const char *tmp = cJSON_IsString(t) ? t->valuestring : "/tmp";
	struct columns *ref = read_profile(cJSON_GetArrayItem(f, 0)->valuestring, tmp, NULL, out);
	struct columns *prod =
	    ref ? read_profile(cJSON_GetArrayItem(f, 1)->valuestring, tmp, ref, out) : NULL;
	cJSON *cols = cJSON_AddObjectToObject(out, "columns");

	for (size_t c = 0; prod && c < columns_count(ref); c++)
		cJSON_AddItemToObject(cols, columns_name(ref, c), column_facts(ref, prod, c));
	put(out, "ref_rows", ref ? (double)columns_rows(ref) : NAN);
	put(out, "prod_rows", prod ? (double)columns_rows(prod) : NAN);
	columns_free(prod);
	columns_free(ref);
}

static cJSON *answer(const cJSON *in)
{
	cJSON *out = cJSON_CreateObject(), *x;

	if (cJSON_GetObjectItem(in, "files"))
		files(in, out);
	else if (cJSON_GetObjectItem(in, "a"))
		numerical(in, out);
	else if (cJSON_GetObjectItem(in, "ca"))
		categorical(in, out);
	else if ((x = cJSON_GetObjectItem(in, "ks"))) {
		double d;
		put(out, "pvalue", stats_ks_pvalue(arg(x, 0), (uint64_t)arg(x, 1),
						   (uint64_t)arg(x, 2), &d));
		put(out, "statistic", d);
	} else if ((x = cJSON_GetObjectItem(in, "kstwo")))
		put(out, "sf", stats_kstwo_sf((int64_t)arg(x, 0), arg(x, 1)));
	else if ((x = cJSON_GetObjectItem(in, "smirnov")))
		put(out, "sf", stats_smirnov((int64_t)arg(x, 0), arg(x, 1)));
	else if ((x = cJSON_GetObjectItem(in, "chi2")))
		put(out, "sf", stats_chi2_sf(arg(x, 0), arg(x, 1)));
	return out;
}

int main(void)
{
	static char buf[64 << 20];
	size_t len = fread(buf, 1, sizeof buf - 1, stdin);
	cJSON *in, *out, *it;
	char *text;

	buf[len] = '\0';
	in = cJSON_Parse(buf);
	if (in == NULL) {
		fprintf(stderr, "statsprobe: input is not JSON\n");
		return 2;
	}
	if (cJSON_IsArray(in)) {
		out = cJSON_CreateArray();
		cJSON_ArrayForEach(it, in) cJSON_AddItemToArray(out, answer(it));
	} else {
		out = answer(in);
	}
	text = cJSON_PrintUnformatted(out);
	puts(text);
	free(text);
	cJSON_Delete(in);
	cJSON_Delete(out);
	return 0;
}
