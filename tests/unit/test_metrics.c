/* test_metrics.c: histogram maths, windows over the ring, concurrency, and
 * the Prometheus and JSON outputs. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/metrics.h"

#define US 1000u /* ns */

static void test_bucket_boundaries(void **state)
{
	(void)state;
	assert_int_equal(metrics_bucket_of(0), 0);
	assert_int_equal(metrics_bucket_of(999), 0);
	assert_int_equal(metrics_bucket_of(1 * US), 0);
	assert_int_equal(metrics_bucket_low(0), 1000);
	assert_int_equal(metrics_bucket_width(0), 100);
	assert_int_equal(metrics_bucket_of(1099), 0);
	assert_int_equal(metrics_bucket_of(1100), 1);
	assert_int_equal(metrics_bucket_of(9900), 89); /* 9.9 us */
	assert_int_equal(metrics_bucket_of(9999), 89);
	assert_int_equal(metrics_bucket_low(89), 9900);
	assert_int_equal(metrics_bucket_of(10 * US), 90);
	assert_int_equal(metrics_bucket_low(90), 10000);
	assert_int_equal(metrics_bucket_width(90), 1000);
	assert_int_equal(metrics_bucket_of(60000000000u), METRICS_BUCKETS - 1); /* 60 s */
	assert_int_equal(metrics_bucket_low(METRICS_BUCKETS - 1), 60000000000u);
	assert_int_equal(metrics_bucket_of(59999999999u), METRICS_BUCKETS - 2);
	assert_int_equal(metrics_bucket_of(61000000000u), METRICS_BUCKETS - 1); /* clamps */
	assert_int_equal(metrics_bucket_of(UINT64_MAX), METRICS_BUCKETS - 1);
	assert_int_equal(metrics_bucket_value(0), 1050);
}

/* Every bucket is contiguous with the next, and values map back into it. */
static void test_bucket_round_trip(void **state)
{
	(void)state;
	for (int b = 0; b < METRICS_BUCKETS - 1; b++) {
		uint64_t lo = metrics_bucket_low(b), w = metrics_bucket_width(b);

		assert_int_equal(metrics_bucket_of(lo), b);
		assert_int_equal(metrics_bucket_of(lo + w - 1), b);
		assert_int_equal(metrics_bucket_low(b + 1), lo + w);
		/* two significant digits: width is at most 10 % of the value */
		assert_true(w * 10 <= lo);
	}
}

static cJSON *dep_of(cJSON *root, const char *ep, const char *dep)
{
	cJSON *e, *d;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "endpoints"))
	{
		if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, ep) != 0)
			continue;
		if (dep == NULL)
			return e;
		cJSON_ArrayForEach(d, cJSON_GetObjectItem(e, "deployments"))
		{
			if (strcmp(cJSON_GetObjectItem(d, "name")->valuestring, dep) == 0)
				return d;
		}
	}
	return NULL;
}

static double num(cJSON *o, const char *k)
{
	cJSON *x = cJSON_GetObjectItem(o, k);

	assert_non_null(x);
	assert_true(cJSON_IsNumber(x));
	return x->valuedouble;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reported percentile within one bucket width of the exact nearest rank. */
static void check_pct(cJSON *o, const char *k, uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * n);
	uint64_t exact = sorted[(rank ? rank : 1) - 1];
	double got_ns = num(o, k) * 1e6;
	uint64_t w = metrics_bucket_width(metrics_bucket_of(exact));

	assert_true(fabs(got_ns - (double)exact) <= (double)w);
}

static void test_percentiles_known(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep1", "blue");
	uint64_t v[20000];
	cJSON *root, *d;
	size_t n = sizeof v / sizeof v[0];

	(void)state;
	srand(7);
	for (size_t i = 0; i < n; i++) {
		/* log-uniform from 1 us to 10 s, spread over 10 seconds */
		v[i] = (uint64_t)(1000.0 * pow(10.0, 7.0 * rand() / RAND_MAX));
		metrics_record_ns_at(s, 200, v[i], 1000 + (int64_t)(i % 10));
	}
	qsort(v, n, sizeof v[0], cmp_u64);
	root = metrics_json(m, 60, 1009, NULL, NULL);
	d = dep_of(root, "ep1", "blue");
	assert_non_null(d);
	assert_int_equal((int)num(d, "requests"), (int)n);
	check_pct(d, "p50", v, n, 0.50);
	check_pct(d, "p90", v, n, 0.90);
	check_pct(d, "p99", v, n, 0.99);
	check_pct(d, "max", v, n, 1.0);
	cJSON_Delete(root);
	metrics_series_unref(s);
	metrics_free(m);
}

