/* metrics.c: lock-free request counters and per-second latency histograms. */
#include "runtime/metrics.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DECADES 8			  /* 1 us .. 100 s */
#define PER_DECADE 90			  /* mantissas 10..99 */
#define CODES_TOTAL 16			  /* distinct status codes kept per series */
#define CODES_SEC 12			  /* ... and per second */
#define CODES_VIEW 32			  /* ... and in one window's view */
#define PROM_N 14			  /* Prometheus le buckets, +Inf apart */
#define LOW_NS 1000u			  /* 1 us, the first bucket's lower bound */
#define HIGH_BUCKET (METRICS_BUCKETS - 1) /* the 60 s bucket */
#define TEXT_MAX (256u << 20)		  /* the largest /metrics answer we build */

/* Prometheus buckets (seconds), as nanoseconds and as the le label. */
static const struct {
	uint64_t ns;
	const char *le;
} prom_le[PROM_N] = {
    {500000u, "0.0005"},  {1000000u, "0.001"},	{2500000u, "0.0025"}, {5000000u, "0.005"},
    {10000000u, "0.01"},  {25000000u, "0.025"}, {50000000u, "0.05"},  {100000000u, "0.1"},
    {250000000u, "0.25"}, {500000000u, "0.5"},	{1000000000u, "1"},   {2500000000u, "2.5"},
    {5000000000u, "5"},	  {10000000000u, "10"},
};

/* Status codes that count as errors besides every 5xx. */
static const int error_codes[] = {408, 424, 429};

/* A (status code, count) cell; code 0 marks a free cell and, in outputs, the
 * codes that found no free cell ("other"). */
struct code_count {
	atomic_int code;
	atomic_uint_fast64_t n;
};

struct chunk {
	atomic_uint_fast32_t c[PER_DECADE];
};

/* One second of one series. `second` is INT64_MIN while being reset. */
struct slot {
	_Atomic int64_t second;
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t errors;
	struct code_count codes[CODES_SEC];
	_Atomic(struct chunk *) chunks[DECADES];
};

struct metrics_series {
	atomic_uint refs;
	char endpoint[METRICS_NAME_MAX + 1];
	char deployment[METRICS_NAME_MAX + 1];
	struct metrics_series *next;   /* hash chain, under the registry's lock */
	pthread_mutex_t lock;	       /* starting and freeing slots, reading them */
	atomic_uint_fast64_t inflight; /* recorders between loading and using a slot */
	_Atomic int64_t last_second;   /* newest slot started */
	atomic_uint_fast64_t requests, errors, sum_ns;
	atomic_uint_fast64_t prom[PROM_N];
	struct code_count codes[CODES_TOTAL];
	_Atomic(struct slot *) ring[METRICS_SECONDS];
};

struct metrics {
	pthread_mutex_t lock;
	struct metrics_series **table;
	size_t nbuckets, count;
};

/* ---- histogram maths ---- */

int metrics_bucket_of(uint64_t ns)
{
	uint64_t p = 100; /* the decade's unit: bucket width */
	int e = 0;

	if (ns < LOW_NS)
		return 0;
	if (ns >= 60000000000u)
		return HIGH_BUCKET;
	while (ns >= p * 100) {
		p *= 10;
		e++;
	}
	return e * PER_DECADE + (int)(ns / p) - 10;
}

uint64_t metrics_bucket_width(int bucket)
{
	uint64_t p = 100;

	if (bucket < 0)
		bucket = 0;
	for (int e = bucket / PER_DECADE; e > 0; e--)
		p *= 10;
	return p;
}

uint64_t metrics_bucket_low(int bucket)
{
	if (bucket < 0)
		bucket = 0;
	if (bucket > HIGH_BUCKET)
		bucket = HIGH_BUCKET;
	return (uint64_t)(bucket % PER_DECADE + 10) * metrics_bucket_width(bucket);
}

uint64_t metrics_bucket_value(int bucket)
{
	return metrics_bucket_low(bucket) + metrics_bucket_width(bucket) / 2;
}

int metrics_is_error(int status)
{
	if (status >= 500 && status <= 599)
		return 1;
	for (size_t i = 0; i < sizeof error_codes / sizeof error_codes[0]; i++)
		if (status == error_codes[i])
			return 1;
	return 0;
}

int64_t metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static size_t ring_index(int64_t second)
{
	int64_t i = second % METRICS_SECONDS;

	return (size_t)(i < 0 ? i + METRICS_SECONDS : i);
}

