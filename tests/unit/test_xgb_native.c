/*
 * test_xgb_native.c: the native XGBoost evaluator (xgbmodel + forest) against
 * libxgboost, bit for bit, on 100,000 random rows with NaNs per model: the
 * committed models and every model tests/data/make_exact_models.py trained
 * into $MLDECK_XGB_MODELS (make unit does both). Then the loader on malformed
 * and unsupported files, and the engine's choice and log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/engines/engine.h"
#include "runtime/engines/forest.h"
#include "runtime/engines/jdoc.h"
#include "runtime/engines/xgblib.h"
#include "runtime/engines/xgbmodel.h"
#include "state/file.h"

#define ROWS 100000
#define CHUNK 5000 /* rows per libxgboost call */
#define MAX_SPLITS 4096

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static double rng_normal(uint64_t *s)
{
	double u = rng_unit(s) + 1e-12, v = rng_unit(s);

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static char *read_path(const char *path, size_t *len)
{
	char *buf = file_read(path, 1u << 30, len);

	if (buf == NULL)
		fail_msg("cannot read %s", path);
	return buf;
}

static void src_path(char *buf, size_t size, const char *rel)
{
	const char *src = getenv("MLDECK_SRC");

	snprintf(buf, size, "%s/%s", src != NULL ? src : ".", rel);
}

/* ---- rows that probe every split ----------------------------------------- */

/* Split values per feature (thresholds, or categories), from the model file. */
struct probes {
	int features;
	float *vals;   /* features x MAX_SPLITS */
	size_t *count; /* per feature */
	char *is_cat;  /* per feature */
};

static void probes_add(struct probes *p, int64_t feat, float v, int cat)
{
	if (feat < 0 || feat >= p->features)
		return;
	if (cat)
		p->is_cat[feat] = 1;
	if (p->count[feat] < MAX_SPLITS)
		p->vals[(size_t)feat * MAX_SPLITS + p->count[feat]++] = v;
}

static void probes_tree(struct probes *p, const struct jdoc *d, const struct jdoc_value *t)
{
	const struct jdoc_value *idx = jdoc_get(d, t, "split_indices");
	size_t n = jdoc_len(idx), k = jdoc_len(jdoc_get(d, t, "categories"));
	int64_t *feat = malloc((n + 1) * sizeof *feat), *left = malloc((n + 1) * sizeof *left);
	int64_t *type = calloc(n + 1, sizeof *type);
	float *cond = malloc((n + 1) * sizeof *cond), *cats = malloc((k + 1) * sizeof *cats);

	assert_int_equal(jdoc_ints(d, idx, feat, n), 0);
	assert_int_equal(jdoc_ints(d, jdoc_get(d, t, "left_children"), left, n), 0);
	assert_int_equal(jdoc_floats(d, jdoc_get(d, t, "split_conditions"), cond, n), 0);
	if (jdoc_get(d, t, "split_type") != NULL)
		assert_int_equal(jdoc_ints(d, jdoc_get(d, t, "split_type"), type, n), 0);
	if (k > 0)
		assert_int_equal(jdoc_floats(d, jdoc_get(d, t, "categories"), cats, k), 0);
	for (size_t i = 0; i < n; i++)
		if (left[i] != -1)
			probes_add(p, feat[i], type[i] ? (float)(i % 7) : cond[i], (int)type[i]);
	for (size_t i = 0; i < k; i++)
		for (int64_t f = 0; f < p->features; f++)
			if (p->is_cat[f])
				probes_add(p, f, cats[i], 1);
	free(feat);
	free(left);
	free(type);
	free(cond);
	free(cats);
}

static void probes_init(struct probes *p, const char *buf, size_t len, int features)
{
	char why[200];
	struct jdoc *d = jdoc_parse(buf, len, why, sizeof why);
	const struct jdoc_value *trees;

	if (d == NULL)
		fail_msg("jdoc: %s", why);
	p->features = features;
	p->vals = malloc((size_t)features * MAX_SPLITS * sizeof *p->vals);
	p->count = calloc((size_t)features, sizeof *p->count);
	p->is_cat = calloc((size_t)features, 1);
	assert_non_null(p->vals);
	trees = jdoc_get(
	    d,
	    jdoc_get(d, jdoc_get(d, jdoc_get(d, jdoc_root(d), "learner"), "gradient_booster"),
		     "model"),
	    "trees");
	for (size_t i = 0; i < jdoc_len(trees); i++)
		probes_tree(p, d, jdoc_at(d, trees, i));
	jdoc_free(d);
}

static void probes_free(struct probes *p)
{
	free(p->vals);
	free(p->count);
	free(p->is_cat);
}

/* One value for feature f: a split value, a neighbour of one (as float or as
 * a double that rounds to it), a random one, a special one, or NaN. */
static double probe(const struct probes *p, int f, uint64_t *s)
{
	static const double special[] = {0.0,	 -0.0,	1e30,	-1e30,	1e300,
					 -1e300, 1e-40, -1e-45, 3.4e38, 16777216.0,
					 -1.0,	 2.5,	1e8,	0.5,	-0.5};
	size_t n = p->count[f];
	double pick = rng_unit(s), thr = n ? p->vals[(size_t)f * MAX_SPLITS + rng_next(s) % n] : 0;

	if (pick < 0.10)
		return NAN;
	if (pick < 0.45 && n)
		return thr;
	if (pick < 0.55 && n)
		return nextafterf((float)thr, rng_next(s) & 1 ? INFINITY : -INFINITY);
	if (pick < 0.60 && n) /* a double that rounds to the threshold or just past it */
		return nextafter(thr, rng_next(s) & 1 ? INFINITY : -INFINITY) *
		       (1 + (rng_unit(s) - 0.5) * 1e-8);
	if (pick < 0.65)
		return special[rng_next(s) % (sizeof special / sizeof special[0])];
	if (p->is_cat[f])
		return (double)(rng_next(s) % 48);
	return rng_normal(s) * (n ? fabs(thr) + 1 : 10);
}

static double *make_rows(const struct probes *p, size_t rows, uint64_t seed)
{
	double *x = malloc(rows * (size_t)p->features * sizeof *x);

	assert_non_null(x);
	for (size_t r = 0; r < rows; r++)
		for (int f = 0; f < p->features; f++)
			x[r * (size_t)p->features + (size_t)f] = probe(p, f, &seed);
	return x;
}

/* ---- native against libxgboost ------------------------------------------ */

static void compare(const char *name, const float *got, const float *want, size_t rows,
		    size_t per_row)
{
	for (size_t i = 0; i < rows * per_row; i++)
		if (memcmp(&got[i], &want[i], sizeof got[i]) != 0)
			fail_msg("%s: row %zu output %zu: native %.9g (0x%08x), libxgboost %.9g "
				 "(0x%08x)",
				 name, i / per_row, i % per_row, got[i], *(const uint32_t *)&got[i],
				 want[i], *(const uint32_t *)&want[i]);
}

/* Scores ROWS rows through the model at path both ways; returns the rows checked. */
static size_t check_exact(const char *path)
{
	size_t len, per_row;
	char *buf = read_path(path, &len), why[300];
	struct forest *f = NULL;
	struct error err;
	struct xgblib *lib = xgblib_open(buf, len, path, &err);
	struct probes p;
	double *x;
	float *got, *want;

	if (lib == NULL)
		fail_msg("libxgboost cannot load %s: %s", path, err.message);
	if (xgbmodel_load(buf, len, &f, NULL, why, sizeof why) != XGBMODEL_OK)
		fail_msg("%s: not read natively: %s", path, why);
	assert_int_equal(forest_features(f), xgblib_features(lib));
	per_row = forest_outputs(f, 0);
	assert_int_equal(per_row, xgblib_outputs(lib));
	probes_init(&p, buf, len, forest_features(f));
	x = make_rows(&p, ROWS, (uint64_t)len * 7919 + 1);
	got = malloc(ROWS * per_row * sizeof *got);
	want = malloc(ROWS * per_row * sizeof *want);
	assert_non_null(got);
	assert_non_null(want);
	for (size_t r = 0; r < ROWS; r += CHUNK)
		assert_int_equal(xgblib_predict(lib, x + r * (size_t)p.features, CHUNK,
						want + r * per_row, &err),
				 0);
	assert_int_equal(forest_predict(f, x, ROWS, got, 0), 0);
	compare(path, got, want, ROWS, per_row);
	/* one row at a time takes the other kernel: same answers */
	for (size_t r = 0; r < 2000; r++)
		assert_int_equal(
		    forest_predict(f, x + r * (size_t)p.features, 1, got + r * per_row, 0), 0);
	compare(path, got, want, 2000, per_row);
	probes_free(&p);
	free(x);
	free(got);
	free(want);
	forest_free(f);
	xgblib_free(lib);
	free(buf);
	return ROWS;
}

static void test_exact_committed(void **state)
{
	static const char *const models[] = {
	    "tests/data/xgb_binary.json", "tests/data/xgb_binary.ubj", "tests/data/xgb_multi.json",
	    "tests/data/xgb_regression.json", "demo/models/fraud-xgb.json"};
	char path[1024];

	(void)state;
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
		src_path(path, sizeof path, models[i]);
		check_exact(path);
	}
}

