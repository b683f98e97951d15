/*
 * fleet.c: live endpoints and deployments. Each deployment entry points at
 * the instance serving now (`current`) and at one being loaded (`pending`);
 * a request holds a reference on the instance it uses, so a reload or a
 * delete never fails a request in flight. Endpoints are a sorted array
 * (binary search per request); each holds its few deployments.
 */
#include "runtime/fleet.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "runtime/auth.h"
#include "runtime/engines/engine.h"
#include "runtime/logring.h"
#include "runtime/router.h"
#include "state/artifact.h"

#define MIRROR_QUEUE 256
#define MIRROR_THREADS 2

/* One loaded (or loading) instance of a deployment's spec. */
struct live {
	atomic_int refs;
	char ep[RESOURCE_NAME_MAX + 1];
	char name[RESOURCE_NAME_MAX + 1];
	uint64_t gen;
	struct engine *engine; /* set before publication, then immutable */
	struct engine_config cfg;
	char *model_path;
	char *python;
	char *code_dir;
	char *script;
	char **env;     /* NULL-terminated "K=V" */
	char **modules; /* NULL-terminated */
	int timeout_ms;
	int workers;
	pthread_mutex_t cap_lock;
	pthread_cond_t cap_cond;
	int limit, running, waiting;
	struct metrics_series *series;
	struct logring *log;
};

struct dep {
	char name[RESOURCE_NAME_MAX + 1];
	struct deployment spec; /* as last synced (read and written by sync only) */
	uint64_t gen;
	struct live *current;
	struct live *pending;
	struct logring *log;
	struct metrics_series *series;
};

struct ep {
	char name[RESOURCE_NAME_MAX + 1];
	enum auth_mode auth;
	char primary[RESOURCE_KEY_LEN + 1];
	char secondary[RESOURCE_KEY_LEN + 1];
	uint32_t key_gen;
	struct router_slot router;
	struct dep **deps;
	size_t ndeps;
};

struct mirror_job {
	struct live *live;
	char *body;
	size_t len;
};

struct fleet {
	pthread_rwlock_t lock; /* eps, deps, current/pending pointers, keys */
	struct ep **eps;       /* sorted by name */
	size_t neps, caps;     /* caps: room in eps */
	uint64_t next_gen;     /* sync only */
	char home[PATH_MAX];
	struct metrics *metrics;
	fleet_state_fn on_state;
	void *ctx;

	pthread_mutex_t task_lock; /* background loads and scalings */
	pthread_cond_t task_done;
	int tasks;
	int stopping;

	pthread_mutex_t mq_lock; /* mirror queue */
	pthread_cond_t mq_cond;
	struct mirror_job mq[MIRROR_QUEUE];
	size_t mq_head, mq_n;
	pthread_t mirror[MIRROR_THREADS];
	int nmirror;
};

/* ---- live instances ----------------------------------------------------- */

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static struct live *live_ref(struct live *l)
{
	if (l)
		atomic_fetch_add(&l->refs, 1);
	return l;
}

static void live_unref(struct live *l)
{
	if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	engine_free(l->engine);
	free(l->model_path);
	free(l->python);
	free(l->code_dir);
	free(l->script);
	strv_free(l->env);
	strv_free(l->modules);
	pthread_mutex_destroy(&l->cap_lock);
	pthread_cond_destroy(&l->cap_cond);
	metrics_series_unref(l->series);
	logring_unref(l->log);
	free(l);
}

static void live_log(void *ctx, const char *line)
{
	logring_add(ctx, line);
}

static char **env_vector(const struct kvlist *a, const struct kvlist *b)
{
	size_t i, k = 0, n = a->n + b->n;
	char **v = calloc(n + 1, sizeof *v);

	for (i = 0; v && i < a->n + b->n; i++) {
		const struct kv *kv = i < a->n ? &a->items[i] : &b->items[i - a->n];
		size_t len = strlen(kv->key) + strlen(kv->value) + 2;
		if ((v[k] = malloc(len)) == NULL)
			break;
		snprintf(v[k++], len, "%s=%s", kv->key, kv->value);
	}
	return v;
}

static char **module_vector(const struct env_version *e)
{
	char **v = calloc(e->nmodules + 1, sizeof *v);
	size_t i;

	for (i = 0; v && i < e->nmodules; i++)
		v[i] = strdup(e->modules[i]);
	return v;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Python workers per instance: WORKER_COUNT from the deployment's variables,
 * else the environment's, else 1 (Azure's inference server reads the same). */
