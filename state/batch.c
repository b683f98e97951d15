/*
 * batch.c: batch endpoints, batch deployments, jobs and schedules in the
 * workspace, and their rules (see batch.h).
 *
 * Limits: at most BATCH_ITEMS_MAX resources of each kind (jobs included:
 * delete old ones), so a list stays a list.
 */
#include "state/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "state/names.h"

#define BATCH_ITEMS_MAX 100000

/* A growable array of one kind. */
struct vec {
	void *items;
	size_t n;
};

struct batch_set {
	struct vec endpoints;   /* struct batch_endpoint */
	struct vec deployments; /* struct batch_deployment */
	struct vec jobs;        /* struct job */
	struct vec schedules;   /* struct schedule */
};

#define AT(v, type, i) (&((type *)(v)->items)[i])

struct batch_set *batch_set_new(void)
{
	return calloc(1, sizeof(struct batch_set));
}

void batch_set_free(struct batch_set *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->endpoints.n; i++)
		batch_endpoint_cleanup(AT(&b->endpoints, struct batch_endpoint, i));
	for (size_t i = 0; i < b->deployments.n; i++)
		batch_deployment_cleanup(AT(&b->deployments, struct batch_deployment, i));
	for (size_t i = 0; i < b->jobs.n; i++)
		job_cleanup(AT(&b->jobs, struct job, i));
	for (size_t i = 0; i < b->schedules.n; i++)
		schedule_cleanup(AT(&b->schedules, struct schedule, i));
	free(b->endpoints.items);
	free(b->deployments.items);
	free(b->jobs.items);
	free(b->schedules.items);
	free(b);
}

/* Copies every element of src (size sz) into dst with copy(); -1 on ENOMEM. */
static int vec_clone(struct vec *dst, const struct vec *src, size_t sz,
		     int (*copy)(void *, const void *))
{
	dst->items = calloc(src->n + 1, sz);
	if (dst->items == NULL)
		return -1;
	for (; dst->n < src->n; dst->n++)
		if (copy((char *)dst->items + dst->n * sz, (const char *)src->items + dst->n * sz) <
		    0)
			return -1;
	return 0;
}

static int copy_endpoint(void *d, const void *s);
static int copy_deployment(void *d, const void *s);
static int copy_job(void *d, const void *s);
static int copy_schedule(void *d, const void *s);

struct batch_set *batch_set_clone(const struct batch_set *b)
{
	struct batch_set *c = batch_set_new();

	if (c == NULL ||
	    vec_clone(&c->endpoints, &b->endpoints, sizeof(struct batch_endpoint), copy_endpoint) <
		0 ||
	    vec_clone(&c->deployments, &b->deployments, sizeof(struct batch_deployment),
		      copy_deployment) < 0 ||
	    vec_clone(&c->jobs, &b->jobs, sizeof(struct job), copy_job) < 0 ||
	    vec_clone(&c->schedules, &b->schedules, sizeof(struct schedule), copy_schedule) < 0) {
		batch_set_free(c); /* a failed copy cleaned itself and was not counted */
		return NULL;
	}
	return c;
}

static struct batch_set *set(const struct workspace *ws)
{
	return workspace_batch(ws);
}

/* Appends a copy of *item (size sz) made with copy(); -1 with err. */
static int vec_add(struct vec *v, size_t sz, const void *item, int (*copy)(void *, const void *),
		   struct error *err)
{
	char *p;

