/*
 * xgbbench: the native XGBoost evaluator against libxgboost on the same rows,
 * one thread. Not a test: it measures, and prints a markdown table.
 *
 *   make bench-xgb && build/bench/xgbbench [--model FILE] [--rows FILE] [--reps N]
 *                                          [--batch N] [--quick] [--json FILE]
 *
 * Cells: one row through the evaluator (forest_predict vs
 * XGBoosterPredictFromDense); one request through the whole engine without
 * HTTP (engine_score: parse the JSON body, predict, print the answer) with 1
 * and 100 rows; and a batch of --batch rows (1,000,000) in memory. Each cell
 * is repeated --reps times (5); the table shows the median, in thread CPU time
 * (CLOCK_THREAD_CPUTIME_ID), which other processes on a shared machine do not
 * inflate, and the wall-clock median beside it.
 *
 * Rows: the model's own test rows (tests/data/xgb_binary.input.json), each
 * repeated with 10 % multiplicative noise and 5 % missing values, so that the
 * walks vary as real traffic does.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/benchlib.h"
#include "runtime/engines/engine.h"
#include "runtime/engines/forest.h"
#include "runtime/engines/input.h"
#include "runtime/engines/xgblib.h"
#include "runtime/engines/xgbmodel.h"
#include "state/file.h"

#define MAX_REPS 21

struct opts {
	const char *model, *rows, *json;
	int reps;
	size_t batch;
};

static FILE *json_out; /* --json: one object per cell */

struct timing {
	double cpu[MAX_REPS], wall[MAX_REPS];
	int n;
};

