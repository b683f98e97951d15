/* forest.c: breadth-first flattened trees, walked a fixed number of steps. */
#include "runtime/engines/forest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT_CAT UINT32_MAX /* fcat.n of a numerical split or a leaf */

#define LANES 8		    /* trees (one row) or rows (one tree) walked at once */
#define TREE_CHUNK 64	    /* leaves gathered before they are summed in order */
#define ROW_BLOCK 64	    /* rows that go through one tree before the next */
#define FEW_ROWS 4	    /* below this, walk trees (not rows) side by side */
#define SCRATCH 8192	    /* floats of stack scratch per call */
#define MAX_CAT 16777216.0f /* XGBoost: categories are below 2^24 */

/* Rows are held twice, side by side (2 x (features + 1) floats): the low
 * copy with NaN as -inf, then the high copy with NaN as +inf; slot `features`
 * of the low copy holds -inf. A split reads its feature from the low copy when
 * missing values go left, else from the high copy, so one comparison sends
 * NaN to the default side and every other value where XGBoost sends it.
 * (Only a default-left split at -inf or NaN could not tell a missing value
 * from -inf: a forest with one, or with categorical splits, or a leaf of -inf
 * or NaN, keeps raw values in both copies and takes the general step.)
 *
 * Nodes are split into arrays: the hot 8 bytes (slot read, right child),
 * the threshold, and the categories. A split goes right (to `right`) unless
 * x[slot] < thr, then left (to right - 1). A leaf reads the -inf slot, holds
 * its value as its threshold and its own index + 1 as `right`, so any number
 * of further steps stays on it: a walk takes as many steps as its tree is
 * deep, with no branch on the data. */
struct fnode {
	uint32_t x;	/* the slot of the row this split reads */
	uint32_t right; /* right child; the left one is right - 1 */
};

/* A categorical split's categories: n at forest.cats + at (n = NOT_CAT: none). */
struct fcat {
	uint32_t at;
	uint32_t n;
};

struct forest {
	int features, groups;
	enum forest_transform transform;
	float *base; /* groups */
	struct fnode *nodes;
	float *thr;	  /* per node: threshold, or a leaf's value */
	struct fcat *cat; /* per node */
	size_t nnodes, capnodes;
	uint32_t *root, *depth, *group; /* per tree */
	size_t ntrees, captrees;
	uint32_t *lane_depth; /* per LANES trees: the deepest */
	float *weight;	      /* dart: per tree, or NULL */
	uint32_t *cats;	      /* each categorical split's categories, sorted */
	size_t ncats, capcats;
	int has_cat;
	int general; /* categorical, or a default-left split at -inf/NaN: step_any */
	int maxdepth;
};

/* ---- build -------------------------------------------------------------- */

struct forest *forest_new(int features, int groups, const float *base, enum forest_transform t)
{
	struct forest *f;

	if (features < 1 || features >= FOREST_MAX_FEATURES || groups < 1 ||
	    groups > FOREST_MAX_GROUPS)
		return NULL;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return NULL;
	f->features = features;
	f->groups = groups;
	f->transform = t;
	f->base = malloc((size_t)groups * sizeof *f->base);
	if (f->base == NULL) {
		free(f);
		return NULL;
	}
	memcpy(f->base, base, (size_t)groups * sizeof *f->base);
	return f;
}

void forest_free(struct forest *f)
{
	if (f == NULL)
		return;
	free(f->base);
	free(f->nodes);
	free(f->thr);
	free(f->cat);
	free(f->root);
	free(f->depth);
	free(f->group);
	free(f->lane_depth);
	free(f->weight);
	free(f->cats);
	free(f);
}