static int is_model(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".json") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".ubj") == 0);
}

/* A model libxgboost reads and the native loader hands over. */
static void check_fallback(const char *path)
{
	size_t len;
	char *buf = read_path(path, &len), why[300];
	struct forest *f = NULL;
	struct error err;
	struct xgblib *lib = xgblib_open(buf, len, path, &err);

	if (lib == NULL)
		fail_msg("libxgboost cannot load %s: %s", path, err.message);
	assert_int_equal(xgbmodel_load(buf, len, &f, NULL, why, sizeof why), XGBMODEL_UNSUPPORTED);
	assert_null(f);
	assert_true(why[0] != '\0');
	xgblib_free(lib);
	free(buf);
}

static void test_exact_trained(void **state)
{
	const char *dir = getenv("MLDECK_XGB_MODELS");
	char path[2048];
	size_t models = 0, fallbacks = 0;
	struct dirent *e;
	DIR *dp;

	(void)state;
	if (dir == NULL || (dp = opendir(dir)) == NULL)
		fail_msg("MLDECK_XGB_MODELS must name the models of make_exact_models.py (make "
			 "unit sets it)");
	while ((e = readdir(dp)) != NULL) {
		if (!is_model(e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (strncmp(e->d_name, "fallback-", 9) == 0) {
			check_fallback(path);
			fallbacks++;
		} else {
			check_exact(path);
			models++;
		}
	}
	closedir(dp);
	print_message("%zu models x %d rows equal bit for bit; %zu handed to libxgboost\n", models,
		      ROWS, fallbacks);
	assert_true(models >= 20);
	assert_true(fallbacks >= 2);
}

/* ---- the loader on small files ------------------------------------------- */

/* A model of one split (feature 1 below 0.5: left leaf -1, else 1). */
static const char tiny[] =
    "{\"version\":[1,7,4],\"learner\":{\"learner_model_param\":{\"base_score\":\"5E-1\","
    "\"num_class\":\"0\",\"num_feature\":\"2\",\"num_target\":\"1\"},"
    "\"objective\":{\"name\":\"binary:logistic\"},\"gradient_booster\":{\"name\":\"gbtree\","
    "\"model\":{\"gbtree_model_param\":{\"num_trees\":\"1\",\"size_leaf_vector\":\"0\"},"
    "\"tree_info\":[0],\"trees\":[{\"id\":0,\"tree_param\":{\"num_nodes\":\"3\","
    "\"size_leaf_vector\":\"0\"},\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],"
    "\"split_indices\":[1,0,0],\"split_conditions\":[5E-1,-1E0,1E0],\"default_left\":[1,0,0],"
    "\"split_type\":[0,0,0],\"categories\":[],\"categories_nodes\":[],"
    "\"categories_segments\":[],\"categories_sizes\":[]}]}}}}";

/* tiny with `from` replaced by `to`, loaded: the status, the reason in why. */
static enum xgbmodel_status load_variant(const char *from, const char *to, struct forest **f,
					 char *why, size_t size)
{
	char doc[4096];
	const char *at = strstr(tiny, from);
	int n;

	assert_non_null(at);
	n = snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - tiny), tiny, to, at + strlen(from));
	assert_true(n > 0 && (size_t)n < sizeof doc);
	*f = NULL;
	return xgbmodel_load(doc, (size_t)n, f, NULL, why, size);
}