/* ---- recording (hot path) ---- */

/* Adds one to code's cell, claiming a free cell for a new code; the last
 * cell counts the codes that found none (and nonsense statuses) as "other". */
static void codes_add(struct code_count *t, size_t n, int code)
{
	for (size_t i = 0; code > 0 && code <= 999 && i + 1 < n; i++) {
		int c = atomic_load_explicit(&t[i].code, memory_order_relaxed);

		if (c == 0 && atomic_compare_exchange_strong(&t[i].code, &c, code))
			c = code;
		if (c == code) {
			atomic_fetch_add_explicit(&t[i].n, 1, memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&t[n - 1].n, 1, memory_order_relaxed);
}

static struct chunk *slot_chunk(struct slot *p, int decade)
{
	struct chunk *c = atomic_load_explicit(&p->chunks[decade], memory_order_acquire);
	struct chunk *mine;

	if (c != NULL)
		return c;
	mine = calloc(1, sizeof *mine);
	if (mine == NULL)
		return NULL;
	if (atomic_compare_exchange_strong(&p->chunks[decade], &c, mine))
		return mine;
	free(mine); /* another thread won; c holds its chunk */
	return c;
}

static void slot_add(struct slot *p, int bucket, int status, int err)
{
	struct chunk *c = slot_chunk(p, bucket / PER_DECADE);

	atomic_fetch_add_explicit(&p->requests, 1, memory_order_relaxed);
	if (err)
		atomic_fetch_add_explicit(&p->errors, 1, memory_order_relaxed);
	codes_add(p->codes, CODES_SEC, status);
	if (c != NULL)
		atomic_fetch_add_explicit(&c->c[bucket % PER_DECADE], 1, memory_order_relaxed);
}

/* Zeroes a slot that held an old second and gives it to `second`. Recorders
 * only use a slot whose second they match, which it has only once zeroed. */
static void slot_reset(struct slot *p, int64_t second)
{
	atomic_store_explicit(&p->second, INT64_MIN, memory_order_release);
	atomic_store_explicit(&p->requests, 0, memory_order_relaxed);
	atomic_store_explicit(&p->errors, 0, memory_order_relaxed);
	for (int i = 0; i < CODES_SEC; i++) {
		atomic_store_explicit(&p->codes[i].code, 0, memory_order_relaxed);
		atomic_store_explicit(&p->codes[i].n, 0, memory_order_relaxed);
	}
	for (int d = 0; d < DECADES; d++) {
		struct chunk *c = atomic_load_explicit(&p->chunks[d], memory_order_relaxed);

		for (int i = 0; c != NULL && i < PER_DECADE; i++)
			atomic_store_explicit(&c->c[i], 0, memory_order_relaxed);
	}
	atomic_store_explicit(&p->second, second, memory_order_release);
}

/* The slow path, once per second per series: allocates or resets the slot of
 * `second`. NULL when out of memory or when the slot already holds a newer
 * second (a recorder late by a whole ring). */
static struct slot *slot_start(struct metrics_series *s, size_t idx, int64_t second)
{
	struct slot *p;
	int64_t have;

	pthread_mutex_lock(&s->lock);
	p = atomic_load(&s->ring[idx]);
	if (p == NULL) {
		p = calloc(1, sizeof *p);
		if (p != NULL) {
			atomic_init(&p->second, second);
			atomic_store(&s->ring[idx], p);
		}
	} else {
		have = atomic_load_explicit(&p->second, memory_order_relaxed);
		if (have < second)
			slot_reset(p, second);
		else if (have > second)
			p = NULL;
	}
	if (p != NULL && atomic_load_explicit(&s->last_second, memory_order_relaxed) < second)
		atomic_store_explicit(&s->last_second, second, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
	return p;
}

static int prom_bucket(uint64_t ns)
{
	int i = 0;

	while (i < PROM_N && ns > prom_le[i].ns)
		i++;
	return i; /* PROM_N: only +Inf */
}

void metrics_record_ns_at(struct metrics_series *s, int status, uint64_t latency_ns, int64_t now_s)
{
	int bucket = metrics_bucket_of(latency_ns), err = metrics_is_error(status);
	int pb = prom_bucket(latency_ns);
	size_t idx = ring_index(now_s);
	struct slot *p;

	if (s == NULL)
		return;
	atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
	if (err)
		atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_ns, latency_ns, memory_order_relaxed);
	if (pb < PROM_N)
		atomic_fetch_add_explicit(&s->prom[pb], 1, memory_order_relaxed);
	codes_add(s->codes, CODES_TOTAL, status);

	/* inflight brackets our use of the slot pointer: metrics_gc frees an
	 * unlinked slot only when it sees no recorder in between (seq_cst). */
	atomic_fetch_add(&s->inflight, 1);
	p = atomic_load(&s->ring[idx]);
	if (p == NULL || atomic_load_explicit(&p->second, memory_order_acquire) != now_s)
		p = slot_start(s, idx, now_s);
	if (p != NULL)
		slot_add(p, bucket, status, err);
	atomic_fetch_sub(&s->inflight, 1);
}

void metrics_record_at(struct metrics_series *s, int status, uint64_t latency_us, int64_t now_s)
{
	uint64_t ns = latency_us > UINT64_MAX / 1000 ? UINT64_MAX : latency_us * 1000;

	metrics_record_ns_at(s, status, ns, now_s);
}

void metrics_record(struct metrics_series *s, int status, uint64_t latency_us)
{
	metrics_record_at(s, status, latency_us, metrics_now());
}

void metrics_record_ns(struct metrics_series *s, int status, uint64_t latency_ns)
{
	metrics_record_ns_at(s, status, latency_ns, metrics_now());
}

/* ---- registry and lifetimes ---- */

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->nbuckets = 64;
	m->table = calloc(m->nbuckets, sizeof *m->table);
	if (m->table == NULL) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void series_free(struct metrics_series *s)
{
	for (size_t i = 0; i < METRICS_SECONDS; i++) {
		struct slot *p = atomic_load(&s->ring[i]);

		for (int d = 0; p != NULL && d < DECADES; d++)
			free(atomic_load(&p->chunks[d]));
		free(p);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct metrics_series *metrics_series_ref(struct metrics_series *s)
{
	if (s != NULL)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void metrics_series_unref(struct metrics_series *s)
{
	if (s != NULL && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		series_free(s);
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t b = 0; b < m->nbuckets; b++) {
		struct metrics_series *s = m->table[b], *next;

		for (; s != NULL; s = next) {
			next = s->next;
			metrics_series_unref(s);
		}
	}
	free(m->table);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static uint64_t hash_pair(const char *endpoint, const char *deployment)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (const char *p = endpoint; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3u;
	h = (h ^ 0xff) * 0x100000001b3u;
	for (const char *p = deployment; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3u;
	return h;
}

static int series_is(const struct metrics_series *s, const char *ep, const char *dep)
{
	return strcmp(s->endpoint, ep) == 0 && strcmp(s->deployment, dep) == 0;
}

/* Doubles the hash table when it gets as full as it is wide. Under m->lock;
 * on allocation failure keeps the old table (longer chains, still correct). */
static void registry_grow(struct metrics *m)
{
	size_t nb = m->nbuckets * 2;
	struct metrics_series **t;

	if (m->count < m->nbuckets || (t = calloc(nb, sizeof *t)) == NULL)
		return;
	for (size_t b = 0; b < m->nbuckets; b++) {
		struct metrics_series *s = m->table[b], *next;

		for (; s != NULL; s = next) {
			size_t h = hash_pair(s->endpoint, s->deployment) & (nb - 1);

			next = s->next;
			s->next = t[h];
			t[h] = s;
		}
	}
	free(m->table);
	m->table = t;
	m->nbuckets = nb;
}

static struct metrics_series *series_new(const char *ep, const char *dep)
{
	struct metrics_series *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1); /* the registry's */
	snprintf(s->endpoint, sizeof s->endpoint, "%s", ep);
	snprintf(s->deployment, sizeof s->deployment, "%s", dep);
	atomic_init(&s->last_second, INT64_MIN);
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

struct metrics_series *metrics_series(struct metrics *m, const char *endpoint,
				      const char *deployment)
{
	char ep[METRICS_NAME_MAX + 1], dep[METRICS_NAME_MAX + 1];
	struct metrics_series *s;
	size_t h;

	if (m == NULL || endpoint == NULL || deployment == NULL)
		return NULL;
	snprintf(ep, sizeof ep, "%s", endpoint);
	snprintf(dep, sizeof dep, "%s", deployment);
	pthread_mutex_lock(&m->lock);
	h = hash_pair(ep, dep) & (m->nbuckets - 1);
	for (s = m->table[h]; s != NULL && !series_is(s, ep, dep); s = s->next)
		;
	if (s == NULL && (s = series_new(ep, dep)) != NULL) {
		s->next = m->table[h];
		m->table[h] = s;
		m->count++;
		registry_grow(m);
	}
	metrics_series_ref(s);
	pthread_mutex_unlock(&m->lock);
	return s;
}

void metrics_remove(struct metrics *m, const char *endpoint, const char *deployment)
{
	struct metrics_series *gone = NULL;

	if (m == NULL || endpoint == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	for (size_t b = 0; b < m->nbuckets; b++) {
		struct metrics_series **pp = &m->table[b];

		while (*pp != NULL) {
			struct metrics_series *s = *pp;

			if (strncmp(s->endpoint, endpoint, METRICS_NAME_MAX) != 0 ||
			    (deployment != NULL &&
			     strncmp(s->deployment, deployment, METRICS_NAME_MAX) != 0)) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			s->next = gone;
			gone = s;
			m->count--;
		}
	}
	pthread_mutex_unlock(&m->lock);
	while (gone != NULL) {
		struct metrics_series *next = gone->next;

		metrics_series_unref(gone);
		gone = next;
	}
}

/* Series by endpoint, then deployment. */
static int series_cmp(const void *a, const void *b)
{
	const struct metrics_series *x = *(struct metrics_series *const *)a;
	const struct metrics_series *y = *(struct metrics_series *const *)b;
	int c = strcmp(x->endpoint, y->endpoint);

	return c != 0 ? c : strcmp(x->deployment, y->deployment);
}

/* Orders endpoint names as the registry compares them (cut at the longest). */
static int name_cmp(const void *a, const void *b)
{
	return strncmp(*(const char *const *)a, *(const char *const *)b, METRICS_NAME_MAX);
}

/* 1 when series s is one the filter f asks for; names is f's list sorted. */
static int filter_takes(const struct metrics_filter *f, const char **names,
			const struct metrics_series *s)
{
	const char *ep = s->endpoint;

	return f == NULL || f->endpoints == NULL ||
	       bsearch(&ep, names, f->nendpoints, sizeof *names, name_cmp) != NULL;
}

/* Every listed series (those filter f takes; f NULL: all), referenced,
 * sorted by endpoint then deployment. *n gets the count; NULL when none or
 * out of memory. */
static struct metrics_series **registry_list(struct metrics *m, const struct metrics_filter *f,
					     size_t *n)
{
	const char **names = NULL;
	struct metrics_series **v;

	*n = 0;
	if (f != NULL && f->endpoints != NULL && f->nendpoints > 0) {
		names = malloc(f->nendpoints * sizeof *names);
		if (names == NULL)
			return NULL;
		memcpy(names, f->endpoints, f->nendpoints * sizeof *names);
		qsort(names, f->nendpoints, sizeof *names, name_cmp);
	}
	pthread_mutex_lock(&m->lock);
	v = m->count && (f == NULL || f->endpoints == NULL || names != NULL)
		? malloc(m->count * sizeof *v)
		: NULL;
	for (size_t b = 0; v != NULL && b < m->nbuckets; b++)
		for (struct metrics_series *s = m->table[b]; s != NULL; s = s->next)
			if (filter_takes(f, names, s))
				v[(*n)++] = metrics_series_ref(s);
	pthread_mutex_unlock(&m->lock);
	free(names);
	if (v != NULL)
		qsort(v, *n, sizeof *v, series_cmp);
	return v;
}

static void registry_release(struct metrics_series **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		metrics_series_unref(v[i]);
	free(v);
}

/* ---- freeing old slots ---- */

static void slot_free(struct slot *p)
{
	for (int d = 0; d < DECADES; d++)
		free(atomic_load(&p->chunks[d]));
	free(p);
}

/* Unlinks the slots too old for any window, then frees them if no recorder
 * was between loading a slot pointer and using it; else links them back
 * for the next try (a recorder that starts after the unlink sees NULL). */
static void series_gc(struct metrics_series *s, int64_t now_s)
{
	struct slot *old[METRICS_SECONDS];
	size_t idx[METRICS_SECONDS], n = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < METRICS_SECONDS; i++) {
		struct slot *p = atomic_load(&s->ring[i]);

		if (p == NULL || atomic_load(&p->second) > now_s - METRICS_SECONDS)
			continue;
		atomic_store(&s->ring[i], NULL);
		old[n] = p;
		idx[n++] = i;
	}
	if (n > 0 && atomic_load(&s->inflight) == 0) {
		for (size_t k = 0; k < n; k++)
			slot_free(old[k]);
	} else {
		for (size_t k = 0; k < n; k++)
			atomic_store(&s->ring[idx[k]], old[k]);
	}
	pthread_mutex_unlock(&s->lock);
}

void metrics_gc(struct metrics *m, int64_t now_s)
{
	size_t n;
	struct metrics_series **v;

	if (m == NULL)
		return;
	v = registry_list(m, NULL, &n);
	for (size_t i = 0; i < n; i++)
		series_gc(v[i], now_s);
	registry_release(v, n);
}

/* ---- reading a window ---- */

struct entry {
	uint16_t bucket;
	uint32_t count;
};

/* Status counts gathered from code_count tables; other: the rest. */
struct codeset {
	struct {
		int code;
		uint64_t n;
	} c[CODES_VIEW];
	size_t n;
	uint64_t other;
};

/* One series' copy of a window, read under its lock, used without it. */
struct view {
	const struct metrics_series *s;
	uint64_t total_requests, total_errors;
	uint64_t sec_req[METRICS_SECONDS], sec_err[METRICS_SECONDS];
	uint32_t sec_off[METRICS_SECONDS + 1]; /* second i's entries: [off[i], off[i+1]) */
	struct entry *e;
	size_t n, cap;
	struct codeset codes;
};

/* A dense histogram that remembers the range it touched, so clearing and
 * walking cost the range, not METRICS_BUCKETS. */
struct dense {
	uint64_t c[METRICS_BUCKETS];
	int lo, hi; /* touched buckets; lo > hi when empty */
	uint64_t n;
};

static void dense_clear(struct dense *d)
{
	if (d->lo <= d->hi)
		memset(&d->c[d->lo], 0, (size_t)(d->hi - d->lo + 1) * sizeof d->c[0]);
	d->lo = METRICS_BUCKETS;
	d->hi = -1;
	d->n = 0;
}

static void dense_add(struct dense *d, const struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		d->c[e[i].bucket] += e[i].count;
		d->n += e[i].count;
		if (e[i].bucket < d->lo)
			d->lo = e[i].bucket;
		if (e[i].bucket > d->hi)
			d->hi = e[i].bucket;
	}
}

/* The nearest-rank q-quantile (0 < q <= 1) as a bucket, -1 when empty. */
static int dense_quantile(const struct dense *d, double q)
{
	uint64_t rank = (uint64_t)(q * (double)d->n), seen = 0;

	if (d->n == 0)
		return -1;
	if ((double)rank < q * (double)d->n)
		rank++;
	if (rank < 1)
		rank = 1;
	for (int b = d->lo; b <= d->hi; b++) {
		seen += d->c[b];
		if (seen >= rank)
			return b;
	}
	return d->hi;
}

static void codeset_add(struct codeset *cs, int code, uint64_t n)
{
	size_t i;

	if (n == 0)
		return;
	for (i = 0; code > 0 && i < cs->n && cs->c[i].code != code; i++)
		;
	if (code <= 0 || (i == cs->n && cs->n == CODES_VIEW)) {
		cs->other += n;
		return;
	}
	if (i == cs->n) {
		cs->c[i].code = code;
		cs->c[i].n = 0;
		cs->n++;
	}
	cs->c[i].n += n;
}

/* Reads a live table: cells 0..n-2 by code, the last one is "other". */
static void codeset_read(struct codeset *cs, struct code_count *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int code = i + 1 < n ? atomic_load_explicit(&t[i].code, memory_order_relaxed) : 0;

		codeset_add(cs, code, atomic_load_explicit(&t[i].n, memory_order_relaxed));
	}
}

static int view_push(struct view *v, int bucket, uint32_t count)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct entry *e = realloc(v->e, cap * sizeof *e);

		if (e == NULL)
			return -1;
		v->e = e;
		v->cap = cap;
	}
	v->e[v->n].bucket = (uint16_t)bucket;
	v->e[v->n].count = count;
	v->n++;
	return 0;
}

/* Copies one slot's counts (if it still holds `second`) as second i. */
static int view_slot(struct view *v, struct slot *p, int64_t second, int i)
{
	if (p == NULL || atomic_load_explicit(&p->second, memory_order_acquire) != second)
		return 0;
	v->sec_req[i] = atomic_load_explicit(&p->requests, memory_order_relaxed);
	v->sec_err[i] = atomic_load_explicit(&p->errors, memory_order_relaxed);
	codeset_read(&v->codes, p->codes, CODES_SEC);
	for (int d = 0; d < DECADES; d++) {
		struct chunk *c = atomic_load_explicit(&p->chunks[d], memory_order_acquire);

		for (int k = 0; c != NULL && k < PER_DECADE; k++) {
			uint32_t n = (uint32_t)atomic_load_explicit(&c->c[k], memory_order_relaxed);

			if (n != 0 && view_push(v, d * PER_DECADE + k, n) != 0)
				return -1;
		}
	}
	return 0;
}

/* Fills v with series s over the window of w seconds ending at now_s. */
static int view_read(struct view *v, struct metrics_series *s, int w, int64_t now_s)
{
	int64_t first = now_s - w + 1;
	int rc = 0;

	v->s = s;
	v->total_requests = atomic_load_explicit(&s->requests, memory_order_relaxed);
	v->total_errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < w; i++) {
		v->sec_off[i] = (uint32_t)v->n;
		if (rc == 0 && atomic_load(&s->last_second) >= first + i)
			rc = view_slot(v, atomic_load(&s->ring[ring_index(first + i)]), first + i,
				       i);
	}
	v->sec_off[w] = (uint32_t)v->n;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- JSON for the console ---- */

static cJSON *json_ms(int bucket)
{
	return bucket < 0 ? cJSON_CreateNull()
			  : cJSON_CreateNumber((double)metrics_bucket_value(bucket) / 1e6);
}

/* Adds the merged codes of views vs[0..k) to o as {"200": n, "other": n}. */
static void json_codes(cJSON *o, struct view *const *vs, size_t k)
{
	struct codeset all = {0};
	cJSON *codes = cJSON_AddObjectToObject(o, "codes");
	char key[16];

	if (codes == NULL)
		return;
	for (size_t j = 0; j < k; j++) {
		for (size_t i = 0; i < vs[j]->codes.n; i++)
			codeset_add(&all, vs[j]->codes.c[i].code, vs[j]->codes.c[i].n);
		all.other += vs[j]->codes.other;
	}
	for (size_t i = 0; i < all.n; i++) {
		snprintf(key, sizeof key, "%d", all.c[i].code);
		cJSON_AddNumberToObject(codes, key, (double)all.c[i].n);
	}
	if (all.other)
		cJSON_AddNumberToObject(codes, "other", (double)all.other);
}

/* The per-second arrays of views vs[0..k) merged. */
static void json_series(cJSON *o, struct view *const *vs, size_t k, int w, struct dense *d)
{
	cJSON *se = cJSON_AddObjectToObject(o, "series");
	cJSON *req = cJSON_AddArrayToObject(se, "requests");
	cJSON *err = cJSON_AddArrayToObject(se, "errors");
	cJSON *p50 = cJSON_AddArrayToObject(se, "p50");
	cJSON *p99 = cJSON_AddArrayToObject(se, "p99");

	for (int i = 0; req && err && p50 && p99 && i < w; i++) {
		uint64_t r = 0, e = 0;

		dense_clear(d);
		for (size_t j = 0; j < k; j++) {
			r += vs[j]->sec_req[i];
			e += vs[j]->sec_err[i];
			dense_add(d, &vs[j]->e[vs[j]->sec_off[i]],
				  vs[j]->sec_off[i + 1] - vs[j]->sec_off[i]);
		}
		cJSON_AddItemToArray(req, cJSON_CreateNumber((double)r));
		cJSON_AddItemToArray(err, cJSON_CreateNumber((double)e));
		cJSON_AddItemToArray(p50, json_ms(dense_quantile(d, 0.50)));
		cJSON_AddItemToArray(p99, json_ms(dense_quantile(d, 0.99)));
	}
}

/* The stats of views vs[0..k) merged exactly, added to o. */
static void json_stats(cJSON *o, struct view *const *vs, size_t k, int w, struct dense *d,
		       int full)
{
	uint64_t req = 0, err = 0, treq = 0, terr = 0;

	dense_clear(d);
	for (size_t j = 0; j < k; j++) {
		for (int i = 0; i < w; i++) {
			req += vs[j]->sec_req[i];
			err += vs[j]->sec_err[i];
		}
		treq += vs[j]->total_requests;
		terr += vs[j]->total_errors;
		dense_add(d, vs[j]->e, vs[j]->n);
	}
	cJSON_AddNumberToObject(o, "requests", (double)req);
	cJSON_AddNumberToObject(o, "errors", (double)err);
	cJSON_AddNumberToObject(o, "errorRate", req ? (double)err / (double)req : 0.0);
	cJSON_AddNumberToObject(o, "rps", (double)req / w);
	cJSON_AddItemToObject(o, "p50", json_ms(dense_quantile(d, 0.50)));
	cJSON_AddItemToObject(o, "p90", json_ms(dense_quantile(d, 0.90)));
	cJSON_AddItemToObject(o, "p99", json_ms(dense_quantile(d, 0.99)));
	cJSON_AddItemToObject(o, "max", json_ms(d->n ? d->hi : -1));
	json_codes(o, vs, k);
	cJSON_AddNumberToObject(o, "totalRequests", (double)treq);
	cJSON_AddNumberToObject(o, "totalErrors", (double)terr);
	if (full)
		json_series(o, vs, k, w, d);
}

/* One endpoint's object from the views of its deployments. */
static cJSON *json_endpoint(struct view *const *vs, size_t k, int w, struct dense *d,
			    const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	int full = detail == NULL || strcmp(detail, vs[0]->s->endpoint) == 0;
	cJSON *deps;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", vs[0]->s->endpoint);
	json_stats(o, vs, k, w, d, full);
	if (!full)
		return o;
	deps = cJSON_AddArrayToObject(o, "deployments");
	for (size_t j = 0; deps != NULL && j < k; j++) {
		cJSON *dep = cJSON_CreateObject();

		if (dep == NULL)
			break;
		cJSON_AddStringToObject(dep, "name", vs[j]->s->deployment);
		json_stats(dep, &vs[j], 1, w, d, 1);
		cJSON_AddItemToArray(deps, dep);
	}
	return o;
}

static void views_free(struct view **vs, size_t n)
{
	for (size_t i = 0; vs != NULL && i < n; i++) {
		if (vs[i] != NULL)
			free(vs[i]->e);
		free(vs[i]);
	}
	free(vs);
}

/* Reads every series' window; NULL when out of memory. */
static struct view **views_read(struct metrics_series **v, size_t n, int w, int64_t now_s)
{
	struct view **vs = calloc(n ? n : 1, sizeof *vs);

	for (size_t i = 0; vs != NULL && i < n; i++) {
		vs[i] = calloc(1, sizeof *vs[i]);
		if (vs[i] == NULL || view_read(vs[i], v[i], w, now_s) != 0) {
			views_free(vs, n);
			return NULL;
		}
	}
	return vs;
}

static cJSON *json_build(struct view **vs, size_t n, int w, struct dense *d, const char *detail)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *eps = NULL;

	if (root != NULL) {
		cJSON_AddNumberToObject(root, "window", w);
		eps = cJSON_AddArrayToObject(root, "endpoints");
	}
	if (eps == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(vs[j]->s->endpoint, vs[i]->s->endpoint) == 0; j++)
			;
		cJSON_AddItemToArray(eps, json_endpoint(&vs[i], j - i, w, d, detail));
	}
	return root;
}

cJSON *metrics_json_of(struct metrics *m, int window_s, int64_t now_s,
			const struct metrics_filter *f)
{
	int w = window_s < 1 ? 1 : window_s > METRICS_SECONDS ? METRICS_SECONDS : window_s;
	struct metrics_series **v;
	struct view **vs;
	struct dense *d;
	cJSON *root = NULL;
	size_t n;

	if (m == NULL)
		return NULL;
	metrics_gc(m, now_s);
	v = registry_list(m, f, &n);
	vs = views_read(v, n, w, now_s);
	d = malloc(sizeof *d);
	if (vs != NULL && d != NULL) {
		d->lo = 0;
		d->hi = METRICS_BUCKETS - 1;
		dense_clear(d);
		root = json_build(vs, n, w, d, f->detail);
	}
	free(d);
	views_free(vs, n);
	registry_release(v, n);
	return root;
}

cJSON *metrics_json(struct metrics *m, int window_s, int64_t now_s, const char *endpoint,
		    const char *detail)
{
	struct metrics_filter f = {.endpoints = endpoint ? &endpoint : NULL,
				   .nendpoints = endpoint ? 1 : 0,
				   .detail = detail};

	return metrics_json_of(m, window_s, now_s, &f);
}

/* ---- Prometheus text ---- */

struct text {
	char *p;
	size_t len, cap;
	int failed;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p ? t->p + t->len : NULL, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	if (t->len + (size_t)n >= t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (cap <= t->len + (size_t)n)
			cap *= 2;
		if (cap > TEXT_MAX || (p = realloc(t->p, cap)) == NULL) {
			t->failed = 1;
			return;
		}
		t->p = p;
		t->cap = cap;
		va_start(ap, fmt);
		vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

/* A label value escaped as the exposition format asks: \\, \" and \n. */
static void escape_label(char *out, size_t outlen, const char *in)
{
	size_t o = 0;

	for (; *in && o + 3 < outlen; in++) {
		char c = *in;

		if (c == '\\' || c == '"' || c == '\n') {
			out[o++] = '\\';
			c = c == '\n' ? 'n' : c;
		}
		out[o++] = c;
	}
	out[o] = '\0';
}

static void prom_requests(struct text *t, struct metrics_series *const *v, size_t n)
{
	char ep[2 * METRICS_NAME_MAX + 4], dep[2 * METRICS_NAME_MAX + 4];

	text_printf(t, "# HELP mldeck_requests_total Requests answered, by endpoint, deployment "
		       "and HTTP status code.\n# TYPE mldeck_requests_total counter\n");
	for (size_t i = 0; i < n; i++) {
		struct codeset cs = {0};

		escape_label(ep, sizeof ep, v[i]->endpoint);
		escape_label(dep, sizeof dep, v[i]->deployment);
		codeset_read(&cs, v[i]->codes, CODES_TOTAL);
		for (size_t k = 0; k < cs.n; k++)
			text_printf(t,
				    "mldeck_requests_total{endpoint=\"%s\",deployment=\"%s\","
				    "code=\"%d\"} %llu\n",
				    ep, dep, cs.c[k].code, (unsigned long long)cs.c[k].n);
		if (cs.other)
			text_printf(t,
				    "mldeck_requests_total{endpoint=\"%s\",deployment=\"%s\","
				    "code=\"other\"} %llu\n",
				    ep, dep, (unsigned long long)cs.other);
	}
}

static void prom_histogram(struct text *t, struct metrics_series *s)
{
	char ep[2 * METRICS_NAME_MAX + 4], dep[2 * METRICS_NAME_MAX + 4];
	uint64_t cum = 0, count;

	escape_label(ep, sizeof ep, s->endpoint);
	escape_label(dep, sizeof dep, s->deployment);
	/* Read the count first: concurrent recorders only make the buckets
	 * larger, and the +Inf bucket must not be below the last one. */
	count = atomic_load_explicit(&s->requests, memory_order_relaxed);
	for (int i = 0; i < PROM_N; i++) {
		cum += atomic_load_explicit(&s->prom[i], memory_order_relaxed);
		text_printf(t,
			    "mldeck_request_duration_seconds_bucket{endpoint=\"%s\","
			    "deployment=\"%s\",le=\"%s\"} %llu\n",
			    ep, dep, prom_le[i].le, (unsigned long long)cum);
	}
	if (count < cum)
		count = cum;
	text_printf(t,
		    "mldeck_request_duration_seconds_bucket{endpoint=\"%s\",deployment=\"%s\","
		    "le=\"+Inf\"} %llu\n",
		    ep, dep, (unsigned long long)count);
	text_printf(t,
		    "mldeck_request_duration_seconds_sum{endpoint=\"%s\",deployment=\"%s\"} %.9f\n",
		    ep, dep, (double)atomic_load_explicit(&s->sum_ns, memory_order_relaxed) / 1e9);
	text_printf(t,
		    "mldeck_request_duration_seconds_count{endpoint=\"%s\",deployment=\"%s\"} "
		    "%llu\n",
		    ep, dep, (unsigned long long)count);
}

char *metrics_prometheus(struct metrics *m, size_t *len)
{
	struct text t = {0};
	struct metrics_series **v;
	size_t n;

	if (m == NULL)
		return NULL;
	metrics_gc(m, metrics_now());
	v = registry_list(m, NULL, &n);
	prom_requests(&t, v, n);
	text_printf(&t, "# HELP mldeck_request_duration_seconds Request latency, from arrival "
			"to answer.\n# TYPE mldeck_request_duration_seconds histogram\n");
	for (size_t i = 0; i < n; i++)
		prom_histogram(&t, v[i]);
	registry_release(v, n);
	if (t.failed) {
		free(t.p);
		return NULL;
	}
	if (len != NULL)
		*len = t.len;
	return t.p;
}
