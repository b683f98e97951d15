/* monitors.c: monitors as schedules, their runs as jobs, live references, alerts (monitors.h). */
#include "runtime/monitor/monitors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "runtime/core.h"
#include "runtime/invoke.h"
#include "runtime/monitor/alerts.h"
#include "runtime/monitor/collector.h"
#include "runtime/monitor/columns.h"
#include "runtime/monitor/drift.h"
#include "runtime/monitor/monrun.h"
#include "runtime/monitor/signals.h"
#include "runtime/monitor/stats.h"
#include "runtime/monitor/thread.h"
#include "runtime/scheduler.h"
#include "state/clock.h"
#include "state/batch.h"
#include "state/batchcodec.h"
#include "state/file.h"

#define RESULTS_MAX (64u << 20)
#define ALERTS_KEPT 20

struct queued {
	struct queued *next;
	char name[RESOURCE_ASSET_NAME_MAX + 1];
};

/* An alert raised, for the console. */
struct raised {
	int64_t time;
	char monitor[RESOURCE_ASSET_NAME_MAX + 1];
	char ep[RESOURCE_NAME_MAX + 1], dep[RESOURCE_NAME_MAX + 1];
	char text[1024];
};

struct monitors {
	struct runtime *rt;
	pthread_mutex_t lock; /* the queue, the flags, the alerts kept */
	pthread_cond_t cond;
	struct queued *head, **tail;
	char running[RESOURCE_ASSET_NAME_MAX + 1];
	atomic_int cancel; /* of the run in progress */
	int stop, started, sync;
	pthread_t thread;
	pthread_cond_t tick_cond; /* the ticker's sleep, cut short by stop */
	pthread_t ticker;
	int ticking;
	struct drift *drift;
	struct alerts *alerts;
	struct raised raised[ALERTS_KEPT];
	size_t nraised, next_raised;
};

/* ---- the scheduler's action ---------------------------------------------- */

static const cJSON *definition_of(const cJSON *action, struct error *err)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(action, "monitorDefinition");

	if (!cJSON_IsObject(d))
		error_set(err, 400, "ValidationError",
			  "properties.action.monitorDefinition must be an object with signals");
	return cJSON_IsObject(d) ? d : NULL;
}

int monitors_check(const cJSON *action, struct error *err)
{
	const cJSON *d = definition_of(action, err);
	struct monitor_def *def;
	int rc;

	if (d == NULL)
		return -1;
	if ((def = calloc(1, sizeof *def)) == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	rc = signals_parse(d, def, err);
	if (rc == 0)
		signals_cleanup(def);
	free(def);
	return rc;
}

static void run_name(char *buf, size_t len, const char *schedule)
{
	unsigned char b[4] = {0};
	char t[32];
	time_t now = time(NULL);
	struct tm tm;

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		b[0] = (unsigned char)now;
	gmtime_r(&now, &tm);
	strftime(t, sizeof t, "%Y%m%d%H%M%S", &tm);
	snprintf(buf, len, "%.200s-%s-%02x%02x%02x%02x", schedule, t, b[0], b[1], b[2], b[3]);
}

struct create {
	struct job *j;
};

static int create_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct create *c = arg;

	(void)rt;
	return batch_job_put(ws, c->j, err);
}

