/*
 * fleet.c: live endpoints and deployments. Each deployment entry points at
 * the instance serving now (`current`) and at one being loaded (`pending`);
 * a request holds a reference on the instance it uses, so a reload or a
 * delete never fails a request in flight. Endpoints are a sorted array
 * (binary search per request); each holds its few deployments.
 *
 * A request that must wait is a job: it waits in its instance's capacity
 * queue (FIFO, bounded) or inside a Python engine, holding no thread. The
 * thread that frees a slot starts the next job; the timer thread answers
 * 408 to those whose wait passed requestTimeout. Mirror copies are jobs too.
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
#include <unistd.h>

#include "runtime/auth.h"
#include "runtime/engines/engine.h"
#include "runtime/engines/mlflow.h"
#include "runtime/logring.h"
#include "runtime/monitor/collector.h"
#include "runtime/pyenv.h"
#include "runtime/pool.h"
#include "runtime/router.h"
#include "state/artifact.h"
#include "state/clock.h"

#define STOP_DRAIN_MS 5000 /* after cancelling, how long jobs get to report back */

struct fleet_job;

/* One loaded (or loading) instance of a deployment's spec. */
struct live {
	atomic_int refs;
	struct fleet *f;
	atomic_int cancel; /* abandon the load: deleted or replaced before it was up */
	char ep[RESOURCE_NAME_MAX + 1];
	char name[RESOURCE_NAME_MAX + 1];
	uint64_t gen;
	struct engine *engine; /* set before publication, then immutable */
	struct engine_config cfg;
	char *model_path;
	char *python;   /* NULL: mapped from image (pyenv.h) when loading */
	char *image;    /* the environment's image and conda file, or NULL */
	char *conda;
	char *code_dir;
	char *script;
	struct mlflow_plan mlflow; /* mlflow_model without a script: what serves it */
	char **mlflow_env;         /* env plus the plan's, NULL-terminated (borrowed strings) */
	char **env;     /* NULL-terminated "K=V" */
	char **modules; /* NULL-terminated */
	int timeout_ms;
	int workers;
	pthread_mutex_t cap_lock; /* limit, running, the queue */
	int limit, running, waiting;
	struct fleet_job *qhead, *qtail; /* waiting for a slot, oldest first */
	int timed;                       /* on the timer's list (under timer_lock) */
	struct live *timer_next;
	struct live *reg_prev, *reg_next; /* every live instance (under reg_lock) */
	struct metrics_series *series;
	struct logring *log;
	struct collector_tap *tap; /* monitor: where its production data goes */
};

struct dep {
	char name[RESOURCE_NAME_MAX + 1];
	struct deployment spec; /* as last synced (read and written by sync only) */
	uint64_t gen;
	struct live *current;
	struct live *pending;
	struct logring *log;
	struct metrics_series *series;
	struct collector_tap *tap;
	atomic_int failed; /* the load of the current spec failed: a retry reloads */
};

struct ep {
	char name[RESOURCE_NAME_MAX + 1];
	enum auth_mode auth;
	char primary[RESOURCE_KEY_LEN + 1];
	char secondary[RESOURCE_KEY_LEN + 1];
	uint32_t key_gen;
	char uid[RESOURCE_KEY_LEN + 1];
	struct router_slot router;
	struct dep **deps;
	size_t ndeps;
};

/* A request that could not be answered at once (fleet.h). */
struct fleet_job {
	struct fleet *f;
	struct live *l;      /* the instance it runs on */
	struct live *mirror; /* a copy goes there when it starts; NULL */
	struct engine_request rq;
	char *copy;          /* a mirror job's own copy of the body */
	uint64_t t0;
	int64_t wait_until;  /* end of the capacity wait, monotonic ms */
	fleet_done_fn done;
	void *ctx;
	struct fleet_answer ans;
	struct fleet_job *next;
};

struct fleet {
	pthread_rwlock_t lock; /* eps, deps, current/pending pointers, keys */
	struct ep **eps;       /* sorted by name */
	size_t neps, caps;     /* caps: room in eps */
	uint64_t next_gen;     /* sync only */
	char home[PATH_MAX];
	struct metrics *metrics;
	struct collector *collector; /* NULL: nothing is collected */
	fleet_state_fn on_state;
	void *ctx;

	pthread_mutex_t task_lock; /* background loads, scalings and frees */
	pthread_cond_t task_done;
	int tasks;
	int stopping;

	atomic_int closing;       /* fleet_stop: waiting is over */
	long worker_memory_mb;    /* default per Python worker process, 0: none */
	struct pool *compute;     /* in-process scoring of jobs that had to queue */
	pthread_mutex_t reg_lock; /* the registry of lives, the job count */
	pthread_cond_t jobs_idle;
	struct live *lives;
	long jobs;

