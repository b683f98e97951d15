/* columns.c: a dataset's columns as monitoring needs them (columns.h). */
#include "runtime/monitor/columns.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/engines/input.h"
#include "runtime/monitor/runs.h"

/* Distinct strings of a column with their counts (open addressing). */
struct strtab {
	char **keys;
	size_t *lens;
	uint64_t *counts;
	size_t n, cap;  /* entries, slots (a power of two) */
	uint64_t other; /* values of strings past COLUMNS_STRINGS_MAX */
};

struct column {
	char *name;
	size_t nlen;
	struct stats_kinds kinds;
	uint64_t present; /* non-missing values */
	uint64_t type_errors, oob;
	int num;          /* runs.h column */
	struct strtab str;
	uint64_t yes, no; /* booleans */
	long double sum;  /* of the numbers */
	double min, max;
	/* after columns_finish (reference) */
	enum stats_type type;
	uint64_t distinct;
	double sd;
	int ref; /* production: the reference's column */
};

struct columns {
	const struct columns *ref;
	struct runs *runs;
	struct column *cols;
	size_t ncols, capcols;
	int32_t *index; /* name hash -> column, open addressing */
	size_t index_cap;
	int32_t hint[64]; /* the column of each position in the last row */
	uint64_t rows;
	int finished;
};

/* ---- names -------------------------------------------------------------- */

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static void index_insert(int32_t *ix, size_t cap, const struct column *col, int32_t c)
{
	size_t s = hash(col->name, col->nlen) & (cap - 1);

	while (ix[s] >= 0)
		s = (s + 1) & (cap - 1);
	ix[s] = c;
}

static int index_grow(struct columns *p)
{
	size_t cap = p->index_cap ? 2 * p->index_cap : 64;
	int32_t *ix = malloc(cap * sizeof *ix);

	if (ix == NULL)
		return -1;
	for (size_t i = 0; i < cap; i++)
		ix[i] = -1;
	for (size_t c = 0; c < p->ncols; c++)
		index_insert(ix, cap, &p->cols[c], (int32_t)c);
	free(p->index);
	p->index = ix;
	p->index_cap = cap;
	return 0;
}

static int lookup(const struct columns *p, const char *name, size_t n)
{
	size_t s;

	if (p->index_cap == 0)
		return -1;
	for (s = hash(name, n) & (p->index_cap - 1); p->index[s] >= 0;
	     s = (s + 1) & (p->index_cap - 1)) {
		const struct column *c = &p->cols[p->index[s]];
		if (c->nlen == n && memcmp(c->name, name, n) == 0)
			return p->index[s];
	}
	return -1;
}

static int add_column(struct columns *p, const char *name, size_t n)
{
	struct column *c;

	if (p->ncols == DATASET_COLUMNS_MAX)
		return -1;
	if ((p->ncols + 1) * 2 > p->index_cap && index_grow(p) < 0)
		return -1;
	if (p->ncols == p->capcols) {
		size_t cap = p->capcols ? 2 * p->capcols : 32;
		struct column *nc = realloc(p->cols, cap * sizeof *nc);
		if (nc == NULL)
			return -1;
		p->cols = nc;
		p->capcols = cap;
	}
	c = &p->cols[p->ncols];
	memset(c, 0, sizeof *c);
	c->name = strndup(name, n);
	c->nlen = n;
	c->min = INFINITY;
	c->max = -INFINITY;
	c->ref = -1;
	if (c->name == NULL || (c->num = runs_column(p->runs)) < 0) {
		free(c->name);
		return -1;
	}
	index_insert(p->index, p->index_cap, c, (int32_t)p->ncols);
	return (int)p->ncols++;
}

/* The column of a cell at position i; -1 when the profile does not keep it,
 * -2 with err when a new column cannot be added. */
static int column_of(struct columns *p, size_t i, const struct cell *cell, struct error *err)
{
	int c;

	if (i < 64 && p->hint[i] >= 0 && (size_t)p->hint[i] < p->ncols) {
		const struct column *h = &p->cols[p->hint[i]];
		if (h->nlen == cell->klen && memcmp(h->name, cell->key, cell->klen) == 0)
			return p->hint[i];
	}
	c = lookup(p, cell->key, cell->klen);
	if (c < 0 && p->ref == NULL) {
		c = add_column(p, cell->key, cell->klen);
		if (c < 0) {
			error_set(err, 400, "InvalidData", "more than %d columns, or out of memory",
				  DATASET_COLUMNS_MAX);
			return -2;
		}
	}
	if (i < 64)
		p->hint[i] = (int32_t)c;
	return c;
}