static char *slurp(const char *path, size_t *len)
{
	char *buf = file_read(path, 1u << 30, len);

	if (buf == NULL) {
		fprintf(stderr, "xgbbench: cannot read %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return buf;
}

/* n rows: the file's rows, cycled, with noise and missing values. */
static double *make_rows(const char *path, int features, size_t n)
{
	size_t len;
	char *text = slurp(path, &len);
	struct input_matrix m;
	struct error err;
	double *x = malloc(n * (size_t)features * sizeof *x);
	uint64_t seed = 12345;

	input_init(&m);
	if (x == NULL || input_parse(text, len, features, INPUT_ALLOW_NULL, &m, &err) != 0) {
		fprintf(stderr, "xgbbench: %s: %s\n", path, x ? err.message : "out of memory");
		exit(1);
	}
	for (size_t r = 0; r < n; r++)
		for (int f = 0; f < features; f++) {
			double v = m.values[(r % m.rows) * m.cols + (size_t)f];

			v *= r < m.rows ? 1.0 : 1.0 + (bench_unit(&seed) - 0.5) * 0.2;
			x[r * (size_t)features + (size_t)f] = bench_unit(&seed) < 0.05 ? NAN : v;
		}
	input_cleanup(&m);
	free(text);
	return x;
}

/* A {"data": [...]} body of rows [first, first + n). */
static char *make_body(const double *x, int features, size_t first, size_t n, size_t *len)
{
	size_t cap = n * (size_t)features * 26 + 32, k = 0;
	char *b = malloc(cap);

	k += (size_t)snprintf(b + k, cap - k, "{\"data\": [");
	for (size_t r = 0; r < n; r++) {
		k += (size_t)snprintf(b + k, cap - k, "%s[", r ? ", " : "");
		for (int f = 0; f < features; f++) {
			double v = x[(first + r) * (size_t)features + (size_t)f];

			if (isnan(v))
				k += (size_t)snprintf(b + k, cap - k, "%snull", f ? ", " : "");
			else
				k += (size_t)snprintf(b + k, cap - k, "%s%.17g", f ? ", " : "", v);
		}
		k += (size_t)snprintf(b + k, cap - k, "]");
	}
	k += (size_t)snprintf(b + k, cap - k, "]}");
	*len = k;
	return b;
}

/* ---- cells --------------------------------------------------------------- */

struct cell {
	const char *name;
	void (*run)(void *ctx, size_t iter);
	void *ctx;
	size_t iters; /* per repetition */
	size_t units; /* rows (or requests) per iteration, for the per-unit figure */
};

static void measure(const struct cell *c, int reps, struct timing *t)
{
	c->run(c->ctx, 0); /* warm caches and lazy initialisation */
	t->n = reps;
	for (int k = 0; k < reps; k++) {
		double w0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_THREAD_CPUTIME_ID);

		for (size_t i = 0; i < c->iters; i++)
			c->run(c->ctx, i);
		t->cpu[k] =
		    (bench_now(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)(c->iters * c->units);
		t->wall[k] = (bench_now(CLOCK_MONOTONIC) - w0) / (double)(c->iters * c->units);
	}
}

struct eval_ctx {
	const struct forest *forest;
	struct xgblib *lib;
	const double *x;
	size_t rows, pool; /* rows per call; rows in x to cycle over */
	int features;
	float *out;
	unsigned char *evict; /* non-NULL: written over before each call (a server's other work) */
};

#define EVICT_BYTES (4u << 20)

/* Writes over the eviction buffer, as the kernel and the HTTP server do between
 * two requests, so that the model is no longer in the caches. */
static void evict(const struct eval_ctx *c)
{
	if (c->evict != NULL)
		for (size_t i = 0; i < EVICT_BYTES; i += 64)
			c->evict[i]++;
}

static void run_native(void *p, size_t i)
{
	struct eval_ctx *c = p;
	size_t r = (i * c->rows) % (c->pool - c->rows + 1);

	forest_predict(c->forest, c->x + r * (size_t)c->features, c->rows, c->out, 0);
}

static void run_lib(void *p, size_t i)
{
	struct eval_ctx *c = p;
	size_t r = (i * c->rows) % (c->pool - c->rows + 1);
	struct error err;

	if (xgblib_predict(c->lib, c->x + r * (size_t)c->features, c->rows, c->out, &err) != 0) {
		fprintf(stderr, "xgbbench: %s\n", err.message);
		exit(1);
	}
}

struct engine_ctx {
	struct engine *e;
	char **bodies;
	size_t *lens, nbodies;
};

static void run_engine(void *p, size_t i)
{
	struct engine_ctx *c = p;
	struct engine_request req = {c->bodies[i % c->nbodies], c->lens[i % c->nbodies], NULL, "b"};
	struct engine_result res;

	engine_score(c->e, &req, &res);
	if (res.status != 200) {
		fprintf(stderr, "xgbbench: engine answered %d: %s\n", res.status, res.body);
		exit(1);
	}
	free(res.body);
}

static struct engine *load_engine(const char *model, const char *choice)
{
	const char *env[] = {choice, NULL};
	struct engine_config cfg = {0};
	struct error err;
	struct engine *e;

	cfg.type = MODEL_XGBOOST;
	cfg.model_path = model;
	cfg.env = env;
	if ((e = engine_load(&cfg, &err)) == NULL) {
		fprintf(stderr, "xgbbench: %s\n", err.message);
		exit(1);
	}
	return e;
}

/* ---- report -------------------------------------------------------------- */

static void unit(char *buf, size_t size, double seconds)
{
	if (seconds < 1e-6)
		snprintf(buf, size, "%.0f ns", seconds * 1e9);
	else if (seconds < 1e-3)
		snprintf(buf, size, "%.2f us", seconds * 1e6);
	else
		snprintf(buf, size, "%.2f ms", seconds * 1e3);
}

static void row(const char *what, struct timing *native, struct timing *lib, const char *per)
{
	double n = bench_median(native->cpu, native->n), l = bench_median(lib->cpu, lib->n);
	double nw = bench_median(native->wall, native->n), lw = bench_median(lib->wall, lib->n);
	char a[32], b[32], c[32], d[32];

	unit(a, sizeof a, n);
	unit(b, sizeof b, nw);
	unit(c, sizeof c, l);
	unit(d, sizeof d, lw);
	printf("| %s | %s (%s) | %s (%s) | %.1fx |\n", what, a, b, c, d, l / n);
	if (json_out != NULL)
		fprintf(json_out,
			"%s{\"cell\": \"%s\", \"native_cpu\": %.9g, \"native_wall\": %.9g, "
			"\"libxgboost_cpu\": %.9g, \"libxgboost_wall\": %.9g}",
			ftell(json_out) > 2 ? ",\n " : "", per, n, nw, l, lw);
}

static void pair(const char *what, struct cell *native, struct cell *lib, int reps)
{
	struct timing tn, tl;

	measure(native, reps, &tn);
	measure(lib, reps, &tl);
	row(what, &tn, &tl, native->name);
	fflush(stdout);
}

/* Seconds of one call of fn after the caches were filled with other data:
 * median of `n` calls, each timed alone. */
static double cold_call(void (*fn)(void *, size_t), struct eval_ctx *c, int n)
{
	double t[256];

	for (int i = 0; i < n; i++) {
		double t0;

		evict(c);
		t0 = bench_now(CLOCK_MONOTONIC);
		fn(c, (size_t)i);
		t[i] = bench_now(CLOCK_MONOTONIC) - t0;
	}
	return bench_median(t, n);
}

/* One row when the model is no longer cached, as in a server between requests. */
static void pair_cold(struct eval_ctx *c, int reps)
{
	struct timing tn = {.n = reps}, tl = {.n = reps};

	for (int k = 0; k < reps; k++) {
		tn.cpu[k] = tn.wall[k] = cold_call(run_native, c, 255);
		tl.cpu[k] = tl.wall[k] = cold_call(run_lib, c, 255);
	}
	row("evaluate 1 row after 4 MB of other data went through the caches (per row)", &tn, &tl,
	    "row_cold");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: xgbbench [--model FILE] [--rows FILE] [--reps N] [--batch N] "
			"[--quick] [--json FILE]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->reps = 3;
			o->batch = 100000;
		} else if (i + 1 < argc && strcmp(argv[i], "--model") == 0) {
			o->model = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--json") == 0) {
			o->json = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0) {
			o->rows = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0) {
			o->reps = (int)strtol(argv[++i], NULL, 10);
		} else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0) {
			o->batch = (size_t)strtoull(argv[++i], NULL, 10);
		} else {
			usage();
		}
	}
	if (o->reps < 1 || o->reps > MAX_REPS || o->batch < 1000)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o = {"tests/data/xgb_binary.json", "tests/data/xgb_binary.input.json", NULL, 5,
			 1000000};
	size_t len, pool = 1000;
	char *buf, why[300], *bodies1[64], *bodies100[8];
	size_t lens1[64], lens100[8];
	struct forest *forest;
	struct error err;
	struct xgblib *lib;
	double *x;
	float *out;
	int nf;

	parse_opts(argc, argv, &o);
	if (o.json != NULL && (json_out = fopen(o.json, "w")) == NULL) {
		fprintf(stderr, "xgbbench: cannot write %s\n", o.json);
		return 1;
	}
	if (json_out != NULL)
		fputs("[", json_out);
	buf = slurp(o.model, &len);
	if (xgbmodel_load(buf, len, &forest, NULL, why, sizeof why) != XGBMODEL_OK ||
	    (lib = xgblib_open(buf, len, o.model, &err)) == NULL) {
		fprintf(stderr, "xgbbench: %s: %s\n", o.model, forest ? err.message : why);
		return 1;
	}
	nf = forest_features(forest);
	x = make_rows(o.rows, nf, o.batch > pool ? o.batch : pool);
	out = malloc((o.batch > pool ? o.batch : pool) * forest_outputs(forest, 0) * sizeof *out);
	printf("Model %s: %zu trees, deepest %d, %d features; %d repetitions, median thread CPU "
	       "time (wall clock in brackets).\n\n",
	       o.model, forest_trees(forest), forest_depth(forest), nf, o.reps);
	printf("| measure | native | libxgboost | native speed-up |\n|---|---|---|---|\n");
	{
		struct eval_ctx c = {forest, lib, x, 1, pool, nf, out, NULL};
		struct cell n = {"row", run_native, &c, 200000, 1},
			    l = {"row", run_lib, &c, 20000, 1};

		pair("evaluate 1 row (per row)", &n, &l, o.reps);
		c.evict = calloc(EVICT_BYTES, 1);
		pair_cold(&c, o.reps);
		free(c.evict);
	}
	for (int k = 0; k < 64; k++)
		bodies1[k] = make_body(x, nf, (size_t)k, 1, &lens1[k]);
	for (int k = 0; k < 8; k++)
		bodies100[k] = make_body(x, nf, (size_t)k * 100, 100, &lens100[k]);
	{
		struct engine_ctx cn = {load_engine(o.model, NULL), bodies1, lens1, 64};
		struct engine_ctx cl = {load_engine(o.model, "MLDECK_XGBOOST=libxgboost"), bodies1,
					lens1, 64};
		struct cell n = {"request1", run_engine, &cn, 100000, 1},
			    l = {"request1", run_engine, &cl, 20000, 1};

		pair("request of 1 row: parse, evaluate, print (per request)", &n, &l, o.reps);
		n.name = l.name = "request100";
		cn.bodies = cl.bodies = bodies100;
		cn.lens = cl.lens = lens100;
		cn.nbodies = cl.nbodies = 8;
		n.iters = 2000;
		l.iters = 500;
		pair("request of 100 rows (per request)", &n, &l, o.reps);
		engine_free(cn.e);
		engine_free(cl.e);
	}
	{
		struct eval_ctx c = {forest, lib, x, o.batch, o.batch, nf, out, NULL};
		struct cell n = {"batch", run_native, &c, 1, o.batch},
			    l = {"batch", run_lib, &c, 1, o.batch};
		char what[80];

		snprintf(what, sizeof what, "batch of %zu rows in memory (per row)", o.batch);
		pair(what, &n, &l, o.reps);
	}
	for (int k = 0; k < 64; k++)
		free(bodies1[k]);
	for (int k = 0; k < 8; k++)
		free(bodies100[k]);
	if (json_out != NULL) {
		fputs("]\n", json_out);
		fclose(json_out);
	}
	forest_free(forest);
	xgblib_free(lib);
	free(x);
	free(out);
	free(buf);
	return 0;
}
