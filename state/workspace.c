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
#include <sys/types.h>

#include "state/batch.h"
#include "state/names.h"

#define INSTANCES_MAX 64
#define CONCURRENT_MAX 1024
#define TIMEOUT_MS_MAX 600000
#define MIRROR_MAX 50

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
	free(ws->models);
	free(ws->envs);
	free(ws->endpoints);
	free(ws->deployments);
	batch_set_free(ws->batch);
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
	return c;
fail: /* a failed copy cleaned itself and was not counted */
	workspace_free(c);
	return NULL;
}

const char *workspace_name(const struct workspace *ws)
{
	return ws->name;
}

/* Numeric value of a validated version string (0 when not a number). */
static unsigned long long version_num(const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);

	return *end == '\0' ? n : 0;
}

static void next_version(unsigned long long max, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", max + 1);
}

/* ---- usage checks shared by models and environments ---- */

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

static int in_use(const struct deployment *d, const char *what, const char *name,
		  const char *version, struct error *err)
{
	return error_set(err, 409, "Conflict",
			 "%s %s:%s is used by deployment '%s' of endpoint '%s'; delete or "
			 "update that deployment first",
			 what, name, version, d->name, d->endpoint);
}

/* 409 when a batch deployment uses the model (or environment) version;
 * version NULL: any version. */
static int batch_in_use(const struct workspace *ws, int model, const char *name,
			const char *version, struct error *err)
{
	const char *ep, *d;
	int used = model ? batch_model_user(ws, name, version, &ep, &d)
			 : batch_env_user(ws, name, version, &ep, &d);

	if (!used)
		return 0;
	return error_set(err, 409, "Conflict",
			 "%s %s%s%s is used by deployment '%s' of batch endpoint '%s'; delete or "
			 "update that deployment first",
			 model ? "model" : "environment", name, version ? ":" : "",
			 version ? version : "", d, ep);
}

/* ---- models ---- */

static ssize_t model_index(const struct workspace *ws, const char *name, const char *version)
{
	ssize_t best = -1;

	for (size_t i = 0; i < ws->nmodels; i++) {
		if (strcmp(ws->models[i].name, name) != 0)
			continue;
		if (version != NULL && strcmp(ws->models[i].version, version) == 0)
			return (ssize_t)i;
		if (version == NULL && (best < 0 || version_num(ws->models[i].version) >
							version_num(ws->models[best].version)))
			best = (ssize_t)i;
	}
	return version == NULL ? best : -1;
}

void workspace_model_next_version(const struct workspace *ws, const char *name, char *buf,
				  size_t len)
{
	unsigned long long max = 0;

	for (size_t i = 0; i < ws->nmodels; i++)
		if (strcmp(ws->models[i].name, name) == 0 &&
		    version_num(ws->models[i].version) > max)
			max = version_num(ws->models[i].version);
	next_version(max, buf, len);
}

static int same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int model_check(const struct workspace *ws, const struct model_version *mv, ssize_t old,
		       struct error *err)
{
	const struct model_version *o;
	const struct deployment *d;

	if (names_check(mv->name, "model name", err) < 0 ||
	    names_check_version(mv->version, "model version", err) < 0)
		return -1;
	if ((unsigned)mv->type > MODEL_CUSTOM)
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
	    batch_in_use(ws, 1, mv->name, mv->version, err) < 0)
		return -1;
	return 0;
}

int workspace_model_put(struct workspace *ws, struct model_version *mv, int *created,
			struct error *err)
{
	struct model_version copy, *slot;
	ssize_t old;