/* ---- strings ------------------------------------------------------------ */

static int strtab_grow(struct strtab *t)
{
	size_t cap = t->cap ? 2 * t->cap : 64;
	char **keys = calloc(cap, sizeof *keys);
	size_t *lens = calloc(cap, sizeof *lens);
	uint64_t *counts = calloc(cap, sizeof *counts);

	if (keys == NULL || lens == NULL || counts == NULL) {
		free(keys);
		free(lens);
		free(counts);
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t s;
		if (t->keys[i] == NULL)
			continue;
		for (s = hash(t->keys[i], t->lens[i]) & (cap - 1); keys[s];)
			s = (s + 1) & (cap - 1);
		keys[s] = t->keys[i];
		lens[s] = t->lens[i];
		counts[s] = t->counts[i];
	}
	free(t->keys);
	free(t->lens);
	free(t->counts);
	t->keys = keys;
	t->lens = lens;
	t->counts = counts;
	t->cap = cap;
	return 0;
}

/* The slot of s, or the empty slot where it would go. */
static size_t strtab_slot(const struct strtab *t, const char *s, size_t n)
{
	size_t i = hash(s, n) & (t->cap - 1);

	while (t->keys[i] && !(t->lens[i] == n && memcmp(t->keys[i], s, n) == 0))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static uint64_t strtab_get(const struct strtab *t, const char *s, size_t n)
{
	size_t i;

	if (t->cap == 0)
		return 0;
	i = strtab_slot(t, s, n);
	return t->keys[i] ? t->counts[i] : 0;
}

static int strtab_add(struct strtab *t, const char *s, size_t n, uint64_t count)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap && t->n < COLUMNS_STRINGS_MAX && strtab_grow(t) < 0)
		return -1;
	i = strtab_slot(t, s, n);
	if (t->keys[i] == NULL) {
		if (t->n >= COLUMNS_STRINGS_MAX) {
			t->other += count;
			return 0;
		}
		if ((t->keys[i] = malloc(n + 1)) == NULL)
			return -1;
		memcpy(t->keys[i], s, n);
		t->keys[i][n] = '\0';
		t->lens[i] = n;
		t->n++;
	}
	t->counts[i] += count;
	return 0;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->lens);
	free(t->counts);
}

/* ---- rows --------------------------------------------------------------- */

struct columns *columns_new(const char *tmpdir, const struct columns *reference)
{
	struct columns *p = calloc(1, sizeof *p);

	if (p == NULL || (p->runs = runs_new(tmpdir)) == NULL) {
		free(p);
		return NULL;
	}
	p->ref = reference;
	memset(p->hint, 0xff, sizeof p->hint);
	for (size_t i = 0; reference && i < reference->ncols; i++) {
		const struct column *rc = &reference->cols[i];
		int c = add_column(p, rc->name, rc->nlen);
		if (c < 0) {
			columns_free(p);
			return NULL;
		}
		p->cols[c].ref = (int)i;
		p->cols[c].type = rc->type;
	}
	return p;
}

void columns_free(struct columns *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ncols; i++) {
		free(p->cols[i].name);
		strtab_free(&p->cols[i].str);
	}
	free(p->cols);
	free(p->index);
	runs_free(p->runs);
	free(p);
}

static int oom(struct error *err)
{
	return error_set(err, 500, "InternalError", "out of memory");
}

static int add_number(struct columns *p, struct column *c, double v, struct error *err)
{
	if (v < c->min)
		c->min = v;
	if (v > c->max)
		c->max = v;
	c->sum += v;
	return runs_add(p->runs, c->num, v, err);
}

/* A reference value: kept as its kind. */
static int reference_value(struct columns *p, struct column *c, const struct cell *v,
			   struct error *err)
{
	enum stats_kind k = v->kind == CELL_INT      ? STATS_KIND_INT
			    : v->kind == CELL_DOUBLE ? STATS_KIND_DOUBLE
			    : v->kind == CELL_BOOL   ? STATS_KIND_BOOL
			    : v->kind == CELL_STRING ? STATS_KIND_STRING
						     : STATS_KIND_OTHER;

