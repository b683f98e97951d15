/*
 * workspace.c: the in-memory workspace, one growable array per resource kind,
 * and DESIGN.md's safe-rollout rules.
 *
 * Status choices (beyond workspace.h):
 *  - a traffic or mirrorTraffic entry naming a deployment the endpoint does not
 *    have is 400 ValidationError (the body is wrong, like Azure's BadRequest);
 *    a deployment naming a missing model, environment or endpoint is 404 NotFound;
 *  - traffic and rule breaches are 400, deleting something in use is 409 Conflict;
 *  - a model version in use keeps its type, artifact and sha256 (409 otherwise);
 *    an environment version in use keeps its kind.
 * Limits: instances 1-64, maxConcurrentRequestsPerInstance 1-1024, requestTimeout
 * 1-600000 ms. A new deployment gets no traffic entry (0 %) unless all_traffic.
 */
#include "state/workspace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "state/batch.h"
#include "state/names.h"

#define INSTANCES_MAX 64
#define CONCURRENT_MAX 1024
#define TIMEOUT_MS_MAX 600000
#define MIRROR_MAX 50
#define OPS_MAX 256 /* operation records kept; the oldest finished ones go first */

struct workspace {
	char name[RESOURCE_NAME_MAX + 1];
	struct model_version *models;
	size_t nmodels;
	struct env_version *envs;
	size_t nenvs;
	struct endpoint *endpoints;
	size_t nendpoints;
	struct deployment *deployments;
	size_t ndeployments;
	struct batch_set *batch; /* batch.c: batch endpoints, data, jobs, schedules */
	struct code_version *codes;
	size_t ncodes;
	struct data_version *data;
	size_t ndata;
	struct kv *archived; /* archived containers: key = kind ("models"), value = name */
	size_t narchived;
	struct operation *ops; /* oldest first, at most OPS_MAX */
	size_t nops;
	uint64_t next_serial; /* the last asset version's registration serial */
	struct workspace_ref *changes; /* since the last workspace_changes_clear */
	size_t nchanges;
	int changes_lost; /* a reference could not be recorded (ENOMEM) */
};

struct workspace *workspace_new(const char *name)
{
	struct workspace *ws = calloc(1, sizeof *ws);

	if (ws == NULL)
		return NULL;
	snprintf(ws->name, sizeof ws->name, "%s", name != NULL ? name : "local");
	ws->batch = batch_set_new();
	if (ws->batch == NULL) {
		free(ws);
		return NULL;
	}
	return ws;
}

void workspace_free(struct workspace *ws)
{
	if (ws == NULL)
		return;
	for (size_t i = 0; i < ws->nmodels; i++)
		model_version_cleanup(&ws->models[i]);
	for (size_t i = 0; i < ws->nenvs; i++)
		env_version_cleanup(&ws->envs[i]);
	for (size_t i = 0; i < ws->nendpoints; i++)
		endpoint_cleanup(&ws->endpoints[i]);
	for (size_t i = 0; i < ws->ndeployments; i++)
		deployment_cleanup(&ws->deployments[i]);
	for (size_t i = 0; i < ws->ncodes; i++)
		code_version_cleanup(&ws->codes[i]);
	for (size_t i = 0; i < ws->ndata; i++)
		data_version_cleanup(&ws->data[i]);
	for (size_t i = 0; i < ws->narchived; i++) {
		free(ws->archived[i].key);
		free(ws->archived[i].value);
	}
	for (size_t i = 0; i < ws->nops; i++)
		free(ws->ops[i].error);
	free(ws->models);
	free(ws->envs);
	free(ws->endpoints);
	free(ws->deployments);
	batch_set_free(ws->batch);
	free(ws->codes);
	free(ws->data);
	free(ws->archived);
	free(ws->ops);
	workspace_changes_clear(ws);
	free(ws);
}

/* Grows *arr (of elements of size sz) by one zeroed slot; NULL on ENOMEM. */
static void *grow(void **arr, size_t *n, size_t sz)
{
	char *p = realloc(*arr, (*n + 1) * sz);

	if (p == NULL)
		return NULL;
	*arr = p;
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

/* Removes element i of an array of size *n. */
static void drop(void *arr, size_t *n, size_t sz, size_t i)
{
	char *p = arr;

	memmove(p + i * sz, p + (i + 1) * sz, (*n - i - 1) * sz);
	(*n)--;
}

static int kv_copy(struct kv *dst, const struct kv *src)
{
	dst->key = strdup(src->key);
	dst->value = strdup(src->value);
	if (dst->key != NULL && dst->value != NULL)
		return 0;
	free(dst->key);
	free(dst->value);
	return -1;
}

static int operation_copy(struct operation *dst, const struct operation *src)
{
	*dst = *src;
	dst->error = src->error != NULL ? strdup(src->error) : NULL;
	return src->error != NULL && dst->error == NULL ? -1 : 0;
}

/* A new array of pointers to the n elements of arr (size sz), sorted by cmp. */
static size_t pointer_list(const void *arr, size_t n, size_t sz,
			   int (*cmp)(const void *, const void *), const void ***out)
{
	const void **p;

	*out = NULL;
	if (n == 0)
		return 0;
	p = malloc(n * sizeof *p);
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		p[i] = (const char *)arr + i * sz;
	if (cmp != NULL)
		qsort(p, n, sizeof *p, cmp);
	*out = p;
	return n;
}

/* Records that the resource (kind, a, b) was created, changed or removed. */
static void touch(struct workspace *ws, const char *kind, const char *a, const char *b)
{
	struct workspace_ref *r = grow((void **)&ws->changes, &ws->nchanges, sizeof *r);

	if (r == NULL) {
		ws->changes_lost = 1;
		return;
	}
	r->kind = kind;
	r->a = strdup(a);
	r->b = strdup(b != NULL ? b : "");
	if (r->a == NULL || r->b == NULL) {
		free(r->a);
		free(r->b);
		ws->nchanges--;
		ws->changes_lost = 1;
	}
}

void workspace_touch(struct workspace *ws, const char *kind, const char *a, const char *b)
{
	touch(ws, kind, a, b);
}

struct batch_set *workspace_batch(const struct workspace *ws)
{
	return ws->batch;
}

size_t workspace_changes(const struct workspace *ws, const struct workspace_ref **out)
{
	*out = ws->changes;
	return ws->nchanges;
}

int workspace_changes_lost(const struct workspace *ws)
{
	return ws->changes_lost;
}

void workspace_changes_clear(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nchanges; i++) {
		free(ws->changes[i].a);
		free(ws->changes[i].b);
	}
	free(ws->changes);
	ws->changes = NULL;
	ws->nchanges = 0;
	ws->changes_lost = 0;
}

void workspace_touch_all(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nmodels; i++)
		touch(ws, WORKSPACE_MODELS, ws->models[i].name, ws->models[i].version);
	for (size_t i = 0; i < ws->nenvs; i++)
		touch(ws, WORKSPACE_ENVIRONMENTS, ws->envs[i].name, ws->envs[i].version);
	for (size_t i = 0; i < ws->nendpoints; i++)
		touch(ws, WORKSPACE_ENDPOINTS, ws->endpoints[i].name, NULL);
	for (size_t i = 0; i < ws->ndeployments; i++)
		touch(ws, WORKSPACE_DEPLOYMENTS, ws->deployments[i].endpoint,
		      ws->deployments[i].name);
	batch_touch_all(ws);
	for (size_t i = 0; i < ws->ncodes; i++)
		touch(ws, WORKSPACE_CODES, ws->codes[i].name, ws->codes[i].version);
	for (size_t i = 0; i < ws->ndata; i++)
		touch(ws, WORKSPACE_DATA, ws->data[i].name, ws->data[i].version);
	for (size_t i = 0; i < ws->narchived; i++)
		touch(ws, WORKSPACE_CONTAINERS, ws->archived[i].key, ws->archived[i].value);
	for (size_t i = 0; i < ws->nops; i++)
		touch(ws, WORKSPACE_OPERATIONS, ws->ops[i].id, NULL);
}

