/* screens/endpoints.c: every endpoint with its state, auth mode, live traffic
 * and the totals of the last 60 s; the detail pane has the scoring URI and
 * one latency line per deployment. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"

enum { EC_NAME, EC_STATE, EC_AUTH, EC_TRAFFIC, EC_RPS, EC_P50, EC_P99, EC_ERR };
static const struct table_col cols[] = {
    {"NAME", 16, 0, 1, 0}, {"STATE", 9, 0, 0, 0}, {"AUTH", 5, 0, 0, 1},	 {"TRAFFIC", 17, 0, 0, 0},
    {"RPS", 6, 1, 0, 0},   {"P50ms", 6, 1, 0, 0}, {"P99ms", 6, 1, 0, 0}, {"ERR%", 5, 1, 0, 0},
};

static const enum keys_action acts[] = {KA_OPEN, KA_DELETE, KA_LOGS, KA_TEST, KA_BENCH, KA_NONE};

/* The figures of the rows the answer covers; the others keep theirs until
 * an answer that was asked about them comes. */
static void endpoints_live(struct app *a, struct screen_state *st)
{
	struct table *t = &st->table;

	for (int i = 0; i < t->nrows; i++) {
		const struct live_endpoint *e = live_endpoint(&a->live, t->rows[i].key);

		if (e != NULL || live_covers(&a->live, t->rows[i].key))
			data_fill_stats(&t->rows[i], EC_RPS, e ? &e->total : NULL);
		data_state_cell(a, &t->rows[i], EC_STATE, NULL, t->rows[i].key, NULL);
	}
	table_rebuild(t);
}

static void endpoints_loaded(struct app *a, struct data_call *c)
{
	struct screen_state *st = screen_state_of(a, &screen_endpoints);
	struct table *t = &st->table;
	const cJSON *e;
	int i = 0;

	if (c->job.rc < 0) {
		data_report(a, c->method, c->path, &c->job);
		screen_loaded(a, &screen_endpoints, 0);
		return;
	}
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->out, "value"))
	{
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		r->idx = i++;
		snprintf(r->key, sizeof r->key, "%s", data_str(e, "name"));
		data_cell(r->cell[EC_NAME], r->key);
		data_state_cell(a, r, EC_STATE, data_str(e, "properties.provisioningState"), r->key,
				NULL);
		data_cell(r->cell[EC_AUTH], data_str(e, "properties.authMode"));
		data_traffic_text(data_member(e, "properties.traffic"), r->cell[EC_TRAFFIC],
				  TABLE_CELL);
	}
	cJSON_Delete(st->doc);
	st->doc = c->out;
	c->out = NULL;
	endpoints_live(a, st);
	screen_loaded(a, &screen_endpoints, 1);
	data_live_refresh(a); /* the first rows' figures follow at once */
}

static void endpoints_load(struct app *a, struct screen_state *st)
{
	(void)st;
	/* an mldeck runtime gives the whole list as one page, so an unchanged
	 * list costs one 304 (over ssh:// 10 pages cost 2 KB/s idle); Azure
	 * pages as it does */
	data_list(a, "endpoints", a->info.azure ? "/onlineEndpoints" : "/onlineEndpoints?count=10000",
		  "", endpoints_loaded);
}

static void endpoints_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	(void)live_due;
	if (list_due)
		endpoints_load(a, st);
}

#define ENDPOINTS_ROWS_MAX 256 /* rows on screen a query names */

/* Totals for the rows on screen, deployments and history for the selected
 * one: over ssh:// an idle console then moves a screenful of figures, not
 * a thousand endpoints'. Sorted by a live column, every endpoint is asked
 * for (the order depends on all), and when the names do not fit a query. */
static const char *endpoints_live_query(struct app *a, struct screen_state *st, char *path,
					size_t len)
{
	struct table *t = &st->table;
	struct table_row *sel = table_selected(t);
	const char *names[ENDPOINTS_ROWS_MAX];
	int n = 0, height = a->lay.table.h - 1;

	if (sel != NULL)
		snprintf(path, len, "/v1/metrics?window=60&summary=1&detail=%.64s", sel->key);
	if (t->sort_col >= EC_RPS)
		return sel ? sel->key : NULL;
	table_scroll(t, height); /* where the next frame puts the rows */
	for (int v = t->top; v < t->nview && v < t->top + height && n < ENDPOINTS_ROWS_MAX; v++)
		names[n++] = t->rows[t->view[v]].key;
	live_query_endpoints(path, len, names, n);
	return sel ? sel->key : NULL;
}

static void endpoints_select(struct app *a, struct screen_state *st, struct screen_sel *out)
{
	struct table_row *r = table_selected(&st->table);

	(void)a;
	if (r != NULL)
		app_copy(out->endpoint, sizeof out->endpoint, r->key);
}

static void endpoints_draw(struct app *a, struct screen_state *st, struct rect r)
{
	const cJSON *e = draw_selected_doc(&st->table, st->doc);
	int y = r.y;

	if (e == NULL)
		return;
	draw_kv(a, &y, r, "scoring", data_str(e, "properties.scoringUri"));
	if (y < r.y + r.h)
		draw_latency(a, r, y, data_str(e, "name"), NULL);
}

static void endpoints_delete(struct app *a, const char *name)
{
	char what[128], path[256];

	snprintf(what, sizeof what, "endpoint %.64s", name);
	snprintf(path, sizeof path, "/onlineEndpoints/%s", name);
	dialog_delete(a, what, "Its deployments are deleted with it.", path, name);
}

static int endpoints_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&st->table);

	switch (b->action) {
	case KA_OPEN:
		if (r != NULL)
			screen_open(a, &screen_deployments, r->key);
		return 1;
	case KA_DELETE:
		if (r != NULL)
			endpoints_delete(a, r->key);
		return 1;
	default:
		/* the detail pane's series follow the cursor soon, not per key */
		if (keys_is_move(b->action) && a->next_live_ms > app_now_ms() + 150)
			a->next_live_ms = app_now_ms() + 150;
		return 0;
	}
}

const struct screen screen_endpoints = {
    .name = "Endpoints",
    .commands = {"ep", "endpoints", "endpoint"},
    .jump = KA_JUMP_ENDPOINTS,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .load = endpoints_load,
    .tick = endpoints_tick,
    .live = endpoints_live,
    .live_query = endpoints_live_query,
    .select = endpoints_select,
    .draw = endpoints_draw,
    .key = endpoints_key,
};