	pthread_mutex_t timer_lock; /* lives with a capacity queue, for deadlines */
	pthread_cond_t timer_cond;
	struct live *timed;
	int timer_stop, timer_running;
	pthread_t timer;
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

static void task_start(struct fleet *f, struct live *l, int resize);

static void live_destroy(struct live *l)
{
	struct fleet *f = l->f;

	pthread_mutex_lock(&f->reg_lock);
	if (l->reg_prev)
		l->reg_prev->reg_next = l->reg_next;
	else
		f->lives = l->reg_next;
	if (l->reg_next)
		l->reg_next->reg_prev = l->reg_prev;
	pthread_mutex_unlock(&f->reg_lock);
	engine_free(l->engine);
	free(l->model_path);
	free(l->python);
	free(l->image);
	free(l->conda);
	free(l->code_dir);
	free(l->script);
	mlflow_plan_cleanup(&l->mlflow);
	free(l->mlflow_env);
	strv_free(l->env);
	strv_free(l->modules);
	pthread_mutex_destroy(&l->cap_lock);
	metrics_series_unref(l->series);
	logring_unref(l->log);
	collector_tap_unref(l->tap);
	free(l);
}

/* The last reference may go on an engine's own thread (a job's answer): an
 * engine that waits on processes is freed on a thread of its own. */
static void live_unref(struct live *l)
{
	if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->engine && engine_waits(l->engine))
		task_start(l->f, l, -1);
	else
		live_destroy(l);
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

/* A setting read as Azure's inference server reads its own: the deployment's
 * environment variable, else the environment's; NULL when neither has it. */
static const char *deployment_var(const struct kvlist *vars, const struct env_version *e,
				  const char *name)
{
	const char *v = kvlist_get(vars, name);

	return v == NULL && e ? kvlist_get(&e->variables, name) : v;
}

/* Python workers per instance: WORKER_COUNT, else 1. */
static int worker_count(const struct deployment *s, const struct env_version *e)
{
	const char *v = deployment_var(&s->variables, e, "WORKER_COUNT");
	char *end;
	long n;

	if (v == NULL)
		return 1;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 1 && n <= 64 ? (int)n : 1;
}

char *fleet_code_path(struct fleet *f, const struct workspace *ws, const char *name,
		      const char *version, const char *dir)
{
	const struct code_version *cv;
	char path[PATH_MAX];

	if (name[0] == '\0')
		return dup_or_null(dir);
	cv = workspace_code_find(ws, name, version);
	if (cv == NULL || cv->dir == NULL || artifact_path(f->home, cv->dir, path, sizeof path) < 0)
		return NULL;
	return strdup(path);
}

/* A memory limit in MiB (0: none), or -1 when it is not one a worker can
 * start with. */
static long memory_mb(const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || (n != 0 && (n < 64 || n > (1L << 30))))
		return -1;
	return n;
}

/* MLDECK_WORKER_MEMORY_MB, else the runtime's default. */
static long worker_memory(const struct kvlist *vars, const struct env_version *e, long dflt)
{
	const char *v = deployment_var(vars, e, "MLDECK_WORKER_MEMORY_MB");

	return v == NULL ? dflt : memory_mb(v);
}

int fleet_pyconf(struct fleet *f, const struct env_version *e, const struct kvlist *vars,
		 struct fleet_pyconf *out)
{
	memset(out, 0, sizeof *out);
	out->python = e->python != NULL ? strdup(e->python) : NULL;
	out->modules = module_vector(e);
	out->env = env_vector(&e->variables, vars);
	out->memory_mb = worker_memory(vars, e, f->worker_memory_mb);
	if ((e->python != NULL && out->python == NULL) || out->modules == NULL ||
	    out->env == NULL) {
		fleet_pyconf_cleanup(out);
		return -1;
	}
	return 0;
}

void fleet_pyconf_cleanup(struct fleet_pyconf *p)
{
	free(p->python);
	strv_free(p->env);
	strv_free(p->modules);
	memset(p, 0, sizeof *p);
}

int fleet_set_worker_memory(struct fleet *f, const char *mb)
{
	long n = memory_mb(mb);

	if (n < 0)
		return -1;
	f->worker_memory_mb = n;
	return 0;
}

/* Resolves a deployment's spec s against ws into a loadable instance of
 * generation gen (d gives the log and metrics it shares). */