	c->kinds.n[k]++;
	c->present++;
	switch (v->kind) {
	case CELL_INT:
	case CELL_DOUBLE:
		return add_number(p, c, v->num, err);
	case CELL_BOOL:
		v->num ? c->yes++ : c->no++;
		return 0;
	case CELL_STRING:
		return strtab_add(&c->str, v->text, v->tlen, 1) < 0 ? oom(err) : 0;
	default:
		return 0;
	}
}

static int bool_word(const char *s, size_t n, int *yes)
{
	static const char *const y[] = {"true", "t", "yes", "y", "1"};
	static const char *const f[] = {"false", "f", "no", "n", "0"};

	for (size_t i = 0; i < 5; i++) {
		if (strlen(y[i]) == n && strncasecmp(s, y[i], n) == 0)
			return *yes = 1, 1;
		if (strlen(f[i]) == n && strncasecmp(s, f[i], n) == 0)
			return *yes = 0, 1;
	}
	return 0;
}

int columns_cast(enum stats_type t, const struct cell *v, struct columns_value *out)
{
	int yes;

	out->x = cell_number(v);
	out->s = v->text;
	out->n = v->tlen;
	if (v->kind == CELL_OTHER)
		return -1;
	switch (t) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		if (v->kind == CELL_STRING &&
		    (v->tlen == 0 || input_number(v->text, v->tlen, &out->x) != v->tlen))
			return -1;
		return isnan(out->x) ? -1 : 0;
	case STATS_TYPE_BOOLEAN:
		if (v->kind == CELL_STRING && !bool_word(v->text, v->tlen, &yes))
			return -1;
		out->x = v->kind == CELL_STRING ? yes : out->x != 0;
		return 0;
	case STATS_TYPE_STRING:
		if (v->kind == CELL_BOOL) {
			out->s = v->num ? "true" : "false";
			out->n = v->num ? 4 : 5;
		}
		return 0;
	default:
		return 0;
	}
}

/* A production value cast to the reference column's type. */
static int production_value(struct columns *p, struct column *c, const struct cell *v,
			    struct error *err)
{
	const struct column *rc = &p->ref->cols[c->ref];
	struct columns_value x;

	c->present++;
	if (c->type == STATS_TYPE_NONE)
		return 0;
	if (columns_cast(c->type, v, &x) < 0)
		return c->type_errors++, 0;
	switch (c->type) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		if (x.x < rc->min || x.x > rc->max)
			c->oob++;
		return add_number(p, c, x.x, err);
	case STATS_TYPE_BOOLEAN:
		x.x ? c->yes++ : c->no++;
		return 0;
	default:
		if (strtab_get(&rc->str, x.s, x.n) == 0)
			c->oob++;
		return strtab_add(&c->str, x.s, x.n, 1) < 0 ? oom(err) : 0;
	}
}

int columns_row(void *ctx, const struct cell *cells, size_t n, struct error *err)
{
	struct columns *p = ctx;

	p->rows++;
	for (size_t i = 0; i < n; i++) {
		const struct cell *v = &cells[i];
		int c;

		if (cell_is_null(v))
			continue;
		if ((c = column_of(p, i, v, err)) < -1)
			return -1;
		if (c < 0)
			continue;
		if ((p->ref ? production_value(p, &p->cols[c], v, err)
			    : reference_value(p, &p->cols[c], v, err)) < 0)
			return -1;
	}
	return 0;
}

/* ---- finishing the reference -------------------------------------------- */

/* Distinct count and sample standard deviation of a numeric column (two
 * passes: the mean from the sum, then the squares about it). */
static int number_facts(struct columns *p, struct column *c, struct error *err)
{
	uint64_t n = runs_count(p->runs, c->num), k;
	long double mean = n ? c->sum / n : 0, ss = 0;
	struct runs_reader *rd = runs_open(p->runs, c->num, err);
	double v;
	int rc;

	if (rd == NULL)
		return -1;
	c->distinct = 0;
	while ((rc = runs_next(rd, &v, &k, err)) > 0) {
		c->distinct++;
		ss += (long double)k * (v - mean) * (v - mean);
	}
	runs_close(rd);
	c->sd = n > 1 ? (double)sqrtl(ss / (n - 1)) : NAN;
	return rc;
}