	if (v->n >= BATCH_ITEMS_MAX)
		return error_set(err, 409, "Conflict",
				 "too many resources of this kind (%d): delete some first",
				 BATCH_ITEMS_MAX);
	p = realloc(v->items, (v->n + 1) * sz);
	if (p == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	v->items = p;
	if (copy(p + v->n * sz, item) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	v->n++;
	return 0;
}

/* Replaces element i with a copy of *item; the old one is cleaned. */
static int vec_replace(struct vec *v, size_t sz, size_t i, const void *item,
		       int (*copy)(void *, const void *), void (*cleanup)(void *),
		       struct error *err)
{
	char *slot = (char *)v->items + i * sz;
	void *tmp = malloc(sz);

	if (tmp == NULL || copy(tmp, item) < 0) {
		free(tmp);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	cleanup(slot);
	memcpy(slot, tmp, sz);
	free(tmp);
	return 0;
}

static void vec_drop(struct vec *v, size_t sz, size_t i, void (*cleanup)(void *))
{
	char *p = v->items;

	cleanup(p + i * sz);
	memmove(p + i * sz, p + (i + 1) * sz, (v->n - i - 1) * sz);
	v->n--;
}

/* Type-erased copy and cleanup for the vec helpers. */
static int copy_endpoint(void *d, const void *s)
{
	return batch_endpoint_copy(d, s);
}
static void clean_endpoint(void *p)
{
	batch_endpoint_cleanup(p);
}
static int copy_deployment(void *d, const void *s)
{
	return batch_deployment_copy(d, s);
}
static void clean_deployment(void *p)
{
	batch_deployment_cleanup(p);
}
static int copy_job(void *d, const void *s)
{
	return job_copy(d, s);
}
static void clean_job(void *p)
{
	job_cleanup(p);
}
static int copy_schedule(void *d, const void *s)
{
	return schedule_copy(d, s);
}
static void clean_schedule(void *p)
{
	schedule_cleanup(p);
}

/* A new array of n pointers to the elements of v (size sz), sorted by cmp. */
static size_t pointers(const struct vec *v, size_t sz, int (*keep)(const void *, const void *),
		       const void *arg, int (*cmp)(const void *, const void *), const void ***out)
{
	const void **p;
	size_t n = 0;

	*out = NULL;
	if (v->n == 0 || (p = malloc(v->n * sizeof *p)) == NULL)
		return 0;
	for (size_t i = 0; i < v->n; i++) {
		const void *it = (const char *)v->items + i * sz;

		if (keep == NULL || keep(it, arg))
			p[n++] = it;
	}
	if (n == 0) {
		free(p);
		return 0;
	}
	qsort(p, n, sizeof *p, cmp);
	*out = p;
	return n;
}

/* ---- usage checks ----------------------------------------------------- */

/* A batch job still running on batch endpoint ep (deployment dep, or any). A
 * monitor run's endpoint is an online one that may share the name: not it. */
static int active_job_of(const struct workspace *ws, const char *ep, const char *dep)
{
	const struct vec *v = &set(ws)->jobs;

	for (size_t i = 0; i < v->n; i++) {
		const struct job *j = AT(v, struct job, i);

		if (j->kind == JOB_KIND_BATCH && job_status_active(j->status) &&
		    strcmp(j->endpoint, ep) == 0 &&
		    (dep == NULL || strcmp(j->deployment, dep) == 0))
			return 1;
	}
	return 0;
}

/* The name and version a deployment refers to of an asset kind. */
static int refers(const struct batch_deployment *d, const char *kind, const char **n,
		  const char **v)
{
	if (strcmp(kind, WORKSPACE_MODELS) == 0)
		*n = d->model_name, *v = d->model_version;
	else if (strcmp(kind, WORKSPACE_ENVIRONMENTS) == 0)
		*n = d->env_name, *v = d->env_version;
	else if (strcmp(kind, WORKSPACE_CODES) == 0)
		*n = d->code_name, *v = d->code_version;
	else
		return 0;
	return 1;
}

int batch_asset_user(const struct workspace *ws, const char *kind, const char *name,
		     const char *version, const char **by_ep, const char **by_name)
{
	const struct vec *v = &set(ws)->deployments;
	const char *n, *ver;

	for (size_t i = 0; i < v->n; i++) {
		const struct batch_deployment *d = AT(v, struct batch_deployment, i);

		if (refers(d, kind, &n, &ver) && strcmp(n, name) == 0 &&
		    (version == NULL || strcmp(ver, version) == 0)) {
			*by_ep = d->endpoint;
			*by_name = d->name;
			return 1;
		}
	}
	return 0;
}

void batch_touch_all(struct workspace *ws)
{
	struct batch_set *b = set(ws);

	for (size_t i = 0; i < b->endpoints.n; i++)
		workspace_touch(ws, WORKSPACE_BATCH_ENDPOINTS,
				AT(&b->endpoints, struct batch_endpoint, i)->name, NULL);
	for (size_t i = 0; i < b->deployments.n; i++) {
		const struct batch_deployment *d = AT(&b->deployments, struct batch_deployment, i);

		workspace_touch(ws, WORKSPACE_BATCH_DEPLOYMENTS, d->endpoint, d->name);
	}
	for (size_t i = 0; i < b->jobs.n; i++)
		workspace_touch(ws, WORKSPACE_JOBS, AT(&b->jobs, struct job, i)->name, NULL);
	for (size_t i = 0; i < b->schedules.n; i++)
		workspace_touch(ws, WORKSPACE_SCHEDULES,
				AT(&b->schedules, struct schedule, i)->name, NULL);
}

/* ---- batch endpoints --------------------------------------------------- */

static ssize_t endpoint_index(const struct workspace *ws, const char *name)
{
	const struct vec *v = &set(ws)->endpoints;

	for (size_t i = 0; i < v->n; i++)
		if (strcmp(AT(v, struct batch_endpoint, i)->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int endpoint_check(const struct batch_endpoint *ep, struct error *err)
{
	if (names_check(ep->name, "batch endpoint name", err) < 0)
		return -1;
	if ((unsigned)ep->auth > AUTH_AADTOKEN)
		return error_set(err, 400, "ValidationError",
				 "properties.authMode must be AADToken, AMLToken or Key");
	if (ep->default_deployment[0] != '\0' &&
	    names_check(ep->default_deployment, "properties.defaults.deploymentName", err) < 0)
		return -1;
	return 0;
}

int batch_endpoint_put(struct workspace *ws, const struct batch_endpoint *ep, int *created,
		       struct error *err)
{
	struct vec *v = &set(ws)->endpoints;
	ssize_t old = endpoint_index(ws, ep->name);
	struct batch_endpoint next;
	int rc;

	if (endpoint_check(ep, err) < 0)
		return -1;
	if (old < 0) {
		rc = vec_add(v, sizeof next, ep, copy_endpoint, err);
	} else {
		const struct batch_endpoint *cur = AT(v, struct batch_endpoint, old);

		next = *ep;
		memcpy(next.primary_key, cur->primary_key, sizeof next.primary_key);
		memcpy(next.secondary_key, cur->secondary_key, sizeof next.secondary_key);
		next.created = cur->created;
		next.state = cur->state;
		rc = vec_replace(v, sizeof next, (size_t)old, &next, copy_endpoint, clean_endpoint,
				 err);
	}
	if (rc < 0)
		return -1;
	workspace_touch(ws, WORKSPACE_BATCH_ENDPOINTS, ep->name, NULL);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct batch_endpoint *batch_endpoint_find(const struct workspace *ws, const char *name)
{
	ssize_t i = endpoint_index(ws, name);

	return i < 0 ? NULL : AT(&set(ws)->endpoints, struct batch_endpoint, i);
}

static int endpoint_cmp(const void *x, const void *y)
{
	return strcmp((*(const struct batch_endpoint *const *)x)->name,
		      (*(const struct batch_endpoint *const *)y)->name);
}

size_t batch_endpoint_list(const struct workspace *ws, const struct batch_endpoint ***out)
{
	return pointers(&set(ws)->endpoints, sizeof(struct batch_endpoint), NULL, NULL,
			endpoint_cmp, (const void ***)out);
}

int batch_endpoint_set_keys(struct workspace *ws, const char *name, const char *primary,
			    const char *secondary, struct error *err)
{
	ssize_t i = endpoint_index(ws, name);
	struct batch_endpoint *ep;

	if (i < 0)
		return error_set(err, 404, "NotFound", "batch endpoint '%s' not found", name);
	if ((primary && strlen(primary) > RESOURCE_KEY_LEN) ||
	    (secondary && strlen(secondary) > RESOURCE_KEY_LEN))
		return error_set(err, 400, "ValidationError", "key longer than %d characters",
				 RESOURCE_KEY_LEN);
	ep = AT(&set(ws)->endpoints, struct batch_endpoint, i);
	if (primary != NULL)
		snprintf(ep->primary_key, sizeof ep->primary_key, "%s", primary);
	if (secondary != NULL)
		snprintf(ep->secondary_key, sizeof ep->secondary_key, "%s", secondary);
	workspace_touch(ws, WORKSPACE_BATCH_ENDPOINTS, name, NULL);
	return 0;
}

int batch_endpoint_delete(struct workspace *ws, const char *name, struct error *err)
{
	struct batch_set *b = set(ws);
	ssize_t i = endpoint_index(ws, name);

	if (i < 0)
		return error_set(err, 404, "NotFound", "batch endpoint '%s' not found", name);
	if (active_job_of(ws, name, NULL))
		return error_set(err, 409, "Conflict",
				 "batch endpoint '%s' has a job that is still running; cancel it "
				 "first",
				 name);
	for (size_t j = b->deployments.n; j-- > 0;) {
		const struct batch_deployment *d = AT(&b->deployments, struct batch_deployment, j);

		if (strcmp(d->endpoint, name) != 0)
			continue;
		workspace_touch(ws, WORKSPACE_BATCH_DEPLOYMENTS, name, d->name);
		vec_drop(&b->deployments, sizeof(struct batch_deployment), j, clean_deployment);
	}
	workspace_touch(ws, WORKSPACE_BATCH_ENDPOINTS, name, NULL);
	vec_drop(&b->endpoints, sizeof(struct batch_endpoint), (size_t)i, clean_endpoint);
	return 0;
}

/* ---- batch deployments ------------------------------------------------- */

static ssize_t deployment_index(const struct workspace *ws, const char *ep, const char *name)
{
	const struct vec *v = &set(ws)->deployments;

	for (size_t i = 0; i < v->n; i++) {
		const struct batch_deployment *d = AT(v, struct batch_deployment, i);

		if (strcmp(d->endpoint, ep) == 0 && strcmp(d->name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static int code_check(const struct batch_deployment *d, const struct model_version *m,
		      const struct workspace *ws, struct error *err)
{
	const struct env_version *e;

	if (m->type != MODEL_CUSTOM) {
		if (d->code_dir != NULL || d->code_name[0] != '\0' || d->env_name[0] != '\0')
			return error_set(err, 400, "ValidationError",
					 "model %s:%s is %s: it is scored natively and takes no "
					 "environment or codeConfiguration",
					 m->name, m->version, model_type_name(m->type));
		return 0;
	}
	if (d->env_name[0] == '\0')
		return error_set(err, 400, "ValidationError",
				 "properties.environmentId is required for a custom_model");
	e = workspace_env_find(ws, d->env_name, d->env_version);
	if (e == NULL)
		return error_set(err, 404, "NotFound",
				 "properties.environmentId: environment %s:%s not found",
				 d->env_name, d->env_version);
	if (e->kind != ENV_PYTHON)
		return error_set(err, 400, "ValidationError",
				 "properties.environmentId: a custom_model needs a python "
				 "environment; %s:%s is native",
				 e->name, e->version);
	return workspace_code_ref_check(ws, d->code_name, d->code_version, d->code_dir,
					d->scoring_script, err);
}

static int deployment_check(const struct workspace *ws, const struct batch_deployment *d,
			    struct error *err)
{
	const struct model_version *m;

	if (names_check(d->endpoint, "batch endpoint name", err) < 0 ||
	    names_check(d->name, "batch deployment name", err) < 0)
		return -1;
	if (endpoint_index(ws, d->endpoint) < 0)
		return error_set(err, 404, "NotFound", "batch endpoint '%s' not found",
				 d->endpoint);
	if (d->model_name[0] == '\0')
		return error_set(err, 400, "ValidationError", "properties.model is required");
	m = workspace_model_find(ws, d->model_name, d->model_version);
	if (m == NULL)
		return error_set(err, 404, "NotFound", "properties.model: model %s:%s not found",
				 d->model_name, d->model_version);
	if (batch_settings_check(&d->settings, err) < 0)
		return -1;
	return code_check(d, m, ws, err);
}

int batch_deployment_put(struct workspace *ws, const struct batch_deployment *d, int *created,
			 struct error *err)
{
	struct vec *v = &set(ws)->deployments;
	ssize_t old = deployment_index(ws, d->endpoint, d->name);
	struct batch_deployment next;
	int rc;

	if (deployment_check(ws, d, err) < 0)
		return -1;
	next = *d;
	next.state = PROV_SUCCEEDED;
	next.error = NULL;
	if (old < 0) {
		rc = vec_add(v, sizeof next, &next, copy_deployment, err);
	} else {
		next.created = AT(v, struct batch_deployment, old)->created;
		rc = vec_replace(v, sizeof next, (size_t)old, &next, copy_deployment,
				 clean_deployment, err);
	}
	if (rc < 0)
		return -1;
	workspace_touch(ws, WORKSPACE_BATCH_DEPLOYMENTS, d->endpoint, d->name);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct batch_deployment *batch_deployment_find(const struct workspace *ws, const char *ep,
						     const char *name)
{
	ssize_t i = deployment_index(ws, ep, name);

	return i < 0 ? NULL : AT(&set(ws)->deployments, struct batch_deployment, i);
}

static int deployment_of(const void *it, const void *ep)
{
	return ep == NULL || strcmp(((const struct batch_deployment *)it)->endpoint, ep) == 0;
}

static int deployment_cmp(const void *x, const void *y)
{
	const struct batch_deployment *a = *(const struct batch_deployment *const *)x;
	const struct batch_deployment *b = *(const struct batch_deployment *const *)y;
	int c = strcmp(a->endpoint, b->endpoint);

	return c != 0 ? c : strcmp(a->name, b->name);
}

size_t batch_deployment_list(const struct workspace *ws, const char *ep,
			     const struct batch_deployment ***out)
{
	return pointers(&set(ws)->deployments, sizeof(struct batch_deployment), deployment_of, ep,
			deployment_cmp, (const void ***)out);
}

int batch_deployment_delete(struct workspace *ws, const char *ep, const char *name,
			    struct error *err)
{
	ssize_t i = deployment_index(ws, ep, name);
	const struct batch_endpoint *e = batch_endpoint_find(ws, ep);

	if (i < 0)
		return error_set(err, 404, "NotFound",
				 "deployment '%s' of batch endpoint '%s' not found", name, ep);
	if (e != NULL && strcmp(e->default_deployment, name) == 0)
		return error_set(err, 409, "Conflict",
				 "deployment '%s' is the default of batch endpoint '%s'; make "
				 "another one the default first",
				 name, ep);
	if (active_job_of(ws, ep, name))
		return error_set(err, 409, "Conflict",
				 "deployment '%s' has a job that is still running; cancel it first",
				 name);
	workspace_touch(ws, WORKSPACE_BATCH_DEPLOYMENTS, ep, name);
	vec_drop(&set(ws)->deployments, sizeof(struct batch_deployment), (size_t)i,
		 clean_deployment);
	return 0;
}

/* ---- jobs -------------------------------------------------------------- */

static ssize_t job_index(const struct workspace *ws, const char *name)
{
	const struct vec *v = &set(ws)->jobs;

	for (size_t i = 0; i < v->n; i++)
		if (strcmp(AT(v, struct job, i)->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int batch_job_put(struct workspace *ws, const struct job *j, struct error *err)
{
	struct vec *v = &set(ws)->jobs;
	ssize_t old;
	int rc;

	if (names_check_asset(j->name, "job name", err) < 0)
		return -1;
	old = job_index(ws, j->name);
	if (old < 0) {
		if (batch_settings_check(&j->settings, err) < 0)
			return -1;
		rc = vec_add(v, sizeof *j, j, copy_job, err);
	} else {
		const struct job *cur = AT(v, struct job, old);

		if (cur->status != j->status && job_transition(cur->status, j->status, err) < 0)
			return -1;
		rc = vec_replace(v, sizeof *j, (size_t)old, j, copy_job, clean_job, err);
	}
	if (rc < 0)
		return -1;
	workspace_touch(ws, WORKSPACE_JOBS, j->name, NULL);
	return 0;
}

const struct job *batch_job_find(const struct workspace *ws, const char *name)
{
	ssize_t i = job_index(ws, name);

	return i < 0 ? NULL : AT(&set(ws)->jobs, struct job, i);
}

static int job_cmp(const void *x, const void *y)
{
	const struct job *a = *(const struct job *const *)x;
	const struct job *b = *(const struct job *const *)y;

	if (a->created != b->created)
		return a->created > b->created ? -1 : 1;
	return strcmp(a->name, b->name);
}

size_t batch_job_list(const struct workspace *ws, const struct job ***out)
{
	return pointers(&set(ws)->jobs, sizeof(struct job), NULL, NULL, job_cmp,
			(const void ***)out);
}

int batch_job_delete(struct workspace *ws, const char *name, struct error *err)
{
	ssize_t i = job_index(ws, name);
	const struct job *j;

	if (i < 0)
		return error_set(err, 404, "NotFound", "job '%s' not found", name);
	j = AT(&set(ws)->jobs, struct job, i);
	if (job_status_active(j->status))
		return error_set(err, 409, "Conflict",
				 "job '%s' is %s; cancel it before deleting it", name,
				 job_status_name(j->status));
	workspace_touch(ws, WORKSPACE_JOBS, name, NULL);
	vec_drop(&set(ws)->jobs, sizeof(struct job), (size_t)i, clean_job);
	return 0;
}

/* ---- schedules --------------------------------------------------------- */

static ssize_t schedule_index(const struct workspace *ws, const char *name)
{
	const struct vec *v = &set(ws)->schedules;

	for (size_t i = 0; i < v->n; i++)
		if (strcmp(AT(v, struct schedule, i)->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int batch_schedule_put(struct workspace *ws, const struct schedule *s, int *created,
		       struct error *err)
{
	struct vec *v = &set(ws)->schedules;
	ssize_t old = schedule_index(ws, s->name);
	struct schedule next;
	int rc;

	if (names_check_asset(s->name, "schedule name", err) < 0 ||
	    trigger_check(&s->trigger, err) < 0)
		return -1;
	if (s->action == NULL || s->action_type[0] == '\0')
		return error_set(err, 400, "ValidationError", "properties.action is required");
	next = *s;
	next.state = PROV_SUCCEEDED;
	if (old < 0) {
		rc = vec_add(v, sizeof next, &next, copy_schedule, err);
	} else {
		next.created = AT(v, struct schedule, old)->created;
		rc = vec_replace(v, sizeof next, (size_t)old, &next, copy_schedule, clean_schedule,
				 err);
	}
	if (rc < 0)
		return -1;
	workspace_touch(ws, WORKSPACE_SCHEDULES, s->name, NULL);
	if (created != NULL)
		*created = old < 0;
	return 0;
}

const struct schedule *batch_schedule_find(const struct workspace *ws, const char *name)
{
	ssize_t i = schedule_index(ws, name);

	return i < 0 ? NULL : AT(&set(ws)->schedules, struct schedule, i);
}

static int schedule_cmp(const void *x, const void *y)
{
	return strcmp((*(const struct schedule *const *)x)->name,
		      (*(const struct schedule *const *)y)->name);
}

size_t batch_schedule_list(const struct workspace *ws, const struct schedule ***out)
{
	return pointers(&set(ws)->schedules, sizeof(struct schedule), NULL, NULL, schedule_cmp,
			(const void ***)out);
}

int batch_schedule_delete(struct workspace *ws, const char *name, struct error *err)
{
	ssize_t i = schedule_index(ws, name);

	if (i < 0)
		return error_set(err, 404, "NotFound", "schedule '%s' not found", name);
	workspace_touch(ws, WORKSPACE_SCHEDULES, name, NULL);
	vec_drop(&set(ws)->schedules, sizeof(struct schedule), (size_t)i, clean_schedule);
	return 0;
}

/* ---- copies ------------------------------------------------------------ */

int batch_endpoint_copy(struct batch_endpoint *dst, const struct batch_endpoint *src)
{
	*dst = *src;
	dst->description = NULL;
	memset(&dst->tags, 0, sizeof dst->tags);
	memset(&dst->properties, 0, sizeof dst->properties);
	if (resource_dup(&dst->description, src->description) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0 ||
	    kvlist_copy(&dst->properties, &src->properties) < 0) {
		batch_endpoint_cleanup(dst);
		return -1;
	}
	return 0;
}

void batch_endpoint_cleanup(struct batch_endpoint *e)
{
	free(e->description);
	e->description = NULL;
	kvlist_clear(&e->tags);
	kvlist_clear(&e->properties);
}

int batch_deployment_copy(struct batch_deployment *dst, const struct batch_deployment *src)
{
	*dst = *src;
	dst->code_dir = dst->scoring_script = dst->description = dst->error = NULL;
	memset(&dst->variables, 0, sizeof dst->variables);
	memset(&dst->tags, 0, sizeof dst->tags);
	memset(&dst->properties, 0, sizeof dst->properties);
	if (resource_dup(&dst->code_dir, src->code_dir) < 0 ||
	    resource_dup(&dst->scoring_script, src->scoring_script) < 0 ||
	    resource_dup(&dst->description, src->description) < 0 ||
	    resource_dup(&dst->error, src->error) < 0 ||
	    kvlist_copy(&dst->variables, &src->variables) < 0 ||
	    kvlist_copy(&dst->tags, &src->tags) < 0 ||
	    kvlist_copy(&dst->properties, &src->properties) < 0) {
		batch_deployment_cleanup(dst);
		return -1;
	}
	return 0;
}

void batch_deployment_cleanup(struct batch_deployment *d)
{
	free(d->code_dir);
	free(d->scoring_script);
	free(d->description);
	free(d->error);
	d->code_dir = d->scoring_script = d->description = d->error = NULL;
	kvlist_clear(&d->variables);
	kvlist_clear(&d->tags);
	kvlist_clear(&d->properties);
}
