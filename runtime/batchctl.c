/*
 * batchctl.c: the batch side of the resource API (routes in control.c):
 * batch endpoints and deployments, jobs and schedules, in Azure ML's
 * 2024-04-01 shapes (data assets are versioned assets: versions.c). Every change goes through control_change; a job's
 * figures come live from the job runner while it runs.
 */
#include "runtime/control.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/auth.h"
#include "runtime/invoke.h"
#include "runtime/jobs.h"
#include "runtime/monitor/monitors.h"
#include "runtime/scheduler.h"
#include "state/batch.h"
#include "state/batchcodec.h"
#include "state/civil.h"
#include "state/file.h"
#include "state/names.h"

static void not_found(struct call *c, const char *what, const char *name)
{
	server_reply_errorf(c->rs, 404, "NotFound", "%s '%s' not found", what, name);
}

/* Answers a change: err on failure, else status with the answer (taken). */
static void answer(struct call *c, int rc, const struct error *err, int status, cJSON *j)
{
	if (rc < 0) {
		control_reply_error(c, err);
		cJSON_Delete(j);
	} else {
		control_reply(c, status, j);
	}
}

/* ---- batch endpoints ---------------------------------------------------- */

void batchctl_endpoints_list(struct call *c)
{
	const struct batch_endpoint **es;
	cJSON *arr = cJSON_CreateArray();
	size_t n;

	control_lock(c);
	n = batch_endpoint_list(c->rt->ws, &es);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, batchcodec_endpoint_to_json(es[i], &c->codec));
	free(es);
	control_end(c);
	control_page(c, arr);
}

void batchctl_endpoint_get(struct call *c)
{
	const struct batch_endpoint *e;
	cJSON *j = NULL;

	control_lock(c);
	e = batch_endpoint_find(c->rt->ws, c->cap[0]);
	if (e != NULL)
		j = batchcodec_endpoint_to_json(e, &c->codec);
	control_end(c);
	if (j != NULL)
		control_reply(c, 200, j);
	else
		not_found(c, "batch endpoint", c->cap[0]);
}

/* PUT creates or replaces, PATCH changes what the body names. A batch
 * endpoint is ready at once: its operation is recorded settled. */
struct endpoint_put {
	struct call *c;
	int patch, created;
	struct operation op;
	cJSON *answer;
};

static int endpoint_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
			      struct error *err)
{
	struct endpoint_put *p = arg;
	const char *name = p->c->cap[0];
	const struct batch_endpoint *cur = batch_endpoint_find(ws, name);
	struct batch_endpoint ep;
	int rc;

	(void)rt;
	memset(&ep, 0, sizeof ep);
	if (cur == NULL && p->patch)
		return error_set(err, 404, "NotFound", "batch endpoint '%s' not found", name);
	if (cur != NULL && batch_endpoint_copy(&ep, cur) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	if (cur == NULL) {
		snprintf(ep.name, sizeof ep.name, "%s", name);
		ep.auth = AUTH_AADTOKEN;
		ep.state = PROV_SUCCEEDED;
		ep.created = (int64_t)time(NULL);
		auth_random_key(ep.primary_key, sizeof ep.primary_key);
		auth_random_key(ep.secondary_key, sizeof ep.secondary_key);
	}
	rc = batchcodec_endpoint_from_json(p->c->body, &ep, err);
	if (rc == 0)
		rc = batch_endpoint_put(ws, &ep, &p->created, err);
	batch_endpoint_cleanup(&ep);
	if (rc == 0)
		rc = operations_begin(ws, name, "", OP_SUCCEEDED, &p->op, err);
	if (rc == 0)
		p->answer = batchcodec_endpoint_to_json(batch_endpoint_find(ws, name), &p->c->codec);
	return rc;
}

/* After a change of batch endpoints: the admission's keys follow. */
static void keys_done(struct runtime *rt, void *arg)
{
	(void)arg;
	invoke_keys_sync(rt->batch_keys, rt->ws);
}

static void endpoint_write(struct call *c, int patch)
{
	struct endpoint_put p = {.c = c, .patch = patch};
	struct error err;
	char path[64];
	int rc;

	if (control_need_body(c) < 0)
		return;
	rc = control_change(c->rt, endpoint_put_apply, keys_done, &p, &err);
	if (rc == 0) {
		snprintf(path, sizeof path, "/batchEndpoints/%s", c->cap[0]);
		operations_headers(c, &p.op, path);
	}
	answer(c, rc, &err, p.created ? 201 : 200, p.answer);
}

void batchctl_endpoint_put(struct call *c)
{
	endpoint_write(c, 0);
}

void batchctl_endpoint_patch(struct call *c)
{
	endpoint_write(c, 1);
}

static int endpoint_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
				 struct error *err)
{
	struct removal *r = arg;
	const char *name = r->c->cap[0];

