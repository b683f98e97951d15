/* screens/schedules.c: every schedule, enabled or not, with its trigger, time
 * zone, next run (UTC) and the batch endpoint it invokes, or for a monitor
 * (a CreateMonitor action) the online deployment it watches. Enter opens the
 * jobs it started, or the monitor's Monitor screen; ctrl-d deletes one. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"
#include "ui/console/screens/batchview.h"

enum { SC_NAME, SC_ON, SC_TRIGGER, SC_NEXT, SC_ZONE, SC_ENDPOINT };
static const struct table_col cols[] = {
    {"NAME", 16, 0, 1, 0},	    {"ON", 3, 0, 0, 0},	      {"TRIGGER", 20, 0, 0, 0},
    {"NEXT RUN (UTC)", 16, 0, 0, 0}, {"TIME ZONE", 14, 0, 0, 1}, {"ENDPOINT", 12, 0, 0, 1},
};

static const enum keys_action acts[] = {KA_OPEN, KA_DELETE, KA_NONE};

/* A monitor's target, "EP/DEP" from its deploymentId
 * (".../onlineEndpoints/EP/deployments/DEP") into buf: 1, or 0 when the
 * schedule is not a monitor or names no deployment. */
static int monitor_target(const cJSON *e, char *buf, size_t len)
{
	const char *id =
	    data_str(e, "properties.action.monitorDefinition.monitoringTarget.deploymentId");
	const char *ep = strstr(id, "/onlineEndpoints/"), *dep;

	buf[0] = '\0';
	if (strcmp(data_str(e, "properties.action.actionType"), "CreateMonitor") != 0 ||
	    ep == NULL || (dep = strstr(ep, "/deployments/")) == NULL)
		return 0;
	ep += strlen("/onlineEndpoints/");
	snprintf(buf, len, "%.*s/%s", (int)(dep - ep), ep, dep + strlen("/deployments/"));
	return 1;
}

static void schedules_loaded(struct app *a, struct data_call *c)
{
	struct screen_state *st = screen_state_of(a, &screen_schedules);
	struct table *t = &st->table;
	const cJSON *e;
	int i = 0;

	if (c->job.rc < 0) {
		data_report(a, c->method, c->path, &c->job);
		screen_loaded(a, &screen_schedules, 0);
		return;
	}
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->out, "value"))
	{
		struct table_row *r = table_add(t);
		int on = cJSON_IsTrue(data_member(e, "properties.isEnabled"));
		const char *ep =
		    data_str(e, "properties.action.endpointInvocationDefinition.endpoint");
		const char *slash = strrchr(ep, '/');
		char target[160];

		if (r == NULL)
			break;
		r->idx = i++;
		app_copy(r->key, sizeof r->key, data_str(e, "name"));
		data_cell(r->cell[SC_NAME], r->key);
		data_cell(r->cell[SC_ON], on ? "yes" : "no");
		r->style = on ? THEME_STATUS_OK : THEME_STATUS_PENDING;
		batch_trigger(e, r->cell[SC_TRIGGER], TABLE_CELL);
		if (on)
			batch_time(r->cell[SC_NEXT], TABLE_CELL,
				   data_str(e, "properties.nextRunTime"));
		data_cell(r->cell[SC_ZONE], data_str(e, "properties.trigger.timeZone"));
		if (monitor_target(e, target, sizeof target))
			data_cell(r->cell[SC_ENDPOINT], target);
		else
			data_cell(r->cell[SC_ENDPOINT], slash ? slash + 1 : ep);
	}
	cJSON_Delete(st->doc);
	st->doc = c->out;
	c->out = NULL;
	table_rebuild(t);
	screen_loaded(a, &screen_schedules, 1);
}

static void schedules_load(struct app *a, struct screen_state *st)
{
	(void)st;
	data_list(a, "schedules", "/schedules?listViewType=All", "", schedules_loaded);
}

static void schedules_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	(void)live_due;
	if (list_due)
		schedules_load(a, st);
}

static void schedules_draw(struct app *a, struct screen_state *st, struct rect r)
{
	const cJSON *e = draw_selected_doc(&st->table, st->doc);
	char buf[512], target[160];
	int y = r.y;

	if (e == NULL)
		return;
	draw_kv(a, &y, r, "description", data_str(e, "properties.description"));
	batch_trigger(e, buf, sizeof buf);
	draw_kv(a, &y, r, "trigger", buf);
	snprintf(buf, sizeof buf, "%s  start %s  end %s", data_str(e, "properties.trigger.timeZone"),
		 data_str(e, "properties.trigger.startTime"),
		 data_str(e, "properties.trigger.endTime"));
	draw_kv(a, &y, r, "time zone", buf);
	if (monitor_target(e, target, sizeof target))
		draw_kv(a, &y, r, "monitors", target);
	else
		draw_kv(a, &y, r, "invokes",
			data_str(e, "properties.action.endpointInvocationDefinition.endpoint"));
}

static int schedules_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&st->table);
	const cJSON *e = draw_selected_doc(&st->table, st->doc);
	char what[128], path[256], arg[160];

	if (r == NULL)
		return b->action == KA_OPEN || b->action == KA_DELETE;
	switch (b->action) {
	case KA_OPEN: /* a monitor's runs are on its Monitor screen, not with the batch jobs */
		if (monitor_target(e, arg, sizeof arg))
			screen_open(a, &screen_monitor, arg);
		else if (strcmp(data_str(e, "properties.action.actionType"), "CreateMonitor") == 0)
			app_message(a, 1, "monitor %s names no deployment", r->key);
		else {
			snprintf(arg, sizeof arg, "schedule:%.80s", r->key);
			screen_open(a, &screen_jobs, arg);
		}
		return 1;
	case KA_DELETE:
		snprintf(what, sizeof what, "schedule %.64s", r->key);
		snprintf(path, sizeof path, "/schedules/%s", r->key);
		dialog_delete(a, what, "The jobs it started stay.", path, "");
		return 1;
	default:
		return 0;
	}
}

const struct screen screen_schedules = {
    .name = "Schedules",
    .commands = {"schedules", "schedule", "sch"},
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .load = schedules_load,
    .tick = schedules_tick,
    .draw = schedules_draw,
    .key = schedules_key,
};