static int worker_count(const struct deployment *s, const struct env_version *e)
{
	const char *v = kvlist_get(&s->variables, "WORKER_COUNT");
	char *end;
	long n;

	if (v == NULL && e)
		v = kvlist_get(&e->variables, "WORKER_COUNT");
	if (v == NULL)
		return 1;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 1 && n <= 64 ? (int)n : 1;
}

/* Resolves a deployment's spec s against ws into a loadable instance of
 * generation gen (d gives the log and metrics it shares). */
static struct live *live_new(struct fleet *f, struct dep *d, const struct deployment *s,
			     uint64_t gen, const struct workspace *ws, const char *ep)
{
	const struct model_version *m = workspace_model_find(ws, s->model_name, s->model_version);
	const struct env_version *e = workspace_env_find(ws, s->env_name, s->env_version);
	struct live *l = calloc(1, sizeof *l);
	char path[PATH_MAX];
	static const struct kvlist none;

	if (l == NULL)
		return NULL;
	atomic_init(&l->refs, 1);
	snprintf(l->ep, sizeof l->ep, "%s", ep);
	snprintf(l->name, sizeof l->name, "%s", s->name);
	l->gen = gen;
	pthread_mutex_init(&l->cap_lock, NULL);
	pthread_cond_init(&l->cap_cond, NULL);
	/* requests at once: instances x maxConcurrent; Python processes: instances x
	 * WORKER_COUNT, and the requests beyond them wait for a free worker */
	l->limit = s->instances * s->max_concurrent;
	l->workers = s->instances * worker_count(s, e);
	l->timeout_ms = s->timeout_ms;
	l->series = metrics_series_ref(d->series);
	l->log = logring_ref(d->log);
	if (m && m->artifact && artifact_path(f->home, m->artifact, path, sizeof path) == 0)
		l->model_path = strdup(path);
	l->cfg.type = m ? m->type : MODEL_LINEAR;
	if (e) {
		l->python = dup_or_null(e->python);
		l->modules = module_vector(e);
	}
	l->env = env_vector(e ? &e->variables : &none, &s->variables);
	l->code_dir = dup_or_null(s->code_dir);
	l->script = dup_or_null(s->scoring_script);
	l->cfg.model_path = l->model_path;
	l->cfg.python = l->python;
	l->cfg.code_dir = l->code_dir;
	l->cfg.scoring_script = l->script;
	l->cfg.env = (const char *const *)l->env;
	l->cfg.modules = (const char *const *)l->modules;
	l->cfg.workers = l->workers;
	l->cfg.timeout_ms = l->timeout_ms;
	l->cfg.log = live_log;
	l->cfg.log_ctx = l->log;
	if (m == NULL || e == NULL || l->model_path == NULL) {
		/* the workspace guarantees references; a missing one fails the load */
		free(l->model_path);
		l->model_path = NULL;
		l->cfg.model_path = NULL;
	}
	return l;
}

/* ---- capacity ----------------------------------------------------------- */

/* Takes a slot only if one is free now; 1 when taken. */
static int capacity_try(struct live *l)
{
	int ok;

	pthread_mutex_lock(&l->cap_lock);
	ok = l->running < l->limit;
	if (ok)
		l->running++;
	pthread_mutex_unlock(&l->cap_lock);
	return ok;
}

/* 0 when a slot is held; 429 over the queue; 408 when the wait passed deadline. */
static int capacity_take(struct live *l, const struct timespec *deadline)
{
	int rc = 0;

	pthread_mutex_lock(&l->cap_lock);
	if (l->running < l->limit) {
		l->running++;
	} else if (l->waiting >= 2 * l->limit) {
		rc = 429;
	} else {
		l->waiting++;
		while (l->running >= l->limit && rc == 0)
			if (pthread_cond_timedwait(&l->cap_cond, &l->cap_lock, deadline) ==
			    ETIMEDOUT)
				rc = 408;
		if (rc == 0)
			l->running++;
		l->waiting--;
	}
	pthread_mutex_unlock(&l->cap_lock);
	return rc;
}

static void capacity_give(struct live *l)
{
	pthread_mutex_lock(&l->cap_lock);
	l->running--;
	pthread_cond_signal(&l->cap_cond);
	pthread_mutex_unlock(&l->cap_lock);
}

static void capacity_set(struct live *l, int limit)
{
	pthread_mutex_lock(&l->cap_lock);
	l->limit = limit;
	pthread_cond_broadcast(&l->cap_cond);
	pthread_mutex_unlock(&l->cap_lock);
}

/* ---- lookup ------------------------------------------------------------- */

static int ep_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(struct ep *const *)elem)->name);
}

