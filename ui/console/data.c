/* data.c: background loads shared by the screens, and JSON/cell helpers. */
#include "ui/console/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/monitor.h"
#include "ui/console/backend.h"
#include "ui/console/ops.h"
#include "ui/console/screen.h"

const cJSON *data_member(const cJSON *o, const char *path)
{
	char part[64];

	while (o != NULL && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof part)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, part);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

const char *data_str(const cJSON *o, const char *path)
{
	const cJSON *v = data_member(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

double data_num(const cJSON *o, const char *path)
{
	const cJSON *v = data_member(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int data_state_style(const char *s)
{
	if (strcmp(s, "Succeeded") == 0 || strcmp(s, "Completed") == 0)
		return THEME_STATUS_OK;
	if (strcmp(s, "Failed") == 0 || strcmp(s, "Canceled") == 0)
		return THEME_STATUS_FAILED;
	return THEME_STATUS_PENDING;
}

void data_submit(struct app *a, struct fetch_job *j)
{
	if (a->fetch != NULL) {
		fetch_submit(a->fetch, j);
		return;
	}
	app_message(a, 1, "not connected");
	if (j->release != NULL)
		j->release(j);
	else
		free(j);
}

static int call_run(struct fetch_job *j, struct client *c)
{
	struct data_call *d = (struct data_call *)j;
	size_t len;

	if (d->raw)
		return client_get_text(c, d->path, &d->text, &len, &j->err);
	if (d->list)
		return client_list(c, d->path, &d->out, &j->err);
	return client_call_raw(c, d->method, d->path, d->body, d->body ? strlen(d->body) : 0,
			       "application/json", &d->out, &j->err);
}

static void call_done(struct app *a, struct fetch_job *j)
{
	struct data_call *d = (struct data_call *)j;

	app_trace(a, "answer %s %.100s rc %d, %lld ms on a worker", d->method, d->path, j->rc,
		  app_now_ms() - j->started_ms);

	if (d->then != NULL)
		d->then(a, d);
}

static void call_release(struct fetch_job *j)
{
	struct data_call *d = (struct data_call *)j;

	free(d->body);
	cJSON_Delete(d->out);
	free(d->text);
	free(d);
}

static struct data_call *call_new(const char *key, const char *method, const char *path,
				  const cJSON *body, const char *tag,
				  void (*then)(struct app *a, struct data_call *c))
{
	struct data_call *d = fetch_job_new(sizeof *d, key, call_run, call_done, call_release);

	app_copy(d->method, sizeof d->method, method);
	app_copy(d->path, sizeof d->path, path);
	app_copy(d->tag, sizeof d->tag, tag ? tag : "");
	d->body = body ? cJSON_PrintUnformatted(body) : NULL;
	d->then = then;
	return d;
}

void data_call(struct app *a, const char *key, const char *method, const char *path,
	       const cJSON *body, const char *tag, void (*then)(struct app *a, struct data_call *c))
{
	data_submit(a, &call_new(key, method, path, body, tag, then)->job);
}

/* A GET in the background: raw (base URL + path, the text kept) or a list. */
static void get_submit(struct app *a, const char *key, const char *path, const char *tag,
		       void (*then)(struct app *a, struct data_call *c), int raw)
{
	struct data_call *d = call_new(key, "GET", path, NULL, tag, then);

	d->raw = raw;
	d->list = !raw;
	data_submit(a, &d->job);
}

void data_get(struct app *a, const char *key, const char *path, const char *tag,
	      void (*then)(struct app *a, struct data_call *c))
{
	get_submit(a, key, path, tag, then, 1);
}

void data_list(struct app *a, const char *key, const char *path, const char *tag,
	       void (*then)(struct app *a, struct data_call *c))
{
	get_submit(a, key, path, tag, then, 0);
}

void data_report(struct app *a, const char *method, const char *path, const struct fetch_job *j)
{
	if (j->err.status)
		app_message(a, 1, "%s %s: %d %s", method, path, j->err.status, j->err.message);
	else
		app_message(a, 1, "%s", j->err.message);
}

void data_set_num(struct table_row *r, int col, double v, int decimals, int pct)
{
	r->num[col] = v;
	if (isnan(v))
		snprintf(r->cell[col], TABLE_CELL, "-");
	else
		snprintf(r->cell[col], TABLE_CELL, "%.*f%s",
			 decimals >= 0 ? decimals
			 : v < 1       ? 3
			 : v < 10      ? 2
			 : v < 100     ? 1
				       : 0,
			 v, pct ? "%" : "");
}

void data_state_cell(struct app *a, struct table_row *r, int col, const char *state,
		     const char *ep, const char *dep)
{
	char op[TABLE_CELL];

	if (ops_row_state(a, ep, dep, op, sizeof op)) {
		data_cell(r->cell[col], op);
		r->style = THEME_STATUS_PENDING;
	} else if (state != NULL) {
		data_cell(r->cell[col], state);
		r->style = data_state_style(state);
	}
}

void data_cell(char *cell, const char *src)
{
	size_t n = strlen(src);

	if (n >= TABLE_CELL)
		n = TABLE_CELL - 1;
	memcpy(cell, src, n);
	cell[n] = '\0';
}

void data_fill_stats(struct table_row *r, int rps, const struct live_stats *s)
{
	data_set_num(r, rps, s ? s->rps : NAN, 1, 0);
	data_set_num(r, rps + 1, s ? s->p50 : NAN, -1, 0);
	data_set_num(r, rps + 2, s ? s->p99 : NAN, -1, 0);
	data_set_num(r, rps + 3, s && !isnan(s->err_rate) ? s->err_rate * 100 : NAN, 1, 0);
}

void data_traffic_text(const cJSON *traffic, char *buf, size_t len)
{
	const cJSON *t;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(t, traffic)
	{
		int n;

		if (!cJSON_IsNumber(t) || t->valueint == 0)
			continue;
		n = snprintf(buf + used, len - used, "%s%s %d", used ? " " : "", t->string,
			     t->valueint);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "-");
}

/* ".../models/NAME/versions/V" -> "NAME:V" */
void data_asset_short(const char *id, char *buf, size_t len)
{
	const char *v = strstr(id, "/versions/");
	const char *n;

	if (v == NULL) {
		snprintf(buf, len, "%s", strncmp(id, "azureml:", 8) == 0 ? id + 8 : id);
		return;
	}
	n = v;
	while (n > id && n[-1] != '/')
		n--;
	snprintf(buf, len, "%.*s:%s", (int)(v - n), n, v + 10);
}

static int traffic_of(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* Fills a->dep from the endpoint's traffic maps, keeping pending shares when
 * it is the same endpoint and its deployment set did not change. */
static void sync_deploys(struct app *a, const cJSON *list)
{
	struct app_deploys old = a->dep, *d = &a->dep;
	const cJSON *e, *traffic = data_member(a->endpoint_doc, "properties.traffic");
	const cJSON *mirror = data_member(a->endpoint_doc, "properties.mirrorTraffic");
	int same;

	d->n = 0;
	cJSON_ArrayForEach(e, list)
	{
		if (d->n >= LIVE_MAX_DEPS)
			break;
		snprintf(d->name[d->n], sizeof d->name[0], "%s", data_str(e, "name"));
		d->live[d->n] = traffic_of(traffic, d->name[d->n]);
		d->mirror[d->n] = traffic_of(mirror, d->name[d->n]);
		d->n++;
	}
	app_copy(d->endpoint, sizeof d->endpoint, a->endpoint);
	same = old.n == d->n && strcmp(old.endpoint, d->endpoint) == 0;
	for (int i = 0; same && i < d->n; i++)
		same = strcmp(old.name[i], d->name[i]) == 0;
	for (int i = 0; i < d->n; i++) {
		d->pend_live[i] = same ? old.pend_live[i] : d->live[i];
		d->pend_mirror[i] = same ? old.pend_mirror[i] : d->mirror[i];
	}
	if (!same)
		d->mirror_mode = 0;
}

struct endpoint_job {
	struct fetch_job job;
	char ep[64], path[300];
	cJSON *doc, *deps;
	void (*then)(struct app *a, cJSON *deps);
};

static int endpoint_run(struct fetch_job *j, struct client *c)
{
	struct endpoint_job *e = (struct endpoint_job *)j;

	snprintf(e->path, sizeof e->path, "/onlineEndpoints/%s", e->ep);
	if (client_call(c, "GET", e->path, NULL, &e->doc, &j->err) < 0)
		return -1;
	snprintf(e->path, sizeof e->path, "/onlineEndpoints/%s/deployments", e->ep);
	return client_list(c, e->path, &e->deps, &j->err);
}

static void endpoint_done(struct app *a, struct fetch_job *j)
{
	struct endpoint_job *e = (struct endpoint_job *)j;

	if (strcmp(e->ep, a->endpoint) != 0)
		return; /* another endpoint is open now */
	if (j->rc < 0) {
		data_report(a, "GET", e->path, j);
		e->then(a, NULL);
		return;
	}
	cJSON_Delete(a->endpoint_doc);
	a->endpoint_doc = e->doc;
	e->doc = NULL;
	snprintf(a->scoring_uri, sizeof a->scoring_uri, "%s",
		 data_str(a->endpoint_doc, "properties.scoringUri"));
	sync_deploys(a, cJSON_GetObjectItemCaseSensitive(e->deps, "value"));
	e->then(a, e->deps);
	e->deps = NULL;
}

static void endpoint_release(struct fetch_job *j)
{
	struct endpoint_job *e = (struct endpoint_job *)j;

	cJSON_Delete(e->doc);
	cJSON_Delete(e->deps);
	free(e);
}

void data_load_endpoint(struct app *a, const char *key, void (*then)(struct app *a, cJSON *deps))
{
	struct endpoint_job *e =
	    fetch_job_new(sizeof *e, key, endpoint_run, endpoint_done, endpoint_release);

	app_copy(e->ep, sizeof e->ep, a->endpoint);
	e->then = then;
	data_submit(a, &e->job);
}

struct assets_job {
	struct fetch_job job;
	char kind[16], path[300];
	cJSON *all;
	void (*then)(struct app *a, cJSON *versions);
};

/* The versions of one container into all, each with "_name". */
static int assets_versions(struct assets_job *s, struct client *c, const char *name)
{
	cJSON *doc = NULL, *v;

	snprintf(s->path, sizeof s->path, "/%s/%s/versions", s->kind, name);
	if (client_list(c, s->path, &doc, &s->job.err) < 0)
		return s->job.err.status == 404 ? (error_clear(&s->job.err), 0) : -1;
	while ((v = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(doc, "value"), 0))) {
		cJSON_AddStringToObject(v, "_name", name);
		cJSON_AddItemToArray(s->all, v);
	}
	cJSON_Delete(doc);
	return 0;
}

static int assets_run(struct fetch_job *j, struct client *c)
{
	struct assets_job *s = (struct assets_job *)j;
	cJSON *doc = NULL;
	const cJSON *e;
	int rc = 0;

	snprintf(s->path, sizeof s->path, "/%s", s->kind);
	if ((s->all = cJSON_CreateArray()) == NULL || client_list(c, s->path, &doc, &j->err) < 0)
		return -1;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	{
		if (rc == 0)
			rc = assets_versions(s, c, data_str(e, "name"));
	}
	cJSON_Delete(doc);
	return rc;
}

static void assets_done(struct app *a, struct fetch_job *j)
{
	struct assets_job *s = (struct assets_job *)j;

	if (j->rc < 0) {
		data_report(a, "GET", s->path, j);
		s->then(a, NULL);
		return;
	}
	s->then(a, s->all);
	s->all = NULL;
}

static void assets_release(struct fetch_job *j)
{
	struct assets_job *s = (struct assets_job *)j;

	cJSON_Delete(s->all);
	free(s);
}

void data_load_assets(struct app *a, const char *kind, void (*then)(struct app *a, cJSON *versions))
{
	struct assets_job *s =
	    fetch_job_new(sizeof *s, kind, assets_run, assets_done, assets_release);

	app_copy(s->kind, sizeof s->kind, kind);
	s->then = then;
	data_submit(a, &s->job);
}

struct live_job {
	struct fetch_job job;
	char path[LIVE_QUERY_MAX], focus[80];
	int azure; /* Azure Monitor for focus, not the runtime's path */
	struct live live;
};

/* Parsed on the worker: the console's thread only swaps the result in. */
static int live_run(struct fetch_job *j, struct client *c)
{
	struct live_job *l = (struct live_job *)j;
	char *text = NULL;
	size_t len;
	cJSON *doc = NULL;

	if (l->azure) {
		if (monitor_fetch(c, l->focus, DATA_MONITOR_MINUTES, time(NULL), &doc, &j->err) < 0)
			return -1;
		text = cJSON_PrintUnformatted(doc);
		cJSON_Delete(doc);
		if (text == NULL)
			return error_set(&j->err, 500, "NoMemory", "out of memory");
	} else if (client_get_text(c, l->path, &text, &len, &j->err) < 0) {
		return -1;
	}
	live_parse(&l->live, text, l->focus[0] ? l->focus : NULL);
	live_set_query(&l->live, l->path);
	free(text);
	return 0;
}

static void live_done(struct app *a, struct fetch_job *j)
{
	struct live_job *l = (struct live_job *)j;
	char path[LIVE_QUERY_MAX];

	app_trace(a, "answer GET %.60s... rc %d, %lld ms on a worker", l->path, j->rc,
		  app_now_ms() - j->started_ms);
	screen_live_query(a, path, sizeof path);
	if (!live_query_same(path, l->path))
		return; /* asked for another screen or selection: the next tick asks again */
	/* rows scrolled since: the answer still holds the rows it was asked for */
	live_free(&a->live);
	if (j->rc == 0) {
		a->live = l->live;
		memset(&l->live, 0, sizeof l->live);
	}
	screen_live(a);
}

static void live_release(struct fetch_job *j)
{
	struct live_job *l = (struct live_job *)j;

	live_free(&l->live);
	free(l);
}

/* Azure: Monitor's figures of the focused endpoint are asked for once a
 * minute (their grain), and again at once when the focus moves. */
static int data_monitor_due(struct app *a, const char *focus)
{
	long long now = app_now_ms();

	if (focus == NULL || focus[0] == '\0')
		return 0;
	if (strcmp(focus, a->monitor_ep) == 0 && a->monitor_ms != 0 &&
	    now - a->monitor_ms < BACKEND_AZURE_METRICS_MS)
		return 0;
	app_copy(a->monitor_ep, sizeof a->monitor_ep, focus);
	a->monitor_ms = now;
	return 1;
}

void data_load_live(struct app *a)
{
	struct live_job *l;
	const char *focus;
	char path[LIVE_QUERY_MAX];

	if (a->fetch == NULL)
		return;
	focus = screen_live_query(a, path, sizeof path);
	if (path[0] == '\0') /* this screen shows no live figures */
		return;
	if (a->info.azure && !data_monitor_due(a, focus))
		return;
	l = fetch_job_new(sizeof *l, "live", live_run, live_done, live_release);
	app_copy(l->path, sizeof l->path, path);
	app_copy(l->focus, sizeof l->focus, focus ? focus : "");
	l->azure = a->info.azure;
	fetch_submit(a->fetch, &l->job);
}

void data_live_refresh(struct app *a)
{
	char path[LIVE_QUERY_MAX];

	screen_live_query(a, path, sizeof path);
	if (path[0] != '\0' && !live_answers(&a->live, path))
		a->next_live_ms = app_now_ms();
}

void data_state(struct app *a, char *buf, size_t len)
{
	const char *down = a->fetch ? fetch_unreachable(a->fetch) : NULL;
	long long wait = a->fetch ? fetch_waiting_ms(a->fetch) : 0, age = screen_age_ms(a);
	int n = 0;

	buf[0] = '\0';
	/* the age only when the data is stale (a healthy idle console writes
	 * nothing), and first: a long reason after it is what gets cut */
	if (age >= 0 && age > 2L * a->list_every_ms + 1000)
		n = snprintf(buf, len, "data %lld s old | ", age / 1000);
	if (n < 0 || (size_t)n >= len || backend_tunnel_state(a, buf + n, len - (size_t)n))
		return;
	if (down != NULL)
		snprintf(buf + n, len - (size_t)n, "UNREACHABLE: %s", down);
	else if (wait >= 1000)
		snprintf(buf + n, len - (size_t)n, "waiting %lld s", wait / 1000);
	else if (a->fetch != NULL && !fetch_answered(a->fetch))
		snprintf(buf + n, len - (size_t)n, "connecting");
	else
		snprintf(buf + n, len - (size_t)n, "%s", a->state);
}

void data_endpoint_names(struct app *a, void (*add)(void *ctx, const char *word), void *ctx)
{
	const struct table *t = screen_table_of(a, &screen_endpoints);

	for (int i = 0; i < t->nrows; i++)
		add(ctx, t->rows[i].key);
}