/* Rows a score.py collected, for the deployment's collector. */
static void live_collect(void *ctx, const char *name, const char *correlation,
			 const char *request_id, const char *data, size_t len)
{
	struct live *l = ctx;

	collector_custom(l->tap, name, data, len, correlation, request_id);
}

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
	atomic_init(&l->cancel, 0);
	l->f = f;
	snprintf(l->ep, sizeof l->ep, "%s", ep);
	snprintf(l->name, sizeof l->name, "%s", s->name);
	l->gen = gen;
	pthread_mutex_init(&l->cap_lock, NULL);
	/* requests at once: instances x maxConcurrent; Python processes: instances x
	 * WORKER_COUNT, and the requests beyond them wait for a free worker */
	l->limit = s->instances * s->max_concurrent;
	l->workers = s->instances * worker_count(s, e);
	l->timeout_ms = s->timeout_ms;
	l->series = metrics_series_ref(d->series);
	l->log = logring_ref(d->log);
	l->tap = collector_tap_ref(d->tap);
	if (m && m->artifact && artifact_path(f->home, m->artifact, path, sizeof path) == 0)
		l->model_path = strdup(path);
	l->cfg.type = m ? m->type : MODEL_LINEAR;
	if (e) {
		l->python = dup_or_null(e->python);
		l->image = dup_or_null(e->image);
		l->conda = dup_or_null(e->conda_file);
		l->modules = module_vector(e);
	}
	l->env = env_vector(e ? &e->variables : &none, &s->variables);
	l->code_dir = fleet_code_path(f, ws, s->code_name, s->code_version, s->code_dir);
	l->script = dup_or_null(s->scoring_script);
	l->cfg.model_path = l->model_path;
	l->cfg.python = l->python;
	l->cfg.code_dir = l->code_dir;
	l->cfg.scoring_script = l->script;
	l->cfg.env = (const char *const *)l->env;
	l->cfg.modules = (const char *const *)l->modules;
	l->cfg.workers = l->workers;
	l->cfg.timeout_ms = l->timeout_ms;
	l->cfg.memory_mb = worker_memory(&s->variables, e, f->worker_memory_mb);
	l->cfg.log = live_log;
	l->cfg.log_ctx = l->log;
	l->cfg.collect = live_collect;
	l->cfg.collect_ctx = l;
	l->cfg.cancel = &l->cancel;
	if (m == NULL || (e == NULL && s->env_name[0] != '\0') || l->model_path == NULL) {
		/* the workspace guarantees references; a missing one fails the load */
		free(l->model_path);
		l->model_path = NULL;
		l->cfg.model_path = NULL;
	}
	pthread_mutex_lock(&f->reg_lock);
	l->reg_next = f->lives;
	if (f->lives)
		f->lives->reg_prev = l;
	f->lives = l;
	pthread_mutex_unlock(&f->reg_lock);
	return l;
}

/* ---- capacity ----------------------------------------------------------- */

static void job_run(struct fleet_job *j);

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

enum cap_rc { CAP_RUN, CAP_QUEUED, CAP_FULL, CAP_CLOSED };

static void timer_watch(struct live *l);

/* A slot now, a place in the queue (until requestTimeout), or neither. */
static enum cap_rc capacity_enter(struct live *l, struct fleet_job *j)
{
	enum cap_rc rc = CAP_RUN;
	int first = 0;

	pthread_mutex_lock(&l->cap_lock);
	if (atomic_load(&l->f->closing)) { /* read under the lock: see fleet_stop */
		rc = CAP_CLOSED;
	} else if (l->running < l->limit) {
		l->running++;
	} else if (l->waiting >= 2 * l->limit) {
		rc = CAP_FULL;
	} else {
		j->wait_until = mono_ms() + l->timeout_ms;
		j->next = NULL;
		first = l->qhead == NULL;
		if (l->qtail)
			l->qtail->next = j;
		else
			l->qhead = j;
		l->qtail = j;
		l->waiting++;
		rc = CAP_QUEUED;
	}
	pthread_mutex_unlock(&l->cap_lock);
	if (first)
		timer_watch(l);
	return rc;
}

/* Under cap_lock: the oldest waiter, which now holds a slot. */
static struct fleet_job *queue_take(struct live *l)
{
	struct fleet_job *j = l->qhead;

	l->qhead = j->next;
	if (l->qhead == NULL)
		l->qtail = NULL;
	j->next = NULL;
	l->waiting--;
	l->running++;
	return j;
}

/* Starts jobs that just got a slot, in order, without recursing when one
 * finishes at once and frees its slot for the next. */
static void jobs_run(struct fleet_job *list)
{
	static _Thread_local struct fleet_job *head, *tail;
	static _Thread_local int running;
	struct fleet_job *j;

	if (list == NULL)
		return;
	if (tail)
		tail->next = list;
	else
		head = list;
	for (tail = list; tail->next; tail = tail->next)
		;
	if (running)
		return;
	running = 1;
	while ((j = head) != NULL) {
		head = j->next;
		if (head == NULL)
			tail = NULL;
		j->next = NULL;
		job_run(j);
	}
	running = 0;
}

/* Gives a slot back; the oldest waiter, if any, takes it. */
static void capacity_leave(struct live *l)
{
	struct fleet_job *next = NULL;

	pthread_mutex_lock(&l->cap_lock);
	l->running--;
	if (l->qhead && l->running < l->limit)
		next = queue_take(l);
	pthread_mutex_unlock(&l->cap_lock);
	jobs_run(next);
}