size_t columns_number_text(char *buf, size_t len, double v)
{
	double back;
	int n = 0;

	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(buf, len, "%.*g", prec, v);
		if (input_number(buf, (size_t)n, &back) == (size_t)n && back == v)
			break;
	}
	return (size_t)n;
}

/* A column of mixed kinds is a string column: its numbers and booleans join
 * the strings as text. */
static int numbers_to_strings(struct columns *p, struct column *c, struct error *err)
{
	struct runs_reader *rd = runs_open(p->runs, c->num, err);
	char buf[32];
	double v;
	uint64_t k;
	int rc;

	if (rd == NULL)
		return -1;
	while ((rc = runs_next(rd, &v, &k, err)) > 0)
		if (strtab_add(&c->str, buf, columns_number_text(buf, sizeof buf, v), k) < 0) {
			rc = oom(err);
			break;
		}
	runs_close(rd);
	if (rc == 0 && ((c->yes && strtab_add(&c->str, "true", 4, c->yes) < 0) ||
			(c->no && strtab_add(&c->str, "false", 5, c->no) < 0)))
		rc = oom(err);
	return rc;
}

static int finish_reference(struct columns *p, struct column *c, struct error *err)
{
	c->type = stats_type_infer(&c->kinds);
	switch (c->type) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		return number_facts(p, c, err);
	case STATS_TYPE_STRING:
		if (numbers_to_strings(p, c, err) < 0)
			return -1;
		c->distinct = c->str.n + (c->str.other > 0);
		return 0;
	case STATS_TYPE_BOOLEAN:
		c->distinct = (c->yes > 0) + (c->no > 0);
		return 0;
	default:
		return 0;
	}
}

int columns_finish(struct columns *p, struct error *err)
{
	runs_finish(p->runs);
	for (size_t i = 0; !p->ref && i < p->ncols; i++)
		if (finish_reference(p, &p->cols[i], err) < 0)
			return -1;
	p->finished = 1;
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

uint64_t columns_rows(const struct columns *p)
{
	return p->rows;
}

size_t columns_count(const struct columns *p)
{
	return p->ncols;
}

const char *columns_name(const struct columns *p, size_t col)
{
	return p->cols[col].name;
}

int columns_find(const struct columns *p, const char *name)
{
	return lookup(p, name, strlen(name));
}

/* The values of a column that are in its drift sample. */
static uint64_t sample_size(const struct columns *p, const struct column *c)
{
	switch (c->type) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		return runs_count(p->runs, c->num);
	case STATS_TYPE_BOOLEAN:
		return c->yes + c->no;
	case STATS_TYPE_STRING: {
		uint64_t n = c->str.other;
		for (size_t i = 0; i < c->str.cap; i++)
			n += c->str.keys[i] ? c->str.counts[i] : 0;
		return n;
	}
	default:
		return 0;
	}
}

void columns_info(const struct columns *p, size_t col, struct columns_info *out)
{
	const struct column *c = &p->cols[col];

	memset(out, 0, sizeof *out);
	out->type = c->type;
	out->values = sample_size(p, c);
	out->distinct = p->ref ? 0 : c->distinct;
	out->categorical = stats_type_categorical(c->type, c->distinct, out->values);
	out->approximate = c->str.other > 0;
	out->min = c->min;
	out->max = c->max;
	out->sd = c->sd;
	out->quality.rows = p->rows;
	out->quality.nulls = p->rows > c->present ? p->rows - c->present : 0;
	out->quality.type_errors = c->type_errors;
	out->quality.out_of_bounds = c->oob;
}

/* ---- drift -------------------------------------------------------------- */

/* Two columns read together in order: each distinct value with both counts. */
struct pair {
	struct runs_reader *a, *b;
	double va, vb;
	uint64_t ka, kb;
	int ha, hb; /* 1 while a value is held */
};

static int pair_open(struct pair *q, const struct columns *ref, const struct column *rc,
		     const struct columns *prod, const struct column *pc, struct error *err)
{
	memset(q, 0, sizeof *q);
	q->a = runs_open(ref->runs, rc->num, err);
	q->b = q->a ? runs_open(prod->runs, pc->num, err) : NULL;
	if (q->b == NULL)
		return -1;
	if ((q->ha = runs_next(q->a, &q->va, &q->ka, err)) < 0 ||
	    (q->hb = runs_next(q->b, &q->vb, &q->kb, err)) < 0)
		return -1;
	return 0;
}

