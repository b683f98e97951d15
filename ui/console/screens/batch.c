/* screens/batch.c: batch endpoints, each with its default deployment, its
 * active jobs, its last job and the next run of its schedules; the detail
 * pane has the invocation URI, the last job's progress bar and the
 * endpoint's schedules with their next run. Enter opens its jobs. */
#include "ui/console/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"
#include "ui/console/pretty.h"
#include "ui/console/screens/batchview.h"

enum { BC_NAME, BC_STATE, BC_DEFAULT, BC_ACTIVE, BC_LAST, BC_NEXT };
static const struct table_col cols[] = {
    {"NAME", 18, 0, 1, 0},	 {"STATE", 10, 0, 0, 0},  {"DEFAULT", 12, 0, 0, 0},
    {"ACTIVE", 6, 1, 0, 0},	 {"LAST JOB", 11, 0, 0, 0}, {"NEXT RUN (UTC)", 16, 0, 0, 1},
};

static const enum keys_action acts[] = {KA_OPEN, KA_DELETE, KA_NONE};

/* The endpoints, then the jobs and schedules (theirs are found in them). */
struct batch_fetch {
	struct fetch_job job;
	char path[64];
	cJSON *all; /* {"endpoints": [...], "jobs": [...], "schedules": [...]} */
};

static int fetch_into(struct batch_fetch *f, struct client *c, const char *path, const char *as)
{
	cJSON *doc = NULL, *v;

	app_copy(f->path, sizeof f->path, path);
	if (client_list(c, path, &doc, &f->job.err) < 0) /* every page */
		return -1;
	v = cJSON_DetachItemFromObjectCaseSensitive(doc, "value");
	cJSON_AddItemToObject(f->all, as, v != NULL ? v : cJSON_CreateArray());
	cJSON_Delete(doc);
	return 0;
}

static int batch_run(struct fetch_job *j, struct client *c)
{
	struct batch_fetch *f = (struct batch_fetch *)j;

	if ((f->all = cJSON_CreateObject()) == NULL)
		return -1;
	if (fetch_into(f, c, "/batchEndpoints", "endpoints") < 0 ||
	    fetch_into(f, c, "/jobs", "jobs") < 0 ||
	    fetch_into(f, c, "/schedules?listViewType=All", "schedules") < 0)
		return -1;
	return 0;
}

/* "azureml:/subscriptions/.../batchEndpoints/NAME" or "azureml:NAME" -> NAME. */
static const char *endpoint_of(const cJSON *schedule)
{
	const char *ep =
	    data_str(schedule, "properties.action.endpointInvocationDefinition.endpoint");
	const char *slash = strrchr(ep, '/');

	if (slash != NULL)
		return slash + 1;
	return strncmp(ep, "azureml:", 8) == 0 ? ep + 8 : ep;
}

static void batch_fill(struct table_row *r, const cJSON *e, const cJSON *all)
{
	const cJSON *j, *s;
	const char *name = data_str(e, "name");
	int active = 0, last = 0;
	char next[40] = "";

	cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(all, "jobs"))
	{
		const char *status = data_str(j, "properties.status");

		if (strcmp(batch_job_prop(j, "azureml.endpointname"), name) != 0)
			continue;
		active += batch_status_active(status);
		if (!last++) { /* the list is newest first */
			data_cell(r->cell[BC_LAST], status);
		}
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(all, "schedules"))
	{
		const char *at = data_str(s, "properties.nextRunTime");

		if (strcmp(endpoint_of(s), name) != 0 || !cJSON_IsTrue(data_member(s, "properties.isEnabled")) ||
		    at[0] == '\0')
			continue;
		if (next[0] == '\0' || strcmp(at, next) < 0)
			app_copy(next, sizeof next, at);
	}
	data_set_num(r, BC_ACTIVE, active, 0, 0);
	batch_time(r->cell[BC_NEXT], TABLE_CELL, next);
}