	(void)rt;
	if (batch_endpoint_find(ws, name) == NULL) {
		r->absent = 1;
		return 0;
	}
	if (batch_endpoint_delete(ws, name, err) < 0)
		return -1;
	return operations_begin(ws, name, "", OP_SUCCEEDED, &r->op, err);
}

void batchctl_endpoint_delete(struct call *c)
{
	struct removal r = {.c = c};
	struct error err;
	int rc = control_change(c->rt, endpoint_delete_apply, keys_done, &r, &err);

	operations_reply_delete(c, rc, &err, &r);
}

void batchctl_endpoint_keys(struct call *c)
{
	const struct batch_endpoint *e;
	cJSON *j = NULL;

	control_lock(c);
	e = batch_endpoint_find(c->rt->ws, c->cap[0]);
	if (e != NULL && (j = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(j, "primaryKey", e->primary_key);
		cJSON_AddStringToObject(j, "secondaryKey", e->secondary_key);
	}
	control_end(c);
	if (e == NULL)
		not_found(c, "batch endpoint", c->cap[0]);
	else
		control_reply(c, 200, j);
}

/* ---- batch deployments -------------------------------------------------- */

void batchctl_deployments_list(struct call *c)
{
	const struct batch_deployment **ds;
	cJSON *arr;
	size_t n;

	control_lock(c);
	if (batch_endpoint_find(c->rt->ws, c->cap[0]) == NULL) {
		control_end(c);
		return not_found(c, "batch endpoint", c->cap[0]);
	}
	arr = cJSON_CreateArray();
	n = batch_deployment_list(c->rt->ws, c->cap[0], &ds);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, batchcodec_deployment_to_json(ds[i], &c->codec));
	free(ds);
	control_end(c);
	control_page(c, arr);
}

void batchctl_deployment_get(struct call *c)
{
	const struct batch_deployment *d;
	cJSON *j = NULL;

	control_lock(c);
	d = batch_deployment_find(c->rt->ws, c->cap[0], c->cap[1]);
	if (d != NULL)
		j = batchcodec_deployment_to_json(d, &c->codec);
	control_end(c);
	if (j != NULL)
		control_reply(c, 200, j);
	else
		server_reply_errorf(c->rs, 404, "NotFound", "deployment '%s/%s' not found",
				    c->cap[0], c->cap[1]);
}

struct deployment_put {
	struct call *c;
	int patch, created;
	struct operation op;
	cJSON *answer;
};

static int deployment_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
				struct error *err)
{
	struct deployment_put *p = arg;
	const char *ep = p->c->cap[0], *name = p->c->cap[1];
	const struct batch_deployment *cur = batch_deployment_find(ws, ep, name);
	struct batch_deployment d;
	int rc;

	(void)rt;
	memset(&d, 0, sizeof d);
	if (cur == NULL && p->patch)
		return error_set(err, 404, "NotFound", "deployment '%s/%s' not found", ep, name);
	if (cur != NULL && batch_deployment_copy(&d, cur) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	if (cur == NULL) {
		snprintf(d.endpoint, sizeof d.endpoint, "%s", ep);
		snprintf(d.name, sizeof d.name, "%s", name);
		batch_settings_default(&d.settings);
		d.created = (int64_t)time(NULL);
	}
	rc = batchcodec_deployment_from_json(p->c->body, &d, err);
	if (rc == 0)
		rc = batch_deployment_put(ws, &d, &p->created, err);
	batch_deployment_cleanup(&d);
	if (rc == 0)
		rc = operations_begin(ws, ep, name, OP_SUCCEEDED, &p->op, err);
	if (rc == 0)
		p->answer = batchcodec_deployment_to_json(batch_deployment_find(ws, ep, name),
							  &p->c->codec);
	return rc;
}

static void deployment_write(struct call *c, int patch)
{
	struct deployment_put p = {.c = c, .patch = patch};
	struct error err;
	char path[128];
	int rc;

	if (control_need_body(c) < 0)
		return;
	rc = control_change(c->rt, deployment_put_apply, NULL, &p, &err);
	if (rc == 0) {
		snprintf(path, sizeof path, "/batchEndpoints/%s/deployments/%s", c->cap[0],
			 c->cap[1]);
		operations_headers(c, &p.op, path);
	}
	answer(c, rc, &err, p.created ? 201 : 200, p.answer);
}

void batchctl_deployment_put(struct call *c)
{
	deployment_write(c, 0);
}

void batchctl_deployment_patch(struct call *c)
{
	deployment_write(c, 1);
}

static int deployment_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
				   struct error *err)
{
	struct removal *r = arg;
	const char *ep = r->c->cap[0], *name = r->c->cap[1];