/* A new limit (scale change); capacity_fill then starts the waiters that fit. */
static void capacity_set(struct live *l, int limit)
{
	pthread_mutex_lock(&l->cap_lock);
	l->limit = limit;
	pthread_mutex_unlock(&l->cap_lock);
}

static void capacity_fill(struct live *l)
{
	struct fleet_job *start = NULL, **tail = &start;

	pthread_mutex_lock(&l->cap_lock);
	while (l->qhead && l->running < l->limit) {
		*tail = queue_take(l);
		tail = &(*tail)->next;
	}
	pthread_mutex_unlock(&l->cap_lock);
	jobs_run(start);
}

/* Under cap_lock: takes the waiters whose deadline passed (or all of them). */
static struct fleet_job *queue_expire(struct live *l, int64_t now, int all)
{
	struct fleet_job *out = NULL, **tail = &out, *j;

	while ((j = l->qhead) != NULL && (all || j->wait_until <= now)) {
		l->qhead = j->next;
		if (l->qhead == NULL)
			l->qtail = NULL;
		l->waiting--;
		j->next = NULL;
		*tail = j;
		tail = &j->next;
	}
	return out;
}

/* ---- the timer: 408 for jobs that waited past requestTimeout ------------- */

static void job_fail(struct fleet_job *j, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Puts l on the timer's list (its queue just became non-empty). */
static void timer_watch(struct live *l)
{
	struct fleet *f = l->f;

	pthread_mutex_lock(&f->timer_lock);
	if (!l->timed) {
		l->timed = 1;
		l->timer_next = f->timed;
		f->timed = live_ref(l);
		pthread_cond_signal(&f->timer_cond);
	}
	pthread_mutex_unlock(&f->timer_lock);
}

/* Under timer_lock: collects expired jobs of every watched live; unlinks
 * lives whose queue is empty onto *gone. Returns the next deadline. */
static int64_t timer_scan(struct fleet *f, int64_t now, struct fleet_job **expired,
			  struct live **gone)
{
	int64_t next = now + 60000;
	struct live **p = &f->timed, *l;
	struct fleet_job *x, *last;

	while ((l = *p) != NULL) {
		pthread_mutex_lock(&l->cap_lock);
		x = queue_expire(l, now, 0);
		if (l->qhead && l->qhead->wait_until < next)
			next = l->qhead->wait_until;
		if (l->qhead == NULL) {
			*p = l->timer_next;
			l->timed = 0;
			l->timer_next = *gone;
			*gone = l;
		} else {
			p = &l->timer_next;
		}
		pthread_mutex_unlock(&l->cap_lock);
		for (last = x; last && last->next; last = last->next)
			;
		if (last) {
			last->next = *expired;
			*expired = x;
		}
	}
	return next;
}

static void *timer_main(void *arg)
{
	struct fleet *f = arg;
	struct fleet_job *expired, *j;
	struct live *gone, *l;
	struct timespec ts;
	int64_t next;

	pthread_mutex_lock(&f->timer_lock);
	while (!f->timer_stop) {
		expired = NULL;
		gone = NULL;
		next = timer_scan(f, mono_ms(), &expired, &gone);
		pthread_mutex_unlock(&f->timer_lock);
		while ((j = expired) != NULL) {
			expired = j->next;
			job_fail(j, 408, "RequestTimeout",
				 "request waited past the deployment's requestTimeout of %d ms",
				 j->l->timeout_ms);
		}
		while ((l = gone) != NULL) {
			gone = l->timer_next;
			live_unref(l);
		}
		pthread_mutex_lock(&f->timer_lock);
		next -= mono_ms();
		if (!f->timer_stop && next > 0) {
			ts = clock_deadline((long)next);
			pthread_cond_timedwait(&f->timer_cond, &f->timer_lock, &ts);
		}
	}
	pthread_mutex_unlock(&f->timer_lock);
	return NULL;
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
	int resize; /* 0: load; > 0: the new worker count; -1: free the instance */
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
		atomic_store(&d->failed, 0);
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
		atomic_store(&d->failed, d->gen == l->gen);
		dropped = 1;
	}
	pthread_rwlock_unlock(&f->lock);
	if (dropped)
		live_unref(l);
}

/* A model run in Python: the interpreter its environment maps to, and the
 * conda file's packages checked there (pyenv.h). */