/* Copies n elements with copy() into a fresh array; the count copied goes in *done. */
#define CLONE_ARRAY(dst, ndst, src, nsrc, copyfn)                                                  \
	do {                                                                                       \
		(dst) = calloc((nsrc) + 1, sizeof *(dst));                                         \
		if ((dst) == NULL)                                                                 \
			goto fail;                                                                 \
		for (size_t i_ = 0; i_ < (nsrc); i_++, (ndst)++)                                   \
			if (copyfn(&(dst)[i_], &(src)[i_]) < 0)                                    \
				goto fail;                                                         \
	} while (0)

struct workspace *workspace_clone(const struct workspace *ws)
{
	struct workspace *c = workspace_new(ws->name);

	if (c == NULL)
		return NULL;
	CLONE_ARRAY(c->models, c->nmodels, ws->models, ws->nmodels, model_version_copy);
	CLONE_ARRAY(c->envs, c->nenvs, ws->envs, ws->nenvs, env_version_copy);
	CLONE_ARRAY(c->endpoints, c->nendpoints, ws->endpoints, ws->nendpoints, endpoint_copy);
	CLONE_ARRAY(c->deployments, c->ndeployments, ws->deployments, ws->ndeployments,
		    deployment_copy);
	batch_set_free(c->batch);
	c->batch = batch_set_clone(ws->batch);
	if (c->batch == NULL)
		goto fail;
	CLONE_ARRAY(c->codes, c->ncodes, ws->codes, ws->ncodes, code_version_copy);
	CLONE_ARRAY(c->data, c->ndata, ws->data, ws->ndata, data_version_copy);
	CLONE_ARRAY(c->archived, c->narchived, ws->archived, ws->narchived, kv_copy);
	CLONE_ARRAY(c->ops, c->nops, ws->ops, ws->nops, operation_copy);
	c->next_serial = ws->next_serial;
	return c;
fail: /* a failed copy cleaned itself and was not counted */
	workspace_free(c);
	return NULL;
}

const char *workspace_name(const struct workspace *ws)
{
	return ws->name;
}

/* ---- asset versions: one machinery for models, environments, code, data ----
 *
 * The version structs begin with the same two fields (name, version);
 * an asset_kind says where the rest lives, so ordering, "latest", queries and
 * archiving are written once. */

struct asset_kind {
	size_t size;        /* sizeof the version struct */
	size_t archived;    /* offsetof its int archived */
	size_t created;     /* offsetof its int64_t created */
	size_t serial;      /* offsetof its uint64_t serial */
	const char *what;   /* for messages */
};

#define ASSET_KIND(type, what)                                                                     \
	{                                                                                          \
		sizeof(struct type), offsetof(struct type, archived),                              \
		    offsetof(struct type, created), offsetof(struct type, serial), what            \
	}
static const struct asset_kind model_kind = ASSET_KIND(model_version, "model");
static const struct asset_kind env_kind = ASSET_KIND(env_version, "environment");
static const struct asset_kind code_kind = ASSET_KIND(code_version, "code");
static const struct asset_kind data_kind = ASSET_KIND(data_version, "data asset");

static const char *asset_name(const void *a)
{
	return ((const struct model_version *)a)->name; /* the common prefix */
}

static const char *asset_version(const void *a)
{
	return ((const struct model_version *)a)->version;
}

static int asset_archived(const struct asset_kind *k, const void *a)
{
	return *(const int *)(const void *)((const char *)a + k->archived);
}

static int64_t asset_created(const struct asset_kind *k, const void *a)
{
	return *(const int64_t *)(const void *)((const char *)a + k->created);
}

static uint64_t asset_serial(const struct asset_kind *k, const void *a)
{
	return *(const uint64_t *)(const void *)((const char *)a + k->serial);
}

static const void *asset_at(const struct asset_kind *k, const void *arr, size_t i)
{
	return (const char *)arr + i * k->size;
}

/* A version's value as a positive integer; 0 when it is not one. */
static unsigned long long version_num(const char *v)
{
	unsigned long long n = 0;

	if (v[0] < '1' || v[0] > '9')
		return 0;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || n > (~0ULL - 9) / 10)
			return 0;
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	return n;
}

/* Versions of one name in their natural order: integers by value, before
 * other strings, which compare as strings. */
static int version_cmp(const char *a, const char *b)
{
	unsigned long long x = version_num(a), y = version_num(b);

	if (x != 0 && y != 0)
		return x < y ? -1 : x > y;
	if (x != 0 || y != 0)
		return x != 0 ? -1 : 1;
	return strcmp(a, b);
}

/* Creation order: time, then the order of registration (times are whole
 * seconds), then the natural version order. */
static int created_cmp(const struct asset_kind *k, const void *a, const void *b)
{
	int64_t ta = asset_created(k, a), tb = asset_created(k, b);
	uint64_t sa = asset_serial(k, a), sb = asset_serial(k, b);

	if (ta != tb)
		return ta < tb ? -1 : 1;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return version_cmp(asset_version(a), asset_version(b));
}

static ssize_t asset_index(const struct asset_kind *k, const void *arr, size_t n,
			   const char *name, const char *version)
{
	ssize_t best = -1;

	for (size_t i = 0; i < n; i++) {
		const void *a = asset_at(k, arr, i);

		if (strcmp(asset_name(a), name) != 0)
			continue;
		if (version != NULL && strcmp(asset_version(a), version) == 0)
			return (ssize_t)i;
		if (version == NULL &&
		    (best < 0 || created_cmp(k, a, asset_at(k, arr, (size_t)best)) > 0))
			best = (ssize_t)i;
	}
	return best >= 0 && version == NULL ? best : -1;
}

static void asset_next_version(const struct asset_kind *k, const void *arr, size_t n,
			       const char *name, char *buf, size_t len)
{
	unsigned long long max = 0;

	for (size_t i = 0; i < n; i++) {
		const void *a = asset_at(k, arr, i);

		if (strcmp(asset_name(a), name) == 0 && version_num(asset_version(a)) > max)
			max = version_num(asset_version(a));
	}
	snprintf(buf, len, "%llu", max + 1);
}

int workspace_query_parse(const char *order_by, const char *top, const char *view,
			  struct asset_query *q, struct error *err)
{
	char *end;
	long n;

	memset(q, 0, sizeof *q);
	if (order_by != NULL && order_by[0] != '\0') {
		if (strcasecmp(order_by, "createdtime desc") == 0)
			q->order = ORDER_CREATED_DESC;
		else if (strcasecmp(order_by, "createdtime asc") == 0 ||
			 strcasecmp(order_by, "createdtime") == 0)
			q->order = ORDER_CREATED_ASC;
		else
			return error_set(err, 400, "ValidationError",
					 "$orderBy must be 'createdtime desc' or 'createdtime "
					 "asc'");
	}
	if (top != NULL) {
		n = strtol(top, &end, 10);
		if (end == top || *end != '\0' || n < 1 || n > 100000)
			return error_set(err, 400, "ValidationError",
					 "$top must be an integer 1-100000");
		q->top = (size_t)n;
	}
	if (view == NULL || strcasecmp(view, "ActiveOnly") == 0)
		q->view = VIEW_ACTIVE;
	else if (strcasecmp(view, "ArchivedOnly") == 0)
		q->view = VIEW_ARCHIVED;
	else if (strcasecmp(view, "All") == 0)
		q->view = VIEW_ALL;
	else
		return error_set(err, 400, "ValidationError",
				 "listViewType must be ActiveOnly, ArchivedOnly or All");
	return 0;
}