static struct ep *find_ep(struct fleet *f, const char *name)
{
	struct ep **e = f->neps ? bsearch(name, f->eps, f->neps, sizeof *f->eps, ep_cmp) : NULL;

	return e ? *e : NULL;
}

static struct dep *find_dep(struct ep *e, const char *name)
{
	size_t i;

	for (i = 0; e && i < e->ndeps; i++)
		if (!strcmp(e->deps[i]->name, name))
			return e->deps[i];
	return NULL;
}

/* ---- background tasks (loads, scalings) --------------------------------- */

struct task {
	struct fleet *f;
	struct live *live;
	int resize; /* 0: load; else the new worker count */
};

static void task_finish(struct fleet *f)
{
	pthread_mutex_lock(&f->task_lock);
	f->tasks--;
	pthread_cond_broadcast(&f->task_done);
	pthread_mutex_unlock(&f->task_lock);
}

static void report(struct fleet *f, struct live *l, enum prov_state st, const char *msg)
{
	int stopping;

	pthread_mutex_lock(&f->task_lock);
	stopping = f->stopping;
	pthread_mutex_unlock(&f->task_lock);
	if (!stopping)
		f->on_state(f->ctx, l->ep, l->name, l->gen, st, msg);
}

/* Publishes a loaded instance if its spec is still the newest. */
static int publish(struct fleet *f, struct live *l)
{
	struct live *old = NULL;
	struct dep *d;
	int ok = 0;

	pthread_rwlock_wrlock(&f->lock);
	d = find_dep(find_ep(f, l->ep), l->name);
	if (d && d->gen == l->gen && d->pending == l) {
		d->pending = NULL;
		old = d->current;
		d->current = l; /* the pending reference moves here */
		ok = 1;
	}
	pthread_rwlock_unlock(&f->lock);
	live_unref(old);
	return ok;
}

static void drop_pending(struct fleet *f, struct live *l)
{
	struct dep *d;
	int dropped = 0;

	pthread_rwlock_wrlock(&f->lock);
	d = find_dep(find_ep(f, l->ep), l->name);
	if (d && d->pending == l) {
		d->pending = NULL;
		dropped = 1;
	}
	pthread_rwlock_unlock(&f->lock);
	if (dropped)
		live_unref(l);
}

static void load_task(struct task *t)
{
	struct live *l = t->live;
	struct error err;

	memset(&err, 0, sizeof err);
	logring_add(l->log, "[runtime] loading model");
	if (l->cfg.model_path == NULL)
		error_set(&err, 400, "ModelLoadError", "the model or environment is missing");
	else
		l->engine = engine_load(&l->cfg, &err);
	if (l->engine == NULL) {
		logring_add(l->log, "[runtime] load failed:");
		logring_add(l->log, err.message);
		drop_pending(t->f, l);
		report(t->f, l, PROV_FAILED, err.message);
	} else if (publish(t->f, l)) {
		logring_add(l->log, "[runtime] deployment is up");
		report(t->f, l, PROV_SUCCEEDED, NULL);
		live_unref(l); /* publish took the pending ref; drop the task's */
		return;
	}
	live_unref(l);
}

static void resize_task(struct task *t)
{
	struct error err;

	memset(&err, 0, sizeof err);
	if (t->live->engine && engine_resize(t->live->engine, t->resize, &err) < 0) {
		logring_add(t->live->log, err.message);
		report(t->f, t->live, PROV_FAILED, err.message);
	} else {
		logring_add(t->live->log, "[runtime] scaled");
		report(t->f, t->live, PROV_SUCCEEDED, NULL);
	}
	live_unref(t->live);
}

static void *task_main(void *arg)
{
	struct task *t = arg;
	struct fleet *f = t->f;

	if (t->resize)
		resize_task(t);
	else
		load_task(t);
	free(t);
	task_finish(f);
	return NULL;
}

/* Starts a task on its own detached thread; takes a reference on l. */
static void task_start(struct fleet *f, struct live *l, int resize)
{
	struct task *t = calloc(1, sizeof *t);
	pthread_attr_t at;
	pthread_t th;

	if (t == NULL)
		return;
	t->f = f;
	t->live = live_ref(l);
	t->resize = resize;
	pthread_mutex_lock(&f->task_lock);
	f->tasks++;
	pthread_mutex_unlock(&f->task_lock);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, task_main, t) != 0) {
		live_unref(l);
		free(t);
		task_finish(f);
	}
	pthread_attr_destroy(&at);
}