static void test_tiny_model(void **state)
{
	struct forest *f;
	char why[300];
	double rows[] = {0.0, 0.2, 0.0, 0.5, 0.0, NAN};
	float out[3];

	(void)state;
	assert_int_equal(load_variant("", "", &f, why, sizeof why), XGBMODEL_OK);
	assert_int_equal(forest_features(f), 2);
	assert_int_equal(forest_outputs(f, 0), 1);
	assert_int_equal(forest_predict(f, rows, 3, out, FOREST_MARGIN), 0);
	/* base_score 0.5 is margin 0; 0.2 < 0.5 left; 0.5 is not below it; NaN goes left */
	assert_true(out[0] == -1.0f && out[1] == 1.0f && out[2] == -1.0f);
	assert_int_equal(forest_predict(f, rows, 1, out, 0), 0);
	assert_true(out[0] == 1.0f / (expf(1.0f) + 1.0f + (float)1e-16));
	forest_free(f);
}

/* A change to tiny and what the loader must say about it. */
struct variant {
	const char *from, *to, *why;
};

static void expect_status(const struct variant *cases, size_t n, enum xgbmodel_status want)
{
	struct forest *f;
	char why[300];

	for (size_t i = 0; i < n; i++) {
		if (load_variant(cases[i].from, cases[i].to, &f, why, sizeof why) != want)
			fail_msg("case %zu (%s): not status %d: %s", i, cases[i].to, want, why);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: reason \"%s\" does not say \"%s\"", i, why,
				 cases[i].why);
		assert_null(f);
	}
}

