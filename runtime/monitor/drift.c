/* drift.c: live drift of the last rows against a monitor's reference (drift.h). */
#include "runtime/monitor/drift.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/datacollector.h"
#include "state/dynbuf.h"
#include "state/resource.h"

enum { FL_NULL = 1, FL_TYPE = 2, FL_OOB = 4 };
enum { Q_NULL, Q_TYPE, Q_OOB, QUALITY };
static const enum stats_metric quality_metric[QUALITY] = {
    STATS_NULL_RATE, STATS_TYPE_ERROR_RATE, STATS_OUT_OF_BOUNDS_RATE};

struct cat {
	char *s;
	size_t n;
	uint64_t ref; /* count in the reference (0: new) */
};

struct feat {
	char name[SIGNAL_FEATURE_MAX + 1];
	size_t nlen;
	int categorical;
	enum stats_type type;
	int has_metric;
	enum stats_metric metric;
	double threshold;
	double qthr[QUALITY]; /* NaN: no quality threshold */
	/* numerical reference: quantile edges, values at or below each */
	double edges[DRIFT_BINS + 1];
	uint64_t below[DRIFT_BINS + 1];
	size_t nedges;
	double min, max, sd;
	uint64_t nref;
	/* categorical reference and the window's new categories (the last: "other") */
	struct cat *cats;
	size_t ncats, nrefcats, capcats;
	uint32_t *slots; /* cats by hash */
	size_t nslots;
	/* now */
	int has;
	double value, rates[QUALITY];
	int passed;
	float hist[DRIFT_HISTORY];
	size_t nhist;
};

struct win {
	char collection[DC_NAME_MAX + 1];
	char monitor[RESOURCE_ASSET_NAME_MAX + 1];
	enum signal_type signal;
	struct feat *f;
	size_t nf;
	int32_t hint[64];
	int64_t t[DRIFT_ROWS];
	float *v;    /* DRIFT_ROWS x nf */
	uint8_t *fl; /* DRIFT_ROWS x nf */
	size_t head, count;
	size_t counted; /* count at the last recount: the rows the values describe */
	int dirty;
	int64_t last_hist, computed; /* seconds */
};

struct dep {
	char ep[RESOURCE_NAME_MAX + 1], dep[RESOURCE_NAME_MAX + 1];
	pthread_mutex_t lock;
	struct win *wins[2];
	struct dep *next;
};

struct drift {
	pthread_mutex_t lock; /* the list; deps are never freed before drift_free */
	struct dep *deps;
	/* rows handed over and not yet counted in: only drift_row (the writer)
	 * and drift_tick (the ticker, which swaps it) take stage_lock, so the
	 * writer, which runs on spare CPU and may sit preempted, never holds a
	 * lock a reader of the figures waits for */
	pthread_mutex_t stage_lock;
	struct dynbuf stage;
	struct dynbuf spare; /* the ticker's: the next stage */
	atomic_int windows; /* any at all: no window, nothing staged */
};

/* ---- deployments and windows --------------------------------------------- */

struct drift *drift_new(void)
{
	struct drift *d = calloc(1, sizeof *d);

	if (d) {
		pthread_mutex_init(&d->lock, NULL);
		pthread_mutex_init(&d->stage_lock, NULL);
		dynbuf_init(&d->stage, DRIFT_STAGE_MAX);
		dynbuf_init(&d->spare, DRIFT_STAGE_MAX);
	}
	return d;
}

static void feat_cleanup(struct feat *f)
{
	for (size_t i = 0; i < f->ncats; i++)
		free(f->cats[i].s);
	free(f->cats);
	free(f->slots);
}

static void win_free(struct win *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nf; i++)
		feat_cleanup(&w->f[i]);
	free(w->f);
	free(w->v);
	free(w->fl);
	free(w);
}

void drift_free(struct drift *d)
{
	struct dep *p, *next;

	if (d == NULL)
		return;
	for (p = d->deps; p; p = next) {
		next = p->next;
		win_free(p->wins[0]);
		win_free(p->wins[1]);
		pthread_mutex_destroy(&p->lock);
		free(p);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->stage_lock);
	dynbuf_free(&d->stage);
	dynbuf_free(&d->spare);
	free(d);
}