/* ---- sync ----------------------------------------------------------------
 *
 * Only sync changes which endpoints and deployments exist and a deployment's
 * spec, and its callers serialise it (the runtime's workspace lock). So sync
 * reads that structure without the fleet's lock, makes every allocation,
 * lookup and workspace scan before taking it, and holds the write lock only
 * to publish: pointer swaps, O(the endpoint's deployments). Threads start,
 * and what was replaced is freed (engines stopped), after it is released.
 */

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static int kv_eq(const struct kvlist *a, const struct kvlist *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->items[i].key, b->items[i].key) ||
		    strcmp(a->items[i].value, b->items[i].value))
			return 0;
	return 1;
}

/* Whether a spec change needs a new engine (else only capacity moved). */
static int needs_reload(const struct deployment *a, const struct deployment *b)
{
	return strcmp(a->model_name, b->model_name) || strcmp(a->model_version, b->model_version) ||
	       strcmp(a->env_name, b->env_name) || strcmp(a->env_version, b->env_version) ||
	       !str_eq(a->code_dir, b->code_dir) || !str_eq(a->scoring_script, b->scoring_script) ||
	       a->timeout_ms != b->timeout_ms || !kv_eq(&a->variables, &b->variables);
}

static void dep_free(struct fleet *f, const char *ep, struct dep *d)
{
	live_unref(d->current);
	live_unref(d->pending);
	logring_unref(d->log);
	metrics_series_unref(d->series);
	metrics_remove(f->metrics, ep, d->name);
	deployment_cleanup(&d->spec);
	free(d);
}

static struct dep *dep_new(struct fleet *f, const char *ep, const char *name)
{
	struct dep *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	snprintf(d->name, sizeof d->name, "%s", name);
	d->log = logring_new();
	d->series = metrics_series(f->metrics, ep, name);
	return d;
}

static void ep_free(struct fleet *f, struct ep *e)
{
	size_t i;

	for (i = 0; i < e->ndeps; i++)
		dep_free(f, e->name, e->deps[i]);
	free(e->deps);
	router_slot_cleanup(&e->router);
	free(e);
}

/* What one deployment's sync will do, prepared outside the lock. */
struct dep_plan {
	struct dep *d;
	int fresh;
	struct deployment spec; /* the new spec; after publishing, the old one */
	uint64_t gen;
	struct live *load;      /* a new instance (reload, or a rescale in mid-load) */
	int rescale, limit, workers;
	struct live *resized;   /* the instance to resize, set while publishing */
	struct live *dropped;   /* a load in flight this one replaces */
};

struct ep_plan {
	struct ep *e;
	int fresh;
	const struct endpoint *src;
	struct router *router;
	struct dep_plan *deps;
	size_t ndeps;
	struct dep **array; /* the new deps array; after publishing, the old one */
	struct ep **eps;    /* a bigger f->eps to publish, or NULL */
};

static int dep_plan(struct fleet *f, struct ep *e, const struct deployment *s,
		    const struct workspace *ws, struct dep_plan *p)
{
	memset(p, 0, sizeof *p);
	p->d = find_dep(e, s->name);
	p->fresh = p->d == NULL;
	if (p->fresh && (p->d = dep_new(f, e->name, s->name)) == NULL)
		return -1;
	if (deployment_copy(&p->spec, s) < 0)
		return -1;
	p->rescale = !p->fresh && !needs_reload(&p->d->spec, s) &&
		     (p->d->spec.instances != s->instances ||
		      p->d->spec.max_concurrent != s->max_concurrent);
	if (!p->fresh && !p->rescale && !needs_reload(&p->d->spec, s))
		return 0; /* nothing the live side cares about changed */
	p->gen = ++f->next_gen;
	p->limit = s->instances * s->max_concurrent;
	p->workers = s->instances *
		     worker_count(s, workspace_env_find(ws, s->env_name, s->env_version));
	p->load = live_new(f, p->d, s, p->gen, ws, e->name);
	return p->load ? 0 : -1;
}

static void ep_plan_cleanup(struct fleet *f, struct ep_plan *p, int published)
{
	for (size_t i = 0; i < p->ndeps; i++) {
		struct dep_plan *d = &p->deps[i];

		deployment_cleanup(&d->spec);
		if (!published && d->fresh && d->d)
			dep_free(f, p->e->name, d->d);
		live_unref(d->load);
		live_unref(d->resized);
		live_unref(d->dropped);
	}
	free(p->deps);
	free(p->array);
	free(p->eps);
	router_unref(p->router);
	if (!published && p->fresh && p->e)
		ep_free(f, p->e);
}