static void test_malformed_models(void **state)
{
	static const struct variant cases[] = {
	    {"\"left_children\":[1,", "\"left_children\":[7,", "left child 7 out of range"},
	    {"\"left_children\":[1,", "\"left_children\":[-2,", "left child -2 out of range"},
	    {"\"right_children\":[2,", "\"right_children\":[0,", "does not follow the left"},
	    {"\"split_indices\":[1,", "\"split_indices\":[2,", "feature 2 out of range"},
	    {"[1,-1,-1],\"right_children\":[2,-1,-1]", "[1,0,-1],\"right_children\":[2,1,-1]",
	     "reached twice"},
	    {"\"tree_info\":[0]", "\"tree_info\":[1]", "not an output group"},
	    {"\"num_nodes\":\"3\"", "\"num_nodes\":\"4\"", "must be 4 integers"},
	    {"\"num_trees\":\"1\"", "\"num_trees\":\"2\"", "num_trees does not match"},
	    {"\"id\":0", "\"id\":5", "bad or repeated id"},
	    {"\"base_score\":\"5E-1\"", "\"base_score\":\"2\"", "must be in (0,1)"},
	    {"\"base_score\":\"5E-1\"", "\"base_score\":\"x\"", "base_score\" is not a number"},
	    {"\"num_feature\":\"2\"", "\"num_feature\":\"-2\"", "bad num_feature"},
	    {"\"split_conditions\":[5E-1,", "\"split_conditions\":[\"a\",", "split_conditions"},
	    {"\"version\":[1,7,4]", "\"version\":[1,7]", "must be 3 integers"},
	    {"\"split_type\":[0,0,0],\"categories\":[],\"categories_nodes\":[],",
	     "\"split_type\":[1,0,0],\"categories\":[],", "categories_nodes"},
	    {"\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],"
	     "\"categories_sizes\":[]",
	     "\"categories\":[3],\"categories_nodes\":[0],\"categories_segments\":[0],"
	     "\"categories_sizes\":[0]",
	     "categorical split 0"},
	    {"\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],"
	     "\"categories_sizes\":[]",
	     "\"categories\":[3],\"categories_nodes\":[0],\"categories_segments\":[1],"
	     "\"categories_sizes\":[1]",
	     "categorical split 0 is malformed"},
	    {"}}}}", "}}}", "not valid JSON or UBJSON"},
	};

	(void)state;
	expect_status(cases, sizeof cases / sizeof cases[0], XGBMODEL_MALFORMED);
}

static void test_unsupported_models(void **state)
{
	static const struct variant cases[] = {
	    {"binary:logistic", "binary:hinge", "objective binary:hinge"},
	    {"\"name\":\"gbtree\"", "\"name\":\"gblinear\"", "booster gblinear"},
	    {"[1,7,4]", "[3,1,0]", "XGBoost 3.1"},
	    {"\"5E-1\"", "\"[5E-1,2E-1]\"", "one value per output"},
	    {"\"num_trees\":\"1\",\"size_leaf_vector\":\"0\"",
	     "\"num_trees\":\"1\",\"size_leaf_vector\":\"2\"", "vector leaves"},
	};
	struct forest *f;
	char why[300];

	(void)state;
	expect_status(cases, sizeof cases / sizeof cases[0], XGBMODEL_UNSUPPORTED);
	/* an objective libxgboost would get, but with a broken tree: refused */
	assert_int_equal(
	    load_variant("binary:logistic\"},", "binary:hinge\"},", &f, why, sizeof why),
	    XGBMODEL_UNSUPPORTED);
	{
		char doc[4096];
		const char *at = strstr(tiny, "binary:logistic"), *lc = strstr(tiny, "[1,-1,-1]");
		int n = snprintf(doc, sizeof doc, "%.*sbinary:hinge%.*s[9%s", (int)(at - tiny),
				 tiny, (int)(lc - at - 15), at + 15, lc + 2);

		assert_int_equal(xgbmodel_load(doc, (size_t)n, &f, NULL, why, sizeof why),
				 XGBMODEL_MALFORMED);
		assert_non_null(strstr(why, "left child 9"));
	}
	assert_int_equal(xgbmodel_load("binf\1\2\3", 7, &f, NULL, why, sizeof why),
			 XGBMODEL_UNSUPPORTED);
}

