/*
 * metrics.h: per-deployment request counts and latency histograms, for
 * GET /metrics (Prometheus) and GET /v1/metrics?window=S (the console).
 *
 * A series is one (endpoint, deployment) pair. It keeps, since it was
 * created: requests by status code, errors, the latency sum and the
 * Prometheus buckets; and, for each of the last METRICS_SECONDS seconds, a
 * fine latency histogram with its request, error and status counts, so that
 * any window's percentiles are exact to the bucket.
 *
 * The fine histogram is log-linear with two significant digits from 1 us to
 * 60 s: bucket i covers [m * 10^e, (m + 1) * 10^e) nanoseconds for a mantissa
 * m of 10..99 and a decade e of 2..9 (1.0 us, 1.1 us, ... 9.9 us, 10 us, 11 us,
 * ... 99 s). Latencies under 1 us count in the first bucket; from 60 s on in
 * the 60 s bucket. A percentile is reported as the midpoint of the bucket it
 * falls in, so it is within half a bucket width (5 % at worst, 0.5 % at best)
 * of the exact value. Percentiles use the nearest-rank definition.
 *
 * Errors are the answers that mean the deployment failed the caller: every
 * 5xx, 408 (timeout), 424 (scoring script failed) and 429 (over capacity).
 * Other 4xx (400 malformed input, 401, 404, 413) are the client's mistakes
 * and are not errors; every status is still counted by its code.
 *
 * Threads: every function is thread-safe. metrics_record* is the hot path:
 * lock-free (a few relaxed atomic additions); it takes the series' mutex
 * only once per second per series, to start that second's slot, and
 * allocates only the first time a slot or one of its decades is used.
 *
 * Memory: an idle series costs about 3 KB (its slot ring of pointers). A
 * second with requests costs a slot of about 300 bytes plus 360 bytes for
 * each decade of latency it saw (typically one or two): a series busy every
 * second holds about 300 x 1 KB = 300 KB. Slots older than the ring are
 * freed by metrics_gc (which metrics_json and metrics_prometheus also run).
 *
 * Lifetimes: metrics_series returns a reference; the caller drops it with
 * metrics_series_unref (e.g. the runtime takes one when it brings a
 * deployment up, records through it from request threads, and unrefs it
 * when the deployment is freed). metrics_remove only unlinks the pair from
 * the registry (its counts vanish from the outputs, and a later
 * metrics_series of the same pair starts from zero); the series itself is
 * freed with its last reference, so a request thread recording while the
 * deployment is deleted writes into a live, unlisted series. metrics_free
 * drops the registry's references; a series still referenced elsewhere
 * lives on until its last unref.
 */
#ifndef RUNTIME_METRICS_H
#define RUNTIME_METRICS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_SECONDS 300 /* per-second history kept, and the largest window */
#define METRICS_BUCKETS 681 /* fine histogram buckets: 1.0 us .. 60 s */
#define METRICS_NAME_MAX 64 /* longer endpoint or deployment names are cut */
#define METRICS_FILTER_MAX 1000 /* endpoints one query may name */

struct metrics;
struct metrics_series;

struct metrics *metrics_new(void);
/* Frees the registry and drops its reference to every series. NULL is a
 * no-op. */
void metrics_free(struct metrics *m);

/* The series of (endpoint, deployment), created on first use, with a new
 * reference. NULL when out of memory. */
struct metrics_series *metrics_series(struct metrics *m, const char *endpoint,
				      const char *deployment);
struct metrics_series *metrics_series_ref(struct metrics_series *s);
/* NULL is a no-op. */
void metrics_series_unref(struct metrics_series *s);

/* Drops one series, or (deployment NULL) every series of the endpoint, from
 * the registry. */
void metrics_remove(struct metrics *m, const char *endpoint, const char *deployment);

/* Records one answered request. latency in microseconds or nanoseconds;
 * the _at forms take the current second of metrics_now()'s clock (tests). */
void metrics_record(struct metrics_series *s, int status, uint64_t latency_us);
void metrics_record_ns(struct metrics_series *s, int status, uint64_t latency_ns);
void metrics_record_at(struct metrics_series *s, int status, uint64_t latency_us, int64_t now_s);
void metrics_record_ns_at(struct metrics_series *s, int status, uint64_t latency_ns, int64_t now_s);

/* The clock of the per-second ring: CLOCK_MONOTONIC seconds. */
int64_t metrics_now(void);
/* 1 when status counts as an error (see above), else 0. */
int metrics_is_error(int status);

/* Prometheus text exposition (version 0.0.4), heap-owned, length in *len:
 * mldeck_requests_total{endpoint,deployment,code} and the histogram
 * mldeck_request_duration_seconds{endpoint,deployment} with le buckets
 * 0.0005 .. 10 and +Inf, all cumulative since each series was created.
 * NULL when out of memory. */
char *metrics_prometheus(struct metrics *m, size_t *len);

/* The console's view over the last window_s seconds (clamped to
 * 1..METRICS_SECONDS) ending with second now_s (metrics_now()'s clock),
 * for every endpoint, or only endpoint when not NULL. Caller frees with
 * cJSON_Delete; NULL when out of memory. Shape (times in ms, null when the
 * window has no request; series arrays hold window_s entries, oldest first,
 * the last one being second now_s, which is still filling):
 *
 *	{"window": 60, "endpoints": [
 *	  {"name": "ep", "requests": 120, "errors": 1, "errorRate": 0.0083,
 *	   "rps": 2.0, "p50": 1.25, "p90": 2.1, "p99": 4.5, "max": 5.1,
 *	   "codes": {"200": 119, "503": 1},
 *	   "totalRequests": 5000, "totalErrors": 3,
 *	   "series": {"requests": [...], "errors": [...], "p50": [...], "p99": [...]},
 *	   "deployments": [{"name": "blue", ...the same fields...}]}]}
 *
 * The endpoint's numbers merge its deployments' histograms exactly.
 *
 * detail NULL: every endpoint in full. Otherwise a summary: only the
 * endpoint named detail (none when "") carries "series" and "deployments";
 * the others carry their totals, which keeps the answer small for a console
 * watching a thousand endpoints. */
cJSON *metrics_json(struct metrics *m, int window_s, int64_t now_s, const char *endpoint,
		    const char *detail);

/* Which endpoints metrics_json_of answers for. */
struct metrics_filter {
	const char *const *endpoints; /* only these, in any order (unknown names are
				       * left out); NULL: every endpoint */
	size_t nendpoints;
	const char *detail;	      /* as metrics_json's */
};
/* metrics_json for the endpoints f names: a console asks only for the rows
 * it shows (GET /v1/metrics?endpoints=a,b,c). */
cJSON *metrics_json_of(struct metrics *m, int window_s, int64_t now_s,
		       const struct metrics_filter *f);

/* Frees per-second slots too old for any window. Cheap when nothing is
 * stale; run by metrics_json and metrics_prometheus. */
void metrics_gc(struct metrics *m, int64_t now_s);

/* The histogram maths, exposed for tests: bucket of a latency, and a
 * bucket's lower bound, width and reported (midpoint) value, in ns. */
int metrics_bucket_of(uint64_t ns);
uint64_t metrics_bucket_low(int bucket);
uint64_t metrics_bucket_width(int bucket);
uint64_t metrics_bucket_value(int bucket);

#endif