/* Everything sync needs for one endpoint, without the lock. 0 or -1 (ENOMEM). */
static int ep_plan(struct fleet *f, const struct endpoint *src, const struct workspace *ws,
		   struct ep_plan *p)
{
	const struct deployment **ds = NULL;
	size_t n;

	memset(p, 0, sizeof *p);
	p->src = src;
	p->e = find_ep(f, src->name);
	if (p->e == NULL) {
		p->fresh = 1;
		if ((p->e = calloc(1, sizeof *p->e)) == NULL)
			return -1;
		snprintf(p->e->name, sizeof p->e->name, "%s", src->name);
		router_slot_init(&p->e->router);
		if (f->neps == f->caps) {
			p->eps = calloc(f->caps ? 2 * f->caps : 16, sizeof *p->eps);
			if (p->eps == NULL)
				return -1;
			if (f->neps)
				memcpy(p->eps, f->eps, f->neps * sizeof *p->eps);
		}
	}
	p->router = router_new(&src->traffic, &src->mirror);
	n = workspace_deployment_list(ws, src->name, &ds);
	p->deps = calloc(n + 1, sizeof *p->deps);
	p->array = calloc(n + 1, sizeof *p->array);
	if (p->router == NULL || p->deps == NULL || p->array == NULL) {
		free(ds);
		return -1;
	}
	for (size_t i = 0; i < n; i++, p->ndeps++)
		if (dep_plan(f, p->e, ds[i], ws, &p->deps[i]) < 0) {
			p->ndeps++;
			free(ds);
			return -1;
		}
	free(ds);
	return 0;
}

/* Under the write lock: one deployment's new spec, generation and instance. */
static void dep_publish(struct dep_plan *p)
{
	struct deployment old = p->d->spec;
	struct dep *d = p->d;

	d->spec = p->spec;
	p->spec = old;
	if (p->load == NULL)
		return;
	d->gen = p->gen;
	if (p->rescale && d->pending == NULL && d->current != NULL) {
		/* capacity only: the serving instance takes the new size */
		d->current->gen = d->gen;
		capacity_set(d->current, p->limit);
		d->current->workers = p->workers;
		p->resized = live_ref(d->current);
		return; /* p->load stays unused and is dropped */
	}
	/* a (re)load; a rescale with a load in flight redoes that load */
	p->dropped = d->pending; /* released after the lock */
	d->pending = live_ref(p->load);
}

static void ep_insert(struct fleet *f, struct ep *e, struct ep **bigger)
{
	size_t i;

	if (bigger != NULL) {
		f->eps = bigger;
		f->caps = f->caps ? 2 * f->caps : 16;
	}
	for (i = f->neps; i > 0 && strcmp(f->eps[i - 1]->name, e->name) > 0; i--)
		f->eps[i] = f->eps[i - 1];
	f->eps[i] = e;
	f->neps++;
}

static void ep_publish(struct fleet *f, struct ep_plan *p)
{
	struct ep *e = p->e;
	struct ep **old_eps = f->eps;
	struct dep **old = e->deps;
	size_t i;

	e->auth = p->src->auth;
	memcpy(e->primary, p->src->primary_key, sizeof e->primary);
	memcpy(e->secondary, p->src->secondary_key, sizeof e->secondary);
	e->key_gen = p->src->key_generation;
	router_slot_set(&e->router, p->router);
	p->router = NULL;
	for (i = 0; i < p->ndeps; i++) {
		dep_publish(&p->deps[i]);
		p->array[i] = p->deps[i].d;
	}
	e->deps = p->array;
	e->ndeps = p->ndeps;
	p->array = old; /* freed, with the deployments no longer listed, after */
	if (p->fresh) {
		ep_insert(f, e, p->eps);
		p->eps = p->eps ? old_eps : NULL;
	}
}

/* After the lock: start the loads and resizes, free what was replaced. */
static void ep_finish(struct fleet *f, struct ep_plan *p, struct dep **old, size_t nold)
{
	for (size_t i = 0; i < p->ndeps; i++) {
		struct dep_plan *d = &p->deps[i];

		if (d->resized)
			task_start(f, d->resized, d->workers);
		else if (d->load)
			task_start(f, d->load, 0);
	}
	for (size_t i = 0; i < nold; i++) {
		size_t k;

		for (k = 0; k < p->ndeps && p->deps[k].d != old[i]; k++)
			;
		if (k == p->ndeps)
			dep_free(f, p->e->name, old[i]);
	}
	ep_plan_cleanup(f, p, 1);
}