/* ---- the engine: which evaluator, and its log line ------------------------ */

struct log_capture {
	char lines[4][400];
	int n;
};

static void capture(void *ctx, const char *line)
{
	struct log_capture *c = ctx;

	if (c->n < 4)
		snprintf(c->lines[c->n++], sizeof c->lines[0], "%s", line);
}

static struct engine *engine_with(const char *path, const char *var, struct log_capture *log,
				  struct error *err)
{
	const char *env[] = {var, NULL};
	struct engine_config cfg = {0};

	memset(log, 0, sizeof *log);
	cfg.type = MODEL_XGBOOST;
	cfg.model_path = path;
	cfg.env = env;
	cfg.log = capture;
	cfg.log_ctx = log;
	error_clear(err);
	return engine_load(&cfg, err);
}

static void test_engine_choice(void **state)
{
	char path[1024], bad[] = "/tmp/mldeck-test-xgb-XXXXXX";
	struct log_capture log;
	struct error err;
	struct engine *e;
	FILE *fp;
	int fd;

	(void)state;
	src_path(path, sizeof path, "tests/data/xgb_binary.json");
	e = engine_with(path, "X=1", &log, &err);
	assert_non_null(e);
	assert_int_equal(log.n, 1);
	assert_non_null(strstr(log.lines[0], "[xgboost] native evaluator: 100 trees (deepest 6), "
					     "30 features, 1 output, binary:logistic"));
	engine_free(e);
	e = engine_with(path, "MLDECK_XGBOOST=libxgboost", &log, &err);
	assert_non_null(e);
	assert_non_null(strstr(log.lines[0], "[xgboost] libxgboost 1.7"));
	assert_non_null(strstr(log.lines[0], "MLDECK_XGBOOST=libxgboost"));
	engine_free(e);
	assert_null(engine_with(path, "MLDECK_XGBOOST=fast", &log, &err));
	assert_non_null(strstr(err.message, "native or libxgboost"));
	/* a broken tree never reaches libxgboost */
	fd = mkstemp(bad);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(tiny, fp);
	fclose(fp);
	assert_non_null(e = engine_with(bad, NULL, &log, &err));
	engine_free(e);
	fp = fopen(bad, "w");
	fprintf(fp, "%.*s9%s", (int)(strstr(tiny, "[1,-1,-1]") + 1 - tiny), tiny,
		strstr(tiny, "[1,-1,-1]") + 2);
	fclose(fp);
	assert_null(engine_with(bad, NULL, &log, &err));
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "left child 9 out of range"));
	unlink(bad);
}

static void test_engine_fallback(void **state)
{
	const char *dir = getenv("MLDECK_XGB_MODELS");
	char path[2048];
	struct log_capture log;
	struct error err;
	struct engine *e;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof path, "%s/fallback-hinge.json", dir);
	e = engine_with(path, NULL, &log, &err);
	if (e == NULL)
		fail_msg("%s", err.message);
	assert_non_null(strstr(log.lines[0], "[xgboost] libxgboost"));
	assert_non_null(strstr(log.lines[0], "not read natively: objective binary:hinge"));
	engine_free(e);
}

/* ---- jdoc ----------------------------------------------------------------- */