static void test_percentiles_uniform(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep1", "blue");
	cJSON *root, *d;

	(void)state;
	for (uint64_t us = 1; us <= 1000; us++)
		metrics_record_at(s, 200, us, 500);
	root = metrics_json(m, 1, 500, NULL, NULL);
	d = dep_of(root, "ep1", "blue");
	/* p50 = 500 us, in bucket [500, 510) us: reported 505 us */
	assert_true(fabs(num(d, "p50") - 0.505) < 1e-9);
	assert_true(fabs(num(d, "p99") - 0.995) < 1e-9);
	assert_true(fabs(num(d, "rps") - 1000) < 1e-9);
	cJSON_Delete(root);
	metrics_series_unref(s);
	metrics_free(m);
}

/* Only the seconds in (now - window, now] count; the ring wraps at 300 and a
 * slot reused for a newer second forgets the old one. */
static void test_window_ring(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep1", "blue");
	cJSON *root, *d, *req;

	(void)state;
	for (int64_t t = 590; t < 610; t++) /* crosses 600, ring index 0 */
		metrics_record_at(s, 200, 100, t);
	root = metrics_json(m, 5, 609, NULL, NULL);
	d = dep_of(root, "ep1", "blue");
	assert_int_equal((int)num(d, "requests"), 5);
	assert_int_equal((int)num(d, "totalRequests"), 20);
	req = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "series"), "requests");
	assert_int_equal(cJSON_GetArraySize(req), 5);
	cJSON_Delete(root);

	root = metrics_json(m, 15, 600, NULL, NULL); /* 586..600: 590..600 = 11 */
	assert_int_equal((int)num(dep_of(root, "ep1", "blue"), "requests"), 11);
	cJSON_Delete(root);

	/* 300 s later: second 890 reuses 590's slot; 591..609 are stale. */
	metrics_record_at(s, 200, 100, 890);
	metrics_record_at(s, 200, 100, 890);
	root = metrics_json(m, 300, 890, NULL, NULL);
	d = dep_of(root, "ep1", "blue");
	assert_int_equal((int)num(d, "requests"), 2 + 19); /* 591..609 still in 591..890 */
	cJSON_Delete(root);
	root = metrics_json(m, 300, 905, NULL, NULL); /* 606..905: 606..609 and 890 */
	assert_int_equal((int)num(dep_of(root, "ep1", "blue"), "requests"), 4 + 2);
	cJSON_Delete(root);
	root = metrics_json(m, 60, 2000, NULL, NULL); /* all stale */
	d = dep_of(root, "ep1", "blue");
	assert_int_equal((int)num(d, "requests"), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "p50")));
	cJSON_Delete(root);
	metrics_series_unref(s);
	metrics_free(m);
}

static void test_errors_and_codes(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep1", "blue");
	const int codes[] = {200, 200, 400, 401, 404, 408, 413, 424, 429, 500, 503};
	cJSON *root, *d, *c;

	(void)state;
	assert_true(metrics_is_error(503) && metrics_is_error(408) && metrics_is_error(429));
	assert_false(metrics_is_error(400) || metrics_is_error(404) || metrics_is_error(200));
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		metrics_record_at(s, codes[i], 50, 100);
	root = metrics_json(m, 10, 100, "ep1", NULL);
	d = dep_of(root, "ep1", "blue");
	assert_int_equal((int)num(d, "errors"), 5);
	c = cJSON_GetObjectItem(d, "codes");
	assert_int_equal((int)num(c, "200"), 2);
	assert_int_equal((int)num(c, "503"), 1);
	cJSON_Delete(root);
	metrics_series_unref(s);
	metrics_free(m);
}