/* Grows *p (of *cap items of `size` bytes) to hold `need` items. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n * size)) == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Checks node o's split (a tree of n nodes) before the walk follows it. */
static int check_split(const struct forest *f, const struct forest_tree *t, size_t o, char *why,
		       size_t size)
{
	int64_t l = t->left[o], r = t->right[o];

	if (l < 0 || (uint64_t)l + 1 >= t->n)
		return bad(why, size, "node %zu: left child %lld out of range", o, (long long)l);
	if (r != l + 1)
		return bad(why, size, "node %zu: right child %lld does not follow the left one", o,
			   (long long)r);
	if (t->feature[o] < 0 || t->feature[o] >= f->features)
		return bad(why, size, "node %zu: feature %lld out of range", o,
			   (long long)t->feature[o]);
	return 0;
}

/* Walks the tree breadth first from the root: order[k] is the original id of
 * the k-th node, level[k] its depth. Returns the nodes reached, or 0. */
static size_t bfs(const struct forest *f, const struct forest_tree *t, size_t *order,
		  uint32_t *level, char *why, size_t size)
{
	unsigned char *seen = calloc(t->n, 1);
	size_t head = 0, tail = 1;

	if (seen == NULL)
		return bad(why, size, "out of memory for a tree of %zu nodes", t->n), 0;
	order[0] = 0;
	level[0] = 0;
	seen[0] = 1;
	for (; head < tail; head++) {
		size_t o = order[head], l;

		if (t->left[o] == -1)
			continue;
		if (check_split(f, t, o, why, size) != 0)
			break;
		l = (size_t)t->left[o];
		if (seen[l] || seen[l + 1]) {
			bad(why, size, "node %zu: child %lld is reached twice", o, (long long)l);
			break;
		}
		seen[l] = seen[l + 1] = 1;
		order[tail] = l;
		order[tail + 1] = l + 1;
		level[tail] = level[tail + 1] = level[head] + 1;
		tail += 2;
	}
	free(seen);
	return head == tail ? tail : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Copies node o's categories, sorted, into f->cats. */
static int add_categories(struct forest *f, const struct forest_tree *t, size_t o, struct fcat *n,
			  char *why, size_t size)
{
	int64_t start = t->cat_start != NULL ? t->cat_start[o] : 0;
	int64_t count = t->cat_count != NULL ? t->cat_count[o] : 0;
	uint32_t *c;

	if (start < 0 || count < 0 || (uint64_t)start > t->ncats ||
	    (uint64_t)count > t->ncats - (uint64_t)start)
		return bad(why, size, "node %zu: categories %lld out of range", o,
			   (long long)start);
	f->has_cat = f->general = 1;
	n->at = 0;
	n->n = 0;
	if (count == 0) /* no category: always left, as in XGBoost */
		return 0;
	if (grow((void **)&f->cats, &f->capcats, f->ncats + (size_t)count, sizeof *f->cats) != 0)
		return bad(why, size, "out of memory at node %zu", o);
	c = f->cats + f->ncats;
	for (int64_t k = 0; k < count; k++) {
		int64_t v = t->cats[start + k];

		if (v < 0 || v > INT32_MAX)
			return bad(why, size, "node %zu: category %lld out of range", o,
				   (long long)v);
		c[k] = (uint32_t)v;
	}
	qsort(c, (size_t)count, sizeof *c, cmp_u32);
	n->at = (uint32_t)f->ncats;
	n->n = (uint32_t)count;
	f->ncats += (size_t)count;
	return 0;
}

/* Node order[k] of t, written at f->nodes[base + k]; pos maps ids to k. */
static int emit(struct forest *f, const struct forest_tree *t, size_t o, uint32_t base, uint32_t k,
		const uint32_t *pos, char *why, size_t size)
{
	struct fnode *n = &f->nodes[base + k];
	float *thr = &f->thr[base + k];
	int dl = t->default_left[o] != 0;

	f->cat[base + k].n = NOT_CAT;
	*thr = t->value[o];
	if (t->left[o] == -1) {
		n->x = (uint32_t)f->features * LANES;
		n->right = base + k + 1;
		if (!(*thr > -INFINITY)) /* the -inf slot would not keep it in place */
			f->general = 1;
		return 0;
	}
	n->x = ((uint32_t)t->feature[o] + (dl ? 0 : (uint32_t)f->features + 1)) * LANES;
	n->right = base + pos[t->left[o]] + 1;
	if (t->categorical != NULL && t->categorical[o])
		return add_categories(f, t, o, &f->cat[base + k], why, size);
	if (dl && !(*thr > -INFINITY))
		f->general = 1;
	return 0;
}

static int add_nodes(struct forest *f, const struct forest_tree *t, const size_t *order,
		     size_t count, uint32_t *pos, char *why, size_t size)
{
	uint32_t base = (uint32_t)f->nnodes;

	size_t cap = f->capnodes;

	if (grow((void **)&f->thr, &cap, f->nnodes + count, sizeof *f->thr) != 0 ||
	    (cap = f->capnodes,
	     grow((void **)&f->cat, &cap, f->nnodes + count, sizeof *f->cat) != 0) ||
	    grow((void **)&f->nodes, &f->capnodes, f->nnodes + count, sizeof *f->nodes) != 0)
		return bad(why, size, "out of memory for %zu nodes", count);
	for (size_t k = 0; k < count; k++)
		pos[order[k]] = (uint32_t)k;
	for (size_t k = 0; k < count; k++)
		if (emit(f, t, order[k], base, (uint32_t)k, pos, why, size) != 0)
			return -1;
	f->nnodes += count;
	return 0;
}

static int add_tree_record(struct forest *f, int group, uint32_t root, uint32_t depth)
{
	size_t cap = f->captrees;

	if (grow((void **)&f->root, &cap, f->ntrees + 1, sizeof *f->root) != 0)
		return -1;
	cap = f->captrees;
	if (grow((void **)&f->depth, &cap, f->ntrees + 1, sizeof *f->depth) != 0)
		return -1;
	cap = f->captrees;
	if (grow((void **)&f->group, &cap, f->ntrees + 1, sizeof *f->group) != 0)
		return -1;
	f->captrees = cap;
	f->root[f->ntrees] = root;
	f->depth[f->ntrees] = depth;
	f->group[f->ntrees] = (uint32_t)group;
	f->ntrees++;
	if ((int)depth > f->maxdepth)
		f->maxdepth = (int)depth;
	return 0;
}

int forest_add_tree(struct forest *f, int group, const struct forest_tree *t, char *why,
		    size_t why_size)
{
	size_t *order = NULL, count;
	uint32_t *level = NULL, *pos = NULL, depth = 0;
	int rc = -1;

	if (group < 0 || group >= f->groups)
		return bad(why, why_size, "tree of group %d out of range", group);
	if (t->n == 0 || t->n > FOREST_MAX_NODES - f->nnodes)
		return bad(why, why_size, "tree of %zu nodes: too many nodes", t->n);
	order = malloc(t->n * sizeof *order);
	level = malloc(t->n * sizeof *level);
	pos = malloc(t->n * sizeof *pos);
	if (order == NULL || level == NULL || pos == NULL) {
		bad(why, why_size, "out of memory for a tree of %zu nodes", t->n);
		goto out;
	}
	if ((count = bfs(f, t, order, level, why, why_size)) == 0)
		goto out;
	for (size_t k = 0; k < count; k++)
		depth = level[k] > depth ? level[k] : depth;
	if (add_nodes(f, t, order, count, pos, why, why_size) != 0)
		goto out;
	if (add_tree_record(f, group, (uint32_t)(f->nnodes - count), depth) != 0) {
		bad(why, why_size, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(order);
	free(level);
	free(pos);
	return rc;
}

int forest_weights(struct forest *f, const float *weight, size_t n)
{
	if (n != f->ntrees || (f->weight = malloc((n ? n : 1) * sizeof *f->weight)) == NULL)
		return -1;
	memcpy(f->weight, weight, n * sizeof *f->weight);
	return 0;
}

int forest_finish(struct forest *f, char *why, size_t why_size)
{
	size_t lanes = (f->ntrees + LANES - 1) / LANES;

	if (f->ntrees == 0)
		return bad(why, why_size, "no trees");
	f->lane_depth = calloc(lanes, sizeof *f->lane_depth);
	if (f->lane_depth == NULL)
		return bad(why, why_size, "out of memory");
	for (size_t t = 0; t < f->ntrees; t++)
		if (f->depth[t] > f->lane_depth[t / LANES])
			f->lane_depth[t / LANES] = f->depth[t];
	return 0;
}

int forest_features(const struct forest *f)
{
	return f->features;
}

size_t forest_trees(const struct forest *f)
{
	return f->ntrees;
}

int forest_depth(const struct forest *f)
{
	return f->maxdepth;
}

size_t forest_outputs(const struct forest *f, int flags)
{
	if (f->transform == FOREST_ARGMAX && !(flags & FOREST_MARGIN))
		return 1;
	return (size_t)f->groups;
}

/* ---- walking ------------------------------------------------------------ */

/* One step: right unless the value is below the threshold. */
static inline uint32_t step(const struct fnode *nd, const float *thr, uint32_t i, const float *x)
{
	return nd[i].right - (x[nd[i].x] < thr[i]);
}

/* XGBoost's Decision(): right when v names one of the split's categories. */
static int category_right(const struct forest *f, const struct fcat *n, float v)
{
	const uint32_t *c;
	size_t lo = 0, hi = n->n;
	uint32_t want;

	if (!(v >= 0.0f) || v >= MAX_CAT || hi == 0)
		return 0;
	c = f->cats + n->at;
	want = (uint32_t)v;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c[mid] < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n->n && c[lo] == want;
}

/* One step of any kind, on raw values (NaN kept). */
static uint32_t step_any(const struct forest *f, uint32_t i, const float *x)
{
	const struct fnode *n = f->nodes + i;
	uint32_t F = (uint32_t)f->features * LANES;
	float v;

	if (n->x == F)
		return i; /* a leaf */
	v = x[n->x];
	if (isnan(v))
		return n->right - (n->x < F); /* the low copy: missing goes left */
	if (f->cat[i].n != NOT_CAT)
		return n->right - 1 + (uint32_t)category_right(f, &f->cat[i], v);
	return n->right - (v < f->thr[i]);
}

/* The leaf tree t reaches for row x. */
static uint32_t walk(const struct forest *f, size_t t, const float *x)
{
	uint32_t i = f->root[t], d = f->depth[t];

	if (f->general)
		while (d-- > 0)
			i = step_any(f, i, x);
	else
		while (d-- > 0)
			i = step(f->nodes, f->thr, i, x);
	return i;
}

/* LANES walks of d steps interleaved: walk k from node i[k] over the row at
 * lane k of a block (spread 1), or all over lane 0 (spread 0: one row). */
static inline __attribute__((always_inline)) void walk_lanes(const struct fnode *nd,
							     const float *thr, uint32_t *i,
							     const float *x, uint32_t d, int spread)
{
	uint32_t v[LANES];

#pragma GCC unroll 8
	for (int k = 0; k < LANES; k++)
		v[k] = i[k];
	for (; d > 0; d--) {
#pragma GCC unroll 8
		for (int k = 0; k < LANES; k++)
			v[k] = step(nd, thr, v[k], x + k * spread);
	}
#pragma GCC unroll 8
	for (int k = 0; k < LANES; k++)
		i[k] = v[k];
}

/* Adds tree t's leaf to its group's sum: plainly, or as XGBoost's
 * Dart::InplacePredict does, ((base + leaf) - base) * weight, in float. */
static inline void add_leaf(const struct forest *f, size_t t, float *sum, float leaf)
{
	float base, p;

	if (f->weight == NULL) {
		*sum += leaf;
		return;
	}
	base = f->base[f->group[t]];
	p = base + leaf;
	*sum += (p - base) * f->weight[t];
}

/* One row (lane 0 of x) through every tree: sums[g] += leaves of group g, in
 * tree order. */
static void row_all_trees(const struct forest *f, const float *x, float *sums)
{
	float leaf[TREE_CHUNK];

	for (size_t t0 = 0; t0 < f->ntrees; t0 += TREE_CHUNK) {
		size_t end = f->ntrees - t0 < TREE_CHUNK ? f->ntrees : t0 + TREE_CHUNK, t = t0;

		for (; !f->general && t + LANES <= end; t += LANES) {
			uint32_t i[LANES];

			memcpy(i, f->root + t, sizeof i);
			walk_lanes(f->nodes, f->thr, i, x, f->lane_depth[t / LANES], 0);
			for (int k = 0; k < LANES; k++)
				leaf[t - t0 + (size_t)k] = f->thr[i[k]];
		}
		for (; t < end; t++)
			leaf[t - t0] = f->thr[walk(f, t, x)];
		if (f->groups == 1 && f->weight == NULL)
			for (t = t0; t < end; t++)
				sums[0] += leaf[t - t0];
		else
			for (t = t0; t < end; t++)
				add_leaf(f, t, &sums[f->group[t]], leaf[t - t0]);
	}
}

/* Tree t for rows 0..nr-1, held LANES to a block of `block` floats (lane k
 * of block b is row b * LANES + k). */
static void tree_all_rows(const struct forest *f, size_t t, const float *x, size_t block, size_t nr,
			  float *sums)
{
	size_t g = f->group[t], G = (size_t)f->groups;
	uint32_t root = f->root[t], depth = f->depth[t];

	for (size_t r = 0; r < nr; r += LANES, x += block) {
		uint32_t i[LANES];
		size_t n = nr - r < LANES ? nr - r : LANES;

		if (f->general) {
			for (size_t k = 0; k < n; k++)
				add_leaf(f, t, &sums[(r + k) * G + g], f->thr[walk(f, t, x + k)]);
			continue;
		}
		for (int k = 0; k < LANES; k++)
			i[k] = root;
		walk_lanes(f->nodes, f->thr, i, x, depth, 1);
		for (size_t k = 0; k < n; k++)
			add_leaf(f, t, &sums[(r + k) * G + g], f->thr[i[k]]);
	}
}

/* ---- transforms (XGBoost's, operation for operation) -------------------- */

/* common::Sigmoid: 1 / (exp(min(-x, 88.7)) + 1 + 1e-16), all float. */
static float xgb_sigmoid(float x)
{
	const float eps = (float)1e-16; /* float constexpr kEps = 1e-16 */
	float m = -x;

	m = 88.7f < m ? 88.7f : m; /* std::min(-x, 88.7f) */
	return 1.0f / (expf(m) + 1.0f + eps);
}

/* common::Softmax: float max, float exps, a double sum cast to float. */
static void xgb_softmax(float *p, size_t n)
{
	float wmax = p[0];
	double wsum = 0.0;
	size_t i;

	for (i = 1; i < n; i++)
		wmax = fmaxf(p[i], wmax);
	for (i = 0; i < n; i++) {
		p[i] = expf(p[i] - wmax);
		wsum += p[i];
	}
	for (i = 0; i < n; i++)
		p[i] /= (float)wsum;
}

/* common::FindMaxIndex: the first largest. */
static float xgb_argmax(const float *p, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (p[i] > p[best])
			best = i;
	return (float)best;
}

/* Margins of nr rows (sums) to their outputs. */
static void finish_rows(const struct forest *f, const float *sums, size_t nr, float *out, int flags)
{
	size_t G = (size_t)f->groups, n = nr * G;

	if (flags & FOREST_MARGIN) {
		memcpy(out, sums, n * sizeof *out);
		return;
	}
	switch (f->transform) {
	case FOREST_SIGMOID:
		for (size_t i = 0; i < n; i++)
			out[i] = xgb_sigmoid(sums[i]);
		break;
	case FOREST_EXP:
		for (size_t i = 0; i < n; i++)
			out[i] = expf(sums[i]);
		break;
	case FOREST_SOFTMAX:
		memcpy(out, sums, n * sizeof *out);
		for (size_t r = 0; r < nr; r++)
			xgb_softmax(out + r * G, G);
		break;
	case FOREST_ARGMAX:
		for (size_t r = 0; r < nr; r++)
			out[r] = xgb_argmax(sums + r * G, G);
		break;
	default:
		memcpy(out, sums, n * sizeof *out);
		break;
	}
}

/* ---- prediction --------------------------------------------------------- */

/* Row x into lane `lane` of a block: its two copies (see struct fnode),
 * slot j at xs[j * LANES + lane]. */
static void load_row(const struct forest *f, const double *x, float *xs, size_t lane)
{
	size_t F = (size_t)f->features;
	float *lo = xs + lane, *hi = xs + (F + 1) * LANES + lane;

	for (size_t j = 0; j < F; j++) {
		float v = (float)x[j];

		lo[j * LANES] = v;
		hi[j * LANES] = v;
		if (isnan(v) && !f->general) {
			lo[j * LANES] = -INFINITY;
			hi[j * LANES] = INFINITY;
		}
	}
	lo[F * LANES] = -INFINITY;
	hi[F * LANES] = -INFINITY;
}

/* Floats a block of LANES rows takes. */
static size_t block_floats(const struct forest *f)
{
	return 2 * ((size_t)f->features + 1) * LANES;
}

/* nr rows with scratch room for them: xs (their blocks), sums (nr x groups).
 * Unused lanes of the last block repeat its last row (walked, not summed). */
static void predict_block(const struct forest *f, const double *x, size_t nr, float *xs,
			  float *sums, float *out, int flags)
{
	size_t B = block_floats(f), G = (size_t)f->groups, F = (size_t)f->features;
	size_t padded = nr < FEW_ROWS ? nr : (nr + LANES - 1) / LANES * LANES;

	for (size_t r = 0; r < padded; r++)
		load_row(f, x + (r < nr ? r : nr - 1) * F, xs + r / LANES * B, r % LANES);
	for (size_t r = 0; r < nr; r++)
		memcpy(sums + r * G, f->base, G * sizeof *sums);
	if (nr < FEW_ROWS) {
		for (size_t r = 0; r < nr; r++)
			row_all_trees(f, xs + r / LANES * B + r % LANES, sums + r * G);
	} else {
		for (size_t t = 0; t < f->ntrees; t++)
			tree_all_rows(f, t, xs, B, nr, sums);
	}
	finish_rows(f, sums, nr, out, flags);
}

int forest_predict(const struct forest *f, const double *x, size_t rows, float *out, int flags)
{
	float stack[SCRATCH], *scratch = stack;
	size_t B = block_floats(f), G = (size_t)f->groups, outputs = forest_outputs(f, flags);
	size_t block = ROW_BLOCK;

	/* as many rows a call as fit the stack, in whole blocks; else one block
	 * on the heap (rows of thousands of features) */
	while (block > LANES && (block / LANES) * B + block * G > SCRATCH)
		block -= LANES;
	if (B + LANES * G > SCRATCH) {
		scratch = malloc((B + LANES * G) * sizeof *scratch);
		if (scratch == NULL)
			return -1;
	}
	for (size_t r = 0; r < rows; r += block) {
		size_t nr = rows - r < block ? rows - r : block;

		predict_block(f, x + r * (size_t)f->features, nr, scratch,
			      scratch + (nr + LANES - 1) / LANES * B, out + r * outputs, flags);
	}
	if (scratch != stack)
		free(scratch);
	return 0;
}