	(void)rt;
	if (batch_deployment_find(ws, ep, name) == NULL) {
		r->absent = 1;
		return 0;
	}
	if (batch_deployment_delete(ws, ep, name, err) < 0)
		return -1;
	return operations_begin(ws, ep, name, OP_SUCCEEDED, &r->op, err);
}

void batchctl_deployment_delete(struct call *c)
{
	struct removal r = {.c = c};
	struct error err;
	int rc = control_change(c->rt, deployment_delete_apply, NULL, &r, &err);

	operations_reply_delete(c, rc, &err, &r);
}

/* ---- jobs --------------------------------------------------------------- */

/* A job's answer, with its live figures while it runs. */
static cJSON *job_json(struct call *c, const struct job *stored)
{
	struct jobrun_figures f;
	struct job j = *stored; /* shallow: only the figures change */
	cJSON *o, *pp;
	double secs, rate;

	if (stored->kind == JOB_KIND_MONITOR)
		return monitors_job_json(c->rt, &c->codec, stored);
	if (jobs_live(c->rt->jobs, stored->name, &f) < 0)
		return batchcodec_job_to_json(stored, &c->codec);
	j.mini_batches = f.mini_batches;
	j.mini_batches_done = f.done;
	j.mini_batches_failed = f.failed;
	j.items = f.items;
	j.items_ok = f.ok;
	j.items_failed = f.bad;
	j.started = f.started != 0 ? f.started : j.started;
	o = batchcodec_job_to_json(&j, &c->codec);
	pp = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "properties"), "properties");
	secs = f.run_start_ns ? (double)(server_now_ns() - f.run_start_ns) / 1e9 : 0;
	rate = secs > 0 ? (double)f.run_items / secs : 0;
	if (pp != NULL && rate > 0) {
		char buf[32];
		int64_t left = f.mini_batches - f.done;

		snprintf(buf, sizeof buf, "%.0f", rate);
		cJSON_AddStringToObject(pp, "itemsPerSecond", buf);
		if (f.done > f.done_at_start && left > 0) { /* at this run's pace */
			double per = secs / (double)(f.done - f.done_at_start);

			snprintf(buf, sizeof buf, "%.0f", per * (double)left);
			cJSON_AddStringToObject(pp, "etaSeconds", buf);
		}
	}
	return o;
}

/* ?properties=a,b=v and ?tag=k filters of Jobs_List, on the job as the API
 * shows it (o): a batch job's endpoint, deployment and schedule are in its
 * properties; a monitor run names its online deployment in its tags only, so
 * the batch filters (azureml.endpointname=EP, tag=azureml.batchrun) skip it. */
static int job_matches(const cJSON *o, const char *props, const char *tag)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "properties");
	const cJSON *pp = cJSON_GetObjectItemCaseSensitive(p, "properties");
	char buf[512], *save = NULL, *item;

	if (tag != NULL &&
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "tags"), tag) ==
		NULL)
		return 0;
	if (props == NULL)
		return 1;
	snprintf(buf, sizeof buf, "%s", props);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		const char *want = eq ? eq + 1 : NULL, *have;

		if (eq)
			*eq = '\0';
		have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, item));
		if (have == NULL || (want != NULL && strcmp(have, want) != 0))
			return 0;
	}
	return 1;
}