/* Summary mode: totals for all, deployments and series only for the detail one. */
static void test_json_summary(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *a = metrics_series(m, "ep-a", "blue");
	struct metrics_series *b = metrics_series(m, "ep-b", "blue");
	cJSON *root, *eps, *e;
	int seen = 0;

	(void)state;
	metrics_record_at(a, 200, 100, 50);
	metrics_record_at(b, 200, 100, 50);
	metrics_record_at(b, 503, 100, 50);
	root = metrics_json(m, 10, 50, NULL, "ep-b");
	eps = cJSON_GetObjectItem(root, "endpoints");
	cJSON_ArrayForEach(e, eps)
	{
		const char *name = cJSON_GetObjectItem(e, "name")->valuestring;
		int detailed = strcmp(name, "ep-b") == 0;

		assert_int_equal(cJSON_HasObjectItem(e, "deployments"), detailed);
		assert_int_equal(cJSON_HasObjectItem(e, "series"), detailed);
		assert_int_equal((int)num(e, "requests"), detailed ? 2 : 1);
		seen++;
	}
	assert_int_equal(seen, 2);
	cJSON_Delete(root);
	root = metrics_json(m, 10, 50, NULL, "");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "endpoints"))
		assert_false(cJSON_HasObjectItem(e, "deployments"));
	cJSON_Delete(root);
	metrics_series_unref(a);
	metrics_series_unref(b);
	metrics_free(m);
}

/* The names of the endpoints an answer lists, "a,b,..." in order. */
static void names_of(const cJSON *root, char *buf, size_t len)
{
	const cJSON *e;
	size_t o = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "endpoints"))
	{
		int n = snprintf(buf + o, len - o, "%s%s", o ? "," : "",
				 cJSON_GetObjectItem(e, "name")->valuestring);

		assert_true(n > 0 && (size_t)n < len - o);
		o += (size_t)n;
	}
}

/* A filter: only the named endpoints (any order, unknown ones left out),
 * each with all its deployments; summary and detail still apply. */
static void test_json_filter(void **state)
{
	static const char *const eps[] = {"ep-a", "ep-b", "ep-c", "ep-d"};
	struct metrics *m = metrics_new();
	struct metrics_series *s[8];
	const char *want[] = {"ep-d", "nope", "ep-b", "ep-b"};
	struct metrics_filter f = {.endpoints = want, .nendpoints = 4};
	char names[128];
	cJSON *root, *e;

	(void)state;
	for (int i = 0; i < 8; i++) {
		s[i] = metrics_series(m, eps[i / 2], i % 2 ? "green" : "blue");
		metrics_record_at(s[i], 200, 100 + (uint64_t)i, 50);
	}
	root = metrics_json_of(m, 10, 50, &f);
	names_of(root, names, sizeof names);
	assert_string_equal(names, "ep-b,ep-d");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "endpoints"))
	{
		assert_int_equal((int)num(e, "requests"), 2);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "deployments")), 2);
	}
	cJSON_Delete(root);

	f.detail = "ep-d"; /* summary: deployments and series for ep-d only */
	root = metrics_json_of(m, 10, 50, &f);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "endpoints"))
		assert_int_equal(cJSON_HasObjectItem(e, "series"),
				 strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "ep-d") == 0);
	cJSON_Delete(root);

	f.nendpoints = 0; /* an empty list: nothing */
	root = metrics_json_of(m, 10, 50, &f);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "endpoints")), 0);
	cJSON_Delete(root);

	f.endpoints = NULL; /* no list: every endpoint */
	root = metrics_json_of(m, 10, 50, &f);
	names_of(root, names, sizeof names);
	assert_string_equal(names, "ep-a,ep-b,ep-c,ep-d");
	cJSON_Delete(root);
	for (int i = 0; i < 8; i++)
		metrics_series_unref(s[i]);
	metrics_free(m);
}

struct rec_ctx {
	struct metrics_series *s;
	int64_t base;
};

#define THREADS 4
#define PER_THREAD 200000

static void *recorder(void *arg)
{
	struct rec_ctx *c = arg;

	for (int i = 0; i < PER_THREAD; i++)
		metrics_record_ns_at(c->s, i % 100 == 0 ? 500 : 200, 1000 + (uint64_t)i % 5000000,
				     c->base + i / (PER_THREAD / 4));
	return NULL;
}