static void ep_remove(struct fleet *f, struct ep *e)
{
	size_t i;

	pthread_rwlock_wrlock(&f->lock);
	for (i = 0; i < f->neps && f->eps[i] != e; i++)
		;
	if (i < f->neps) {
		memmove(&f->eps[i], &f->eps[i + 1], (f->neps - i - 1) * sizeof *f->eps);
		f->neps--;
	}
	pthread_rwlock_unlock(&f->lock);
	ep_free(f, e); /* no request can reach it now; instances in use hold references */
}

void fleet_sync_endpoint(struct fleet *f, const struct workspace *ws, const char *name)
{
	const struct endpoint *src = workspace_endpoint_find(ws, name);
	struct ep *e = find_ep(f, name);
	struct ep_plan p;
	size_t nold;

	if (src == NULL) {
		if (e != NULL)
			ep_remove(f, e);
		return;
	}
	if (ep_plan(f, src, ws, &p) < 0) {
		ep_plan_cleanup(f, &p, 0); /* out of memory: the live side stays as it was */
		return;
	}
	nold = p.fresh ? 0 : p.e->ndeps;
	pthread_rwlock_wrlock(&f->lock);
	ep_publish(f, &p);
	pthread_rwlock_unlock(&f->lock);
	ep_finish(f, &p, p.array, nold);
}

void fleet_sync(struct fleet *f, const struct workspace *ws)
{
	const struct endpoint **es;
	size_t i, n = workspace_endpoint_list(ws, &es);

	for (i = 0; i < n; i++)
		fleet_sync_endpoint(f, ws, es[i]->name);
	free(es);
	for (i = f->neps; i-- > 0;)
		if (workspace_endpoint_find(ws, f->eps[i]->name) == NULL)
			ep_remove(f, f->eps[i]);
}

int fleet_current(struct fleet *f, const char *ep, const char *name, uint64_t gen)
{
	struct dep *d;
	int ok;

	pthread_rwlock_rdlock(&f->lock);
	d = find_dep(find_ep(f, ep), name);
	ok = d && d->gen == gen;
	pthread_rwlock_unlock(&f->lock);
	return ok;
}

/* ---- logs --------------------------------------------------------------- */

/* A reference on a deployment's log, NULL when there is no such deployment. */
static struct logring *dep_log(struct fleet *f, const char *ep, const char *name)
{
	struct logring *l = NULL;
	struct dep *d;

	pthread_rwlock_rdlock(&f->lock);
	d = find_dep(find_ep(f, ep), name);
	if (d)
		l = logring_ref(d->log);
	pthread_rwlock_unlock(&f->lock);
	return l;
}