static int python_ready(struct fleet *f, struct live *l, struct error *err)
{
	char py[PATH_MAX];

	if (l->cfg.type != MODEL_CUSTOM && l->cfg.type != MODEL_MLFLOW)
		return 0;
	if (l->python == NULL) {
		if (pyenv_interpreter(f->home, l->image, py, sizeof py, err) < 0 ||
		    (l->python = strdup(py)) == NULL)
			return err->status ? -1 : error_set(err, 500, "OutOfMemory", "out of memory");
		l->cfg.python = l->python;
		snprintf(py, sizeof py, "[environment] interpreter %.1000s for image %.500s",
			 l->python, l->image != NULL ? l->image : "(none)");
		logring_add(l->log, py);
	}
	if (l->conda == NULL)
		return 0;
	return pyenv_check(l->python, l->conda, live_log, l->log, err);
}

/* An mlflow_model without a scoring script: the engine its flavors ask for
 * (mlflow.h), in place of the model's own type. */
static int mlflow_ready(struct fleet *f, struct live *l, struct error *err)
{
	char scratch[PATH_MAX];
	size_t n = 0, k = 0;

	if (l->cfg.type != MODEL_MLFLOW)
		return 0;
	if (l->script != NULL) { /* a score.py of the user's: as custom_model */
		l->cfg.type = MODEL_CUSTOM;
		return 0;
	}
	if (snprintf(scratch, sizeof scratch, "%s/tmp", f->home) >= (int)sizeof scratch)
		return error_set(err, 500, "ModelLoadError", "home path too long");
	if (mlflow_plan(l->model_path, scratch, &l->mlflow, err) < 0)
		return -1;
	while (l->env != NULL && l->env[n] != NULL)
		n++;
	if ((l->mlflow_env = calloc(n + 3, sizeof *l->mlflow_env)) == NULL)
		return error_set(err, 500, "OutOfMemory", "out of memory");
	for (size_t i = 0; i < n; i++)
		l->mlflow_env[k++] = l->env[i];
	for (size_t i = 0; l->mlflow.env[i] != NULL; i++)
		l->mlflow_env[k++] = l->mlflow.env[i];
	l->cfg.type = l->mlflow.type;
	l->cfg.model_path = l->mlflow.model_path;
	l->cfg.env = (const char *const *)l->mlflow_env;
	if (l->mlflow.type == MODEL_CUSTOM) {
		l->cfg.code_dir = l->mlflow.code_dir;
		l->cfg.scoring_script = MLFLOW_SCRIPT;
	}
	logring_add(l->log, l->mlflow.type == MODEL_XGBOOST
				? "[runtime] mlflow_model: the xgboost flavor, scored in process"
				: "[runtime] mlflow_model: the sklearn flavor, in Python workers");
	return 0;
}

static void load_task(struct task *t)
{
	struct live *l = t->live;
	struct engine *engine = NULL;
	struct error err;

	memset(&err, 0, sizeof err);
	logring_add(l->log, "[runtime] loading model");
	if (l->cfg.model_path == NULL)
		error_set(&err, 400, "ModelLoadError", "the model or environment is missing");
	else if (python_ready(t->f, l, &err) == 0 && mlflow_ready(t->f, l, &err) == 0)
		engine = engine_load(&l->cfg, &err);
	pthread_mutex_lock(&l->cap_lock); /* cancel_everything may look */
	l->engine = engine;
	pthread_mutex_unlock(&l->cap_lock);
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

	if (t->resize < 0)
		live_destroy(t->live);
	else if (t->resize)
		resize_task(t);
	else
		load_task(t);
	free(t);
	task_finish(f);
	return NULL;
}

/* Starts a task on its own detached thread; takes a reference on l (or, to
 * free it, the last one). */
static void task_start(struct fleet *f, struct live *l, int resize)
{
	struct task *t = calloc(1, sizeof *t);
	pthread_attr_t at;
	pthread_t th;

	if (t == NULL) {
		if (resize < 0)
			live_destroy(l);
		return;
	}
	t->f = f;
	t->live = resize < 0 ? l : live_ref(l);
	t->resize = resize;
	pthread_mutex_lock(&f->task_lock);
	f->tasks++;
	pthread_mutex_unlock(&f->task_lock);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, task_main, t) != 0) {
		if (resize < 0)
			live_destroy(l);
		else
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

/* A load nobody will publish: its engine_load gives up (init() may hang). */
static void live_abandon(struct live *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->cancel, 1);
	live_unref(l);
}

