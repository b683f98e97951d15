/* ops.c: long-running operations the console started, followed in the background. */
#include "ui/console/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/azure.h"
#include "api/lro.h"
#include "ui/console/data.h"
#include "ui/console/screen.h"

#define OPS_RETRY_MS 5000 /* a poll that got no answer is tried again after this */

struct op {
	unsigned id;
	char what[128], done[128];
	char endpoint[64], deployment[64]; /* the row it shows on */
	struct lro lro;
	int polling;
	long long due_ms;
};

/* The request (and, for an endpoint update, the GET before it). */
struct ops_job {
	struct fetch_job job;
	char method[8], path[512], what[128], done[128], tag[160];
	char *body;   /* JSON text, or NULL */
	cJSON *props; /* ops_update_endpoint: the properties to replace */
	struct lro lro;
	ops_accepted_fn accepted;
};

/* One poll, on a copy of the operation. */
struct poll_job {
	struct fetch_job job;
	unsigned id;
	struct lro lro;
};

static unsigned ops_next_id = 1;

/* "/onlineEndpoints/EP[/deployments/D...]" -> the row's endpoint and deployment. */
static void ops_row_of(const char *path, char *ep, size_t elen, char *dep, size_t dlen)
{
	static const char e[] = "/onlineEndpoints/", d[] = "/deployments/";
	const char *p = strncmp(path, e, sizeof e - 1) == 0 ? path + sizeof e - 1 : NULL;

	ep[0] = dep[0] = '\0';
	if (p == NULL)
		return;
	snprintf(ep, elen, "%.*s", (int)strcspn(p, "/?"), p);
	p += strcspn(p, "/?");
	if (strncmp(p, d, sizeof d - 1) == 0)
		snprintf(dep, dlen, "%.*s", (int)strcspn(p + sizeof d - 1, "/?"), p + sizeof d - 1);
}

static int ops_job_run(struct fetch_job *j, struct client *c)
{
	struct ops_job *o = (struct ops_job *)j;
	cJSON *cur = NULL, *body = NULL;
	const cJSON *m;
	int rc;

	if (o->props == NULL) {
		body = o->body != NULL ? cJSON_Parse(o->body) : NULL;
		rc = lro_call(c, o->method, o->path, body, &o->lro, NULL, &j->err);
		cJSON_Delete(body);
		return rc;
	}
	if (client_call(c, "GET", o->path, NULL, &cur, &j->err) < 0)
		return -1;
	body = azure_endpoint_body(cur);
	cJSON_ArrayForEach(m, o->props)
		azure_replace(cJSON_GetObjectItemCaseSensitive(body, "properties"), m->string, m);
	rc = lro_call(c, "PUT", o->path, body, &o->lro, NULL, &j->err);
	cJSON_Delete(body);
	cJSON_Delete(cur);
	return rc;
}

static void ops_finished(struct app *a, const struct op *op)
{
	double s = lro_elapsed_s(&op->lro);

	if (op->lro.state == LRO_SUCCEEDED && s < 1)
		app_message(a, 0, "%s", op->done);
	else if (op->lro.state == LRO_SUCCEEDED)
		app_message(a, 0, "%s (after %.0f s)", op->done, s);
	else
		app_message(a, 1, "%s failed: %s: %s", op->what, op->lro.error.code,
			    op->lro.error.message);
	screen_load(a);
}

static void ops_add(struct app *a, const struct ops_job *o)
{
	struct op *op = calloc(1, sizeof *op);
	int i;

	for (i = 0; i < APP_MAX_OPS && a->ops[i] != NULL; i++)
		;
	if (op == NULL || i == APP_MAX_OPS) {
		free(op);
		app_message(a, 0, "%s: accepted (not followed: too many operations)", o->what);
		return;
	}
	op->id = ops_next_id++;
	app_copy(op->what, sizeof op->what, o->what);
	app_copy(op->done, sizeof op->done, o->done);
	ops_row_of(o->path, op->endpoint, sizeof op->endpoint, op->deployment,
		   sizeof op->deployment);
	op->lro = o->lro;
	op->due_ms = app_now_ms() + op->lro.next_ms;
	a->ops[i] = op;
	app_message(a, 0, "%s: %s...", op->what, op->lro.status);
	screen_load(a);
}