static int view_keeps(enum list_view v, int archived)
{
	return v == VIEW_ALL || (v == VIEW_ARCHIVED) == (archived != 0);
}

/* qsort has no context argument: each kind gets its comparators. */
#define ORDERINGS(kind)                                                                            \
	static int kind##_by_name(const void *x, const void *y)                                   \
	{                                                                                          \
		const void *a = *(const void *const *)x, *b = *(const void *const *)y;             \
		int c = strcmp(asset_name(a), asset_name(b));                                      \
		return c != 0 ? c : version_cmp(asset_version(a), asset_version(b));               \
	}                                                                                          \
	static int kind##_newest(const void *x, const void *y)                                    \
	{                                                                                          \
		return created_cmp(&kind##_kind, *(const void *const *)y,                          \
				   *(const void *const *)x);                                       \
	}                                                                                          \
	static int kind##_oldest(const void *x, const void *y)                                    \
	{                                                                                          \
		return created_cmp(&kind##_kind, *(const void *const *)x,                          \
				   *(const void *const *)y);                                       \
	}
ORDERINGS(model)
ORDERINGS(env)
ORDERINGS(code)
ORDERINGS(data)

struct orderings {
	int (*by_name)(const void *, const void *);
	int (*newest)(const void *, const void *);
	int (*oldest)(const void *, const void *);
};

/* The versions of NAME (all names when NULL) that q selects, in q's order;
 * *out is a new array of borrowed pointers (NULL when empty). */
static size_t asset_select(const struct asset_kind *k, const struct orderings *o, const void *arr,
			   size_t n, const char *name, const struct asset_query *q,
			   const void ***out)
{
	const void **p;
	size_t m = 0;

	*out = NULL;
	if (n == 0 || (p = malloc(n * sizeof *p)) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const void *a = asset_at(k, arr, i);

		if ((name == NULL || strcmp(asset_name(a), name) == 0) &&
		    (q == NULL || view_keeps(q->view, asset_archived(k, a))))
			p[m++] = a;
	}
	qsort(p, m, sizeof *p,
	      q == NULL || q->order == ORDER_NAME ? o->by_name
	      : q->order == ORDER_CREATED_DESC    ? o->newest
						  : o->oldest);
	if (q != NULL && q->top > 0 && m > q->top)
		m = q->top;
	if (m == 0) {
		free(p);
		return 0;
	}
	*out = p;
	return m;
}

static const struct orderings model_order = {model_by_name, model_newest, model_oldest};
static const struct orderings env_order = {env_by_name, env_newest, env_oldest};
static const struct orderings code_order = {code_by_name, code_newest, code_oldest};
static const struct orderings data_order = {data_by_name, data_newest, data_oldest};

/* ---- containers: the per-name archive flag ---- */

static ssize_t archived_index(const struct workspace *ws, const char *kind, const char *name)
{
	for (size_t i = 0; i < ws->narchived; i++)
		if (strcmp(ws->archived[i].key, kind) == 0 && strcmp(ws->archived[i].value, name) == 0)
			return (ssize_t)i;
	return -1;
}

int workspace_container_archived(const struct workspace *ws, const char *kind, const char *name)
{
	return archived_index(ws, kind, name) >= 0;
}

int workspace_container_set_archived(struct workspace *ws, const char *kind, const char *name,
				     int archived, struct error *err)
{
	ssize_t i = archived_index(ws, kind, name);
	struct kv *slot;

	if (!archived && i >= 0) {
		touch(ws, WORKSPACE_CONTAINERS, kind, name);
		free(ws->archived[i].key);
		free(ws->archived[i].value);
		drop(ws->archived, &ws->narchived, sizeof *ws->archived, (size_t)i);
	}
	if (!archived || i >= 0)
		return 0;
	slot = grow((void **)&ws->archived, &ws->narchived, sizeof *slot);
	if (slot == NULL || (slot->key = strdup(kind)) == NULL ||
	    (slot->value = strdup(name)) == NULL) {
		if (slot != NULL) {
			free(slot->key);
			ws->narchived--;
		}
		return error_set(err, 500, "InternalError", "out of memory");
	}
	touch(ws, WORKSPACE_CONTAINERS, kind, name);
	return 0;
}

/* After the last version of NAME goes, so does its container's flag. */
static void container_forget(struct workspace *ws, const char *kind, const char *name)
{
	workspace_container_set_archived(ws, kind, name, 0, NULL);
}

size_t workspace_container_count(const struct workspace *ws)
{
	return ws->narchived;
}

const struct kv *workspace_container_at(const struct workspace *ws, size_t i)
{
	return i < ws->narchived ? &ws->archived[i] : NULL;
}

/* ---- usage checks shared by models, environments and code ---- */

static const struct deployment *model_user(const struct workspace *ws, const char *name,
					   const char *version)
{
	for (size_t i = 0; i < ws->ndeployments; i++) {
		const struct deployment *d = &ws->deployments[i];

		if (strcmp(d->model_name, name) == 0 &&
		    (version == NULL || strcmp(d->model_version, version) == 0))
			return d;
	}
	return NULL;
}

static const struct deployment *env_user(const struct workspace *ws, const char *name,
					 const char *version)
{
	for (size_t i = 0; i < ws->ndeployments; i++) {
		const struct deployment *d = &ws->deployments[i];

		if (strcmp(d->env_name, name) == 0 &&
		    (version == NULL || strcmp(d->env_version, version) == 0))
			return d;
	}
	return NULL;
}

static const struct deployment *code_user(const struct workspace *ws, const char *name,
					  const char *version)
{
	for (size_t i = 0; i < ws->ndeployments; i++) {
		const struct deployment *d = &ws->deployments[i];

		if (strcmp(d->code_name, name) == 0 &&
		    (version == NULL || strcmp(d->code_version, version) == 0))
			return d;
	}
	return NULL;
}

static int in_use(const struct deployment *d, const char *what, const char *name,
		  const char *version, struct error *err)
{
	return error_set(err, 409, "Conflict",
			 "%s %s:%s is used by deployment '%s' of endpoint '%s'; delete or "
			 "update that deployment first",
			 what, name, version, d->name, d->endpoint);
}

/* 409 when a batch deployment uses the version of an asset (kind
 * WORKSPACE_MODELS, _ENVIRONMENTS or _CODES; version NULL: any version). */
static int batch_in_use(const struct workspace *ws, const char *kind, const char *name,
			const char *version, struct error *err)
{
	const char *ep, *d;
	const char *what = strcmp(kind, WORKSPACE_MODELS) == 0	     ? "model"
			   : strcmp(kind, WORKSPACE_ENVIRONMENTS) == 0 ? "environment"
								       : "code";

	if (!batch_asset_user(ws, kind, name, version, &ep, &d))
		return 0;
	return error_set(err, 409, "Conflict",
			 "%s %s%s%s is used by deployment '%s' of batch endpoint '%s'; delete or "
			 "update that deployment first",
			 what, name, version ? ":" : "", version ? version : "", d, ep);
}

static int same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A version's registration serial: kept when it has one (an update, or a
 * load that carries it), else the next of the workspace. */
static uint64_t serial_of(struct workspace *ws, uint64_t old, uint64_t given)
{
	uint64_t s = old != 0 ? old : given != 0 ? given : ws->next_serial + 1;

	if (s > ws->next_serial)
		ws->next_serial = s;
	return s;
}

/* Name and version of a new version: the name checked, the version filled
 * with the next integer when empty, then checked. */