static struct dep *dep_of(struct drift *d, const char *ep, const char *dep, int create)
{
	struct dep *p;

	pthread_mutex_lock(&d->lock);
	for (p = d->deps; p; p = p->next)
		if (!strcmp(p->ep, ep) && !strcmp(p->dep, dep))
			break;
	if (p == NULL && create && (p = calloc(1, sizeof *p)) != NULL) {
		snprintf(p->ep, sizeof p->ep, "%s", ep);
		snprintf(p->dep, sizeof p->dep, "%s", dep);
		pthread_mutex_init(&p->lock, NULL);
		p->next = d->deps;
		d->deps = p;
	}
	pthread_mutex_unlock(&d->lock);
	return p;
}

static int slot_of(const char *collection)
{
	return strcmp(collection, "model_outputs") == 0;
}

/* ---- categories ---------------------------------------------------------- */

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static void slots_put(struct feat *f, size_t idx)
{
	size_t s = hash(f->cats[idx].s, f->cats[idx].n) & (f->nslots - 1);

	while (f->slots[s] != UINT32_MAX)
		s = (s + 1) & (f->nslots - 1);
	f->slots[s] = (uint32_t)idx;
}

/* Index of category s (added when new and there is room; else the "other"
 * one), or -1 when out of memory. */
static long cat_index(struct feat *f, const char *s, size_t n, int add)
{
	size_t i;

	if (f->nslots == 0)
		return -1;
	for (i = hash(s, n) & (f->nslots - 1); f->slots[i] != UINT32_MAX;
	     i = (i + 1) & (f->nslots - 1)) {
		const struct cat *c = &f->cats[f->slots[i]];
		if (c->n == n && memcmp(c->s, s, n) == 0)
			return f->slots[i];
	}
	if (!add || f->ncats + 1 >= f->capcats)
		return (long)f->capcats - 1; /* "other" */
	if ((f->cats[f->ncats].s = malloc(n + 1)) == NULL)
		return -1;
	memcpy(f->cats[f->ncats].s, s, n);
	f->cats[f->ncats].s[n] = '\0';
	f->cats[f->ncats].n = n;
	f->cats[f->ncats].ref = 0;
	slots_put(f, f->ncats);
	return (long)f->ncats++;
}

static int on_category(void *ctx, const char *s, size_t n, uint64_t count)
{
	struct feat *f = ctx;
	long i = cat_index(f, s, n, 1);

	if (i < 0)
		return -1;
	f->cats[i].ref += count;
	return 0;
}

/* Room for the reference's categories, DRIFT_NEW new ones and "other". */
static int cats_init(struct feat *f, size_t nref)
{
	f->capcats = nref + DRIFT_NEW + 1;
	for (f->nslots = 16; f->nslots < 2 * f->capcats; f->nslots *= 2)
		;
	f->cats = calloc(f->capcats, sizeof *f->cats);
	f->slots = malloc(f->nslots * sizeof *f->slots);
	if (f->cats == NULL || f->slots == NULL)
		return -1;
	memset(f->slots, 0xff, f->nslots * sizeof *f->slots);
	return 0;
}

/* ---- configuring ---------------------------------------------------------- */

static void quality_thresholds(struct feat *f, const struct monitor_signal *q)
{
	for (int k = 0; k < QUALITY; k++)
		f->qthr[k] = NAN;
	for (size_t i = 0; q && i < q->nthresholds; i++)
		for (int k = 0; k < QUALITY; k++)
			if (q->thresholds[i].metric == quality_metric[k] &&
			    q->thresholds[i].categorical == f->categorical)
				f->qthr[k] = q->thresholds[i].value;
}

static int feat_init(struct feat *f, const struct columns *ref, size_t col,
		     const struct monitor_signal *s, const struct monitor_signal *q,
		     struct error *err)
{
	struct columns_info info;
	int over = signals_override(s, columns_name(ref, col));