static void dep_free(struct fleet *f, const char *ep, struct dep *d)
{
	live_unref(d->current);
	live_abandon(d->pending);
	logring_unref(d->log);
	metrics_series_unref(d->series);
	metrics_remove(f->metrics, ep, d->name);
	collector_tap_unref(d->tap);
	if (f->collector)
		collector_forget(f->collector, ep, d->name);
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
	d->tap = f->collector ? collector_tap(f->collector, ep, name) : NULL;
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

/* What the deployment's dataCollector asks for, applied to its tap at once
 * (collection settings never need a reload). */
static void tap_configure(struct collector_tap *t, const struct deployment *s,
			  const struct workspace *ws)
{
	const struct model_version *m = workspace_model_find(ws, s->model_name, s->model_version);
	const char *q = kvlist_get(&s->variables, "MLDECK_COLLECT_QUOTA_MB");
	struct datacollector dc;
	struct error err;
	double mb = q ? strtod(q, NULL) : 0;

	if (t == NULL)
		return;
	if (s->data_collector == NULL || datacollector_from_text(s->data_collector, &dc, &err) < 0)
		collector_tap_configure(t, NULL, 0, 0);
	else
		collector_tap_configure(t, &dc, m == NULL || m->type != MODEL_CUSTOM,
					mb > 0 ? (uint64_t)(mb * 1048576.0) : 0);
}

static int dep_plan(struct fleet *f, struct ep *e, const struct deployment *s,
		    const struct workspace *ws, struct dep_plan *p)
{
	int reload;

	memset(p, 0, sizeof *p);
	p->d = find_dep(e, s->name);
	p->fresh = p->d == NULL;
	if (p->fresh && (p->d = dep_new(f, e->name, s->name)) == NULL)
		return -1;
	if (deployment_copy(&p->spec, s) < 0)
		return -1;
	tap_configure(p->d->tap, s, ws);
	/* the one rule (resource.h), plus the workspace asking again for a spec whose
	 * load failed (a re-PUT moves it from Failed to Updating) */
	reload = p->fresh || deployment_needs_reload(&p->d->spec, s) ||
		 (atomic_load(&p->d->failed) &&
		  (s->state == PROV_UPDATING || s->state == PROV_CREATING));
	p->rescale = !reload && deployment_needs_rescale(&p->d->spec, s);
	if (!reload && !p->rescale)
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
		live_abandon(d->dropped); /* a load nobody will publish */
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
	atomic_store(&d->failed, 0);
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
	memcpy(e->uid, p->src->uid, sizeof e->uid);
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

		if (d->resized) {
			capacity_fill(d->resized);
			task_start(f, d->resized, d->workers);
		}
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
	return auth_token_verify(c->token_secret, c->token_secret_len, cred,
				 &(struct auth_audience){e->name, e->uid, e->key_gen},
				 (int64_t)time(NULL), err);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	capacity_leave(l);
}

/* ---- data collection ---------------------------------------------------- */

/* A header of a "Name: value" list, by name (any case). */
static const char *list_header(const void *ctx, const char *name)
{
	const char *const *h = ctx;
	size_t n = strlen(name);

	for (; h && *h; h++)
		if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':')
			return (*h)[n + 1] == ' ' ? *h + n + 2 : *h + n + 1;
	return NULL;
}

/* Hands an answered request to the deployment's collector (it copies what
 * it samples and returns at once). */
static void collect(struct live *l, const struct engine_request *rq, const struct fleet_answer *a,
		    const char *(*header)(const void *, const char *), const void *hctx)
{
	struct collector_event ev;

	if (l->tap == NULL)
		return;
	ev.body = rq->body;
	ev.len = rq->len;
	ev.answer = a->body;
	ev.alen = a->len;
	ev.status = a->status;
	ev.request_id = rq->request_id;
	ev.header = header ? header : list_header;
	ev.hctx = header ? hctx : (const void *)rq->headers;
	collector_offer(l->tap, &ev);
}

/* ---- jobs --------------------------------------------------------------- */

static struct fleet_job *job_new(struct fleet *f, struct live *l, struct live *mirror,
				 const struct fleet_call *c, const char *deployment)
{
	struct fleet_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->f = f;
	j->l = l;
	j->mirror = mirror;
	j->rq.body = c->body ? c->body : "";
	j->rq.len = c->len;
	j->rq.request_id = c->request_id;
	j->t0 = now_ns();
	snprintf(j->ans.deployment, sizeof j->ans.deployment, "%s", deployment);
	pthread_mutex_lock(&f->reg_lock);
	f->jobs++;
	pthread_mutex_unlock(&f->reg_lock);
	return j;
}

/* Records the answer, lets go of the job, then hands the answer over. */
static void job_end(struct fleet_job *j)
{
	struct fleet *f = j->f;
	struct fleet_answer ans = j->ans;
	fleet_done_fn done = j->done;
	void *ctx = j->ctx;

	metrics_record_ns(j->l->series, ans.status, now_ns() - j->t0);
	collect(j->l, &j->rq, &ans, NULL, NULL);
	live_unref(j->l);
	live_unref(j->mirror);
	free(j->copy);
	free(j);
	done(ctx, &ans);
	pthread_mutex_lock(&f->reg_lock);
	if (--f->jobs == 0)
		pthread_cond_broadcast(&f->jobs_idle);
	pthread_mutex_unlock(&f->reg_lock);
}