static int asset_ids_check(const struct asset_kind *k, const void *arr, size_t n, char *name,
			   char *version, size_t vlen, struct error *err)
{
	char field[48];

	snprintf(field, sizeof field, "%s name", k->what);
	if (names_check_asset(name, field, err) < 0)
		return -1;
	if (version[0] == '\0')
		asset_next_version(k, arr, n, name, version, vlen);
	snprintf(field, sizeof field, "%s version", k->what);
	return names_check_version(version, field, err);
}

/* ---- models ---- */

void workspace_model_next_version(const struct workspace *ws, const char *name, char *buf,
				  size_t len)
{
	asset_next_version(&model_kind, ws->models, ws->nmodels, name, buf, len);
}

static int model_check(const struct workspace *ws, const struct model_version *mv, ssize_t old,
		       struct error *err)
{
	const struct model_version *o;
	const struct deployment *d;

	if ((unsigned)mv->type > MODEL_MLFLOW)
		return error_set(err, 400, "ValidationError", "properties.modelType is invalid");
	if (old < 0)
		return 0;
	o = &ws->models[old];
	d = model_user(ws, mv->name, mv->version);
	if (d != NULL && (o->type != mv->type || !same_str(o->artifact, mv->artifact) ||
			  strcmp(o->sha256, mv->sha256) != 0))
		return error_set(err, 409, "Conflict",
				 "model %s:%s is used by deployment '%s' of endpoint '%s'; its "
				 "type and artifact cannot change",
				 mv->name, mv->version, d->name, d->endpoint);
	if ((o->type != mv->type || !same_str(o->artifact, mv->artifact) ||
	     strcmp(o->sha256, mv->sha256) != 0) &&
	    batch_in_use(ws, WORKSPACE_MODELS, mv->name, mv->version, err) < 0)
		return -1;
	return 0;
}

int workspace_model_put(struct workspace *ws, struct model_version *mv, int *created,
			struct error *err)
{
	struct model_version copy, *slot;
	ssize_t old;