void fleet_log(struct fleet *f, const char *ep, const char *name, const char *fmt, ...)
{
	struct logring *l = dep_log(f, ep, name);
	char line[LOGRING_LINE_MAX];
	va_list ap;

	if (l == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	logring_add(l, line);
	logring_unref(l);
}

char *fleet_logs(struct fleet *f, const char *ep, const char *name, int tail)
{
	struct logring *l = dep_log(f, ep, name);
	char *out;

	if (l == NULL)
		return NULL;
	out = logring_tail(l, tail);
	logring_unref(l);
	return out;
}

/* ---- scoring ------------------------------------------------------------ */

static void answer(struct fleet_answer *out, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void answer(struct fleet_answer *out, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	free(out->body);
	out->status = status;
	out->body = cJSON_PrintUnformatted(j);
	out->len = out->body ? strlen(out->body) : 0;
	cJSON_Delete(j);
}

static int credential_ok(const struct ep *e, const struct fleet_call *c, struct error *err)
{
	const char *h = c->authorization;
	const char *cred;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) || h[7] == '\0')
		return error_set(err, 401, "Unauthorized",
				 "missing credential: send Authorization: Bearer <%s>",
				 e->auth == AUTH_KEY ? "endpoint key" : "token");
	cred = h + 7;
	if (e->auth == AUTH_KEY) {
		/* evaluate both so timing says nothing about which one matched */
		int a = auth_equal(cred, e->primary), b = auth_equal(cred, e->secondary);
		if (a | b)
			return 0;
		return error_set(err, 401, "Unauthorized", "wrong endpoint key");
	}
	return auth_token_verify(c->token_secret, c->token_secret_len, cred, e->name, e->key_gen,
				 (int64_t)time(NULL), err);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Scores on l, whose capacity slot the caller holds; gives the slot back. */
static void score_held(struct live *l, const struct engine_request *rq, struct fleet_answer *out)
{
	struct engine_result res;

	memset(&res, 0, sizeof res);
	if (engine_score(l->engine, rq, &res) < 0 || res.status == 0) {
		free(res.body);
		answer(out, 500, "InternalError", "the engine produced no answer");
	} else {
		free(out->body);
		out->status = res.status;
		out->body = res.body;
		out->len = res.len;
	}
	capacity_give(l);
}

/* Runs one request on instance l: capacity (waiting if need be), engine, metrics. */
static void run_on(struct live *l, const struct engine_request *rq, struct fleet_answer *out)
{
	struct timespec deadline;
	uint64_t t0 = now_ns();
	int rc;

	deadline_in(&deadline, l->timeout_ms);
	rc = capacity_take(l, &deadline);
	if (rc == 429) {
		answer(out, 429, "TooManyRequests",
		       "deployment '%s' is at capacity (%d running, %d waiting)", l->name, l->limit,
		       2 * l->limit);
	} else if (rc == 408) {
		answer(out, 408, "RequestTimeout",
		       "request waited past the deployment's requestTimeout of %d ms", l->timeout_ms);
	} else {
		score_held(l, rq, out);
	}
	metrics_record_ns(l->series, out->status, now_ns() - t0);
}

static void mirror_push(struct fleet *f, struct live *l, const char *body, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		live_unref(l);
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	pthread_mutex_lock(&f->mq_lock);
	if (f->mq_n == MIRROR_QUEUE || f->stopping) {
		pthread_mutex_unlock(&f->mq_lock);
		logring_add(l->log, "[runtime] mirror queue full: a mirrored request was dropped");
		free(copy);
		live_unref(l);
		return;
	}
	f->mq[(f->mq_head + f->mq_n) % MIRROR_QUEUE] =
		(struct mirror_job){.live = l, .body = copy, .len = len};
	f->mq_n++;
	pthread_cond_signal(&f->mq_cond);
	pthread_mutex_unlock(&f->mq_lock);
}

static void *mirror_main(void *arg)
{
	struct fleet *f = arg;
	struct mirror_job job;
	struct engine_request rq;
	struct fleet_answer ans;

	for (;;) {
		pthread_mutex_lock(&f->mq_lock);
		while (f->mq_n == 0 && !f->stopping)
			pthread_cond_wait(&f->mq_cond, &f->mq_lock);
		if (f->mq_n == 0) {
			pthread_mutex_unlock(&f->mq_lock);
			return NULL;
		}
		job = f->mq[f->mq_head];
		f->mq_head = (f->mq_head + 1) % MIRROR_QUEUE;
		f->mq_n--;
		pthread_mutex_unlock(&f->mq_lock);
		memset(&rq, 0, sizeof rq);
		memset(&ans, 0, sizeof ans);
		rq.body = job.body;
		rq.len = job.len;
		rq.request_id = "mirror";
		run_on(job.live, &rq, &ans);
		free(ans.body);
		free(job.body);
		live_unref(job.live);
	}
}

/* Under the read lock: the instance to use (ref'd) or an answer why none. */
static struct live *choose(struct fleet *f, const struct fleet_call *c, struct ep *e,
			   struct live **mirror, struct fleet_answer *out)
{
	struct router *r = router_slot_get(&e->router);
	const char *name = c->deployment, *mname = NULL;
	struct dep *d, *md;
	struct live *l = NULL;

	if (name == NULL || *name == '\0') {
		name = r ? router_pick(r, router_random()) : NULL;
		mname = r ? router_mirror(r, router_random()) : NULL;
		if (name == NULL) {
			answer(out, 404, "NoTraffic",
			       "endpoint '%s' has no deployment with traffic", e->name);
			router_unref(r);
			return NULL;
		}
	}
	d = find_dep(e, name);
	if (d == NULL) {
		answer(out, 404, "DeploymentNotFound", "endpoint '%s' has no deployment '%s'",
		       e->name, name);
	} else if (d->current == NULL || d->current->engine == NULL) {
		answer(out, 503, "DeploymentNotReady", "deployment '%s' is not ready (%s)", name,
		       d->pending ? "still loading" : "its last load failed");
	} else {
		l = live_ref(d->current);
	}
	snprintf(out->deployment, sizeof out->deployment, "%s", name);
	if (l && mname && (md = find_dep(e, mname)) && md->current && md->current->engine)
		*mirror = live_ref(md->current);
	(void)f;
	router_unref(r);
	return l;
}

void fleet_score(struct fleet *f, const struct fleet_call *c, struct fleet_answer *out)
{
	struct live *l = NULL, *mirror = NULL;
	struct engine_request rq;
	struct error err;
	struct ep *e;

	memset(out, 0, sizeof *out);
	pthread_rwlock_rdlock(&f->lock);
	e = find_ep(f, c->endpoint);
	if (e == NULL)
		answer(out, 404, "EndpointNotFound", "endpoint '%s' not found", c->endpoint);
	else if (credential_ok(e, c, &err) < 0)
		answer(out, 401, err.code, "%s", err.message);
	else
		l = choose(f, c, e, &mirror, out);
	pthread_rwlock_unlock(&f->lock);
	if (l == NULL)
		return;
	memset(&rq, 0, sizeof rq);
	rq.body = c->body;
	rq.len = c->len;
	rq.headers = c->headers;
	rq.request_id = c->request_id;
	if (!c->may_block) {
		/* on an event loop: only in-process scoring with a free slot */
		uint64_t t0 = now_ns();
		if (l->cfg.type == MODEL_CUSTOM || !capacity_try(l)) {
			out->would_block = 1;
			live_unref(mirror);
			live_unref(l);
			return;
		}
		if (mirror)
			mirror_push(f, mirror, c->body ? c->body : "", c->len);
		score_held(l, &rq, out);
		metrics_record_ns(l->series, out->status, now_ns() - t0);
		live_unref(l);
		return;
	}
	if (mirror)
		mirror_push(f, mirror, c->body ? c->body : "", c->len);
	run_on(l, &rq, out);
	live_unref(l);
}

int fleet_authorize(struct fleet *f, const char *endpoint, const char *authorization,
		    const unsigned char *token_secret, size_t token_secret_len,
		    struct error *err)
{
	struct fleet_call c = {.endpoint = endpoint,
			       .authorization = authorization,
			       .token_secret = token_secret,
			       .token_secret_len = token_secret_len};
	struct ep *e;
	int rc;

	pthread_rwlock_rdlock(&f->lock);
	e = find_ep(f, endpoint);
	if (e == NULL)
		rc = error_set(err, 404, "EndpointNotFound", "endpoint '%s' not found", endpoint);
	else
		rc = credential_ok(e, &c, err);
	pthread_rwlock_unlock(&f->lock);
	return rc;
}

int fleet_liveness(struct fleet *f, const char *name)
{
	struct router *r;
	struct ep *e;
	size_t i;
	int up = 0;

	pthread_rwlock_rdlock(&f->lock);
	e = find_ep(f, name);
	if (e == NULL) {
		pthread_rwlock_unlock(&f->lock);
		return 404;
	}
	r = router_slot_get(&e->router);
	for (i = 0; r && i < e->ndeps; i++)
		if (router_weight(r, e->deps[i]->name) > 0 && e->deps[i]->current)
			up = 1;
	router_unref(r);
	pthread_rwlock_unlock(&f->lock);
	return up ? 200 : 503;
}

/* ---- life --------------------------------------------------------------- */

struct fleet *fleet_new(const char *home, struct metrics *m, fleet_state_fn on_state, void *ctx)
{
	struct fleet *f = calloc(1, sizeof *f);
	int i;

	if (f == NULL)
		return NULL;
	pthread_rwlock_init(&f->lock, NULL);
	pthread_mutex_init(&f->task_lock, NULL);
	pthread_cond_init(&f->task_done, NULL);
	pthread_mutex_init(&f->mq_lock, NULL);
	pthread_cond_init(&f->mq_cond, NULL);
	snprintf(f->home, sizeof f->home, "%s", home);
	f->metrics = m;
	f->on_state = on_state;
	f->ctx = ctx;
	for (i = 0; i < MIRROR_THREADS; i++)
		if (pthread_create(&f->mirror[i], NULL, mirror_main, f) == 0)
			f->nmirror++;
	return f;
}

void fleet_free(struct fleet *f)
{
	size_t i;
	int k;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->task_lock);
	f->stopping = 1;
	while (f->tasks > 0)
		pthread_cond_wait(&f->task_done, &f->task_lock);
	pthread_mutex_unlock(&f->task_lock);
	pthread_mutex_lock(&f->mq_lock);
	f->stopping = 1;
	pthread_cond_broadcast(&f->mq_cond);
	pthread_mutex_unlock(&f->mq_lock);
	for (k = 0; k < f->nmirror; k++)
		pthread_join(f->mirror[k], NULL);
	for (i = 0; i < f->neps; i++)
		ep_free(f, f->eps[i]);
	free(f->eps);
	pthread_rwlock_destroy(&f->lock);
	pthread_mutex_destroy(&f->task_lock);
	pthread_cond_destroy(&f->task_done);
	pthread_mutex_destroy(&f->mq_lock);
	pthread_cond_destroy(&f->mq_cond);
	free(f);
}