	if (mv->version[0] == '\0' && names_check(mv->name, "model name", err) == 0)
		workspace_model_next_version(ws, mv->name, mv->version, sizeof mv->version);
	old = model_index(ws, mv->name, mv->version[0] ? mv->version : "");
	if (model_check(ws, mv, old, err) < 0)
		return -1;
	if (model_version_copy(&copy, mv) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
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
	ssize_t i = model_index(ws, name, version);

	return i < 0 ? NULL : &ws->models[i];
}

/* Orders by name, then numeric version. */
static int version_order(const char *na, const char *va, const char *nb, const char *vb)
{
	int c = strcmp(na, nb);
	unsigned long long a, b;

	if (c != 0)
		return c;
	a = version_num(va);
	b = version_num(vb);
	return a < b ? -1 : a > b;
}

static int model_cmp(const void *x, const void *y)
{
	const struct model_version *a = *(const struct model_version *const *)x;
	const struct model_version *b = *(const struct model_version *const *)y;

	return version_order(a->name, a->version, b->name, b->version);
}

static int env_cmp(const void *x, const void *y)
{
	const struct env_version *a = *(const struct env_version *const *)x;
	const struct env_version *b = *(const struct env_version *const *)y;

	return version_order(a->name, a->version, b->name, b->version);
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

size_t workspace_model_list(const struct workspace *ws, const struct model_version ***out)
{
	return pointer_list(ws->models, ws->nmodels, sizeof *ws->models, model_cmp,
			    (const void ***)out);
}

int workspace_model_delete(struct workspace *ws, const char *name, const char *version,
			   struct error *err)
{
	ssize_t i = model_index(ws, name, version != NULL ? version : "");
	const struct deployment *d;

	if (i < 0)
		return error_set(err, 404, "NotFound", "model %s:%s not found", name,
				 version != NULL ? version : "");
	d = model_user(ws, name, version);
	if (d != NULL)
		return in_use(d, "model", name, version, err);
	if (batch_in_use(ws, 1, name, version, err) < 0)
		return -1;
	touch(ws, WORKSPACE_MODELS, name, version);
	model_version_cleanup(&ws->models[i]);
	drop(ws->models, &ws->nmodels, sizeof *ws->models, (size_t)i);
	return 0;
}

int workspace_model_delete_all(struct workspace *ws, const char *name, struct error *err)
{
	const struct deployment *d = model_user(ws, name, NULL);

	if (model_index(ws, name, NULL) < 0)
		return error_set(err, 404, "NotFound", "model %s not found", name);
	if (d != NULL)
		return in_use(d, "model", name, d->model_version, err);
	if (batch_in_use(ws, 1, name, NULL, err) < 0)
		return -1;
	for (size_t i = ws->nmodels; i-- > 0;) {
		if (strcmp(ws->models[i].name, name) != 0)
			continue;
		touch(ws, WORKSPACE_MODELS, name, ws->models[i].version);
		model_version_cleanup(&ws->models[i]);
		drop(ws->models, &ws->nmodels, sizeof *ws->models, i);
	}
	return 0;
}

/* ---- environments ---- */

static ssize_t env_index(const struct workspace *ws, const char *name, const char *version)
{
	ssize_t best = -1;

	for (size_t i = 0; i < ws->nenvs; i++) {
		if (strcmp(ws->envs[i].name, name) != 0)
			continue;
		if (version != NULL && strcmp(ws->envs[i].version, version) == 0)
			return (ssize_t)i;
		if (version == NULL && (best < 0 || version_num(ws->envs[i].version) >
							version_num(ws->envs[best].version)))
			best = (ssize_t)i;
	}
	return version == NULL ? best : -1;
}

void workspace_env_next_version(const struct workspace *ws, const char *name, char *buf, size_t len)
{
	unsigned long long max = 0;

	for (size_t i = 0; i < ws->nenvs; i++)
		if (strcmp(ws->envs[i].name, name) == 0 && version_num(ws->envs[i].version) > max)
			max = version_num(ws->envs[i].version);
	next_version(max, buf, len);
}

static int env_check(const struct workspace *ws, const struct env_version *ev, ssize_t old,
		     struct error *err)
{
	const struct deployment *d;

	if (names_check(ev->name, "environment name", err) < 0 ||
	    names_check_version(ev->version, "environment version", err) < 0)
		return -1;
	if ((unsigned)ev->kind > ENV_PYTHON)
		return error_set(err, 400, "ValidationError",
				 "properties.environmentKind must be native or python");
	if (ev->kind == ENV_PYTHON && (ev->python == NULL || ev->python[0] != '/'))
		return error_set(err, 400, "ValidationError",
				 "properties.interpreterPath must be an absolute path for a python "
				 "environment");
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
	if (ws->envs[old].kind != ev->kind && batch_in_use(ws, 0, ev->name, ev->version, err) < 0)
		return -1;
	return 0;
}

int workspace_env_put(struct workspace *ws, struct env_version *ev, int *created, struct error *err)
{
	struct env_version copy, *slot;
	ssize_t old;

	if (ev->version[0] == '\0' && names_check(ev->name, "environment name", err) == 0)
		workspace_env_next_version(ws, ev->name, ev->version, sizeof ev->version);
	old = env_index(ws, ev->name, ev->version);
	if (env_check(ws, ev, old, err) < 0)
		return -1;
	if (env_version_copy(&copy, ev) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
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
	ssize_t i = env_index(ws, name, version);

	return i < 0 ? NULL : &ws->envs[i];
}

size_t workspace_env_list(const struct workspace *ws, const struct env_version ***out)
{
	return pointer_list(ws->envs, ws->nenvs, sizeof *ws->envs, env_cmp, (const void ***)out);
}

int workspace_env_delete(struct workspace *ws, const char *name, const char *version,
			 struct error *err)
{
	ssize_t i = env_index(ws, name, version != NULL ? version : "");
	const struct deployment *d;

	if (i < 0)
		return error_set(err, 404, "NotFound", "environment %s:%s not found", name,
				 version != NULL ? version : "");
	d = env_user(ws, name, version);
	if (d != NULL)
		return in_use(d, "environment", name, version, err);
	if (batch_in_use(ws, 0, name, version, err) < 0)
		return -1;
	touch(ws, WORKSPACE_ENVIRONMENTS, name, version);
	env_version_cleanup(&ws->envs[i]);
	drop(ws->envs, &ws->nenvs, sizeof *ws->envs, (size_t)i);
	return 0;
}

int workspace_env_delete_all(struct workspace *ws, const char *name, struct error *err)
{
	const struct deployment *d = env_user(ws, name, NULL);

	if (env_index(ws, name, NULL) < 0)
		return error_set(err, 404, "NotFound", "environment %s not found", name);
	if (d != NULL)
		return in_use(d, "environment", name, d->env_version, err);
	if (batch_in_use(ws, 0, name, NULL, err) < 0)
		return -1;
	for (size_t i = ws->nenvs; i-- > 0;) {
		if (strcmp(ws->envs[i].name, name) != 0)
			continue;
		touch(ws, WORKSPACE_ENVIRONMENTS, name, ws->envs[i].version);
		env_version_cleanup(&ws->envs[i]);
		drop(ws->envs, &ws->nenvs, sizeof *ws->envs, i);
	}
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

static int deployment_code_check(const struct deployment *d, const struct model_version *m,
				 const struct env_version *e, struct error *err)
{
	if (m->type != MODEL_CUSTOM)
		return 0;
	if (e->kind != ENV_PYTHON)
		return error_set(
		    err, 400, "ValidationError",
		    "properties.environmentId: model %s:%s is custom_model and needs a "
		    "python environment; %s:%s is native",
		    m->name, m->version, e->name, e->version);
	if (d->code_dir == NULL || d->code_dir[0] != '/')
		return error_set(err, 400, "ValidationError",
				 "properties.codeConfiguration.codeId must be an absolute "
				 "directory for a custom_model deployment");
	if (d->scoring_script == NULL || !names_relative_inside(d->scoring_script))
		return error_set(err, 400, "ValidationError",
				 "properties.codeConfiguration.scoringScript must be a path "
				 "inside the code directory for a custom_model deployment");
	return 0;
}

static int deployment_check(const struct workspace *ws, const struct deployment *d,
			    struct error *err)
{
	const struct model_version *m;
	const struct env_version *e;

	if (names_check(d->endpoint, "endpoint name", err) < 0 ||
	    names_check(d->name, "deployment name", err) < 0)
		return -1;
	if (endpoint_index(ws, d->endpoint) < 0)
		return error_set(err, 404, "NotFound", "endpoint '%s' not found", d->endpoint);
	if (d->model_name[0] == '\0' || d->model_version[0] == '\0')
		return error_set(err, 400, "ValidationError",
				 "properties.model is required (NAME:VERSION)");
	if (d->env_name[0] == '\0' || d->env_version[0] == '\0')
		return error_set(err, 400, "ValidationError",
				 "properties.environmentId is required (NAME:VERSION)");
	m = workspace_model_find(ws, d->model_name, d->model_version);
	if (m == NULL)
		return error_set(err, 404, "NotFound", "properties.model: model %s:%s not found",
				 d->model_name, d->model_version);
	e = workspace_env_find(ws, d->env_name, d->env_version);
	if (e == NULL)
		return error_set(err, 404, "NotFound",
				 "properties.environmentId: environment %s:%s not found",
				 d->env_name, d->env_version);
	if (deployment_limits_check(d, err) < 0)
		return -1;
	return deployment_code_check(d, m, e, err);
}

/* Gives NAME all live traffic of EP and the others 0. */
static int take_all_traffic(struct endpoint *ep, const char *name)
{
	for (size_t i = 0; i < ep->traffic.n; i++)
		ep->traffic.items[i].pct = 0;
	traffic_remove(&ep->mirror, name);
	return traffic_set(&ep->traffic, name, 100);
}

/* Scaling when only the instance count changed, else Updating. */
static enum prov_state update_state(const struct deployment *o, const struct deployment *n)
{
	if (o->instances != n->instances && strcmp(o->model_name, n->model_name) == 0 &&
	    strcmp(o->model_version, n->model_version) == 0 &&
	    strcmp(o->env_name, n->env_name) == 0 && strcmp(o->env_version, n->env_version) == 0 &&
	    same_str(o->code_dir, n->code_dir) && same_str(o->scoring_script, n->scoring_script) &&
	    o->max_concurrent == n->max_concurrent && o->timeout_ms == n->timeout_ms)
		return PROV_SCALING;
	return PROV_UPDATING;
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
	old = deployment_index(ws, d->endpoint, d->name);
	if (old >= 0) {
		copy.state = update_state(&ws->deployments[old], d);
		copy.created = ws->deployments[old].created;
		free(copy.error);
		copy.error = NULL;
		deployment_cleanup(&ws->deployments[old]);
		ws->deployments[old] = copy;
	} else {
		slot = grow((void **)&ws->deployments, &ws->ndeployments, sizeof *slot);
		if (slot == NULL) {
			deployment_cleanup(&copy);
			return error_set(err, 500, "InternalError", "out of memory");
		}
		copy.state = PROV_CREATING;
		free(copy.error);
		copy.error = NULL;
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