void batchctl_jobs_list(struct call *c)
{
	const char *props = server_query(c->rq, "properties"), *tag = server_query(c->rq, "tag");
	const struct job **js;
	cJSON *arr = cJSON_CreateArray(), *o;
	size_t n;

	control_lock(c);
	n = batch_job_list(c->rt->ws, &js);
	for (size_t i = 0; i < n; i++) {
		o = job_json(c, js[i]);
		if (o != NULL && job_matches(o, props, tag))
			cJSON_AddItemToArray(arr, o);
		else
			cJSON_Delete(o);
	}
	free(js);
	control_end(c);
	control_page(c, arr);
}

void batchctl_job_get(struct call *c)
{
	const struct job *j;
	cJSON *o = NULL;

	control_lock(c);
	j = batch_job_find(c->rt->ws, c->cap[0]);
	if (j != NULL)
		o = job_json(c, j);
	control_end(c);
	if (o != NULL)
		control_reply(c, 200, o);
	else
		not_found(c, "job", c->cap[0]);
}

static int job_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
			    struct error *err)
{
	(void)rt;
	return batch_job_delete(ws, arg, err);
}

void batchctl_job_delete(struct call *c)
{
	struct error err;
	char rel[600];
	int rc = control_change(c->rt, job_delete_apply, NULL, (void *)c->cap[0], &err);

	if (rc == 0) { /* its folder: logs, and the output when it was kept there */
		snprintf(rel, sizeof rel, "jobs/%s", c->cap[0]);
		file_remove_at(store_dirfd(c->rt->store), rel);
	}
	answer(c, rc, &err, 200, NULL);
}

struct cancel_arg {
	const char *name;
	int was_active;
};

static int cancel_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct cancel_arg *a = arg;
	const struct job *cur = batch_job_find(ws, a->name);
	struct job j;
	int rc;

	(void)rt;
	if (cur == NULL)
		return error_set(err, 404, "NotFound", "job '%s' not found", a->name);
	a->was_active = job_status_active(cur->status);
	if (!a->was_active || cur->status == JOB_CANCEL_REQUESTED)
		return 0; /* nothing to do */
	if (job_copy(&j, cur) < 0)
		return error_set(err, 500, "InternalError", "out of memory");
	j.status = cur->status == JOB_QUEUED ? JOB_CANCELED : JOB_CANCEL_REQUESTED;
	if (j.status == JOB_CANCELED)
		j.ended = (int64_t)time(NULL);
	rc = batch_job_put(ws, &j, err);
	job_cleanup(&j);
	return rc;
}

void batchctl_job_cancel(struct call *c)
{
	struct cancel_arg a = {c->cap[0], 0};
	struct error err;
	int rc = control_change(c->rt, cancel_apply, NULL, &a, &err);

	if (rc == 0 && a.was_active) {
		jobs_cancel(c->rt->jobs, c->cap[0]);
		monitors_cancel(c->rt->monitors, c->cap[0]);
		runtime_log(c->rt, "job %s: cancel requested", c->cap[0]);
	}
	answer(c, rc, &err, a.was_active ? 202 : 200, NULL);
}

/* ---- a job's files: its output and logs (local extension) ---------------- */

#define CONTENT_MAX (8 << 20) /* bytes per content request */

/* The folders a job's files come from: its output folder and its logs. */
static int job_roots(struct call *c, char *out, size_t olen, char *logs, size_t llen)
{
	const struct job *j;
	int rc, monitor;

	control_lock(c);
	j = batch_job_find(c->rt->ws, c->cap[0]);
	monitor = j != NULL && j->kind == JOB_KIND_MONITOR;
	rc = j != NULL && !monitor && j->output_dir != NULL ? 0 : -1;
	if (rc == 0 && (snprintf(out, olen, "%s", j->output_dir) >= (int)olen ||
			snprintf(logs, llen, "%s/jobs/%s/logs", c->rt->home, j->name) >= (int)llen))
		rc = -1;
	control_end(c);
	if (monitor)
		server_reply_errorf(c->rs, 400, "ValidationError",
				    "job %s is a monitor run: it has no files; its results are in "
				    "its outputs (GET jobs/%s)",
				    c->cap[0], c->cap[0]);
	else if (rc < 0)
		not_found(c, "job", c->cap[0]);
	return rc;
}

