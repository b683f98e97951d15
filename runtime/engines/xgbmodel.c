/* xgbmodel.c: XGBoost's model schema (doc/model.schema) into a forest. */
#include "runtime/engines/xgbmodel.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/jdoc.h"

/* How an objective turns base_score into a margin (its ProbToMargin). */
enum margin { MARGIN_SAME, MARGIN_LOGIT, MARGIN_LOG };

/* The objectives read natively: each one's PredTransform and ProbToMargin in
 * XGBoost 1.7 (src/objective/). Others go to libxgboost. */
static const struct objective {
	const char *name;
	enum forest_transform transform;
	enum margin margin;
} objectives[] = {
    {"reg:squarederror", FOREST_IDENTITY, MARGIN_SAME},
    {"reg:linear", FOREST_IDENTITY, MARGIN_SAME},
    {"reg:squaredlogerror", FOREST_IDENTITY, MARGIN_SAME},
    {"reg:pseudohubererror", FOREST_IDENTITY, MARGIN_SAME},
    {"reg:absoluteerror", FOREST_IDENTITY, MARGIN_SAME},
    {"reg:logistic", FOREST_SIGMOID, MARGIN_LOGIT},
    {"binary:logistic", FOREST_SIGMOID, MARGIN_LOGIT},
    {"binary:logitraw", FOREST_IDENTITY, MARGIN_SAME},
    {"count:poisson", FOREST_EXP, MARGIN_LOG},
    {"reg:gamma", FOREST_EXP, MARGIN_LOG},
    {"reg:tweedie", FOREST_EXP, MARGIN_LOG},
    {"multi:softprob", FOREST_SOFTMAX, MARGIN_SAME},
    {"multi:softmax", FOREST_ARGMAX, MARGIN_SAME},
    {"rank:pairwise", FOREST_IDENTITY, MARGIN_SAME},
    {"rank:ndcg", FOREST_IDENTITY, MARGIN_SAME},
    {"rank:map", FOREST_IDENTITY, MARGIN_SAME},
};

#define MAX_TREES (1 << 24)

struct loader {
	const struct jdoc *d;
	char *why;
	size_t why_size;
	int features, groups;
	const struct objective *obj;
	float base;
};

