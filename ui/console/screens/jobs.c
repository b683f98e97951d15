/* screens/jobs.c: batch jobs, newest first, with a progress bar, items per
 * second, failures and ETA, refreshed every refresh period while one is
 * active; all batch jobs (tag azureml.batchrun: not monitor runs, which the
 * Monitor screen shows), or those of one batch endpoint or schedule. Enter
 * opens the job (mini-batches and logs), c cancels (asks, No focused),
 * ctrl-d deletes an ended one. */
#include "ui/console/screen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"
#include "ui/console/screens/batchview.h"

enum { JC_NAME, JC_STATUS, JC_PROGRESS, JC_RATE, JC_FAILED, JC_ETA, JC_ENDPOINT };
static const struct table_col cols[] = {
    {"NAME", 18, 0, 1, 0},    {"STATUS", 11, 0, 0, 0}, {"PROGRESS", 20, 0, 0, 0},
    {"ITEMS/s", 8, 1, 0, 0},  {"FAILED", 7, 1, 0, 0},  {"ETA", 7, 0, 0, 1},
    {"ENDPOINT", 14, 0, 0, 1},
};

static const enum keys_action acts[] = {KA_OPEN, KA_CANCEL, KA_DELETE, KA_NONE};

struct jobs {
	char filter[80]; /* "" all, "EP", or "schedule:NAME" */
	int active;	 /* a job shown is not ended: refresh every refresh period */
};

static void jobs_loaded(struct app *a, struct data_call *c)
{
	struct screen_state *st = screen_state_of(a, &screen_jobs);
	struct jobs *js = st->data;
	struct table *t = &st->table;
	const cJSON *e;
	int i = 0;

	if (strcmp(c->tag, js->filter) != 0)
		return; /* asked for another filter since */
	if (c->job.rc < 0) {
		data_report(a, c->method, c->path, &c->job);
		screen_loaded(a, &screen_jobs, 0);
		return;
	}
	table_clear(t);
	js->active = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->out, "value"))
	{
		struct table_row *r = table_add(t);
		struct batch_fig f;

		if (r == NULL)
			break;
		batch_fig_of(e, &f);
		r->idx = i++;
		app_copy(r->key, sizeof r->key, data_str(e, "name"));
		data_cell(r->cell[JC_NAME], r->key);
		data_cell(r->cell[JC_STATUS], f.status);
		r->style = data_state_style(f.status);
		js->active |= batch_status_active(f.status);
		snprintf(r->cell[JC_PROGRESS], TABLE_CELL, "%ld/%ld", f.done < 0 ? 0 : f.done,
			 f.total < 0 ? 0 : f.total);
		r->num[JC_PROGRESS] = f.total > 0 ? (double)f.done / (double)f.total : NAN;
		data_set_num(r, JC_RATE, f.rate >= 0 ? (double)f.rate : NAN, 0, 0);
		data_set_num(r, JC_FAILED, f.bad >= 0 ? (double)f.bad : NAN, 0, 0);
		batch_eta(r->cell[JC_ETA], TABLE_CELL, batch_status_active(f.status) ? f.eta : -1);
		data_cell(r->cell[JC_ENDPOINT], batch_job_prop(e, "azureml.endpointname"));
	}
	cJSON_Delete(st->doc);
	st->doc = c->out;
	c->out = NULL;
	table_rebuild(t);
	screen_loaded(a, &screen_jobs, 1);
}

static void jobs_load(struct app *a, struct screen_state *st)
{
	struct jobs *js = st->data;
	char path[256];

	if (strncmp(js->filter, "schedule:", 9) == 0)
		snprintf(path, sizeof path, "/jobs?properties=azureml.schedulename%%3D%s",
			 js->filter + 9);
	else if (js->filter[0])
		snprintf(path, sizeof path, "/jobs?properties=azureml.endpointname%%3D%s",
			 js->filter);
	else
		snprintf(path, sizeof path, "/jobs?tag=azureml.batchrun");
	data_list(a, "jobs", path, js->filter, jobs_loaded);
}

static void jobs_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	struct jobs *js = st->data;

	if (list_due || (live_due && js->active))
		jobs_load(a, st);
}