static void list_dir(cJSON *arr, const char *dir, const char *prefix, int depth)
{
	DIR *d = depth < 4 ? opendir(dir) : NULL;
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[PATH_MAX], rel[PATH_MAX];
		struct stat st;
		cJSON *o;

		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
		    snprintf(rel, sizeof rel, "%s/%s", prefix, e->d_name) >= (int)sizeof rel ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			list_dir(arr, path, rel, depth + 1);
		} else if (S_ISREG(st.st_mode) && (o = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(o, "path", rel);
			cJSON_AddNumberToObject(o, "size", (double)st.st_size);
			cJSON_AddItemToArray(arr, o);
		}
	}
	if (d != NULL)
		closedir(d);
}

void batchctl_job_files(struct call *c)
{
	char out[PATH_MAX], logs[PATH_MAX];
	cJSON *arr;

	if (job_roots(c, out, sizeof out, logs, sizeof logs) < 0)
		return;
	arr = cJSON_CreateArray();
	list_dir(arr, out, "outputs/score", 3);
	list_dir(arr, logs, "logs", 0);
	control_reply(c, 200, codec_list(arr));
}

/* ?path=outputs/score/F or logs/...: the file it names, never outside. */
static int content_path(struct call *c, const char *rel, char *path, size_t len)
{
	char out[PATH_MAX], logs[PATH_MAX];
	const char *rest;

	if (job_roots(c, out, sizeof out, logs, sizeof logs) < 0)
		return -1;
	if (rel != NULL && strncmp(rel, "outputs/score/", 14) == 0 &&
	    names_relative_inside(rest = rel + 14) && strchr(rest, '/') == NULL &&
	    snprintf(path, len, "%s/%s", out, rest) < (int)len)
		return 0;
	if (rel != NULL && strncmp(rel, "logs/", 5) == 0 && names_relative_inside(rel + 5) &&
	    snprintf(path, len, "%s/%s", logs, rel + 5) < (int)len)
		return 0;
	server_reply_errorf(c->rs, 400, "ValidationError",
			    "path must be outputs/score/FILE or logs/...");
	return -1;
}

/* GET {ws}/jobs/{name}/content?path=P[&offset=O][&length=L]: up to 8 MiB of a
 * job file as it is now; the file's size in x-mldeck-size. */
void batchctl_job_content(struct call *c)
{
	const char *off = server_query(c->rq, "offset"), *lenq = server_query(c->rq, "length");
	long long o = off ? strtoll(off, NULL, 10) : 0, want = lenq ? strtoll(lenq, NULL, 10) : CONTENT_MAX;
	char path[PATH_MAX], size[32], *buf;
	struct stat st;
	ssize_t got;
	int fd;

	if (content_path(c, server_query(c->rq, "path"), path, sizeof path) < 0)
		return;
	if (o < 0 || want < 0 || want > CONTENT_MAX)
		want = CONTENT_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return server_reply_errorf(c->rs, 404, "NotFound", "no file %s in job %s",
					   server_query(c->rq, "path"), c->cap[0]);
	}
	buf = malloc((size_t)want + 1);
	got = buf != NULL ? pread(fd, buf, (size_t)want, (off_t)(o < 0 ? 0 : o)) : -1;
	close(fd);
	if (got < 0) {
		free(buf);
		return server_reply_errorf(c->rs, 500, "ReadError", "cannot read it");
	}
	snprintf(size, sizeof size, "%lld", (long long)st.st_size);
	server_reply_header(c->rs, "x-mldeck-size", size);
	free(c->rs->body);
	c->rs->status = 200;
	c->rs->body = buf;
	c->rs->len = (size_t)got;
	c->rs->content_type = "application/octet-stream";
}

/* ---- schedules ---------------------------------------------------------- */

static cJSON *schedule_json(struct call *c, const struct schedule *s)
{
	cJSON *o = batchcodec_schedule_to_json(s, &c->codec);
	cJSON *p = cJSON_GetObjectItem(o, "properties");
	int64_t next;
	char t[32];

	if (p != NULL && scheduler_next(c->rt->scheduler, s, &next) == 0) {
		codec_iso_time(next, t, sizeof t);
		cJSON_AddStringToObject(p, "nextRunTime", t); /* local extension */
	}
	return o;
}