static void test_concurrent_exact(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep1", "blue");
	struct rec_ctx c = {s, 7000};
	pthread_t th[THREADS];
	cJSON *root, *d, *codes, *x;
	double sum = 0;

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, recorder, &c), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	root = metrics_json(m, 10, 7003, NULL, NULL);
	d = dep_of(root, "ep1", "blue");
	assert_int_equal((long)num(d, "requests"), THREADS * PER_THREAD);
	assert_int_equal((long)num(d, "totalRequests"), THREADS * PER_THREAD);
	assert_int_equal((long)num(d, "errors"), THREADS * PER_THREAD / 100);
	codes = cJSON_GetObjectItem(d, "codes");
	cJSON_ArrayForEach(x, codes)
	{
		sum += x->valuedouble;
	}
	assert_int_equal((long)sum, THREADS * PER_THREAD);
	x = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "series"), "requests");
	for (int i = 6; i < 10; i++)
		assert_int_equal((long)cJSON_GetArrayItem(x, i)->valuedouble,
				 THREADS * PER_THREAD / 4);
	cJSON_Delete(root);
	metrics_series_unref(s);
	metrics_free(m);
}

struct churn_ctx {
	struct metrics *m;
	struct metrics_series *s;
	atomic_llong now;
	atomic_int stop;
};

#define CHURN_PER_THREAD 300000

/* Records across 1,000 seconds, so slots wrap and go stale under the GC. */
static void *churn_recorder(void *arg)
{
	struct churn_ctx *c = arg;

	for (long i = 0; i < CHURN_PER_THREAD; i++) {
		int64_t t = i / 300;

		if (atomic_load(&c->now) < t)
			atomic_store(&c->now, t);
		metrics_record_ns_at(c->s, 200, 5000 + (uint64_t)i, t);
	}
	return NULL;
}

static void *churn_reader(void *arg)
{
	struct churn_ctx *c = arg;

	for (int k = 0; k < 100000 && !atomic_load(&c->stop); k++) {
		int64_t now = atomic_load(&c->now);

		metrics_gc(c->m, now + (k % 2 ? 0 : 200));
		if (k % 50 == 0)
			cJSON_Delete(metrics_json(c->m, 10, now, NULL, NULL));
	}
	return NULL;
}

/* Recorders, the GC and readers at once: totals stay exact and (under the
 * sanitizers) nothing is used after free. */
static void test_concurrent_gc(void **state)
{
	struct churn_ctx c = {0};
	pthread_t rec[2], rd;
	cJSON *root;

	(void)state;
	c.m = metrics_new();
	c.s = metrics_series(c.m, "ep1", "blue");
	assert_int_equal(pthread_create(&rd, NULL, churn_reader, &c), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&rec[i], NULL, churn_recorder, &c), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(rec[i], NULL);
	atomic_store(&c.stop, 1);
	pthread_join(rd, NULL);
	root = metrics_json(c.m, 10, CHURN_PER_THREAD / 300 - 1, NULL, NULL);
	assert_int_equal((long)num(dep_of(root, "ep1", "blue"), "totalRequests"),
			 2 * CHURN_PER_THREAD);
	cJSON_Delete(root);
	metrics_series_unref(c.s);
	metrics_free(c.m);
}

/* The endpoint's numbers are the merge of its deployments'. */
static void test_json_shape_and_merge(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *a = metrics_series(m, "ep1", "blue");
	struct metrics_series *b = metrics_series(m, "ep1", "green");
	struct metrics_series *c = metrics_series(m, "ep2", "main");
	struct metrics_series *again = metrics_series(m, "ep1", "blue");
	cJSON *root, *e, *se;

	(void)state;
	assert_ptr_equal(a, again);
	for (int i = 0; i < 90; i++)
		metrics_record_at(a, 200, 100, 50);
	for (int i = 0; i < 10; i++)
		metrics_record_at(b, 200, 10000, 50);
	metrics_record_at(c, 200, 5, 49);
	root = metrics_json(m, 60, 50, NULL, NULL);
	assert_int_equal((int)num(root, "window"), 60);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "endpoints")), 2);
	e = dep_of(root, "ep1", NULL);
	assert_int_equal((int)num(e, "requests"), 100);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "deployments")), 2);
	/* p50 from blue's 100 us, p99 from green's 10 ms */
	assert_true(fabs(num(e, "p50") - 0.105) < 1e-9);
	assert_true(fabs(num(e, "p99") - 10.5) < 1e-9);
	assert_true(fabs(num(e, "p90") - 0.105) < 1e-9);
	se = cJSON_GetObjectItem(e, "series");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(se, "p99")), 60);
	assert_true(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetObjectItem(se, "p99"), 0)));
	assert_int_equal(
	    (int)cJSON_GetArrayItem(cJSON_GetObjectItem(se, "requests"), 59)->valuedouble, 100);
	assert_non_null(dep_of(root, "ep2", "main"));
	cJSON_Delete(root);
	root = metrics_json(m, 60, 50, "ep2", NULL); /* filter */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "endpoints")), 1);
	cJSON_Delete(root);

	/* remove: gone from the output; holders still record safely */
	metrics_remove(m, "ep1", NULL);
	metrics_record_at(a, 200, 100, 50);
	root = metrics_json(m, 60, 50, NULL, NULL);
	assert_null(dep_of(root, "ep1", NULL));
	cJSON_Delete(root);
	metrics_series_unref(again);
	again = metrics_series(m, "ep1", "blue");
	assert_ptr_not_equal(a, again);
	metrics_series_unref(a);
	metrics_series_unref(b);
	metrics_series_unref(c);
	metrics_series_unref(again);
	metrics_free(m);
}