	columns_info(ref, col, &info);
	snprintf(f->name, sizeof f->name, "%s", columns_name(ref, col));
	f->nlen = strlen(f->name);
	f->type = info.type;
	f->categorical = over >= 0 ? over : info.categorical;
	f->min = info.min;
	f->max = info.max;
	f->sd = info.sd;
	f->nref = info.values;
	for (size_t i = 0; s->type != SIGNAL_DATA_QUALITY && i < s->nthresholds; i++)
		if (s->thresholds[i].categorical == f->categorical && !f->has_metric) {
			f->has_metric = 1;
			f->metric = s->thresholds[i].metric;
			f->threshold = s->thresholds[i].value;
		}
	quality_thresholds(f, q ? q : (s->type == SIGNAL_DATA_QUALITY ? s : NULL));
	if (f->categorical) {
		if (cats_init(f, info.distinct) < 0)
			return error_set(err, 500, "InternalError", "out of memory");
		if (columns_categories(ref, col, on_category, f, err) < 0)
			return -1;
		f->nrefcats = f->ncats;
		return 0;
	}
	if (f->type != STATS_TYPE_LONG && f->type != STATS_TYPE_DOUBLE)
		return error_set(err, 400, "ValidationError",
				 "feature '%s' holds %s values: it can only be categorical", f->name,
				 stats_type_name(f->type));
	return columns_quantiles(ref, col, DRIFT_BINS, f->edges, f->below, &f->nedges, err);
}

static struct win *win_new(const char *collection, const char *monitor, const struct columns *ref,
			   const struct monitor_signal *s, const struct monitor_signal *q,
			   struct error *err)
{
	struct win *w = calloc(1, sizeof *w);
	size_t n = columns_count(ref);

	if (w == NULL || (w->f = calloc(n + 1, sizeof *w->f)) == NULL)
		goto oom;
	snprintf(w->collection, sizeof w->collection, "%s", collection);
	snprintf(w->monitor, sizeof w->monitor, "%s", monitor);
	w->signal = s->type;
	memset(w->hint, 0xff, sizeof w->hint);
	for (size_t c = 0; c < n; c++) {
		struct columns_info info;
		columns_info(ref, c, &info);
		if (info.type == STATS_TYPE_NONE || !signals_wants(s, columns_name(ref, c)))
			continue;
		if (feat_init(&w->f[w->nf++], ref, c, s, q, err) < 0) {
			win_free(w);
			return NULL;
		}
	}
	w->v = malloc((size_t)DRIFT_ROWS * (w->nf ? w->nf : 1) * sizeof *w->v);
	w->fl = malloc((size_t)DRIFT_ROWS * (w->nf ? w->nf : 1));
	if (w->v == NULL || w->fl == NULL)
		goto oom;
	return w;
oom:
	win_free(w);
	error_set(err, 500, "InternalError", "out of memory");
	return NULL;
}