__attribute__((format(printf, 3, 4))) static enum xgbmodel_status
say(struct loader *ld, enum xgbmodel_status st, const char *fmt, ...)
{
	va_list ap;

	if (ld->why_size > 0) {
		va_start(ap, fmt);
		vsnprintf(ld->why, ld->why_size, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* A non-negative decimal integer held in a string, as XGBoost writes counts
 * ("num_feature": "30"); absent gives `dflt`. -1 when malformed or above max. */
static int64_t str_count(const struct loader *ld, const struct jdoc_value *v, int64_t dflt,
			 int64_t max)
{
	size_t n;
	const char *s = jdoc_str(ld->d, v, &n);
	int64_t x = 0;

	if (v == NULL)
		return dflt;
	if (s == NULL || n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	return x <= max ? x : -1;
}

static const struct objective *find_objective(const struct jdoc *d, const struct jdoc_value *name)
{
	for (size_t i = 0; i < sizeof objectives / sizeof objectives[0]; i++)
		if (jdoc_is(d, name, objectives[i].name))
			return &objectives[i];
	return NULL;
}

/* root["version"]: [major, minor, patch]. XGBoost 1.x and 2.x store and
 * predict as libxgboost 1.7 does (so does a file without a version, as 1.7
 * reads it); other versions are read for validation, then handed over. */
static enum xgbmodel_status check_version(struct loader *ld, struct xgbmodel_info *info)
{
	const struct jdoc_value *v = jdoc_get(ld->d, jdoc_root(ld->d), "version");
	int64_t part[3];

	if (v == NULL)
		return XGBMODEL_OK;
	if (jdoc_ints(ld->d, v, part, 3) != 0)
		return say(ld, XGBMODEL_MALFORMED, "\"version\" must be 3 integers");
	for (int i = 0; i < 3; i++)
		info->version[i] = part[i] >= 0 && part[i] < 1000 ? (int)part[i] : -1;
	if (part[0] != 1 && part[0] != 2)
		return say(ld, XGBMODEL_UNSUPPORTED, "model saved by XGBoost %lld.%lld",
			   (long long)part[0], (long long)part[1]);
	return XGBMODEL_OK;
}

/* base_score: "5E-1", or "[5E-1]" as newer versions write one value. */
static enum xgbmodel_status read_base_score(struct loader *ld, const struct jdoc_value *v)
{
	size_t n;
	const char *s = jdoc_str(ld->d, v, &n);

	if (s == NULL)
		return say(ld, XGBMODEL_MALFORMED, "\"base_score\" must be a string");
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (memchr(s, ',', n) != NULL)
			return say(ld, XGBMODEL_UNSUPPORTED, "base_score has one value per output");
		s++;
		n -= 2;
	}
	if (jdoc_text_float32(s, n, &ld->base) != 0)
		return say(ld, XGBMODEL_MALFORMED, "\"base_score\" is not a number");
	return XGBMODEL_OK;
}

/* learner.objective and learner.learner_model_param. */
static enum xgbmodel_status read_params(struct loader *ld, const struct jdoc_value *learner,
					struct xgbmodel_info *info)
{
	const struct jdoc_value *obj = jdoc_get(ld->d, learner, "objective");
	const struct jdoc_value *mp = jdoc_get(ld->d, learner, "learner_model_param");
	const struct jdoc_value *name = jdoc_get(ld->d, obj, "name");
	int64_t nf, nc, nt, softmax_nc;
	size_t len;
	const char *s = jdoc_str(ld->d, name, &len);

	if (s == NULL || mp == NULL)
		return say(ld, XGBMODEL_MALFORMED, "the learner has no objective or parameters");
	snprintf(info->objective, sizeof info->objective, "%.*s", (int)len, s);
	ld->obj = find_objective(ld->d, name);
	nf = str_count(ld, jdoc_get(ld->d, mp, "num_feature"), -1, FOREST_MAX_FEATURES - 1);
	nc = str_count(ld, jdoc_get(ld->d, mp, "num_class"), 0, FOREST_MAX_GROUPS);
	nt = str_count(ld, jdoc_get(ld->d, mp, "num_target"), 1, FOREST_MAX_GROUPS);
	if (nf < 1 || nc < 0 || nt < 0)
		return say(ld, XGBMODEL_MALFORMED, "bad num_feature, num_class or num_target");
	ld->features = (int)nf;
	ld->groups = (int)(nc > nt ? nc : nt);
	if (ld->groups < 1)
		ld->groups = 1;
	if (nc > 1 && nt > 1)
		return say(ld, XGBMODEL_UNSUPPORTED, "several classes and several targets");
	if (ld->obj == NULL)
		return say(ld, XGBMODEL_UNSUPPORTED, "objective %s", info->objective);
	if (ld->obj->transform == FOREST_SOFTMAX || ld->obj->transform == FOREST_ARGMAX) {
		softmax_nc = str_count(
		    ld,
		    jdoc_get(ld->d, jdoc_get(ld->d, obj, "softmax_multiclass_param"), "num_class"),
		    -1, FOREST_MAX_GROUPS);
		if (softmax_nc != ld->groups)
			return say(ld, XGBMODEL_UNSUPPORTED,
				   "the objective's num_class differs from the model's");
	}
	return read_base_score(ld, jdoc_get(ld->d, mp, "base_score"));
}

/* The objective's ProbToMargin, in float as XGBoost computes it. */
static enum xgbmodel_status base_margin(struct loader *ld, float *margin)
{
	float b = ld->base;

	switch (ld->obj->margin) {
	case MARGIN_LOGIT:
		if (!(b > 0.0f && b < 1.0f))
			return say(ld, XGBMODEL_MALFORMED,
				   "base_score must be in (0,1) for logistic loss, got %g", b);
		*margin = -logf(1.0f / b - 1.0f);
		break;
	case MARGIN_LOG:
		*margin = logf(b);
		break;
	default:
		*margin = b;
		break;
	}
	return XGBMODEL_OK;
}

/* ---- one tree ------------------------------------------------------------ */

/* A tree's arrays, decoded (all owned). */
struct tree_arrays {
	int64_t *left, *right, *feature, *dleft, *type, *cat_start, *cat_count, *cats;
	float *value;
	size_t n, ncats;
};

static void tree_arrays_free(struct tree_arrays *a)
{
	free(a->left);
	free(a->right);
	free(a->feature);
	free(a->dleft);
	free(a->type);
	free(a->cat_start);
	free(a->cat_count);
	free(a->cats);
	free(a->value);
}

/* tree[key] as n int64s into a new array; NULL with a reason. */
static int64_t *ints_of(struct loader *ld, const struct jdoc_value *tree, const char *key, size_t n)
{
	const struct jdoc_value *v = jdoc_get(ld->d, tree, key);
	int64_t *out = malloc((n ? n : 1) * sizeof *out);

	if (out != NULL && jdoc_ints(ld->d, v, out, n) == 0)
		return out;
	free(out);
	say(ld, XGBMODEL_MALFORMED, "\"%s\" must be %zu integers", key, n);
	return NULL;
}

/* categories_nodes/segments/sizes into per-node start and count. */
static enum xgbmodel_status read_categories(struct loader *ld, const struct jdoc_value *tree,
					    struct tree_arrays *a)
{
	const struct jdoc_value *nodes = jdoc_get(ld->d, tree, "categories_nodes");
	size_t k = jdoc_len(nodes);
	int64_t *node = NULL, *seg = NULL, *size = NULL;
	enum xgbmodel_status st = XGBMODEL_MALFORMED;

	a->ncats = jdoc_len(jdoc_get(ld->d, tree, "categories"));
	a->cat_start = calloc(a->n, sizeof *a->cat_start);
	a->cat_count = calloc(a->n, sizeof *a->cat_count);
	if (a->cat_start == NULL || a->cat_count == NULL ||
	    (node = ints_of(ld, tree, "categories_nodes", k)) == NULL ||
	    (seg = ints_of(ld, tree, "categories_segments", k)) == NULL ||
	    (size = ints_of(ld, tree, "categories_sizes", k)) == NULL ||
	    (a->cats = ints_of(ld, tree, "categories", a->ncats)) == NULL)
		goto out;
	for (size_t i = 0; i < k; i++) {
		if (node[i] < 0 || (uint64_t)node[i] >= a->n || (i > 0 && node[i] <= node[i - 1]) ||
		    size[i] <= 0 || seg[i] < 0 || (uint64_t)seg[i] > a->ncats ||
		    (uint64_t)size[i] > a->ncats - (uint64_t)seg[i]) {
			say(ld, st, "categorical split %zu is malformed", i);
			goto out;
		}
		a->cat_start[node[i]] = seg[i];
		a->cat_count[node[i]] = size[i];
	}
	st = XGBMODEL_OK;
out:
	free(node);
	free(seg);
	free(size);
	return st;
}

static enum xgbmodel_status read_tree_arrays(struct loader *ld, const struct jdoc_value *tree,
					     struct tree_arrays *a)
{
	const struct jdoc_value *tp = jdoc_get(ld->d, tree, "tree_param");
	int64_t n = str_count(ld, jdoc_get(ld->d, tp, "num_nodes"), -1, FOREST_MAX_NODES);
	const struct jdoc_value *cond = jdoc_get(ld->d, tree, "split_conditions");
	int has_cat = 0;

	if (n < 1)
		return say(ld, XGBMODEL_MALFORMED, "bad tree_param.num_nodes");
	if (str_count(ld, jdoc_get(ld->d, tp, "size_leaf_vector"), 0, 1 << 20) != 0)
		return say(ld, XGBMODEL_UNSUPPORTED, "trees with vector leaves");
	a->n = (size_t)n;
	if ((a->left = ints_of(ld, tree, "left_children", a->n)) == NULL ||
	    (a->right = ints_of(ld, tree, "right_children", a->n)) == NULL ||
	    (a->feature = ints_of(ld, tree, "split_indices", a->n)) == NULL ||
	    (a->dleft = ints_of(ld, tree, "default_left", a->n)) == NULL)
		return XGBMODEL_MALFORMED;
	a->value = malloc(a->n * sizeof *a->value);
	if (a->value == NULL || jdoc_floats(ld->d, cond, a->value, a->n) != 0)
		return say(ld, XGBMODEL_MALFORMED, "\"split_conditions\" must be %zu numbers",
			   a->n);
	if (jdoc_get(ld->d, tree, "split_type") == NULL)
		return XGBMODEL_OK;
	if ((a->type = ints_of(ld, tree, "split_type", a->n)) == NULL)
		return XGBMODEL_MALFORMED;
	for (size_t i = 0; i < a->n; i++)
		has_cat |= a->type[i] != 0;
	/* XGBoost reads (and checks) the category lists whenever split types are given */
	if (has_cat || jdoc_len(jdoc_get(ld->d, tree, "categories_nodes")) > 0)
		return read_categories(ld, tree, a);
	return XGBMODEL_OK;
}

static enum xgbmodel_status add_tree(struct loader *ld, struct forest *f, size_t id,
				     const struct jdoc_value *tree, int64_t group)
{
	struct tree_arrays a = {0};
	struct forest_tree t;
	char why[160];
	enum xgbmodel_status st = read_tree_arrays(ld, tree, &a);

	if (st == XGBMODEL_OK) {
		t = (struct forest_tree){a.n,	      a.left,  a.right, a.feature,
					 a.value,     a.dleft, a.type,	a.cat_start,
					 a.cat_count, a.cats,  a.ncats};
		if (forest_add_tree(f, (int)group, &t, why, sizeof why) != 0)
			st = say(ld, XGBMODEL_MALFORMED, "tree %zu: %s", id, why);
	} else {
		/* keep the reason, name the tree */
		snprintf(why, sizeof why, "%s", ld->why_size > 0 ? ld->why : "");
		say(ld, st, "tree %zu: %s", id, why);
	}
	tree_arrays_free(&a);
	return st;
}

/* ---- the booster --------------------------------------------------------- */

/* trees[] in the order of their "id"s (XGBoost places them by id). */
static enum xgbmodel_status tree_order(struct loader *ld, const struct jdoc_value *trees, size_t n,
				       const struct jdoc_value **by_id)
{
	int64_t id;

	for (size_t i = 0; i < n; i++) {
		const struct jdoc_value *t = jdoc_at(ld->d, trees, i);

		if (jdoc_type(t) != JDOC_OBJECT || jdoc_int(jdoc_get(ld->d, t, "id"), &id) != 0 ||
		    id < 0 || (uint64_t)id >= n || by_id[id] != NULL)
			return say(ld, XGBMODEL_MALFORMED, "trees[%zu] has a bad or repeated id",
				   i);
		by_id[id] = t;
	}
	return XGBMODEL_OK;
}

static enum xgbmodel_status read_trees(struct loader *ld, const struct jdoc_value *model,
				       struct forest *f)
{
	const struct jdoc_value *param = jdoc_get(ld->d, model, "gbtree_model_param");
	const struct jdoc_value *trees = jdoc_get(ld->d, model, "trees");
	int64_t n = str_count(ld, jdoc_get(ld->d, param, "num_trees"), -1, MAX_TREES);
	const struct jdoc_value **by_id = NULL;
	int64_t *info = NULL;
	enum xgbmodel_status st;

	if (n < 1 || jdoc_type(trees) != JDOC_ARRAY || jdoc_len(trees) != (size_t)n)
		return say(ld, XGBMODEL_MALFORMED, "num_trees does not match the trees");
	if (str_count(ld, jdoc_get(ld->d, param, "size_leaf_vector"), 0, 1 << 20) != 0)
		return say(ld, XGBMODEL_UNSUPPORTED, "trees with vector leaves");
	by_id = calloc((size_t)n, sizeof *by_id);
	if (by_id == NULL || (info = ints_of(ld, model, "tree_info", (size_t)n)) == NULL) {
		st = by_id == NULL ? say(ld, XGBMODEL_MALFORMED, "out of memory")
				   : XGBMODEL_MALFORMED;
		goto out;
	}
	if ((st = tree_order(ld, trees, (size_t)n, by_id)) != XGBMODEL_OK)
		goto out;
	for (size_t i = 0; i < (size_t)n && st == XGBMODEL_OK; i++) {
		if (info[i] < 0 || info[i] >= ld->groups)
			st =
			    say(ld, XGBMODEL_MALFORMED, "tree_info[%zu] is not an output group", i);
		else
			st = add_tree(ld, f, i, by_id[i], info[i]);
	}
out:
	free(by_id);
	free(info);
	return st;
}

/* Dart's tree weights ("weight_drop"), one per tree. */
static enum xgbmodel_status read_weights(struct loader *ld, const struct jdoc_value *gb,
					 struct forest *f)
{
	const struct jdoc_value *w = jdoc_get(ld->d, gb, "weight_drop");
	size_t n = forest_trees(f);
	float *v = malloc((n ? n : 1) * sizeof *v);
	enum xgbmodel_status st = XGBMODEL_OK;

	if (v == NULL || jdoc_floats(ld->d, w, v, n) != 0 || forest_weights(f, v, n) != 0)
		st = say(ld, XGBMODEL_MALFORMED, "\"weight_drop\" must be %zu numbers", n);
	free(v);
	return st;
}

/* The booster's trees (gbtree, or the gbtree inside dart) into a forest. */
static enum xgbmodel_status read_booster(struct loader *ld, const struct jdoc_value *gb, int dart,
					 float margin, struct forest **out)
{
	const struct jdoc_value *model =
	    jdoc_get(ld->d, dart ? jdoc_get(ld->d, gb, "gbtree") : gb, "model");
	enum forest_transform t = ld->obj != NULL ? ld->obj->transform : FOREST_IDENTITY;
	enum xgbmodel_status st;
	struct forest *f;
	float *base;
	char why[160];

	if ((base = malloc((size_t)ld->groups * sizeof *base)) == NULL)
		return say(ld, XGBMODEL_MALFORMED, "out of memory");
	for (int g = 0; g < ld->groups; g++)
		base[g] = margin;
	f = forest_new(ld->features, ld->groups, base, t);
	free(base);
	if (f == NULL)
		return say(ld, XGBMODEL_MALFORMED, "out of memory");
	st = read_trees(ld, model, f);
	if (st == XGBMODEL_OK && dart)
		st = read_weights(ld, gb, f);
	if (st == XGBMODEL_OK && forest_finish(f, why, sizeof why) != 0)
		st = say(ld, XGBMODEL_MALFORMED, "%s", why);
	if (st != XGBMODEL_OK) {
		forest_free(f);
		return st;
	}
	*out = f;
	return XGBMODEL_OK;
}

/* Validates the whole file first, so that what is handed to libxgboost has
 * sound trees too; then says whether the forest reproduces it. */
static enum xgbmodel_status read_model(struct loader *ld, struct forest **out,
				       struct xgbmodel_info *info)
{
	const struct jdoc_value *learner = jdoc_get(ld->d, jdoc_root(ld->d), "learner");
	const struct jdoc_value *gb = jdoc_get(ld->d, learner, "gradient_booster");
	const struct jdoc_value *name = jdoc_get(ld->d, gb, "name");
	enum xgbmodel_status version, params, st;
	char later[200] = "";
	float margin = 0.0f;
	int dart = jdoc_is(ld->d, name, "dart");

	if (jdoc_type(learner) != JDOC_OBJECT || jdoc_str(ld->d, name, NULL) == NULL)
		return say(ld, XGBMODEL_MALFORMED, "no learner.gradient_booster.name");
	if (!dart && !jdoc_is(ld->d, name, "gbtree"))
		return say(ld, XGBMODEL_UNSUPPORTED, "booster %s", jdoc_str(ld->d, name, NULL));
	if ((version = check_version(ld, info)) == XGBMODEL_MALFORMED)
		return version;
	if (version == XGBMODEL_UNSUPPORTED)
		snprintf(later, sizeof later, "%s", ld->why);
	params = read_params(ld, learner, info);
	if (params == XGBMODEL_MALFORMED)
		return params;
	if (params == XGBMODEL_UNSUPPORTED && later[0] == '\0')
		snprintf(later, sizeof later, "%s", ld->why);
	if (params == XGBMODEL_OK && (st = base_margin(ld, &margin)) != XGBMODEL_OK)
		return st;
	if ((st = read_booster(ld, gb, dart, margin, out)) != XGBMODEL_OK)
		return st;
	if (later[0] == '\0')
		return XGBMODEL_OK;
	forest_free(*out);
	*out = NULL;
	return say(ld, XGBMODEL_UNSUPPORTED, "%s", later);
}

enum xgbmodel_status xgbmodel_load(const void *buf, size_t len, struct forest **out,
				   struct xgbmodel_info *info, char *why, size_t why_size)
{
	struct loader ld = {.why = why, .why_size = why_size};
	struct xgbmodel_info scratch;
	char reason[200];
	enum xgbmodel_status st;
	struct jdoc *d;

	*out = NULL;
	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof *info);
	if (why_size > 0)
		why[0] = '\0';
	if (!jdoc_sniff(buf, len))
		return say(&ld, XGBMODEL_UNSUPPORTED,
			   "not JSON or UBJSON (a legacy binary model?)");
	d = jdoc_parse(buf, len, reason, sizeof reason);
	if (d == NULL)
		return say(&ld, XGBMODEL_MALFORMED, "not valid JSON or UBJSON: %s", reason);
	ld.d = d;
	st = read_model(&ld, out, info);
	jdoc_free(d);
	return st;
}