	if (asset_ids_check(&model_kind, ws->models, ws->nmodels, mv->name, mv->version,
			    sizeof mv->version, err) < 0)
		return -1;
	old = asset_index(&model_kind, ws->models, ws->nmodels, mv->name, mv->version);
	if (model_check(ws, mv, old, err) < 0)
		return -1;
	if (model_version_copy(&copy, mv) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	copy.serial = serial_of(ws, old >= 0 ? ws->models[old].serial : 0, mv->serial);
	if (old >= 0) {
		copy.created = ws->models[old].created ? ws->models[old].created : mv->created;
		model_version_cleanup(&ws->models[old]);
		ws->models[old] = copy;
	} else {
		slot = grow((void **)&ws->models, &ws->nmodels, sizeof *slot);
		if (slot == NULL) {
			model_version_cleanup(&copy);
			return error_set(err, 500, "InternalError", "out of memory");
		}
		*slot = copy;
	}
	touch(ws, WORKSPACE_MODELS, mv->name, mv->version);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct model_version *workspace_model_find(const struct workspace *ws, const char *name,
						 const char *version)
{
	ssize_t i = asset_index(&model_kind, ws->models, ws->nmodels, name, version);

	return i < 0 ? NULL : &ws->models[i];
}

size_t workspace_model_list(const struct workspace *ws, const struct model_version ***out)
{
	return asset_select(&model_kind, &model_order, ws->models, ws->nmodels, NULL, NULL,
			    (const void ***)out);
}

size_t workspace_model_query(const struct workspace *ws, const char *name,
			     const struct asset_query *q, const struct model_version ***out)
{
	return asset_select(&model_kind, &model_order, ws->models, ws->nmodels, name, q,
			    (const void ***)out);
}

size_t workspace_model_count(const struct workspace *ws)
{
	return ws->nmodels;
}

int workspace_model_delete(struct workspace *ws, const char *name, const char *version,
			   struct error *err)
{
	ssize_t i = asset_index(&model_kind, ws->models, ws->nmodels, name,
				version != NULL ? version : "");
	const struct deployment *d;

	if (i < 0)
		return error_set(err, 404, "NotFound", "model %s:%s not found", name,
				 version != NULL ? version : "");
	d = model_user(ws, name, version);
	if (d != NULL)
		return in_use(d, "model", name, version, err);
	if (batch_in_use(ws, WORKSPACE_MODELS, name, version, err) < 0)
		return -1;
	touch(ws, WORKSPACE_MODELS, name, version);
	model_version_cleanup(&ws->models[i]);
	drop(ws->models, &ws->nmodels, sizeof *ws->models, (size_t)i);
	if (workspace_model_find(ws, name, NULL) == NULL)
		container_forget(ws, "models", name);
	return 0;
}

int workspace_model_delete_all(struct workspace *ws, const char *name, struct error *err)
{
	const struct deployment *d = model_user(ws, name, NULL);

	if (workspace_model_find(ws, name, NULL) == NULL)
		return error_set(err, 404, "NotFound", "model %s not found", name);
	if (d != NULL)
		return in_use(d, "model", name, d->model_version, err);
	if (batch_in_use(ws, WORKSPACE_MODELS, name, NULL, err) < 0)
		return -1;
	for (size_t i = ws->nmodels; i-- > 0;) {
		if (strcmp(ws->models[i].name, name) != 0)
			continue;
		touch(ws, WORKSPACE_MODELS, name, ws->models[i].version);
		model_version_cleanup(&ws->models[i]);
		drop(ws->models, &ws->nmodels, sizeof *ws->models, i);
	}
	container_forget(ws, "models", name);
	return 0;
}

/* ---- environments ---- */

void workspace_env_next_version(const struct workspace *ws, const char *name, char *buf, size_t len)
{
	asset_next_version(&env_kind, ws->envs, ws->nenvs, name, buf, len);
}

static int env_check(const struct workspace *ws, const struct env_version *ev, ssize_t old,
		     struct error *err)
{
	const struct deployment *d;

	if ((unsigned)ev->kind > ENV_PYTHON)
		return error_set(err, 400, "ValidationError",
				 "properties.environmentKind must be native or python");
	if (ev->kind == ENV_PYTHON && ev->python != NULL && ev->python[0] != '/')
		return error_set(err, 400, "ValidationError",
				 "properties.interpreterPath must be an absolute path");
	if (ev->kind == ENV_PYTHON && ev->python == NULL && ev->image == NULL &&
	    ev->conda_file == NULL)
		return error_set(err, 400, "ValidationError",
				 "a python environment needs properties.interpreterPath, "
				 "properties.image or properties.condaFile");
	for (size_t i = 0; i < ev->nmodules; i++)
		if (ev->modules[i] == NULL || ev->modules[i][0] == '\0')
			return error_set(err, 400, "ValidationError",
					 "properties.requiredModules[%zu] must be a non-empty "
					 "string",
					 i);
	if (old < 0)
		return 0;
	d = env_user(ws, ev->name, ev->version);
	if (d != NULL && ws->envs[old].kind != ev->kind)
		return error_set(err, 409, "Conflict",
				 "environment %s:%s is used by deployment '%s' of endpoint '%s'; "
				 "its kind cannot change",
				 ev->name, ev->version, d->name, d->endpoint);
	if (ws->envs[old].kind != ev->kind &&
	    batch_in_use(ws, WORKSPACE_ENVIRONMENTS, ev->name, ev->version, err) < 0)
		return -1;
	return 0;
}

int workspace_env_put(struct workspace *ws, struct env_version *ev, int *created, struct error *err)
{
	struct env_version copy, *slot;
	ssize_t old;

	if (asset_ids_check(&env_kind, ws->envs, ws->nenvs, ev->name, ev->version,
			    sizeof ev->version, err) < 0)
		return -1;
	old = asset_index(&env_kind, ws->envs, ws->nenvs, ev->name, ev->version);
	if (env_check(ws, ev, old, err) < 0)
		return -1;
	if (env_version_copy(&copy, ev) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	copy.serial = serial_of(ws, old >= 0 ? ws->envs[old].serial : 0, ev->serial);
	if (old >= 0) {
		copy.created = ws->envs[old].created ? ws->envs[old].created : ev->created;
		env_version_cleanup(&ws->envs[old]);
		ws->envs[old] = copy;
	} else {
		slot = grow((void **)&ws->envs, &ws->nenvs, sizeof *slot);
		if (slot == NULL) {
			env_version_cleanup(&copy);
			return error_set(err, 500, "InternalError", "out of memory");
		}
		*slot = copy;
	}
	touch(ws, WORKSPACE_ENVIRONMENTS, ev->name, ev->version);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct env_version *workspace_env_find(const struct workspace *ws, const char *name,
					     const char *version)
{
	ssize_t i = asset_index(&env_kind, ws->envs, ws->nenvs, name, version);

	return i < 0 ? NULL : &ws->envs[i];
}

size_t workspace_env_list(const struct workspace *ws, const struct env_version ***out)
{
	return asset_select(&env_kind, &env_order, ws->envs, ws->nenvs, NULL, NULL,
			    (const void ***)out);
}

size_t workspace_env_query(const struct workspace *ws, const char *name,
			   const struct asset_query *q, const struct env_version ***out)
{
	return asset_select(&env_kind, &env_order, ws->envs, ws->nenvs, name, q,
			    (const void ***)out);
}

int workspace_env_delete(struct workspace *ws, const char *name, const char *version,
			 struct error *err)
{
	ssize_t i = asset_index(&env_kind, ws->envs, ws->nenvs, name, version != NULL ? version : "");
	const struct deployment *d;

	if (i < 0)
		return error_set(err, 404, "NotFound", "environment %s:%s not found", name,
				 version != NULL ? version : "");
	d = env_user(ws, name, version);
	if (d != NULL)
		return in_use(d, "environment", name, version, err);
	if (batch_in_use(ws, WORKSPACE_ENVIRONMENTS, name, version, err) < 0)
		return -1;
	touch(ws, WORKSPACE_ENVIRONMENTS, name, version);
	env_version_cleanup(&ws->envs[i]);
	drop(ws->envs, &ws->nenvs, sizeof *ws->envs, (size_t)i);
	if (workspace_env_find(ws, name, NULL) == NULL)
		container_forget(ws, "environments", name);
	return 0;
}

int workspace_env_delete_all(struct workspace *ws, const char *name, struct error *err)
{
	const struct deployment *d = env_user(ws, name, NULL);

	if (workspace_env_find(ws, name, NULL) == NULL)
		return error_set(err, 404, "NotFound", "environment %s not found", name);
	if (d != NULL)
		return in_use(d, "environment", name, d->env_version, err);
	if (batch_in_use(ws, WORKSPACE_ENVIRONMENTS, name, NULL, err) < 0)
		return -1;
	for (size_t i = ws->nenvs; i-- > 0;) {
		if (strcmp(ws->envs[i].name, name) != 0)
			continue;
		touch(ws, WORKSPACE_ENVIRONMENTS, name, ws->envs[i].version);
		env_version_cleanup(&ws->envs[i]);
		drop(ws->envs, &ws->nenvs, sizeof *ws->envs, i);
	}
	container_forget(ws, "environments", name);
	return 0;
}

/* ---- code ---- */

int workspace_code_put(struct workspace *ws, struct code_version *cv, int *created,
		       struct error *err)
{
	struct code_version copy, *slot;
	const struct deployment *d;
	ssize_t old;

	if (asset_ids_check(&code_kind, ws->codes, ws->ncodes, cv->name, cv->version,
			    sizeof cv->version, err) < 0)
		return -1;
	if (cv->dir == NULL || cv->dir[0] == '\0' || cv->dir[0] == '/')
		return error_set(err, 400, "ValidationError",
				 "properties.codeUri must name a directory of the workspace's "
				 "storage");
	old = asset_index(&code_kind, ws->codes, ws->ncodes, cv->name, cv->version);
	d = old >= 0 ? code_user(ws, cv->name, cv->version) : NULL;
	if (d != NULL && strcmp(ws->codes[old].dir, cv->dir) != 0)
		return error_set(err, 409, "Conflict",
				 "code %s:%s is used by deployment '%s' of endpoint '%s'; its "
				 "codeUri cannot change",
				 cv->name, cv->version, d->name, d->endpoint);
	if (old >= 0 && strcmp(ws->codes[old].dir, cv->dir) != 0 &&
	    batch_in_use(ws, WORKSPACE_CODES, cv->name, cv->version, err) < 0)
		return -1;
	if (code_version_copy(&copy, cv) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	copy.serial = serial_of(ws, old >= 0 ? ws->codes[old].serial : 0, cv->serial);
	if (old >= 0) {
		copy.created = ws->codes[old].created ? ws->codes[old].created : cv->created;
		code_version_cleanup(&ws->codes[old]);
		ws->codes[old] = copy;
	} else if ((slot = grow((void **)&ws->codes, &ws->ncodes, sizeof *slot)) != NULL) {
		*slot = copy;
	} else {
		code_version_cleanup(&copy);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	touch(ws, WORKSPACE_CODES, cv->name, cv->version);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct code_version *workspace_code_find(const struct workspace *ws, const char *name,
					       const char *version)
{
	ssize_t i = asset_index(&code_kind, ws->codes, ws->ncodes, name, version);

	return i < 0 ? NULL : &ws->codes[i];
}

size_t workspace_code_query(const struct workspace *ws, const char *name,
			    const struct asset_query *q, const struct code_version ***out)
{
	return asset_select(&code_kind, &code_order, ws->codes, ws->ncodes, name, q,
			    (const void ***)out);
}

int workspace_code_delete(struct workspace *ws, const char *name, const char *version,
			  struct error *err)
{
	const struct deployment *d;

	for (size_t i = ws->ncodes; i-- > 0;) {
		if (strcmp(ws->codes[i].name, name) != 0 ||
		    (version != NULL && strcmp(ws->codes[i].version, version) != 0))
			continue;
		if ((d = code_user(ws, name, ws->codes[i].version)) != NULL)
			return in_use(d, "code", name, d->code_version, err);
		if (batch_in_use(ws, WORKSPACE_CODES, name, ws->codes[i].version, err) < 0)
			return -1;
	}
	if (workspace_code_find(ws, name, version) == NULL)
		return error_set(err, 404, "NotFound", "code %s%s%s not found", name,
				 version != NULL ? ":" : "", version != NULL ? version : "");
	for (size_t i = ws->ncodes; i-- > 0;) {
		if (strcmp(ws->codes[i].name, name) != 0 ||
		    (version != NULL && strcmp(ws->codes[i].version, version) != 0))
			continue;
		touch(ws, WORKSPACE_CODES, name, ws->codes[i].version);
		code_version_cleanup(&ws->codes[i]);
		drop(ws->codes, &ws->ncodes, sizeof *ws->codes, i);
	}
	if (workspace_code_find(ws, name, NULL) == NULL)
		container_forget(ws, "codes", name);
	return 0;
}

/* ---- data ---- */

int workspace_data_put(struct workspace *ws, struct data_version *dv, int *created,
		       struct error *err)
{
	struct data_version copy, *slot;
	ssize_t old;

	if (asset_ids_check(&data_kind, ws->data, ws->ndata, dv->name, dv->version,
			    sizeof dv->version, err) < 0)
		return -1;
	if ((unsigned)dv->type > DATA_URI_FOLDER)
		return error_set(err, 400, "ValidationError",
				 "properties.dataType must be uri_file or uri_folder");
	if (dv->uri == NULL || dv->uri[0] == '\0')
		return error_set(err, 400, "ValidationError", "properties.dataUri is required");
	old = asset_index(&data_kind, ws->data, ws->ndata, dv->name, dv->version);
	if (data_version_copy(&copy, dv) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	copy.serial = serial_of(ws, old >= 0 ? ws->data[old].serial : 0, dv->serial);
	if (old >= 0) {
		copy.created = ws->data[old].created ? ws->data[old].created : dv->created;
		data_version_cleanup(&ws->data[old]);
		ws->data[old] = copy;
	} else if ((slot = grow((void **)&ws->data, &ws->ndata, sizeof *slot)) != NULL) {
		*slot = copy;
	} else {
		data_version_cleanup(&copy);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	touch(ws, WORKSPACE_DATA, dv->name, dv->version);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct data_version *workspace_data_find(const struct workspace *ws, const char *name,
					       const char *version)
{
	ssize_t i = asset_index(&data_kind, ws->data, ws->ndata, name, version);

	return i < 0 ? NULL : &ws->data[i];
}

size_t workspace_data_query(const struct workspace *ws, const char *name,
			    const struct asset_query *q, const struct data_version ***out)
{
	return asset_select(&data_kind, &data_order, ws->data, ws->ndata, name, q,
			    (const void ***)out);
}

int workspace_data_delete(struct workspace *ws, const char *name, const char *version,
			  struct error *err)
{
	if (workspace_data_find(ws, name, version) == NULL)
		return error_set(err, 404, "NotFound", "data asset %s%s%s not found", name,
				 version != NULL ? ":" : "", version != NULL ? version : "");
	for (size_t i = ws->ndata; i-- > 0;) {
		if (strcmp(ws->data[i].name, name) != 0 ||
		    (version != NULL && strcmp(ws->data[i].version, version) != 0))
			continue;
		touch(ws, WORKSPACE_DATA, name, ws->data[i].version);
		data_version_cleanup(&ws->data[i]);
		drop(ws->data, &ws->ndata, sizeof *ws->data, i);
	}
	if (workspace_data_find(ws, name, NULL) == NULL)
		container_forget(ws, WORKSPACE_DATA, name);
	return 0;
}

/* ---- traffic rules ---- */

static ssize_t deployment_index(const struct workspace *ws, const char *ep, const char *name)
{
	for (size_t i = 0; i < ws->ndeployments; i++)
		if (strcmp(ws->deployments[i].endpoint, ep) == 0 &&
		    strcmp(ws->deployments[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Each entry: a deployment of EP, an integer within 0..max. */
static int traffic_entries_check(const struct workspace *ws, const char *ep,
				 const struct traffic *t, const char *field, int max,
				 struct error *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct share *s = &t->items[i];

		if (s->pct < 0 || s->pct > max)
			return error_set(err, 400, "ValidationError",
					 "%s.%s must be an integer 0-%d (got %d)", field, s->name,
					 max, s->pct);
		if (deployment_index(ws, ep, s->name) < 0)
			return error_set(err, 400, "ValidationError",
					 "%s.%s: endpoint '%s' has no deployment '%s'", field,
					 s->name, ep, s->name);
	}
	return 0;
}

static int mirror_check(const struct traffic *live, const struct traffic *mirror, struct error *err)
{
	const char *target = NULL;

	for (size_t i = 0; i < mirror->n; i++) {
		const struct share *s = &mirror->items[i];

		if (s->pct == 0)
			continue;
		if (target != NULL)
			return error_set(err, 400, "ValidationError",
					 "properties.mirrorTraffic may send to at most one "
					 "deployment (got '%s' and '%s')",
					 target, s->name);
		target = s->name;
		if (traffic_get(live, s->name) > 0)
			return error_set(err, 400, "ValidationError",
					 "properties.mirrorTraffic.%s: deployment '%s' has %d%% "
					 "live traffic; mirror traffic cannot go to a deployment "
					 "with live traffic",
					 s->name, s->name, traffic_get(live, s->name));
	}
	return 0;
}

static int traffic_rules_check(const struct workspace *ws, const char *ep,
			       const struct traffic *live, const struct traffic *mirror,
			       struct error *err)
{
	int sum;

	if (traffic_entries_check(ws, ep, live, "properties.traffic", 100, err) < 0 ||
	    traffic_entries_check(ws, ep, mirror, "properties.mirrorTraffic", MIRROR_MAX, err) < 0)
		return -1;
	sum = traffic_sum(live);
	if (sum != 0 && sum != 100)
		return error_set(err, 400, "ValidationError",
				 "properties.traffic must sum to 100 or be all 0 (sum is %d)", sum);
	return mirror_check(live, mirror, err);
}

/* ---- endpoints ---- */

static ssize_t endpoint_index(const struct workspace *ws, const char *name)
{
	for (size_t i = 0; i < ws->nendpoints; i++)
		if (strcmp(ws->endpoints[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int endpoint_update(struct endpoint *cur, const struct endpoint *ep, struct error *err)
{
	struct endpoint next;

	if (endpoint_copy(&next, ep) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	memcpy(next.primary_key, cur->primary_key, sizeof next.primary_key);
	memcpy(next.secondary_key, cur->secondary_key, sizeof next.secondary_key);
	memcpy(next.uid, cur->uid, sizeof next.uid);
	/* a change of auth mode revokes the tokens issued before it (issue 7 item 6) */
	next.key_generation = cur->key_generation + (next.auth != cur->auth);
	next.state = cur->state;
	next.created = cur->created;
	endpoint_cleanup(cur);
	*cur = next;
	return 0;
}

int workspace_endpoint_put(struct workspace *ws, const struct endpoint *ep, int *created,
			   struct error *err)
{
	ssize_t old;
	struct endpoint *slot;

	if (names_check(ep->name, "endpoint name", err) < 0)
		return -1;
	if ((unsigned)ep->auth > AUTH_AMLTOKEN)
		return error_set(err, 400, "ValidationError",
				 "properties.authMode must be Key or AMLToken");
	if (traffic_rules_check(ws, ep->name, &ep->traffic, &ep->mirror, err) < 0)
		return -1;
	old = endpoint_index(ws, ep->name);
	if (created != NULL)
		*created = old < 0;
	if (old >= 0) {
		if (endpoint_update(&ws->endpoints[old], ep, err) < 0)
			return -1;
		touch(ws, WORKSPACE_ENDPOINTS, ep->name, NULL);
		return 0;
	}
	slot = grow((void **)&ws->endpoints, &ws->nendpoints, sizeof *slot);
	if (slot == NULL || endpoint_copy(slot, ep) < 0) {
		if (slot != NULL)
			ws->nendpoints--;
		return error_set(err, 500, "InternalError", "out of memory");
	}
	slot->state = PROV_SUCCEEDED; /* local endpoints are ready at once */
	touch(ws, WORKSPACE_ENDPOINTS, ep->name, NULL);
	return 0;
}

const struct endpoint *workspace_endpoint_find(const struct workspace *ws, const char *name)
{
	ssize_t i = endpoint_index(ws, name);

	return i < 0 ? NULL : &ws->endpoints[i];
}

static int endpoint_cmp(const void *x, const void *y)
{
	const struct endpoint *a = *(const struct endpoint *const *)x;
	const struct endpoint *b = *(const struct endpoint *const *)y;

	return strcmp(a->name, b->name);
}

size_t workspace_endpoint_list(const struct workspace *ws, const struct endpoint ***out)
{
	return pointer_list(ws->endpoints, ws->nendpoints, sizeof *ws->endpoints, endpoint_cmp,
			    (const void ***)out);
}

int workspace_endpoint_set_traffic(struct workspace *ws, const char *name,
				   const struct traffic *traffic, const struct traffic *mirror,
				   struct error *err)
{
	ssize_t i = endpoint_index(ws, name);
	struct traffic t, m;
	struct endpoint *ep;

	if (i < 0)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", name);
	ep = &ws->endpoints[i];
	if (traffic_rules_check(ws, name, traffic ? traffic : &ep->traffic,
				mirror ? mirror : &ep->mirror, err) < 0)
		return -1;
	if (traffic_copy(&t, traffic ? traffic : &ep->traffic) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	if (traffic_copy(&m, mirror ? mirror : &ep->mirror) < 0) {
		traffic_clear(&t);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	traffic_clear(&ep->traffic);
	traffic_clear(&ep->mirror);
	ep->traffic = t;
	ep->mirror = m;
	touch(ws, WORKSPACE_ENDPOINTS, name, NULL);
	return 0;
}

int workspace_endpoint_set_keys(struct workspace *ws, const char *name, const char *primary,
				const char *secondary, struct error *err)
{
	ssize_t i = endpoint_index(ws, name);
	struct endpoint *ep;

	if (i < 0)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", name);
	if ((primary && strlen(primary) > RESOURCE_KEY_LEN) ||
	    (secondary && strlen(secondary) > RESOURCE_KEY_LEN))
		return error_set(err, 400, "ValidationError", "key longer than %d characters",
				 RESOURCE_KEY_LEN);
	ep = &ws->endpoints[i];
	if (primary != NULL)
		snprintf(ep->primary_key, sizeof ep->primary_key, "%s", primary);
	if (secondary != NULL)
		snprintf(ep->secondary_key, sizeof ep->secondary_key, "%s", secondary);
	ep->key_generation++;
	touch(ws, WORKSPACE_ENDPOINTS, name, NULL);
	return 0;
}

int workspace_endpoint_delete(struct workspace *ws, const char *name, struct error *err)
{
	ssize_t i = endpoint_index(ws, name);

	if (i < 0)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", name);
	for (size_t j = ws->ndeployments; j-- > 0;) {
		if (strcmp(ws->deployments[j].endpoint, name) != 0)
			continue;
		touch(ws, WORKSPACE_DEPLOYMENTS, name, ws->deployments[j].name);
		deployment_cleanup(&ws->deployments[j]);
		drop(ws->deployments, &ws->ndeployments, sizeof *ws->deployments, j);
	}
	touch(ws, WORKSPACE_ENDPOINTS, name, NULL);
	endpoint_cleanup(&ws->endpoints[i]);
	drop(ws->endpoints, &ws->nendpoints, sizeof *ws->endpoints, (size_t)i);
	return 0;
}

/* ---- deployments ---- */

static int deployment_limits_check(const struct deployment *d, struct error *err)
{
	if (d->instances < 1 || d->instances > INSTANCES_MAX)
		return error_set(err, 400, "ValidationError",
				 "sku.capacity (instance count) must be 1-%d (got %d)",
				 INSTANCES_MAX, d->instances);
	if (d->max_concurrent < 1 || d->max_concurrent > CONCURRENT_MAX)
		return error_set(err, 400, "ValidationError",
				 "properties.requestSettings.maxConcurrentRequestsPerInstance "
				 "must be 1-%d (got %d)",
				 CONCURRENT_MAX, d->max_concurrent);
	if (d->timeout_ms < 1 || d->timeout_ms > TIMEOUT_MS_MAX)
		return error_set(err, 400, "ValidationError",
				 "properties.requestSettings.requestTimeout must be 1-%d ms (got "
				 "%d)",
				 TIMEOUT_MS_MAX, d->timeout_ms);
	return 0;
}

int workspace_code_ref_check(const struct workspace *ws, const char *name, const char *version,
			     const char *dir, const char *script, struct error *err)
{
	if (name[0] != '\0' && workspace_code_find(ws, name, version) == NULL)
		return error_set(err, 404, "NotFound",
				 "properties.codeConfiguration.codeId: code %s:%s not found", name,
				 version);
	if (name[0] == '\0' && (dir == NULL || dir[0] != '/'))
		return error_set(err, 400, "ValidationError",
				 "properties.codeConfiguration.codeId must be a code asset "
				 "(.../codes/NAME/versions/V) or an absolute directory");
	if (script == NULL || !names_relative_inside(script))
		return error_set(err, 400, "ValidationError",
				 "properties.codeConfiguration.scoringScript must be a path "
				 "inside the code");
	return 0;
}

static int has_code(const struct deployment *d)
{
	return d->code_name[0] != '\0' || d->code_dir != NULL || d->scoring_script != NULL;
}

/* An MLflow model deploys without a script when a flavor we serve is there. */
static int mlflow_check(const struct model_version *m, struct error *err)
{
	cJSON *f = m->flavors != NULL ? cJSON_Parse(m->flavors) : NULL;
	int ok = cJSON_GetObjectItemCaseSensitive(f, "xgboost") != NULL ||
		 cJSON_GetObjectItemCaseSensitive(f, "sklearn") != NULL;

	cJSON_Delete(f);
	if (ok)
		return 0;
	return error_set(err, 400, "ValidationError",
			 "properties.model: mlflow_model %s:%s has neither an xgboost nor a "
			 "sklearn flavor, the two served without a scoring script; give a "
			 "codeConfiguration with a scoring script",
			 m->name, m->version);
}

/* What the model type asks of the environment and code. */
static int deployment_kind_check(const struct workspace *ws, const struct deployment *d,
				 const struct model_version *m, const struct env_version *e,
				 struct error *err)
{
	int scripted = m->type == MODEL_CUSTOM || (m->type == MODEL_MLFLOW && has_code(d));

	if (e == NULL && m->type != MODEL_MLFLOW)
		return error_set(err, 400, "ValidationError",
				 "properties.environmentId is required (NAME:VERSION)");
	if (!scripted)
		return m->type == MODEL_MLFLOW ? mlflow_check(m, err) : 0;
	if (e != NULL && e->kind != ENV_PYTHON)
		return error_set(err, 400, "ValidationError",
				 "properties.environmentId: model %s:%s runs a scoring script and "
				 "needs a python environment; %s:%s is native",
				 m->name, m->version, e->name, e->version);
	return workspace_code_ref_check(ws, d->code_name, d->code_version, d->code_dir,
					d->scoring_script, err);
}

static int deployment_check(const struct workspace *ws, const struct deployment *d,
			    struct error *err)
{
	const struct model_version *m;
	const struct env_version *e = NULL;

	if (names_check(d->endpoint, "endpoint name", err) < 0 ||
	    names_check(d->name, "deployment name", err) < 0)
		return -1;
	if (endpoint_index(ws, d->endpoint) < 0)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", d->endpoint);
	if (d->model_name[0] == '\0' || d->model_version[0] == '\0')
		return error_set(err, 400, "ValidationError",
				 "properties.model is required (NAME:VERSION)");
	m = workspace_model_find(ws, d->model_name, d->model_version);
	if (m == NULL)
		return error_set(err, 404, "NotFound", "properties.model: model %s:%s not found",
				 d->model_name, d->model_version);
	if (d->env_name[0] != '\0' &&
	    (e = workspace_env_find(ws, d->env_name, d->env_version)) == NULL)
		return error_set(err, 404, "NotFound",
				 "properties.environmentId: environment %s:%s not found",
				 d->env_name, d->env_version);
	if (deployment_limits_check(d, err) < 0)
		return -1;
	return deployment_kind_check(ws, d, m, e, err);
}

/* Gives NAME all live traffic of EP and the others 0. */
static int take_all_traffic(struct endpoint *ep, const char *name)
{
	for (size_t i = 0; i < ep->traffic.n; i++)
		ep->traffic.items[i].pct = 0;
	traffic_remove(&ep->mirror, name);
	return traffic_set(&ep->traffic, name, 100);
}

/* The state a change leaves: a new engine is Updating, a capacity change
 * Scaling, an identical spec keeps the state it had (deployment_needs_reload),
 * except that a Failed deployment PUT again is retried (Updating). */
static enum prov_state update_state(const struct deployment *o, const struct deployment *n)
{
	if (deployment_needs_reload(o, n) || o->state == PROV_FAILED)
		return PROV_UPDATING;
	if (deployment_needs_rescale(o, n))
		return PROV_SCALING;
	return o->state;
}

int workspace_deployment_put(struct workspace *ws, const struct deployment *d, int all_traffic,
			     int *created, struct error *err)
{
	struct deployment copy, *slot;
	struct endpoint *ep;
	ssize_t old;

	if (deployment_check(ws, d, err) < 0)
		return -1;
	ep = &ws->endpoints[endpoint_index(ws, d->endpoint)];
	if (deployment_copy(&copy, d) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	free(copy.error);
	copy.error = NULL;
	old = deployment_index(ws, d->endpoint, d->name);
	if (old >= 0) {
		copy.state = update_state(&ws->deployments[old], d);
		copy.created = ws->deployments[old].created;
		if (copy.state == ws->deployments[old].state &&
		    ws->deployments[old].error != NULL)
			copy.error = strdup(ws->deployments[old].error);
		deployment_cleanup(&ws->deployments[old]);
		ws->deployments[old] = copy;
	} else {
		slot = grow((void **)&ws->deployments, &ws->ndeployments, sizeof *slot);
		if (slot == NULL) {
			deployment_cleanup(&copy);
			return error_set(err, 500, "InternalError", "out of memory");
		}
		copy.state = PROV_CREATING;
		*slot = copy;
	}
	touch(ws, WORKSPACE_DEPLOYMENTS, d->endpoint, d->name);
	if (all_traffic) {
		touch(ws, WORKSPACE_ENDPOINTS, d->endpoint, NULL);
		if (take_all_traffic(ep, d->name) < 0)
			return error_set(err, 500, "InternalError", "out of memory");
	}
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct deployment *workspace_deployment_find(const struct workspace *ws, const char *ep,
						   const char *name)
{
	ssize_t i = deployment_index(ws, ep, name);

	return i < 0 ? NULL : &ws->deployments[i];
}

static int deployment_cmp(const void *x, const void *y)
{
	const struct deployment *a = *(const struct deployment *const *)x;
	const struct deployment *b = *(const struct deployment *const *)y;
	int c = strcmp(a->endpoint, b->endpoint);

	return c != 0 ? c : strcmp(a->name, b->name);
}

size_t workspace_deployment_list(const struct workspace *ws, const char *ep,
				 const struct deployment ***out)
{
	const struct deployment **p;
	size_t n = 0;

	*out = NULL;
	if (ws->ndeployments == 0)
		return 0;
	p = malloc(ws->ndeployments * sizeof *p);
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < ws->ndeployments; i++)
		if (ep == NULL || strcmp(ws->deployments[i].endpoint, ep) == 0)
			p[n++] = &ws->deployments[i];
	if (n == 0) {
		free(p);
		return 0;
	}
	qsort(p, n, sizeof *p, deployment_cmp);
	*out = p;
	return n;
}

int workspace_deployment_set_state(struct workspace *ws, const char *ep, const char *name,
				   enum prov_state state, const char *error)
{
	ssize_t i = deployment_index(ws, ep, name);
	char *e = NULL;

	if (i < 0)
		return -1;
	if (error != NULL && (e = strdup(error)) == NULL)
		return -1;
	free(ws->deployments[i].error);
	ws->deployments[i].error = e;
	ws->deployments[i].state = state;
	touch(ws, WORKSPACE_DEPLOYMENTS, ep, name);
	return 0;
}

int workspace_deployment_delete(struct workspace *ws, const char *ep, const char *name,
				struct error *err)
{
	ssize_t i = deployment_index(ws, ep, name);
	struct endpoint *e;
	int live, mirror;

	if (i < 0)
		return error_set(err, 404, "NotFound", "deployment '%s' of endpoint '%s' not found",
				 name, ep);
	e = &ws->endpoints[endpoint_index(ws, ep)];
	live = traffic_get(&e->traffic, name);
	mirror = traffic_get(&e->mirror, name);
	if (live > 0 || mirror > 0)
		return error_set(err, 409, "Conflict",
				 "deployment '%s' has %d%% %s traffic; set it to 0 before deleting",
				 name, live > 0 ? live : mirror, live > 0 ? "live" : "mirror");
	traffic_remove(&e->traffic, name);
	traffic_remove(&e->mirror, name);
	touch(ws, WORKSPACE_ENDPOINTS, ep, NULL);
	touch(ws, WORKSPACE_DEPLOYMENTS, ep, name);
	deployment_cleanup(&ws->deployments[i]);
	drop(ws->deployments, &ws->ndeployments, sizeof *ws->deployments, (size_t)i);
	return 0;
}

/* ---- long-running operations ---- */

static ssize_t op_index(const struct workspace *ws, const char *id)
{
	for (size_t i = 0; i < ws->nops; i++)
		if (strcmp(ws->ops[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

/* Makes room under OPS_MAX: the oldest finished record goes (the oldest of
 * all when every one still runs). */
static void ops_trim(struct workspace *ws)
{
	size_t victim = 0;

	if (ws->nops < OPS_MAX)
		return;
	for (size_t i = 0; i < ws->nops; i++) {
		if (ws->ops[i].status != OP_RUNNING) {
			victim = i;
			break;
		}
	}
	touch(ws, WORKSPACE_OPERATIONS, ws->ops[victim].id, NULL);
	free(ws->ops[victim].error);
	drop(ws->ops, &ws->nops, sizeof *ws->ops, victim);
}

int workspace_op_add(struct workspace *ws, const struct operation *op, struct error *err)
{
	struct operation *slot;

	if (op_index(ws, op->id) >= 0)
		return error_set(err, 409, "Conflict", "operation %s exists", op->id);
	ops_trim(ws);
	slot = grow((void **)&ws->ops, &ws->nops, sizeof *slot);
	if (slot == NULL || operation_copy(slot, op) < 0) {
		if (slot != NULL)
			ws->nops--;
		return error_set(err, 500, "InternalError", "out of memory");
	}
	touch(ws, WORKSPACE_OPERATIONS, op->id, NULL);
	return 0;
}

const struct operation *workspace_op_find(const struct workspace *ws, const char *id)
{
	ssize_t i = op_index(ws, id);

	return i < 0 ? NULL : &ws->ops[i];
}

size_t workspace_op_count(const struct workspace *ws)
{
	return ws->nops;
}

const struct operation *workspace_op_at(const struct workspace *ws, size_t i)
{
	return i < ws->nops ? &ws->ops[i] : NULL;
}

int workspace_op_settle(struct workspace *ws, const char *ep, const char *deployment,
			enum op_status status, const char *error, int64_t now)
{
	int n = 0;

	for (size_t i = 0; i < ws->nops; i++) {
		struct operation *o = &ws->ops[i];
		char *e = NULL;

		if (o->status != OP_RUNNING || strcmp(o->endpoint, ep) != 0 ||
		    (deployment != NULL && strcmp(o->deployment, deployment) != 0))
			continue;
		if (error != NULL && (e = strdup(error)) == NULL)
			return -1;
		free(o->error);
		o->error = e;
		o->status = status;
		o->end = now;
		touch(ws, WORKSPACE_OPERATIONS, o->id, NULL);
		n++;
	}
	return n;
}