/* Parses the exposition text: every sample line's value, cumulative buckets
 * never decrease, +Inf equals _count. */
static void test_prometheus(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep\"1", "blue");
	int64_t now = metrics_now();
	const uint64_t lat[] = {100, 499, 500, 501, 999, 2000, 70000000, 3000000};
	size_t len;
	char *text, *line, *save = NULL;
	double prev = -1, inf = -1, count = -1, total = 0;
	int buckets = 0, help = 0;

	(void)state;
	for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++)
		metrics_record_at(s, i == 3 ? 503 : 200, lat[i], now);
	text = metrics_prometheus(m, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "endpoint=\"ep\\\"1\""));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');
		double v;

		if (line[0] == '#') {
			help++;
			continue;
		}
		assert_non_null(sp);
		v = strtod(sp + 1, NULL);
		if (strncmp(line, "mldeck_requests_total{", 22) == 0)
			total += v;
		if (strstr(line, "_bucket{") && !strstr(line, "+Inf")) {
			assert_true(v >= prev);
			prev = v;
			buckets++;
		}
		if (strstr(line, "le=\"+Inf\""))
			inf = v;
		if (strstr(line, "_count{"))
			count = v;
		if (strstr(line, "le=\"0.0005\""))
			assert_true(v == 3); /* 100, 499, 500 us: le is inclusive */
		if (strstr(line, "le=\"0.001\""))
			assert_true(v == 5);
	}
	assert_int_equal(help, 4);
	assert_int_equal(buckets, 14);
	assert_true(total == 8);
	assert_true(inf == 8 && count == 8 && prev == 7); /* 70 s only in +Inf */
	free(text);
	metrics_series_unref(s);
	metrics_free(m);
}

/* Old slots are freed, and the series keeps working afterwards. */
static void test_gc(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_series *s = metrics_series(m, "ep1", "blue");
	cJSON *root;

	(void)state;
	for (int64_t t = 0; t < 300; t++)
		metrics_record_at(s, 200, 10, t);
	metrics_gc(m, 599);
	metrics_gc(m, 1000);
	metrics_record_at(s, 200, 10, 1000);
	root = metrics_json(m, 300, 1000, NULL, NULL);
	assert_int_equal((int)num(dep_of(root, "ep1", "blue"), "requests"), 1);
	assert_int_equal((int)num(dep_of(root, "ep1", "blue"), "totalRequests"), 301);
	cJSON_Delete(root);
	metrics_series_unref(s);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bucket_boundaries),
	    cmocka_unit_test(test_bucket_round_trip),
	    cmocka_unit_test(test_percentiles_known),
	    cmocka_unit_test(test_percentiles_uniform),
	    cmocka_unit_test(test_window_ring),
	    cmocka_unit_test(test_errors_and_codes),
	    cmocka_unit_test(test_concurrent_exact),
	    cmocka_unit_test(test_concurrent_gc),
	    cmocka_unit_test(test_json_shape_and_merge),
	    cmocka_unit_test(test_json_summary),
	    cmocka_unit_test(test_json_filter),
	    cmocka_unit_test(test_prometheus),
	    cmocka_unit_test(test_gc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