static void ops_job_done(struct app *a, struct fetch_job *j)
{
	struct ops_job *o = (struct ops_job *)j;
	struct op done = {0};

	if (o->accepted != NULL)
		o->accepted(a, j->rc == 0, &j->err, o->tag);
	if (j->rc < 0) {
		app_message(a, 1, "refused (%d %s): %s", j->err.status, j->err.code,
			    j->err.message);
		return;
	}
	if (o->lro.state == LRO_RUNNING) {
		ops_add(a, o);
		return;
	}
	app_copy(done.what, sizeof done.what, o->what);
	app_copy(done.done, sizeof done.done, o->done);
	done.lro = o->lro;
	ops_finished(a, &done);
}

static void ops_job_release(struct fetch_job *j)
{
	struct ops_job *o = (struct ops_job *)j;

	free(o->body);
	cJSON_Delete(o->props);
	free(o);
}

static struct ops_job *ops_job_new(const char *method, const char *path,
				   const struct ops_names *n)
{
	struct ops_job *o =
	    fetch_job_new(sizeof *o, "", ops_job_run, ops_job_done, ops_job_release);

	app_copy(o->method, sizeof o->method, method);
	app_copy(o->path, sizeof o->path, path);
	app_copy(o->what, sizeof o->what, n->what);
	app_copy(o->done, sizeof o->done, n->done != NULL ? n->done : n->what);
	app_copy(o->tag, sizeof o->tag, n->tag != NULL ? n->tag : "");
	o->accepted = n->accepted;
	return o;
}

void ops_start(struct app *a, const char *method, const char *path, const cJSON *body,
	       const struct ops_names *n)
{
	struct ops_job *o = ops_job_new(method, path, n);

	o->body = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	data_submit(a, &o->job);
}

void ops_update_endpoint(struct app *a, const char *path, const cJSON *props,
			 const struct ops_names *n)
{
	struct ops_job *o = ops_job_new("PUT", path, n);

	o->props = cJSON_Duplicate(props, 1);
	data_submit(a, &o->job);
}

static int poll_run(struct fetch_job *j, struct client *c)
{
	struct poll_job *p = (struct poll_job *)j;

	return lro_poll(c, &p->lro, &j->err);
}

static struct op **ops_find(struct app *a, unsigned id)
{
	for (int i = 0; i < APP_MAX_OPS; i++)
		if (a->ops[i] != NULL && a->ops[i]->id == id)
			return &a->ops[i];
	return NULL;
}

static void poll_done(struct app *a, struct fetch_job *j)
{
	struct poll_job *p = (struct poll_job *)j;
	struct op **slot = ops_find(a, p->id), *op;

	if (slot == NULL)
		return; /* forgotten meanwhile (profile switch) */
	op = *slot;
	op->polling = 0;
	if (j->rc < 0) {
		op->due_ms = app_now_ms() + OPS_RETRY_MS; /* its fate is unknown yet */
		return;
	}
	op->lro = p->lro;
	op->due_ms = app_now_ms() + op->lro.next_ms;
	if (op->lro.state == LRO_RUNNING)
		return;
	*slot = NULL;
	ops_finished(a, op);
	free(op);
}

void ops_tick(struct app *a)
{
	long long now = app_now_ms();

	/* the rows' elapsed times count every second */
	if (ops_running(a) > 0 && now - a->ops_shown_ms >= 1000) {
		a->ops_shown_ms = now;
		screen_live(a);
	}
	for (int i = 0; i < APP_MAX_OPS && a->fetch != NULL; i++) {
		struct op *op = a->ops[i];
		if (op == NULL || op->polling || now < op->due_ms)
			continue;
		struct poll_job *p = fetch_job_new(sizeof *p, "", poll_run, poll_done, NULL);
		p->id = op->id;
		p->lro = op->lro;
		op->polling = 1;
		fetch_submit(a->fetch, &p->job);
	}
}

int ops_row_state(struct app *a, const char *ep, const char *dep, char *buf, size_t len)
{
	for (int i = 0; i < APP_MAX_OPS; i++) {
		const struct op *op = a->ops[i];
		if (op == NULL || strcmp(op->endpoint, ep) != 0 ||
		    strcmp(op->deployment, dep != NULL ? dep : "") != 0)
			continue;
		/* Azure says "Updating" while it deletes too: the row says what is done */
		snprintf(buf, len, "%s %.0fs",
			 strcmp(op->lro.method, "DELETE") == 0 ? "Deleting" : op->lro.status,
			 lro_elapsed_s(&op->lro));
		return 1;
	}
	return 0;
}

int ops_running(struct app *a)
{
	int n = 0;

	for (int i = 0; i < APP_MAX_OPS; i++)
		n += a->ops[i] != NULL;
	return n;
}

void ops_clear(struct app *a)
{
	for (int i = 0; i < APP_MAX_OPS; i++) {
		free(a->ops[i]);
		a->ops[i] = NULL;
	}
}