static void job_fail(struct fleet_job *j, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	answer(&j->ans, status, code, "%s", msg);
	job_end(j);
}

/* The engine answered (on its own thread, or at once). */
static void job_engine_done(void *ctx, struct engine_result *res)
{
	struct fleet_job *j = ctx;

	if (res->status == 0 || res->body == NULL) {
		free(res->body);
		answer(&j->ans, 500, "InternalError", "the engine produced no answer");
	} else {
		free(j->ans.body);
		j->ans.status = res->status;
		j->ans.body = res->body;
		j->ans.len = res->len;
	}
	capacity_leave(j->l);
	job_end(j);
}

/* In-process scoring of a job that waited, on the compute pool. */
static void job_compute(void *arg)
{
	struct fleet_job *j = arg;

	score_held(j->l, &j->rq, &j->ans);
	job_end(j);
}

/* The job holds a slot: score it. */
static void job_run(struct fleet_job *j)
{
	if (engine_waits(j->l->engine))
		engine_submit(j->l->engine, &j->rq, job_engine_done, j);
	else if (pool_submit(j->f->compute, job_compute, j) < 0)
		job_compute(j);
}

static void mirror_done(void *ctx, struct fleet_answer *ans)
{
	(void)ctx;
	free(ans->body);
}

static void job_enter(struct fleet_job *j)
{
	struct live *l = j->l;

	switch (capacity_enter(l, j)) {
	case CAP_RUN:
		jobs_run(j);
		break;
	case CAP_QUEUED:
		break;
	case CAP_FULL:
		if (j->done == mirror_done)
			logring_add(l->log, "[runtime] a mirrored request was dropped: at capacity");
		job_fail(j, 429, "TooManyRequests",
			 "deployment '%s' is at capacity (%d running, %d waiting)", l->name, l->limit,
			 2 * l->limit);
		break;
	case CAP_CLOSED:
		job_fail(j, 503, "ServiceUnavailable", "the runtime is stopping");
		break;
	}
}