int drift_configure(struct drift *d, const char *ep, const char *dep, const char *collection,
		    const char *monitor, const struct columns *ref, const struct monitor_signal *s,
		    const struct monitor_signal *quality, struct error *err)
{
	struct win *w = win_new(collection, monitor, ref, s, quality, err), *old;
	struct dep *p;

	if (w == NULL)
		return -1;
	if ((p = dep_of(d, ep, dep, 1)) == NULL) {
		win_free(w);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	pthread_mutex_lock(&p->lock);
	old = p->wins[slot_of(collection)];
	p->wins[slot_of(collection)] = w;
	pthread_mutex_unlock(&p->lock);
	win_free(old);
	atomic_store(&d->windows, 1);
	return 0;
}

void drift_retain(struct drift *d, const char *const *keep)
{
	struct dep *p;
	int any = 0;

	pthread_mutex_lock(&d->lock);
	for (p = d->deps; p; p = p->next) {
		pthread_mutex_lock(&p->lock);
		for (int i = 0; i < 2; i++) {
			size_t k;
			if (p->wins[i] == NULL)
				continue;
			for (k = 0; keep && keep[k] && strcmp(keep[k], p->wins[i]->monitor); k++)
				;
			if (keep == NULL || keep[k] == NULL) {
				win_free(p->wins[i]);
				p->wins[i] = NULL;
			}
			any |= p->wins[i] != NULL;
		}
		pthread_mutex_unlock(&p->lock);
	}
	atomic_store(&d->windows, any);
	pthread_mutex_unlock(&d->lock);
}

/* ---- rows ------------------------------------------------------------------ */

static long feature_index(struct win *w, size_t pos, const struct cell *c)
{
	if (pos < 64 && w->hint[pos] >= 0 && (size_t)w->hint[pos] < w->nf) {
		const struct feat *f = &w->f[w->hint[pos]];
		if (f->nlen == c->klen && memcmp(f->name, c->key, c->klen) == 0)
			return w->hint[pos];
	}
	for (size_t i = 0; i < w->nf; i++)
		if (w->f[i].nlen == c->klen && memcmp(w->f[i].name, c->key, c->klen) == 0) {
			if (pos < 64)
				w->hint[pos] = (int32_t)i;
			return (long)i;
		}
	return -1;
}

/* One value into the row's slot: a number, a category's index, flags. */
static void put_value(struct feat *f, const struct cell *c, float *v, uint8_t *fl)
{
	struct columns_value x;
	char buf[32];
	long k;

	if (cell_is_null(c))
		return; /* stays null */
	*fl = 0;
	if (columns_cast(f->type, c, &x) < 0) {
		*fl = FL_TYPE;
		return;
	}
	if (!f->categorical) {
		*v = (float)x.x;
		if (x.x < f->min || x.x > f->max)
			*fl = FL_OOB;
		return;
	}
	if (f->type == STATS_TYPE_LONG || f->type == STATS_TYPE_DOUBLE) {
		x.n = columns_number_text(buf, sizeof buf, x.x);
		x.s = buf;
	} else if (f->type == STATS_TYPE_BOOLEAN) {
		x.s = x.x ? "true" : "false";
		x.n = x.x ? 4 : 5;
	}
	k = cat_index(f, x.s, x.n, 1);
	*v = (float)k;
	if (k < 0 || (size_t)k >= f->nrefcats)
		*fl = (f->type == STATS_TYPE_STRING || f->type == STATS_TYPE_LONG ||
		       f->type == STATS_TYPE_DOUBLE)
			  ? FL_OOB
			  : 0;
}

static void count_in(struct dep *p, const char *collection, const struct cell *cells, size_t n)
{
	struct win *w;
	float *v;
	uint8_t *fl;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	w = p->wins[slot_of(collection)];
	if (w == NULL || strcmp(w->collection, collection) || w->nf == 0) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	v = w->v + w->head * w->nf;
	fl = w->fl + w->head * w->nf;
	for (size_t i = 0; i < w->nf; i++) {
		v[i] = NAN;
		fl[i] = FL_NULL;
	}
	for (size_t i = 0; i < n; i++) {
		long k = feature_index(w, i, &cells[i]);
		if (k >= 0)
			put_value(&w->f[k], &cells[i], &v[k], &fl[k]);
	}
	w->t[w->head] = (int64_t)time(NULL);
	w->head = (w->head + 1) % DRIFT_ROWS;
	if (w->count < DRIFT_ROWS)
		w->count++;
	w->dirty = 1;
	pthread_mutex_unlock(&p->lock);
}

/* ---- the stage: rows from the writer, counted in by the ticker --------------- */

/* A staged row: this header, ep, dep and collection, then per cell a
 * struct staged_cell, its key and its text. */
struct staged_row {
	uint32_t eplen, deplen, collen, n;
};

struct staged_cell {
	double num;
	uint32_t klen, tlen;
	uint8_t kind, lazy;
};

static char *put(char *at, const void *p, size_t n)
{
	if (n)
		memcpy(at, p, n);
	return at + n;
}

/* Stages a row for the ticker, in one piece: past DRIFT_STAGE_MAX it is
 * left out (the window is an estimate over the last rows anyway). */
void drift_row(struct drift *d, const char *ep, const char *dep, const char *collection,
	       const struct cell *cells, size_t n)
{
	struct staged_row h = {(uint32_t)strlen(ep), (uint32_t)strlen(dep),
			       (uint32_t)strlen(collection), (uint32_t)n};
	size_t need = sizeof h + h.eplen + h.deplen + h.collen;
	char *at;

	if (!atomic_load_explicit(&d->windows, memory_order_relaxed))
		return;
	for (size_t i = 0; i < n; i++)
		need += sizeof(struct staged_cell) + cells[i].klen + (cells[i].text ? cells[i].tlen : 0);
	pthread_mutex_lock(&d->stage_lock);
	if (dynbuf_reserve(&d->stage, need) == 0) {
		at = d->stage.p + d->stage.len;
		at = put(at, &h, sizeof h);
		at = put(at, ep, h.eplen);
		at = put(at, dep, h.deplen);
		at = put(at, collection, h.collen);
		for (size_t i = 0; i < n; i++) {
			const struct cell *c = &cells[i];
			struct staged_cell sc = {c->num, (uint32_t)c->klen,
						 (uint32_t)(c->text ? c->tlen : 0), (uint8_t)c->kind,
						 (uint8_t)(c->lazy != 0)};
			at = put(at, &sc, sizeof sc);
			at = put(at, c->key, sc.klen);
			at = put(at, c->text, sc.tlen);
		}
		d->stage.len += need;
	}
	pthread_mutex_unlock(&d->stage_lock);
}

/* The next n bytes of [*p, end), or NULL. */
static const char *take(const char **p, const char *end, size_t n)
{
	const char *at = *p;

	if ((size_t)(end - at) < n)
		return NULL;
	*p += n;
	return at;
}

/* The staged rows into their windows (the ticker's thread). The two
 * buffers swap, so the stage keeps its memory from one tick to the next. */
static void count_in_stage(struct drift *d)
{
	struct dynbuf counting, *b = &counting;
	struct cell *cells = NULL;
	size_t cap = 0;
	const char *p, *end, *last = NULL; /* the previous row's names */
	struct staged_row lasth = {0};
	char coll[DC_NAME_MAX + 1] = "";
	struct dep *dp = NULL;

	pthread_mutex_lock(&d->stage_lock);
	*b = d->stage;
	d->stage = d->spare;
	pthread_mutex_unlock(&d->stage_lock);
	for (p = b->p, end = b->p ? b->p + b->len : NULL; p && p < end;) {
		char ep[RESOURCE_NAME_MAX + 1], dep[RESOURCE_NAME_MAX + 1];
		struct staged_row h;
		const char *at = take(&p, end, sizeof h), *s[3];
		if (at == NULL)
			break;
		memcpy(&h, at, sizeof h);
		if ((s[0] = take(&p, end, h.eplen)) == NULL || (s[1] = take(&p, end, h.deplen)) == NULL ||
		    (s[2] = take(&p, end, h.collen)) == NULL)
			break;
		if (last == NULL || lasth.eplen != h.eplen || lasth.deplen != h.deplen ||
		    lasth.collen != h.collen ||
		    memcmp(last, s[0], h.eplen + h.deplen + h.collen) != 0) { /* runs of one tap */
			snprintf(ep, sizeof ep, "%.*s", (int)h.eplen, s[0]);
			snprintf(dep, sizeof dep, "%.*s", (int)h.deplen, s[1]);
			snprintf(coll, sizeof coll, "%.*s", (int)h.collen, s[2]);
			dp = dep_of(d, ep, dep, 0);
			last = s[0];
			lasth = h;
		}
		if (h.n > cap) {
			struct cell *v = realloc(cells, h.n * sizeof *v);
			if (v == NULL)
				break;
			cells = v;
			cap = h.n;
		}
		for (uint32_t i = 0; i < h.n; i++) {
			struct staged_cell sc;
			struct cell *c = &cells[i];
			if ((at = take(&p, end, sizeof sc)) == NULL)
				goto done;
			memcpy(&sc, at, sizeof sc);
			c->num = sc.num;
			c->kind = (enum cell_kind)sc.kind;
			c->lazy = sc.lazy;
			c->klen = sc.klen;
			c->tlen = sc.tlen;
			if ((c->key = take(&p, end, sc.klen)) == NULL ||
			    (c->text = take(&p, end, sc.tlen)) == NULL)
				goto done;
		}
		if (dp != NULL)
			count_in(dp, coll, cells, h.n);
	}
done:
	free(cells);
	dynbuf_reset(b);
	d->spare = *b;
}

/* ---- the metrics ------------------------------------------------------------ */

/* The integral over a width of |a| with a linear from a0 to a1. */
static double abs_area(double a0, double a1, double width)
{
	if ((a0 >= 0) == (a1 >= 0))
		return width * (fabs(a0) + fabs(a1)) / 2;
	return width * (a0 * a0 + a1 * a1) / (2 * (fabs(a0) + fabs(a1)));
}

/* First edge at or above x (nedges when above them all). */
static size_t edge_of(const struct feat *f, double x)
{
	size_t lo = 0, hi = f->nedges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->edges[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sample {
	uint64_t n, counts[QUALITY];
	uint64_t bins[DRIFT_BINS + 2];
	double below_sum, above_sum; /* distances of the values past the reference's range */
	uint64_t *cats;
};

static double numeric_metric(const struct feat *f, const struct sample *s)
{
	uint64_t ra[DRIFT_BINS + 2], cum = 0;
	double nr = (double)f->nref, nw = (double)s->n, w1, d = 0, a0, a1;
	size_t i, k = f->nedges;

	if (s->n == 0 || f->nref == 0 || k == 0)
		return NAN;
	switch (f->metric) {
	case STATS_WASSERSTEIN:
		w1 = (s->below_sum + s->above_sum) / nw;
		for (i = 1, cum = s->bins[0]; i < k; i++) {
			a0 = (double)f->below[i - 1] / nr - (double)cum / nw;
			cum += s->bins[i];
			a1 = (double)f->below[i] / nr - (double)cum / nw;
			w1 += abs_area(a0, a1, f->edges[i] - f->edges[i - 1]);
		}
		return w1 / stats_wasserstein_norm(f->sd);
	case STATS_KS:
		for (i = 0; i < k; i++) {
			cum += s->bins[i];
			if (fabs((double)f->below[i] / nr - (double)cum / nw) > d)
				d = fabs((double)f->below[i] / nr - (double)cum / nw);
		}
		return stats_ks_pvalue(d, f->nref, s->n, NULL);
	default:
		for (i = 0; i <= k; i++)
			ra[i] = i == k ? 0 : f->below[i] - (i ? f->below[i - 1] : 0);
		return f->metric == STATS_PSI ? stats_psi(ra, s->bins, k + 1, f->nref, s->n)
					      : stats_jensen_shannon(ra, s->bins, k + 1);
	}
}

static double categorical_metric(const struct feat *f, const struct sample *s)
{
	uint64_t *ra = calloc(f->capcats, sizeof *ra), *wa = calloc(f->capcats, sizeof *wa), nr = 0;
	struct stats_cat_result r;
	size_t k = 0;

	if (ra == NULL || wa == NULL || s->n == 0) {
		free(ra);
		free(wa);
		return NAN;
	}
	/* the categories either side has (the union the scheduled run uses) */
	for (size_t i = 0; i < f->capcats; i++) {
		uint64_t ref = i < f->ncats ? f->cats[i].ref : 0;
		if (ref == 0 && s->cats[i] == 0)
			continue;
		ra[k] = ref;
		wa[k++] = s->cats[i];
		nr += ref;
	}
	stats_cat(ra, wa, k, nr, s->n, &r);
	free(ra);
	free(wa);
	switch (f->metric) {
	case STATS_PSI: return r.psi;
	case STATS_CHI2: return r.chi2_pvalue;
	default: return r.jensen_shannon;
	}
}

/* The window's values of feature i: counts, bins or categories. */
static void sample_of(const struct win *w, size_t i, struct sample *s)
{
	const struct feat *f = &w->f[i];
	size_t r, at;

	for (r = 0; r < w->count; r++) {
		at = (w->head + DRIFT_ROWS - 1 - r) % DRIFT_ROWS;
		uint8_t fl = w->fl[at * w->nf + i];
		float v = w->v[at * w->nf + i];
		if (fl & FL_NULL) {
			s->counts[Q_NULL]++;
			continue;
		}
		s->counts[Q_OOB] += (fl & FL_OOB) != 0;
		if (fl & FL_TYPE) {
			s->counts[Q_TYPE]++;
			continue;
		}
		s->n++;
		if (f->categorical) {
			if (v >= 0 && (size_t)v < f->capcats)
				s->cats[(size_t)v]++;
			continue;
		}
		s->bins[edge_of(f, v)]++;
		if (v < f->min)
			s->below_sum += f->min - v;
		else if (v > f->max)
			s->above_sum += v - f->max;
	}
}

static void feat_compute(struct win *w, size_t i, int64_t now)
{
	struct feat *f = &w->f[i];
	struct sample s;

	memset(&s, 0, sizeof s);
	if (f->categorical && (s.cats = calloc(f->capcats, sizeof *s.cats)) == NULL)
		return;
	sample_of(w, i, &s);
	for (int k = 0; k < QUALITY; k++)
		f->rates[k] = stats_rate(s.counts[k], w->count);
	f->value = !f->has_metric || s.n < DRIFT_MIN_ROWS ? NAN
		   : f->categorical			  ? categorical_metric(f, &s)
							  : numeric_metric(f, &s);
	f->passed = isnan(f->value) || stats_metric_passed(f->metric, f->value, f->threshold);
	for (int k = 0; k < QUALITY; k++)
		if (!isnan(f->qthr[k]) && !stats_metric_passed(quality_metric[k], f->rates[k],
							       f->qthr[k]))
			f->passed = 0;
	f->has = w->count > 0;
	if (f->has && now - w->last_hist >= DRIFT_HISTORY_EVERY) {
		if (f->nhist == DRIFT_HISTORY)
			memmove(f->hist, f->hist + 1, (DRIFT_HISTORY - 1) * sizeof *f->hist);
		f->hist[f->nhist < DRIFT_HISTORY ? f->nhist++ : DRIFT_HISTORY - 1] = (float)f->value;
	}
	free(s.cats);
}

/* Rows older than DRIFT_MAX_AGE leave the window. */
static void expire(struct win *w, int64_t now)
{
	while (w->count > 0) {
		size_t oldest = (w->head + DRIFT_ROWS - w->count) % DRIFT_ROWS;
		if (now - w->t[oldest] <= DRIFT_MAX_AGE)
			break;
		w->count--;
		w->dirty = 1;
	}
}

void drift_tick(struct drift *d, int64_t now)
{
	struct dep *p;

	count_in_stage(d);
	pthread_mutex_lock(&d->lock);
	for (p = d->deps; p; p = p->next) {
		pthread_mutex_lock(&p->lock);
		for (int k = 0; k < 2; k++) {
			struct win *w = p->wins[k];
			int hist;
			if (w == NULL)
				continue;
			expire(w, now);
			hist = now - w->last_hist >= DRIFT_HISTORY_EVERY;
			if ((!w->dirty || w->computed == now) && !hist)
				continue; /* at most once a second, and only when rows came */
			for (size_t i = 0; i < w->nf; i++)
				feat_compute(w, i, now);
			w->computed = now;
			w->counted = w->count;
			if (hist && w->count > 0)
				w->last_hist = now;
			w->dirty = 0;
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- reading ---------------------------------------------------------------- */

/* How far past its threshold a feature is (1: at it); for ranking. */
static double severity(const struct feat *f)
{
	return f->has_metric ? stats_metric_severity(f->metric, f->value, f->threshold) : 0;
}

static void put_num(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, isinf(v) ? 1e308 : v);
}

static cJSON *feat_json(const struct feat *f)
{
	cJSON *o = cJSON_CreateObject(), *h;

	cJSON_AddStringToObject(o, "feature", f->name);
	cJSON_AddStringToObject(o, "dataType", f->categorical ? "Categorical" : "Numerical");
	if (f->has_metric) {
		cJSON_AddStringToObject(o, "metric", stats_metric_name(f->metric));
		put_num(o, "value", f->has ? f->value : NAN);
		cJSON_AddNumberToObject(o, "threshold", f->threshold);
		put_num(o, "severity", severity(f));
	}
	cJSON_AddBoolToObject(o, "passed", f->passed || !f->has);
	put_num(o, "nullRate", f->has ? f->rates[Q_NULL] : NAN);
	put_num(o, "typeErrorRate", f->has ? f->rates[Q_TYPE] : NAN);
	put_num(o, "outOfBoundsRate", f->has ? f->rates[Q_OOB] : NAN);
	h = cJSON_AddArrayToObject(o, "history");
	for (size_t i = 0; i < f->nhist; i++)
		cJSON_AddItemToArray(h, isnan(f->hist[i]) ? cJSON_CreateNull()
							   : cJSON_CreateNumber(f->hist[i]));
	return o;
}

static int by_severity(const void *a, const void *b)
{
	double x = severity(*(const struct feat *const *)a), y = severity(*(const struct feat *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

static cJSON *win_json(const struct win *w)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	const struct feat **v = calloc(w->nf + 1, sizeof *v);

	cJSON_AddStringToObject(o, "monitor", w->monitor);
	cJSON_AddStringToObject(o, "signal", signal_type_name(w->signal));
	cJSON_AddNumberToObject(o, "rows", (double)w->counted);
	arr = cJSON_AddArrayToObject(o, "features");
	if (v == NULL)
		return o;
	for (size_t i = 0; i < w->nf; i++)
		v[i] = &w->f[i];
	qsort(v, w->nf, sizeof *v, by_severity);
	for (size_t i = 0; i < w->nf; i++)
		cJSON_AddItemToArray(arr, feat_json(v[i]));
	free(v);
	return o;
}

cJSON *drift_json(struct drift *d, const char *ep, const char *dep)
{
	struct dep *p = dep_of(d, ep, dep, 0);
	cJSON *o = NULL;

	if (p == NULL)
		return NULL;
	pthread_mutex_lock(&p->lock);
	for (int k = 0; k < 2; k++) {
		if (p->wins[k] == NULL)
			continue;
		if (o == NULL)
			o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, p->wins[k]->collection, win_json(p->wins[k]));
	}
	pthread_mutex_unlock(&p->lock);
	return o;
}

int drift_failing(struct drift *d, const char *ep, const char *dep)
{
	struct dep *p = dep_of(d, ep, dep, 0);
	int failing = 0;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; p->wins[k] && i < p->wins[k]->nf; i++)
			failing |= p->wins[k]->f[i].has && !p->wins[k]->f[i].passed;
	pthread_mutex_unlock(&p->lock);
	return failing;
}

static void prom_win(const struct dep *p, const struct win *w, struct dynbuf *drift,
		     struct dynbuf *quality)
{
	for (size_t i = 0; i < w->nf; i++) {
		const struct feat *f = &w->f[i];
		struct dynbuf name;

		if (!f->has)
			continue;
		dynbuf_init(&name, 1024);
		dynbuf_add_json(&name, f->name, f->nlen); /* quotes and escapes as Prometheus wants */
		if (f->has_metric && !isnan(f->value))
			dynbuf_addf(drift,
				    "mldeck_feature_drift{endpoint=\"%s\",deployment=\"%s\",signal=\"%s\","
				    "feature=%s,metric=\"%s\"} %.9g\n",
				    p->ep, p->dep, signal_type_name(w->signal), name.p ? name.p : "\"\"",
				    stats_metric_snake(f->metric), isinf(f->value) ? 1e308 : f->value);
		for (int k = 0; k < QUALITY && w->signal != SIGNAL_PREDICTION_DRIFT; k++)
			dynbuf_addf(quality,
				    "mldeck_data_quality{endpoint=\"%s\",deployment=\"%s\",feature=%s,"
				    "metric=\"%s\"} %.9g\n",
				    p->ep, p->dep, name.p ? name.p : "\"\"",
				    stats_metric_snake(quality_metric[k]), f->rates[k]);
		dynbuf_free(&name);
	}
}

void drift_prometheus(struct drift *d, struct dynbuf *b)
{
	struct dynbuf drift, quality;
	struct dep *p;

	dynbuf_init(&drift, 64u << 20);
	dynbuf_init(&quality, 64u << 20);
	pthread_mutex_lock(&d->lock);
	for (p = d->deps; p; p = p->next) {
		pthread_mutex_lock(&p->lock);
		for (int k = 0; k < 2; k++)
			if (p->wins[k])
				prom_win(p, p->wins[k], &drift, &quality);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&d->lock);
	dynbuf_adds(b, "# HELP mldeck_feature_drift Live drift of a feature over the last rows "
		       "collected, against its monitor's reference.\n# TYPE mldeck_feature_drift "
		       "gauge\n");
	dynbuf_add(b, drift.p ? drift.p : "", drift.len);
	dynbuf_adds(b, "# HELP mldeck_data_quality Live data quality rates of a feature over the "
		       "last rows collected.\n# TYPE mldeck_data_quality gauge\n");
	dynbuf_add(b, quality.p ? quality.p : "", quality.len);
	dynbuf_free(&drift);
	dynbuf_free(&quality);
}