static void queue_run(struct monitors *m, const char *name)
{
	struct queued *q = calloc(1, sizeof *q);

	if (q == NULL)
		return;
	snprintf(q->name, sizeof q->name, "%s", name);
	pthread_mutex_lock(&m->lock);
	*m->tail = q;
	m->tail = &q->next;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

int monitors_fire(struct runtime *rt, const char *name, const cJSON *action, char *buf,
		  size_t len, struct error *err)
{
	const cJSON *d = definition_of(action, err);
	struct monitor_def *def;
	struct create c;
	struct job j;
	int rc;

	if (d == NULL || (def = calloc(1, sizeof *def)) == NULL)
		return d == NULL ? -1 : error_set(err, 500, "InternalError", "out of memory");
	if (signals_parse(d, def, err) < 0) {
		free(def);
		return -1;
	}
	memset(&j, 0, sizeof j);
	run_name(j.name, sizeof j.name, name);
	j.kind = JOB_KIND_MONITOR;
	snprintf(j.endpoint, sizeof j.endpoint, "%s", def->endpoint);
	snprintf(j.deployment, sizeof j.deployment, "%s", def->deployment);
	batch_settings_default(&j.settings);
	j.status = JOB_QUEUED;
	j.created = (int64_t)time(NULL);
	j.schedule = (char *)name;
	j.display_name = (char *)name;
	j.experiment = (char *)name;
	c.j = &j;
	rc = control_change(rt, create_apply, NULL, &c, err);
	signals_cleanup(def);
	free(def);
	if (rc < 0)
		return -1;
	snprintf(buf, len, "%s", j.name);
	runtime_log(rt, "monitor %s: run %s queued", name, j.name);
	queue_run(rt->monitors, j.name);
	return 0;
}

void monitors_cancel(struct monitors *m, const char *job)
{
	pthread_mutex_lock(&m->lock);
	if (strcmp(m->running, job) == 0)
		atomic_store(&m->cancel, 1);
	pthread_mutex_unlock(&m->lock);
}

void monitors_sync(struct monitors *m)
{
	pthread_mutex_lock(&m->lock);
	m->sync = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* ---- job records ---------------------------------------------------------- */

struct move {
	const char *name;
	enum job_status to;
	const char *error;
	const char *monitor_status; /* properties.monitorStatus, or NULL */
	const char *failed;         /* properties.failedSignals, or NULL */
	int canceled;               /* out: it was asked to cancel */
};

static int move_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct move *mv = arg;
	const struct job *cur = batch_job_find(ws, mv->name);
	int64_t now = (int64_t)time(NULL);
	struct job j;
	int rc;

	(void)rt;
	if (cur == NULL)
		return error_set(err, 404, "NotFound", "job '%s' not found", mv->name);
	if (job_status_terminal(cur->status)) {
		mv->canceled = cur->status == JOB_CANCELED;
		return 0;
	}
	if (job_copy(&j, cur) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	mv->canceled = cur->status == JOB_CANCEL_REQUESTED;
	j.status = mv->canceled && !job_status_terminal(mv->to) ? JOB_CANCELED : mv->to;
	if (j.status == JOB_PREPARING && j.started == 0)
		j.started = now;
	if (job_status_terminal(j.status))
		j.ended = now;
	if (mv->error && j.status == JOB_FAILED && resource_dup(&j.error, mv->error) < 0)
		rc = error_set(err, 500, "InternalError", "out of memory");
	else if ((mv->monitor_status &&
		  kvlist_set(&j.properties, "monitorStatus", mv->monitor_status) < 0) ||
		 (mv->failed && kvlist_set(&j.properties, "failedSignals", mv->failed) < 0))
		rc = error_set(err, 500, "InternalError", "out of memory");
	else
		rc = batch_job_put(ws, &j, err);
	job_cleanup(&j);
	return rc;
}

/* Moves job name on; 1 when it was canceled meanwhile (it is now), 0, -1. */
static int job_move(struct monitors *m, struct move *mv)
{
	struct error err;

	if (control_change(m->rt, move_apply, NULL, mv, &err) < 0) {
		runtime_log(m->rt, "monitor run %s: %s", mv->name, err.message);
		return -1;
	}
	return mv->canceled;
}

/* A copy of job name and its schedule's action text, under the lock. */
static int job_read(struct monitors *m, const char *name, struct job *j, char **action)
{
	const struct schedule *sc;
	const struct job *cur;
	int rc = -1;

	*action = NULL;
	pthread_mutex_lock(&m->rt->lock);
	cur = batch_job_find(m->rt->ws, name);
	if (cur != NULL && job_copy(j, cur) == 0) {
		rc = 0;
		sc = cur->schedule ? batch_schedule_find(m->rt->ws, cur->schedule) : NULL;
		if (sc && sc->action && strcmp(sc->action_type, "CreateMonitor") == 0)
			*action = strdup(sc->action);
	}
	pthread_mutex_unlock(&m->rt->lock);
	return rc;
}

static int results_path(const struct runtime *rt, const char *job, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/jobs/%s/results.json", rt->home, job);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The results, whole or not at all: a temporary, fsync, rename. */
static int write_results(struct runtime *rt, const char *job, const char *text,
			 struct error *err)
{
	char path[PATH_MAX + 300], tmp[PATH_MAX + 308], *slash;
	int fd, rc = -1;

	if (results_path(rt, job, path, sizeof path) < 0)
		return error_set(err, 500, "InternalError", "the home's path is too long");
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	slash = strrchr(tmp, '/');
	*slash = '\0';
	if (file_mkdirs(tmp, 0700) < 0)
		return error_set(err, 507, "InsufficientStorage", "results: %s", strerror(errno));
	*slash = '/';
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && file_write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0)
		rc = rename(tmp, path);
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		unlink(tmp);
		return error_set(err, 507, "InsufficientStorage", "results: %s", strerror(errno));
	}
	return 0;
}

/* ---- resolving data ------------------------------------------------------- */

static int resolve(void *ctx, const char *uri, char **path, struct error *err)
{
	enum data_type type;
	enum invoke_source src;

	return invoke_local_path(ctx, uri, "uri", path, &type, &src, err);
}

/* ---- alerts --------------------------------------------------------------- */

static double result_severity(const cJSON *f)
{
	const cJSON *v = cJSON_GetObjectItem(f, "value"), *t = cJSON_GetObjectItem(f, "threshold");
	enum stats_metric m;

	if (!cJSON_IsNumber(v) || !cJSON_IsNumber(t) ||
	    stats_metric_parse(cJSON_GetStringValue(cJSON_GetObjectItem(f, "metric")), &m) < 0)
		return 0;
	return stats_metric_severity(m, v->valuedouble, t->valuedouble);
}

static int by_severity(const void *a, const void *b)
{
	double x = result_severity(*(const cJSON *const *)a);
	double y = result_severity(*(const cJSON *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* A signal's failed features, the furthest past its threshold first (owned array). */
static const cJSON **failed_features(const cJSON *sig, size_t *n)
{
	const cJSON *feats = cJSON_GetObjectItem(sig, "features"), *f, **v;

	*n = 0;
	v = calloc((size_t)cJSON_GetArraySize(feats) + 1, sizeof *v);
	if (v == NULL)
		return NULL;
	cJSON_ArrayForEach(f, feats) if (!cJSON_IsTrue(cJSON_GetObjectItem(f, "passed"))) v[(*n)++] = f;
	qsort(v, *n, sizeof *v, by_severity);
	return v;
}

/* "drift, quality" and a line per failed feature, out of the results. */
static void failures(const cJSON *results, struct dynbuf *names, struct dynbuf *lines,
		     cJSON *signals)
{
	const cJSON *sig;

	cJSON_ArrayForEach(sig, cJSON_GetObjectItem(results, "signals"))
	{
		cJSON *one, *feats;
		const cJSON **failed;
		size_t n;
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(sig, "status")), "Failed"))
			continue;
		dynbuf_addf(names, "%s%s", names->len ? ", " : "", sig->string);
		one = signals ? cJSON_CreateObject() : NULL;
		feats = NULL;
		if (one) {
			cJSON_AddStringToObject(one, "name", sig->string);
			cJSON_AddItemToObject(one, "signalType",
					      cJSON_Duplicate(cJSON_GetObjectItem(sig, "signalType"), 1));
			feats = cJSON_AddArrayToObject(one, "failedFeatures");
		}
		failed = failed_features(sig, &n);
		for (size_t i = 0; failed && i < n; i++) {
			const cJSON *f = failed[i], *v = cJSON_GetObjectItem(f, "value");
			if (feats)
				cJSON_AddItemToArray(feats, cJSON_Duplicate(f, 1));
			dynbuf_addf(lines, "%s%s: %s %.4g (threshold %.4g)", lines->len ? "; " : "",
				    cJSON_GetStringValue(cJSON_GetObjectItem(f, "feature")),
				    cJSON_GetStringValue(cJSON_GetObjectItem(f, "metric")),
				    cJSON_IsNumber(v) ? v->valuedouble : NAN,
				    cJSON_GetObjectItem(f, "threshold")->valuedouble);
		}
		free(failed);
		if (signals)
			cJSON_AddItemToArray(signals, one);
	}
}

static void keep_raised(struct monitors *m, const struct job *j, const char *text)
{
	struct raised *r;

	pthread_mutex_lock(&m->lock);
	r = &m->raised[m->next_raised];
	m->next_raised = (m->next_raised + 1) % ALERTS_KEPT;
	if (m->nraised < ALERTS_KEPT)
		m->nraised++;
	r->time = (int64_t)time(NULL);
	snprintf(r->monitor, sizeof r->monitor, "%s", j->schedule ? j->schedule : "");
	snprintf(r->ep, sizeof r->ep, "%s", j->endpoint);
	snprintf(r->dep, sizeof r->dep, "%s", j->deployment);
	snprintf(r->text, sizeof r->text, "%s", text);
	pthread_mutex_unlock(&m->lock);
}

/* A run with failed signals: webhooks, the deployment's log, the event log. */
static void alert(struct monitors *m, const struct job *j, const struct monitor_def *def,
		  const cJSON *results)
{
	struct dynbuf names, lines;
	cJSON *body = cJSON_CreateObject(), *links;
	const char *urls[MONITOR_WEBHOOKS_MAX];
	char text[1024], job_id[1024], ws[512], t[32];
	char *s;

	dynbuf_init(&names, 4096);
	dynbuf_init(&lines, 64 << 10);
	failures(results, &names, &lines, cJSON_AddArrayToObject(body, "signals"));
	snprintf(text, sizeof text, "Monitor %s%s%s%s%s: signal %s failed: %.700s", j->schedule,
		 j->endpoint[0] ? " on " : "", j->endpoint, j->endpoint[0] ? "/" : "", j->deployment,
		 names.p ? names.p : "", lines.p ? lines.p : "");
	cJSON_AddStringToObject(body, "schemaId", "mldeck.monitor.alert/1");
	cJSON_AddStringToObject(body, "text", text);
	cJSON_AddStringToObject(body, "monitor", j->schedule);
	cJSON_AddStringToObject(body, "job", j->name);
	cJSON_AddStringToObject(body, "endpoint", j->endpoint);
	cJSON_AddStringToObject(body, "deployment", j->deployment);
	codec_iso_time((int64_t)time(NULL), t, sizeof t);
	cJSON_AddStringToObject(body, "time", t);
	cJSON_AddStringToObject(body, "status", "Failed");
	runtime_ws_prefix(m->rt, ws, sizeof ws);
	snprintf(job_id, sizeof job_id, "%s/jobs/%s", ws, j->name);
	links = cJSON_AddObjectToObject(body, "links");
	cJSON_AddStringToObject(links, "job", job_id);
	s = cJSON_PrintUnformatted(body);
	for (size_t i = 0; i < def->nwebhooks; i++)
		urls[i] = def->webhooks[i];
	if (s)
		alerts_send(m->alerts, urls, def->nwebhooks, s);
	if (j->endpoint[0])
		fleet_log(m->rt->fleet, j->endpoint, j->deployment, "[monitor] %s", text);
	runtime_log(m->rt, "alert: %s", text);
	keep_raised(m, j, text);
	free(s);
	cJSON_Delete(body);
	dynbuf_free(&names);
	dynbuf_free(&lines);
}

/* ---- a run ---------------------------------------------------------------- */

static int stopping(struct monitors *m)
{
	int s;

	pthread_mutex_lock(&m->lock);
	s = m->stop;
	pthread_mutex_unlock(&m->lock);
	return s;
}

static void set_running(struct monitors *m, const char *name)
{
	pthread_mutex_lock(&m->lock);
	snprintf(m->running, sizeof m->running, "%s", name);
	atomic_store(&m->cancel, 0);
	pthread_mutex_unlock(&m->lock);
}

/* Runs def for job j; the results (owned) or NULL with err. */
static cJSON *compute(struct monitors *m, const struct job *j, const struct monitor_def *def,
		      int *failed, struct error *err)
{
	char tmp[PATH_MAX + 8];
	struct monrun_config cfg;

	snprintf(tmp, sizeof tmp, "%s/tmp", m->rt->home);
	memset(&cfg, 0, sizeof cfg);
	cfg.def = def;
	cfg.now = j->created + 1; /* the window takes in the second the run was made */
	cfg.tmpdir = tmp;
	cfg.resolve = resolve;
	cfg.ctx = m->rt;
	cfg.cancel = &m->cancel;
	return monrun_run(&cfg, failed, err);
}

/* Parses the action text's monitorDefinition into def. */
static int definition_parse(const char *action, struct monitor_def *def, struct error *err)
{
	cJSON *o = action ? cJSON_Parse(action) : NULL;
	const cJSON *d = o ? definition_of(o, err) : NULL;
	int rc = d ? signals_parse(d, def, err) : -1;

	if (action == NULL)
		error_set(err, 404, "NotFound", "the monitor (its schedule) no longer exists");
	cJSON_Delete(o);
	return rc;
}

static void finish(struct monitors *m, const struct job *j, const struct monitor_def *def,
		   cJSON *results, int failed)
{
	struct move mv = {j->name, JOB_FINALIZING, NULL, NULL, NULL, 0};
	struct dynbuf names, lines;
	struct error err;
	char *text = cJSON_PrintUnformatted(results);

	if (text == NULL || write_results(m->rt, j->name, text, &err) < 0) {
		mv.to = JOB_FAILED;
		mv.error = text ? err.message : "out of memory";
		job_move(m, &mv);
		free(text);
		return;
	}
	free(text);
	if (job_move(m, &mv) != 0)
		return;
	dynbuf_init(&names, 4096);
	dynbuf_init(&lines, 4096);
	failures(results, &names, &lines, NULL);
	mv.to = JOB_COMPLETED;
	mv.monitor_status = failed ? "Failed" : "Passed";
	mv.failed = names.p ? names.p : "";
	if (job_move(m, &mv) == 0 && failed)
		alert(m, j, def, results);
	runtime_log(m->rt, "monitor run %s: %s%s%s", j->name, mv.monitor_status,
		    failed ? ": " : "", failed ? names.p : "");
	dynbuf_free(&names);
	dynbuf_free(&lines);
}

static void run_one(struct monitors *m, const char *name)
{
	struct move mv = {name, JOB_PREPARING, NULL, NULL, NULL, 0};
	struct monitor_def *def = calloc(1, sizeof *def);
	struct error err;
	cJSON *results = NULL;
	char *action = NULL;
	struct job j;
	int failed = 0;

	memset(&j, 0, sizeof j);
	if (def == NULL || job_read(m, name, &j, &action) < 0 || j.status != JOB_QUEUED ||
	    j.kind != JOB_KIND_MONITOR)
		goto out;
	set_running(m, name);
	if (job_move(m, &mv) != 0)
		goto out;
	if (definition_parse(action, def, &err) == 0) {
		mv.to = JOB_RUNNING;
		if (job_move(m, &mv) != 0)
			goto out;
		results = compute(m, &j, def, &failed, &err);
	}
	if (results != NULL) {
		finish(m, &j, def, results, failed);
	} else if (stopping(m)) {
		/* the runtime stops: the run stays active and resumes at the next start */
	} else {
		mv.to = atomic_load(&m->cancel) ? JOB_CANCELED : JOB_FAILED;
		mv.error = err.message;
		job_move(m, &mv);
		runtime_log(m->rt, "monitor run %s failed: %s", name, err.message);
		if (j.endpoint[0])
			fleet_log(m->rt->fleet, j.endpoint, j.deployment, "[monitor] run %s failed: %s",
				  name, err.message);
	}
out:
	set_running(m, "");
	cJSON_Delete(results);
	if (def)
		signals_cleanup(def);
	free(def);
	free(action);
	job_cleanup(&j);
}

/* ---- live references ------------------------------------------------------ */

/* The signals live drift follows in def: the first of each kind. */
static const struct monitor_signal *first(const struct monitor_def *def, enum signal_type t)
{
	for (size_t i = 0; i < def->nsignals; i++)
		if (def->signals[i].type == t && def->signals[i].enabled)
			return &def->signals[i];
	return NULL;
}

/* Reads a signal's reference as of now. */
static struct columns *reference(struct monitors *m, const struct monitor_signal *s,
				 struct error *err)
{
	struct dataset_window w = {0, 0};
	struct columns *c;
	char tmp[PATH_MAX + 8], *path = NULL;

	snprintf(tmp, sizeof tmp, "%s/tmp", m->rt->home);
	signals_window(&s->reference, (int64_t)time(NULL), &w.start, &w.end);
	if (resolve(m->rt, s->reference.uri, &path, err) < 0)
		return NULL;
	c = columns_new(tmp, NULL);
	if (c == NULL || dataset_read(path, w.start || w.end ? &w : NULL, columns_row, c, NULL,
				      err) < 0 ||
	    columns_finish(c, err) < 0) {
		if (c == NULL)
			error_set(err, 500, "InternalError", "out of memory");
		columns_free(c);
		c = NULL;
	}
	free(path);
	return c;
}

static void live_one(struct monitors *m, const char *name, const struct monitor_def *def,
		     const char *collection, const struct monitor_signal *s,
		     const struct monitor_signal *q)
{
	struct columns *ref;
	struct error err;

	if (s == NULL)
		return;
	ref = reference(m, s, &err);
	if (ref == NULL || drift_configure(m->drift, def->endpoint, def->deployment, collection,
					   name, ref, s, q, &err) < 0)
		runtime_log(m->rt, "monitor %s: live drift of %s/%s %s off: %s", name,
			    def->endpoint, def->deployment, collection, err.message);
	columns_free(ref);
}

struct live_def {
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	char *action;
};

/* The enabled monitors' actions, copied under the lock. */
static size_t live_defs(struct monitors *m, struct live_def **out)
{
	const struct schedule **v;
	size_t n, k = 0;

	pthread_mutex_lock(&m->rt->lock);
	n = batch_schedule_list(m->rt->ws, &v);
	*out = calloc(n + 1, sizeof **out);
	for (size_t i = 0; *out && i < n; i++)
		if (v[i]->enabled && !strcmp(v[i]->action_type, "CreateMonitor") && v[i]->action) {
			snprintf((*out)[k].name, sizeof (*out)[k].name, "%s", v[i]->name);
			(*out)[k++].action = strdup(v[i]->action);
		}
	free(v);
	pthread_mutex_unlock(&m->rt->lock);
	return k;
}

static void live_sync(struct monitors *m)
{
	struct live_def *v = NULL;
	size_t n = live_defs(m, &v);
	const char **keep = calloc(n + 1, sizeof *keep);
	struct monitor_def *def = calloc(1, sizeof *def);
	struct error err;

	for (size_t i = 0; v && keep && def && i < n; i++) {
		keep[i] = v[i].name;
		if (definition_parse(v[i].action, def, &err) < 0)
			continue;
		if (def->endpoint[0]) {
			const struct monitor_signal *dq = first(def, SIGNAL_DATA_QUALITY);
			const struct monitor_signal *dd = first(def, SIGNAL_DATA_DRIFT);
			live_one(m, v[i].name, def, "model_inputs", dd ? dd : dq, dq);
			live_one(m, v[i].name, def, "model_outputs",
				 first(def, SIGNAL_PREDICTION_DRIFT), NULL);
		}
		signals_cleanup(def);
	}
	if (keep)
		drift_retain(m->drift, keep);
	for (size_t i = 0; v && i < n; i++)
		free(v[i].action);
	free(v);
	free(keep);
	free(def);
}

/* ---- the thread ----------------------------------------------------------- */

static void *thread_main(void *arg)
{
	struct monitors *m = arg;
	struct queued *q;

	thread_name("mldeck-monitor");
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		if (m->sync) {
			m->sync = 0;
			pthread_mutex_unlock(&m->lock);
			live_sync(m);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if ((q = m->head) == NULL) {
			pthread_cond_wait(&m->cond, &m->lock);
			continue;
		}
		m->head = q->next;
		if (m->head == NULL)
			m->tail = &m->head;
		pthread_mutex_unlock(&m->lock);
		run_one(m, q->name);
		free(q);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Live drift's recounts, on a thread of their own at normal priority: the
 * collector's writer, which hands the rows over, runs on spare CPU only,
 * and readers of the figures must never wait for it. */
static void *ticker_main(void *arg)
{
	struct monitors *m = arg;
	struct timespec ts;

	thread_name("mldeck-drift");
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		ts = clock_deadline(DRIFT_TICK_MS);
		pthread_cond_timedwait(&m->tick_cond, &m->lock, &ts);
		if (m->stop)
			break;
		pthread_mutex_unlock(&m->lock);
		drift_tick(m->drift, (int64_t)time(NULL));
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static void alert_log(void *ctx, const char *line)
{
	runtime_log(ctx, "%s", line);
}

struct monitors *monitors_new(struct runtime *rt)
{
	struct monitors *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->rt = rt;
	m->tail = &m->head;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	pthread_cond_init(&m->tick_cond, NULL);
	atomic_init(&m->cancel, 0);
	m->drift = drift_new();
	m->alerts = alerts_new(alert_log, rt);
	if (m->drift == NULL || m->alerts == NULL) {
		monitors_free(m);
		return NULL;
	}
	return m;
}

/* Monitor runs a restart interrupted go back to Queued. */
static int resume_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct monitors *m = arg;
	const struct job **js;
	size_t n = batch_job_list(ws, &js);
	int rc = 0;

	(void)rt;
	for (size_t i = n; rc == 0 && i-- > 0;) { /* oldest first */
		struct job j;
		if (js[i]->kind != JOB_KIND_MONITOR || !job_status_active(js[i]->status) ||
		    job_copy(&j, js[i]) < 0)
			continue;
		j.status = j.status == JOB_CANCEL_REQUESTED ? JOB_CANCELED : JOB_QUEUED;
		if (j.status == JOB_CANCELED)
			j.ended = (int64_t)time(NULL);
		rc = j.status == js[i]->status ? 0 : batch_job_put(ws, &j, err);
		if (rc == 0 && j.status == JOB_QUEUED)
			queue_run(m, j.name);
		job_cleanup(&j);
	}
	free(js);
	return rc;
}

int monitors_start(struct monitors *m, struct error *err)
{
	if (control_change(m->rt, resume_apply, NULL, m, err) < 0)
		return -1;
	m->sync = 1;
	if (pthread_create(&m->thread, NULL, thread_main, m) != 0)
		return error_set(err, 500, "InternalError", "cannot start the monitors' thread");
	m->started = 1;
	m->ticking = pthread_create(&m->ticker, NULL, ticker_main, m) == 0;
	return m->ticking ? 0 : error_set(err, 500, "InternalError", "cannot start live drift");
}

void monitors_stop(struct monitors *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	atomic_store(&m->cancel, 1);
	pthread_cond_broadcast(&m->cond);
	pthread_cond_broadcast(&m->tick_cond);
	pthread_mutex_unlock(&m->lock);
	if (m->started)
		pthread_join(m->thread, NULL);
	if (m->ticking)
		pthread_join(m->ticker, NULL);
	m->started = m->ticking = 0;
	alerts_free(m->alerts);
	m->alerts = NULL;
}

void monitors_free(struct monitors *m)
{
	struct queued *q;

	if (m == NULL)
		return;
	monitors_stop(m);
	while ((q = m->head) != NULL) {
		m->head = q->next;
		free(q);
	}
	drift_free(m->drift);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	pthread_cond_destroy(&m->tick_cond);
	free(m);
}

/* ---- what the API shows ---------------------------------------------------- */

static cJSON *results_of(struct runtime *rt, const char *job)
{
	char path[PATH_MAX + 300], *text;
	size_t len;
	cJSON *o;

	if (results_path(rt, job, path, sizeof path) < 0 ||
	    (text = file_read(path, RESULTS_MAX, &len)) == NULL)
		return NULL;
	o = cJSON_Parse(text);
	free(text);
	return o;
}

cJSON *monitors_job_json(struct runtime *rt, const struct codec_ctx *codec, const struct job *j)
{
	char uri[PATH_MAX + 400];
	cJSON *o, *p, *tags, *outs, *res, *r;

	if ((o = batchcodec_job_head(j, codec, j->name, &p)) == NULL)
		return NULL;
	tags = codec_kv_to_json(&j->tags);
	cJSON_AddStringToObject(tags, "azureml.modelmonitor", "true");
	cJSON_AddStringToObject(tags, "azureml.monitorname", j->schedule ? j->schedule : "");
	if (j->endpoint[0]) {
		cJSON_AddStringToObject(tags, "azureml.endpointname", j->endpoint);
		cJSON_AddStringToObject(tags, "azureml.deploymentname", j->deployment);
	}
	cJSON_AddItemToObject(p, "tags", tags);
	cJSON_AddItemToObject(p, "properties", codec_kv_to_json(&j->properties));
	if (j->error)
		cJSON_AddStringToObject(cJSON_GetObjectItem(p, "properties"), "error", j->error);
	outs = cJSON_AddObjectToObject(p, "outputs");
	if ((r = results_of(rt, j->name)) != NULL) {
		results_path(rt, j->name, uri + 7, sizeof uri - 7);
		memcpy(uri, "file://", 7);
		res = cJSON_AddObjectToObject(outs, "results");
		cJSON_AddStringToObject(res, "jobOutputType", "uri_file");
		cJSON_AddStringToObject(res, "uri", uri);
		cJSON_AddItemToObject(res, "value", r);
	}
	codec_system_data(o, j->created);
	return o;
}

/* The newest run of monitor name (a copy of its name and status), or 0. */
static int last_run(struct runtime *rt, const char *name, char *job, size_t len,
		    enum job_status *status, int64_t *when, char *monitor_status, size_t mlen)
{
	const struct job **js;
	size_t n = batch_job_list(rt->ws, &js);
	int found = 0;

	for (size_t i = 0; i < n && !found; i++) /* newest first */
		if (js[i]->kind == JOB_KIND_MONITOR && js[i]->schedule &&
		    !strcmp(js[i]->schedule, name)) {
			const char *ms = kvlist_get(&js[i]->properties, "monitorStatus");
			snprintf(job, len, "%s", js[i]->name);
			snprintf(monitor_status, mlen, "%s", ms ? ms : "");
			*status = js[i]->status;
			*when = js[i]->ended ? js[i]->ended : js[i]->created;
			found = 1;
		}
	free(js);
	return found;
}

static void add_time(cJSON *o, const char *key, int64_t t)
{
	char buf[40];

	codec_iso_time(t, buf, sizeof buf);
	cJSON_AddStringToObject(o, key, buf);
}

/* One monitor's line: target, next and last run. Call with rt->lock. */
static cJSON *monitor_json(struct monitors *m, const struct schedule *sc,
			   const struct monitor_def *def)
{
	cJSON *o = cJSON_CreateObject(), *lr;
	char job[RESOURCE_ASSET_NAME_MAX + 1], ms[16];
	enum job_status st;
	int64_t next, when;

	cJSON_AddStringToObject(o, "name", sc->name);
	cJSON_AddBoolToObject(o, "enabled", sc->enabled);
	cJSON_AddStringToObject(o, "endpoint", def->endpoint);
	cJSON_AddStringToObject(o, "deployment", def->deployment);
	cJSON_AddNumberToObject(o, "signals", (double)def->nsignals);
	if (scheduler_next(m->rt->scheduler, sc, &next) == 0)
		add_time(o, "nextRun", next);
	if (last_run(m->rt, sc->name, job, sizeof job, &st, &when, ms, sizeof ms)) {
		lr = cJSON_AddObjectToObject(o, "lastRun");
		cJSON_AddStringToObject(lr, "job", job);
		cJSON_AddStringToObject(lr, "status", job_status_name(st));
		add_time(lr, "time", when);
		if (ms[0])
			cJSON_AddStringToObject(lr, "monitorStatus", ms);
		cJSON_AddBoolToObject(o, "failing", !strcmp(ms, "Failed") || st == JOB_FAILED);
		if (st == JOB_COMPLETED)
			cJSON_AddItemToObject(lr, "results", results_of(m->rt, job));
	}
	if (def->endpoint[0] && drift_failing(m->drift, def->endpoint, def->deployment))
		cJSON_AddBoolToObject(o, "liveFailing", 1);
	return o;
}

static void alerts_json(struct monitors *m, cJSON *arr, const char *ep, const char *dep)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nraised; i++) {
		const struct raised *r =
		    &m->raised[(m->next_raised + ALERTS_KEPT - 1 - i) % ALERTS_KEPT];
		cJSON *o;
		if ((ep && strcmp(ep, r->ep)) || (dep && strcmp(dep, r->dep)))
			continue;
		o = cJSON_CreateObject();
		add_time(o, "time", r->time);
		cJSON_AddStringToObject(o, "monitor", r->monitor);
		cJSON_AddStringToObject(o, "text", r->text);
		cJSON_AddItemToArray(arr, o);
	}
	pthread_mutex_unlock(&m->lock);
}

/* What the deployment's model_inputs collection came to: the console says
 * when requests go uncollected (a saturated CPU, a full disk). */
static void collected_json(struct collector *c, const char *ep, const char *dep, cJSON *o)
{
	struct collector_counts k;
	cJSON *j;

	if (collector_counts(c, ep, dep, "model_inputs", &k) < 0 ||
	    (j = cJSON_AddObjectToObject(o, "collected")) == NULL)
		return;
	cJSON_AddStringToObject(j, "collection", "model_inputs");
	cJSON_AddNumberToObject(j, "records", (double)k.records);
	cJSON_AddNumberToObject(j, "dropped", (double)k.dropped);
	cJSON_AddNumberToObject(j, "failed", (double)k.failed);
}

cJSON *monitors_status(struct monitors *m, const char *ep, const char *dep)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "value"), *live;
	struct monitor_def *def = calloc(1, sizeof *def);
	const struct schedule **v;
	struct error err;
	size_t n;

	pthread_mutex_lock(&m->rt->lock);
	n = batch_schedule_list(m->rt->ws, &v);
	for (size_t i = 0; def && i < n; i++) {
		if (strcmp(v[i]->action_type, "CreateMonitor") ||
		    definition_parse(v[i]->action, def, &err) < 0)
			continue;
		if ((!ep || !strcmp(ep, def->endpoint)) && (!dep || !strcmp(dep, def->deployment)))
			cJSON_AddItemToArray(arr, monitor_json(m, v[i], def));
		signals_cleanup(def);
	}
	free(v);
	pthread_mutex_unlock(&m->rt->lock);
	free(def);
	if (ep && dep && (live = drift_json(m->drift, ep, dep)) != NULL)
		cJSON_AddItemToObject(o, "live", live);
	if (ep && dep && m->rt->collector)
		collected_json(m->rt->collector, ep, dep, o);
	alerts_json(m, cJSON_AddArrayToObject(o, "alerts"), ep, dep);
	return o;
}

void monitors_prometheus(struct monitors *m, struct dynbuf *b)
{
	drift_prometheus(m->drift, b);
	if (m->alerts)
		alerts_prometheus(m->alerts, b);
}

/* ---- what the collector hands over ----------------------------------------- */

void monitors_rows(void *ctx, struct collector_tap *t, const char *collection,
		   const struct cell *cells, size_t n)
{
	struct monitors *m = ctx;

	drift_row(m->drift, collector_tap_endpoint(t), collector_tap_deployment(t), collection,
		  cells, n);
}