void batchctl_schedules_list(struct call *c)
{
	const char *view = server_query(c->rq, "listViewType");
	const struct schedule **ss;
	cJSON *arr = cJSON_CreateArray();
	int want = 1; /* EnabledOnly, the spec's default */
	size_t n;

	if (view != NULL && strcasecmp(view, "All") == 0)
		want = -1;
	else if (view != NULL && strcasecmp(view, "DisabledOnly") == 0)
		want = 0;
	else if (view != NULL && strcasecmp(view, "EnabledOnly") != 0)
		return server_reply_errorf(c->rs, 400, "ValidationError",
					   "listViewType must be EnabledOnly, DisabledOnly or All");
	control_lock(c);
	n = batch_schedule_list(c->rt->ws, &ss);
	for (size_t i = 0; i < n; i++)
		if (want < 0 || ss[i]->enabled == want)
			cJSON_AddItemToArray(arr, schedule_json(c, ss[i]));
	free(ss);
	control_end(c);
	control_page(c, arr);
}

void batchctl_schedule_get(struct call *c)
{
	const struct schedule *s;
	cJSON *j = NULL;

	control_lock(c);
	s = batch_schedule_find(c->rt->ws, c->cap[0]);
	if (s != NULL)
		j = schedule_json(c, s);
	control_end(c);
	if (j != NULL)
		control_reply(c, 200, j);
	else
		not_found(c, "schedule", c->cap[0]);
}

struct schedule_put {
	struct call *c;
	struct schedule s;
	int created;
	cJSON *answer;
};

static int schedule_put_apply(struct runtime *rt, struct workspace *ws, void *arg,
			      struct error *err)
{
	struct schedule_put *p = arg;
	const struct schedule *cur = batch_schedule_find(ws, p->s.name);

	p->s.created = cur != NULL ? cur->created : p->s.updated;
	if (batch_schedule_put(ws, &p->s, &p->created, err) < 0)
		return -1;
	(void)rt;
	p->answer = schedule_json(p->c, batch_schedule_find(ws, p->s.name));
	return 0;
}

static void schedule_done(struct runtime *rt, void *arg)
{
	(void)arg;
	scheduler_wake(rt->scheduler);
	monitors_sync(rt->monitors); /* live drift follows the monitors */
}

void batchctl_schedule_put(struct call *c)
{
	struct schedule_put p;
	struct error err;
	int rc = -1;

	if (control_need_body(c) < 0)
		return;
	memset(&p, 0, sizeof p);
	p.c = c;
	snprintf(p.s.name, sizeof p.s.name, "%s", c->cap[0]);
	p.s.enabled = 1;
	p.s.updated = (int64_t)time(NULL);
	if (batchcodec_schedule_from_json(c->body, &p.s, &err) == 0 &&
	    trigger_check(&p.s.trigger, &err) == 0 &&
	    scheduler_check_zone(c->rt->scheduler, &p.s.trigger, &err) == 0 &&
	    scheduler_check_action(p.s.action_type, p.s.action, &err) == 0)
		rc = control_change(c->rt, schedule_put_apply, schedule_done, &p, &err);
	answer(c, rc, &err, p.created ? 201 : 200, p.answer);
	schedule_cleanup(&p.s);
}

static int schedule_delete_apply(struct runtime *rt, struct workspace *ws, void *arg,
				 struct error *err)
{
	(void)rt;
	return batch_schedule_delete(ws, arg, err);
}

void batchctl_schedule_delete(struct call *c)
{
	struct error err;
	int rc = control_change(c->rt, schedule_delete_apply, schedule_done, (void *)c->cap[0],
				&err);

	answer(c, rc, &err, 200, NULL);
}

void batchctl_schedule_trigger(struct call *c)
{
	const cJSON *t = c->body ? cJSON_GetObjectItem(c->body, "scheduleTime") : NULL;
	int64_t when = (int64_t)time(NULL), local, utc;
	char job[RESOURCE_ASSET_NAME_MAX + 1], type[SCHEDULE_ACTION_MAX];
	struct error err;
	int has_utc;
	cJSON *o;

	if (cJSON_IsString(t)) {
		if (schedule_time_parse(t->valuestring, &local, &utc, &has_utc) < 0)
			return server_reply_errorf(c->rs, 400, "ValidationError",
						   "scheduleTime must read like "
						   "2024-06-01T03:00:00Z");
		when = has_utc ? utc : local;
	}
	if (scheduler_trigger(c->rt->scheduler, c->cap[0], when, job, sizeof job, type, &err) < 0)
		return control_reply_error(c, &err);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "submissionId", job);
	cJSON_AddStringToObject(o, "scheduleActionType", type);
	control_reply(c, 200, o);
}