/* ":jobs [EP]", Enter on a batch endpoint (EP) or a schedule ("schedule:NAME"). */
static void jobs_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	struct screen_state *st = screen_state_of(a, &screen_jobs);
	struct jobs *js = st->data;

	(void)from;
	if (strcmp(js->filter, arg) != 0) {
		app_copy(js->filter, sizeof js->filter, arg);
		table_clear(&st->table); /* never the rows of another filter */
		cJSON_Delete(st->doc);
		st->doc = NULL;
		st->loaded_ms = 0;
		st->table.cursor = 0;
		st->table.cursor_key[0] = '\0';
	}
	screen_show(a, &screen_jobs, 1);
}

static void jobs_title(struct app *a, struct screen_state *st, char *buf, size_t len)
{
	struct jobs *js = st->data;

	(void)a;
	if (js->filter[0])
		snprintf(buf, len, "Jobs/%s", js->filter);
	else
		snprintf(buf, len, "Jobs");
}

static int jobs_cell(struct app *a, const struct table_row *row, int col, struct rect r, int cursor)
{
	struct screen_state *st = screen_state_of(a, &screen_jobs);
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st->doc, "value"),
					    row->idx);
	struct batch_fig f;

	if (col != JC_PROGRESS || e == NULL)
		return 0;
	batch_fig_of(e, &f);
	batch_draw_bar(a, r, f.done, f.total, cursor);
	return 1;
}

static void jobs_draw(struct app *a, struct screen_state *st, struct rect r)
{
	const cJSON *e = draw_selected_doc(&st->table, st->doc);
	char buf[1024], eta[32];
	struct batch_fig f;
	int y = r.y;

	if (e == NULL)
		return;
	batch_fig_of(e, &f);
	snprintf(buf, sizeof buf, "%s / %s", batch_job_prop(e, "azureml.endpointname"),
		 batch_job_prop(e, "azureml.deploymentname"));
	draw_kv(a, &y, r, "endpoint", buf);
	batch_eta(eta, sizeof eta, batch_status_active(f.status) ? f.eta : -1);
	snprintf(buf, sizeof buf, "%ld of %ld mini-batches (%ld failed)  items %ld ok, %ld failed%s%s",
		 f.done < 0 ? 0 : f.done, f.total < 0 ? 0 : f.total,
		 f.failed_mb < 0 ? 0 : f.failed_mb, f.ok < 0 ? 0 : f.ok, f.bad < 0 ? 0 : f.bad,
		 eta[0] ? "  ETA " : "", eta);
	draw_kv(a, &y, r, "progress", buf);
	{ /* the first input, whatever its name */
		const cJSON *in = data_member(e, "properties.inputs");

		draw_kv(a, &y, r, "input", data_str(in ? in->child : NULL, "uri"));
	}
	draw_kv(a, &y, r, "output", data_str(e, "properties.outputs.score.uri"));
	snprintf(buf, sizeof buf, "%s  %s", batch_job_prop(e, "startTimeUtc"),
		 batch_job_prop(e, "endTimeUtc"));
	draw_kv(a, &y, r, "times", buf);
	draw_kv(a, &y, r, "error", batch_job_prop(e, "error"));
}

static void jobs_delete(struct app *a, const char *name, const char *status)
{
	char what[200], path[256];

	if (batch_status_active(status)) {
		app_message(a, 1, "job %s is %s: cancel it first (c)", name, status);
		return;
	}
	snprintf(what, sizeof what, "job %.160s", name);
	snprintf(path, sizeof path, "/jobs/%s", name);
	dialog_delete(a, what, "Its outputs and logs in the runtime's home go with it.", path, "");
}

static int jobs_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&st->table);

	switch (b->action) {
	case KA_OPEN:
		if (r != NULL)
			screen_open(a, &screen_job, r->key);
		return 1;
	case KA_CANCEL:
		if (r != NULL)
			batch_cancel(a, r->key, r->cell[JC_STATUS]);
		return 1;
	case KA_DELETE:
		if (r != NULL)
			jobs_delete(a, r->key, r->cell[JC_STATUS]);
		return 1;
	default:
		return 0;
	}
}

const struct screen screen_jobs = {
    .name = "Jobs",
    .commands = {"jobs", "batch-jobs"},
    .jump = KA_JUMP_JOBS,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .data_size = sizeof(struct jobs),
    .open = jobs_open,
    .load = jobs_load,
    .tick = jobs_tick,
    .title = jobs_title,
    .draw = jobs_draw,
    .cell = jobs_cell,
    .key = jobs_key,
};