static void test_jdoc_ubjson(void **state)
{
	/* {"a": [1.5f, 2.5f] typed, "b": "hi", "c": [#U2 i-1 T]} */
	static const unsigned char ub[] = {'{',	 'U',  1,   'a', '[',  '$',  'd', '#', 'U', 2,
					   0x3F, 0xC0, 0,   0,	 0x40, 0x20, 0,	  0,   'U', 1,
					   'b',	 'S',  'U', 2,	 'h',  'i',  'i', 1,   'c', '[',
					   '#',	 'U',  2,   'i', 0xFF, 'T',  '}'};
	char why[200];
	struct jdoc *d = jdoc_parse(ub, sizeof ub, why, sizeof why);
	float fl[2];
	int64_t iv[2];

	(void)state;
	if (d == NULL)
		fail_msg("%s", why);
	assert_int_equal(jdoc_floats(d, jdoc_get(d, jdoc_root(d), "a"), fl, 2), 0);
	assert_true(fl[0] == 1.5f && fl[1] == 2.5f);
	assert_true(jdoc_is(d, jdoc_get(d, jdoc_root(d), "b"), "hi"));
	assert_int_equal(jdoc_ints(d, jdoc_get(d, jdoc_root(d), "c"), iv, 2), 0);
	assert_true(iv[0] == -1 && iv[1] == 1);
	jdoc_free(d);
}

static void test_jdoc_hostile(void **state)
{
	static const struct {
		const char *doc;
		size_t len;
		const char *why;
	} cases[] = {
	    {"{\"a\":[1,2", 9, "expected ']'"},
	    {"{\"a\":\"\\x\"}", 10, "bad escape"},
	    {"{\"a\":1e}", 8, "expected a value"},
	    {"{\"a\":99999999999999999999}", 26, "integer out of range"},
	    {"{\"a\":1} x", 9, "unexpected data"},
	    /* a typed array claiming 2^62 floats in a few bytes */
	    {"[$d#L\x40\0\0\0\0\0\0\0", 13, "exceeds the input"},
	    {"{U\x7f"
	     "abc",
	     6, "exceeds the input"},
	    {"[$S#U\2", 6, "not supported"},
	    {"{U\1aH", 5, "unknown marker"},
	};
	char deep[2 * JDOC_MAX_DEPTH + 8], why[200];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_null(jdoc_parse(cases[i].doc, cases[i].len, why, sizeof why));
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, why, cases[i].why);
		assert_non_null(strstr(why, "at byte"));
	}
	memset(deep, '[', JDOC_MAX_DEPTH + 2);
	memset(deep + JDOC_MAX_DEPTH + 2, ']', JDOC_MAX_DEPTH + 2);
	assert_null(jdoc_parse(deep, 2 * JDOC_MAX_DEPTH + 4, why, sizeof why));
	assert_non_null(strstr(why, "nested deeper"));
}

/* jdoc_text_float32 against strtof, around float midpoints where reading a
 * double first would round twice. */
static void test_jdoc_float32(void **state)
{
	uint64_t seed = 42;
	char text[128];
	float got, want;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint32_t bits = (uint32_t)rng_next(&seed) & 0x7F7FFFFF;
		float f, g;
		double mid;
		int n;

		memcpy(&f, &bits, sizeof f);
		g = nextafterf(f, INFINITY);
		mid = ((double)f + (double)g) / 2;
		switch (i % 4) {
		case 0: /* the exact midpoint: ties to even */
			n = snprintf(text, sizeof text, "%.60e", mid);
			break;
		case 1: /* just above it, beyond double precision */
			n = snprintf(text, sizeof text, "%.60e", mid);
			memcpy(text + 58, "19", 2);
			break;
		case 2: /* the shortest text XGBoost writes */
			n = snprintf(text, sizeof text, "%.9g", f);
			break;
		default:
			n = snprintf(text, sizeof text, "%.17g", mid * (1 + 1e-12));
			break;
		}
		want = strtof(text, NULL);
		assert_int_equal(jdoc_text_float32(text, (size_t)n, &got), 0);
		if (memcmp(&got, &want, sizeof got) != 0)
			fail_msg("%s: %a, strtof %a", text, got, want);
	}
	assert_int_equal(jdoc_text_float32("NaN", 3, &got), 0);
	assert_true(isnan(got));
	assert_int_equal(jdoc_text_float32("-Infinity", 9, &got), 0);
	assert_true(isinf(got) && got < 0);
	assert_int_equal(jdoc_text_float32("1e", 2, &got), -1);
	assert_int_equal(jdoc_text_float32("", 0, &got), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tiny_model),	       cmocka_unit_test(test_malformed_models),
	    cmocka_unit_test(test_unsupported_models), cmocka_unit_test(test_engine_choice),
	    cmocka_unit_test(test_engine_fallback),    cmocka_unit_test(test_jdoc_ubjson),
	    cmocka_unit_test(test_jdoc_hostile),       cmocka_unit_test(test_jdoc_float32),
	    cmocka_unit_test(test_exact_committed),    cmocka_unit_test(test_exact_trained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