/* 1 with the next value and its counts, 0 at the end, -1 with err. */
static int pair_next(struct pair *q, double *v, uint64_t *ka, uint64_t *kb, struct error *err)
{
	if (!q->ha && !q->hb)
		return 0;
	*v = !q->hb || (q->ha && q->va <= q->vb) ? q->va : q->vb;
	*ka = q->ha && q->va == *v ? q->ka : 0;
	*kb = q->hb && q->vb == *v ? q->kb : 0;
	if (*ka && (q->ha = runs_next(q->a, &q->va, &q->ka, err)) < 0)
		return -1;
	if (*kb && (q->hb = runs_next(q->b, &q->vb, &q->kb, err)) < 0)
		return -1;
	return 1;
}

static void pair_close(struct pair *q)
{
	runs_close(q->a);
	runs_close(q->b);
}

static int drift_numbers(const struct columns *ref, const struct column *rc,
			 const struct columns *prod, const struct column *pc,
			 struct columns_drift *out, struct error *err)
{
	uint64_t na = runs_count(ref->runs, rc->num), nb = runs_count(prod->runs, pc->num), ka, kb;
	struct stats_num s;
	struct pair q;
	double v;
	int rc_;

	if (stats_num_init(&s, na, nb, fmin(rc->min, pc->min), fmax(rc->max, pc->max),
			   stats_sturges(na < nb ? na : nb)) < 0)
		return oom(err);
	rc_ = pair_open(&q, ref, rc, prod, pc, err);
	if (rc_ == 0)
		while ((rc_ = pair_next(&q, &v, &ka, &kb, err)) > 0)
			stats_num_add(&s, v, ka, kb);
	pair_close(&q);
	if (rc_ == 0) {
		stats_num_finish(&s, &out->num);
		out->normalized_wasserstein = out->num.wasserstein / stats_wasserstein_norm(rc->sd);
	}
	stats_num_cleanup(&s);
	return rc_;
}

/* Category counts in two growing arrays. */
struct cats {
	uint64_t *a, *b;
	size_t n, cap;
};

static int cats_add(struct cats *c, uint64_t a, uint64_t b)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		uint64_t *na = realloc(c->a, cap * sizeof *na), *nb;
		if (na == NULL)
			return -1;
		c->a = na;
		if ((nb = realloc(c->b, cap * sizeof *nb)) == NULL)
			return -1;
		c->b = nb;
		c->cap = cap;
	}
	c->a[c->n] = a;
	c->b[c->n++] = b;
	return 0;
}

static int categories(const struct columns *ref, const struct column *rc,
		      const struct columns *prod, const struct column *pc, struct cats *k,
		      struct error *err)
{
	const struct strtab *ta = &rc->str, *tb = &pc->str;
	uint64_t ka, kb;
	struct pair q;
	double v;
	int r = 0;

	switch (rc->type) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		r = pair_open(&q, ref, rc, prod, pc, err);
		if (r == 0)
			while ((r = pair_next(&q, &v, &ka, &kb, err)) > 0)
				if (cats_add(k, ka, kb) < 0) {
					r = oom(err);
					break;
				}
		pair_close(&q);
		return r;
	case STATS_TYPE_BOOLEAN:
		return cats_add(k, rc->yes, pc->yes) < 0 || cats_add(k, rc->no, pc->no) < 0 ? oom(err)
											   : 0;
	case STATS_TYPE_STRING:
		for (size_t i = 0; i < ta->cap && r == 0; i++)
			if (ta->keys[i] && (ta->counts[i] || strtab_get(tb, ta->keys[i], ta->lens[i])))
				r = cats_add(k, ta->counts[i],
					     strtab_get(tb, ta->keys[i], ta->lens[i]));
		for (size_t i = 0; i < tb->cap && r == 0; i++)
			if (tb->keys[i] && strtab_get(ta, tb->keys[i], tb->lens[i]) == 0)
				r = cats_add(k, 0, tb->counts[i]);
		if (r == 0 && (ta->other || tb->other))
			r = cats_add(k, ta->other, tb->other);
		return r < 0 ? oom(err) : 0;
	default:
		return 0;
	}
}