/* A copy of the request for the mirror deployment; its answer is dropped. */
static void mirror_push(struct fleet *f, struct live *l, const char *body, size_t len)
{
	struct fleet_call c;
	struct fleet_job *j;
	char *copy = malloc(len + 1);

	memset(&c, 0, sizeof c);
	c.body = copy;
	c.len = len;
	c.request_id = "mirror";
	j = copy ? job_new(f, l, NULL, &c, l->name) : NULL;
	if (j == NULL) {
		free(copy);
		live_unref(l);
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	j->copy = copy;
	j->done = mirror_done;
	job_enter(j);
}

void fleet_job_start(struct fleet_job *j, const char *const *headers, fleet_done_fn done,
		     void *ctx)
{
	j->rq.headers = headers;
	j->done = done;
	j->ctx = ctx;
	if (j->mirror) {
		mirror_push(j->f, j->mirror, j->rq.body, j->rq.len);
		j->mirror = NULL;
	}
	job_enter(j);
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
	_Static_assert(sizeof d->name == sizeof out->deployment, "one name size");
	if (d != NULL) /* NUL-terminated, the same size: no printf on the hot path */
		memcpy(out->deployment, d->name, sizeof out->deployment);
	else
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
	struct fleet_job *j;
	struct error err;
	struct ep *e;
	uint64_t t0 = now_ns();

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
	if (!engine_waits(l->engine) && capacity_try(l)) {
		/* the hot path: in-process scoring on the event loop, no job */
		memset(&rq, 0, sizeof rq);
		rq.body = c->body;
		rq.len = c->len;
		rq.request_id = c->request_id;
		if (mirror)
			mirror_push(f, mirror, c->body ? c->body : "", c->len);
		score_held(l, &rq, out);
		metrics_record_ns(l->series, out->status, now_ns() - t0);
		collect(l, &rq, out, c->header, c->header_ctx);
		live_unref(l);
		return;
	}
	j = job_new(f, l, mirror, c, out->deployment);
	if (j == NULL) {
		live_unref(l);
		live_unref(mirror);
		answer(out, 500, "InternalError", "out of memory");
		return;
	}
	out->would_block = 1;
	out->job = j;
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

/* Threads for in-process scoring of jobs that queued: they never wait, so one
 * per CPU is plenty. */
static int compute_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > 32 ? 32 : (int)n;
}

void fleet_set_collector(struct fleet *f, struct collector *c)
{
	f->collector = c;
}

struct fleet *fleet_new(const char *home, struct metrics *m, fleet_state_fn on_state, void *ctx)
{
	struct fleet *f = calloc(1, sizeof *f);

	if (f == NULL)
		return NULL;
	pthread_rwlock_init(&f->lock, NULL);
	pthread_mutex_init(&f->task_lock, NULL);
	pthread_cond_init(&f->task_done, NULL);
	pthread_mutex_init(&f->reg_lock, NULL);
	pthread_cond_init(&f->jobs_idle, NULL);
	pthread_mutex_init(&f->timer_lock, NULL);
	pthread_cond_init(&f->timer_cond, NULL);
	atomic_init(&f->closing, 0);
	snprintf(f->home, sizeof f->home, "%s", home);
	f->metrics = m;
	f->on_state = on_state;
	f->ctx = ctx;
	f->compute = pool_new(compute_threads(), 10000);
	f->timer_running = pthread_create(&f->timer, NULL, timer_main, f) == 0;
	if (f->compute == NULL || !f->timer_running) {
		fleet_free(f);
		return NULL;
	}
	return f;
}

/* Waits (under reg_lock) until no job is left or the deadline passes. */
static void jobs_wait(struct fleet *f, int64_t until)
{
	struct timespec ts;
	int64_t left;

	while (f->jobs > 0 && (left = until - mono_ms()) > 0) {
		ts = clock_deadline(left > 100 ? 100 : (long)left);
		pthread_cond_timedwait(&f->jobs_idle, &f->reg_lock, &ts);
	}
}

/* A reference on every live instance (a heap array, *n long); NULL when none. */
static struct live **lives_snapshot(struct fleet *f, size_t *n)
{
	struct live **v = NULL, *l;
	size_t cap = 0;

	*n = 0;
	pthread_mutex_lock(&f->reg_lock);
	for (l = f->lives; l; l = l->reg_next)
		cap++;
	v = cap ? malloc(cap * sizeof *v) : NULL;
	for (l = f->lives; v && l; l = l->reg_next) {
		if (atomic_fetch_add(&l->refs, 1) == 0) { /* being destroyed: leave it */
			atomic_fetch_sub(&l->refs, 1);
			continue;
		}
		v[(*n)++] = l;
	}
	pthread_mutex_unlock(&f->reg_lock);
	return v;
}

/* Answers every job still queued or running (503), abandons every load. */
static void cancel_everything(struct fleet *f)
{
	struct fleet_job *x, *j;
	struct engine *engine;
	struct live **v;
	size_t i, n;

	v = lives_snapshot(f, &n);
	for (i = 0; i < n; i++) {
		atomic_store(&v[i]->cancel, 1);
		pthread_mutex_lock(&v[i]->cap_lock);
		x = queue_expire(v[i], 0, 1);
		engine = v[i]->engine;
		pthread_mutex_unlock(&v[i]->cap_lock);
		while ((j = x) != NULL) {
			x = j->next;
			job_fail(j, 503, "ServiceUnavailable", "the runtime is stopping");
		}
		if (engine)
			engine_cancel(engine);
	}
	for (i = 0; i < n; i++)
		live_unref(v[i]);
	free(v);
}

void fleet_stop(struct fleet *f, int grace_ms)
{
	if (atomic_exchange(&f->closing, 1))
		return;
	pthread_mutex_lock(&f->reg_lock);
	jobs_wait(f, mono_ms() + (grace_ms > 0 ? grace_ms : 0));
	pthread_mutex_unlock(&f->reg_lock);
	cancel_everything(f);
	pthread_mutex_lock(&f->reg_lock);
	jobs_wait(f, mono_ms() + STOP_DRAIN_MS);
	pthread_mutex_unlock(&f->reg_lock);
}

static void tasks_wait(struct fleet *f)
{
	pthread_mutex_lock(&f->task_lock);
	f->stopping = 1;
	while (f->tasks > 0)
		pthread_cond_wait(&f->task_done, &f->task_lock);
	pthread_mutex_unlock(&f->task_lock);
}

void fleet_free(struct fleet *f)
{
	size_t i;

	if (f == NULL)
		return;
	fleet_stop(f, 0);
	tasks_wait(f); /* loads give up: fleet_stop cancelled them */
	if (f->timer_running) {
		pthread_mutex_lock(&f->timer_lock);
		f->timer_stop = 1;
		pthread_cond_signal(&f->timer_cond);
		pthread_mutex_unlock(&f->timer_lock);
		pthread_join(f->timer, NULL);
	}
	while (f->timed) {
		struct live *l = f->timed;
		f->timed = l->timer_next;
		live_unref(l);
	}
	for (i = 0; i < f->neps; i++)
		ep_free(f, f->eps[i]);
	free(f->eps);
	tasks_wait(f); /* engines freed on threads of their own */
	pool_free(f->compute);
	pthread_rwlock_destroy(&f->lock);
	pthread_mutex_destroy(&f->task_lock);
	pthread_cond_destroy(&f->task_done);
	pthread_mutex_destroy(&f->reg_lock);
	pthread_cond_destroy(&f->jobs_idle);
	pthread_mutex_destroy(&f->timer_lock);
	pthread_cond_destroy(&f->timer_cond);
	free(f);
}