static void batch_done(struct app *a, struct fetch_job *j)
{
	struct batch_fetch *f = (struct batch_fetch *)j;
	struct screen_state *st = screen_state_of(a, &screen_batch);
	struct table *t = &st->table;
	const cJSON *e;
	int i = 0;

	if (j->rc < 0) {
		data_report(a, "GET", f->path, j);
		screen_loaded(a, &screen_batch, 0);
		return;
	}
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(f->all, "endpoints"))
	{
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		r->idx = i++;
		app_copy(r->key, sizeof r->key, data_str(e, "name"));
		data_cell(r->cell[BC_NAME], r->key);
		data_cell(r->cell[BC_STATE], data_str(e, "properties.provisioningState"));
		r->style = data_state_style(r->cell[BC_STATE]);
		data_cell(r->cell[BC_DEFAULT], data_str(e, "properties.defaults.deploymentName"));
		batch_fill(r, e, f->all);
	}
	cJSON_Delete(st->doc);
	st->doc = f->all;
	f->all = NULL;
	table_rebuild(t);
	screen_loaded(a, &screen_batch, 1);
}

static void batch_release(struct fetch_job *j)
{
	struct batch_fetch *f = (struct batch_fetch *)j;

	cJSON_Delete(f->all);
	free(f);
}

static void batch_load(struct app *a, struct screen_state *st)
{
	(void)st;
	data_submit(a, fetch_job_new(sizeof(struct batch_fetch), "batch", batch_run, batch_done,
				     batch_release));
}

static void batch_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	(void)live_due;
	if (list_due)
		batch_load(a, st);
}

static void batch_draw(struct app *a, struct screen_state *st, struct rect r)
{
	const cJSON *e = draw_selected_doc(&st->table,
					   cJSON_GetObjectItemCaseSensitive(st->doc, "endpoints"));
	const cJSON *j, *s;
	const char *name;
	char buf[512], trig[160], at[40];
	int y = r.y;

	if (e == NULL)
		return;
	name = data_str(e, "name");
	draw_kv(a, &y, r, "invoke", data_str(e, "properties.scoringUri"));
	cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(st->doc, "jobs"))
	{
		struct batch_fig f;
		struct rect bar;

		if (strcmp(batch_job_prop(j, "azureml.endpointname"), name) != 0)
			continue;
		batch_fig_of(j, &f);
		snprintf(buf, sizeof buf, "%s  %s", data_str(j, "name"), f.status);
		draw_kv(a, &y, r, "last job", buf);
		if (y < r.y + r.h && f.total > 0) {
			bar = (struct rect){.y = y++, .x = r.x + 13, .h = 1,
					    .w = r.w - 13 < 50 ? r.w - 13 : 50};
			if (bar.w > 8)
				batch_draw_bar(a, bar, f.done, f.total, 0);
		}
		break;
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(st->doc, "schedules"))
	{
		if (strcmp(endpoint_of(s), name) != 0)
			continue;
		batch_trigger(s, trig, sizeof trig);
		batch_time(at, sizeof at, data_str(s, "properties.nextRunTime"));
		snprintf(buf, sizeof buf, "%s  %s (%s)  %s%s", data_str(s, "name"), trig,
			 data_str(s, "properties.trigger.timeZone"),
			 cJSON_IsTrue(data_member(s, "properties.isEnabled")) ? "next " : "disabled",
			 cJSON_IsTrue(data_member(s, "properties.isEnabled")) ? at : "");
		draw_kv(a, &y, r, "schedule", buf);
	}
}

/* v: the selected endpoint's JSON (the document also holds jobs and schedules). */
static char *batch_text(struct app *a, struct screen_state *st, char *title, size_t tlen,
			int *line)
{
	struct table_row *r = table_selected(&st->table);
	const cJSON *e = draw_selected_doc(&st->table,
					   cJSON_GetObjectItemCaseSensitive(st->doc, "endpoints"));

	(void)a;
	*line = 0;
	if (r == NULL || e == NULL)
		return NULL;
	snprintf(title, tlen, "Batch endpoint: %s", r->key);
	return pretty_item(e);
}

static int batch_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&st->table);
	char what[128], path[256];

	if (r == NULL)
		return b->action == KA_OPEN || b->action == KA_DELETE;
	switch (b->action) {
	case KA_OPEN:
		screen_open(a, &screen_jobs, r->key);
		return 1;
	case KA_DELETE:
		snprintf(what, sizeof what, "batch endpoint %.64s", r->key);
		snprintf(path, sizeof path, "/batchEndpoints/%s", r->key);
		dialog_delete(a, what, "Its deployments are deleted with it.", path, "");
		return 1;
	default:
		return 0;
	}
}

const struct screen screen_batch = {
    .name = "Batch endpoints",
    .commands = {"batch", "batch-endpoints", "be"},
    .jump = KA_JUMP_BATCH,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .load = batch_load,
    .tick = batch_tick,
    .draw = batch_draw,
    .key = batch_key,
    .text = batch_text,
};