static int drift_categories(const struct columns *ref, const struct column *rc,
			    const struct columns *prod, const struct column *pc,
			    struct columns_drift *out, struct error *err)
{
	struct cats k = {0};
	uint64_t na = 0, nb = 0;
	int r = categories(ref, rc, prod, pc, &k, err);

	for (size_t i = 0; r == 0 && i < k.n; i++) {
		na += k.a[i];
		nb += k.b[i];
	}
	if (r == 0)
		stats_cat(k.a, k.b, k.n, na, nb, &out->cat);
	free(k.a);
	free(k.b);
	return r;
}

int columns_drift(const struct columns *ref, size_t rcol, const struct columns *prod,
		  int categorical, struct columns_drift *out, struct error *err)
{
	const struct column *rc = &ref->cols[rcol];
	int pcol = lookup(prod, rc->name, rc->nlen);
	const struct column *pc;

	memset(out, 0, sizeof *out);
	out->categorical = categorical;
	out->num.wasserstein = out->num.ks_statistic = out->num.ks_pvalue = NAN;
	out->num.jensen_shannon = out->num.psi = out->normalized_wasserstein = NAN;
	out->cat.jensen_shannon = out->cat.psi = NAN;
	out->cat.chi2_statistic = out->cat.chi2_pvalue = NAN;
	if (pcol < 0)
		return 0; /* production lacks the column: no sample */
	pc = &prod->cols[pcol];
	if (!categorical && rc->type != STATS_TYPE_LONG && rc->type != STATS_TYPE_DOUBLE) {
		if (rc->type == STATS_TYPE_NONE)
			return 0;
		return error_set(err, 400, "ValidationError",
				 "feature '%s' holds %s values: it can only be categorical",
				 rc->name, stats_type_name(rc->type));
	}
	if (categorical)
		return drift_categories(ref, rc, prod, pc, out, err);
	if (runs_count(ref->runs, rc->num) == 0 || runs_count(prod->runs, pc->num) == 0)
		return 0;
	return drift_numbers(ref, rc, prod, pc, out, err);
}

/* ---- what live drift takes from a reference ------------------------------ */

int columns_quantiles(const struct columns *p, size_t col, size_t k, double *edges,
		      uint64_t *below, size_t *n, struct error *err)
{
	const struct column *c = &p->cols[col];
	uint64_t total = runs_count(p->runs, c->num), seen = 0, cnt;
	struct runs_reader *rd;
	size_t next = 0;
	double v;
	int rc;

	*n = 0;
	if (total == 0)
		return 0;
	if ((rd = runs_open(p->runs, c->num, err)) == NULL)
		return -1;
	while ((rc = runs_next(rd, &v, &cnt, err)) > 0) {
		seen += cnt;
		/* the edge for quantile q is the first value whose cumulative count reaches q */
		if (next <= k && seen * k >= next * total) {
			edges[*n] = v;
			below[(*n)++] = seen;
			while (next <= k && seen * k >= next * total)
				next++;
		} else if (*n > 0 && seen == total) {
			edges[*n] = v;
			below[(*n)++] = seen;
		}
	}
	runs_close(rd);
	return rc;
}

int columns_categories(const struct columns *p, size_t col, columns_category_fn fn, void *ctx,
		       struct error *err)
{
	const struct column *c = &p->cols[col];
	struct runs_reader *rd;
	char buf[32];
	uint64_t k;
	double v;
	int rc = 0;

	switch (c->type) {
	case STATS_TYPE_LONG:
	case STATS_TYPE_DOUBLE:
		if ((rd = runs_open(p->runs, c->num, err)) == NULL)
			return -1;
		while (rc == 0 && (rc = runs_next(rd, &v, &k, err)) > 0)
			rc = fn(ctx, buf, columns_number_text(buf, sizeof buf, v), k);
		runs_close(rd);
		return rc < 0 ? -1 : 0;
	case STATS_TYPE_BOOLEAN:
		if (c->yes)
			rc = fn(ctx, "true", 4, c->yes);
		return rc == 0 && c->no ? fn(ctx, "false", 5, c->no) : rc;
	case STATS_TYPE_STRING:
		for (size_t i = 0; rc == 0 && i < c->str.cap; i++)
			if (c->str.keys[i])
				rc = fn(ctx, c->str.keys[i], c->str.lens[i], c->str.counts[i]);
		return rc;
	default:
		return 0;
	}
}
