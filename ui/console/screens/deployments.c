/* screens/deployments.c: the deployments of one endpoint with traffic
 * sliders (live and mirror share), pending until Enter applies them in one
 * request or Esc discards them; the detail pane has one latency line per
 * deployment and the selected one's model, environment and last error. */
#include "ui/console/screen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ui/console/actions.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/ops.h"
#include "ui/console/draw.h"
#include "ui/console/slider.h"

enum { DC_NAME, DC_STATE, DC_TRAFFIC, DC_MIRROR, DC_RPS, DC_P50, DC_P99, DC_ERR, DC_MODEL };
static const struct table_col cols[] = {
    {"NAME", 12, 0, 1, 0},  {"STATE", 9, 0, 0, 0}, {"TRAFFIC", 18, 1, 0, 0},
    {"MIRROR", 6, 1, 0, 0}, {"RPS", 6, 1, 0, 0},   {"P50ms", 6, 1, 0, 0},
    {"P99ms", 6, 1, 0, 0},  {"ERR%", 5, 1, 0, 0},  {"MODEL", 20, 0, 0, 1},
};

/* The screen's own data: the endpoint its rows belong to. */
static char *deployments_shown(struct screen_state *st)
{
	return st->data;
}

static const enum keys_action acts[] = {
    KA_SLIDE_DOWN1, KA_SLIDE_UP1, KA_SLIDE_DOWN10, KA_SLIDE_UP10, KA_MIRROR_MODE, KA_APPLY,
    KA_DISCARD,	    KA_DELETE,	  KA_TEST,	   KA_BENCH,	  KA_NONE,
};

/* The live figures and the pending shares into the rows. */
static void deployments_live(struct app *a, struct screen_state *st)
{
	struct table *t = &st->table;
	const struct live_endpoint *le = live_endpoint(&a->live, a->endpoint);

	for (int i = 0; i < t->nrows; i++) {
		struct table_row *r = &t->rows[i];
		int k = r->idx;

		data_fill_stats(r, DC_RPS, live_deployment(le, r->key));
		data_state_cell(a, r, DC_STATE, NULL, a->endpoint, r->key);
		if (k < a->dep.n) {
			data_set_num(r, DC_TRAFFIC, a->dep.pend_live[k], 0, 1);
			data_set_num(r, DC_MIRROR, a->dep.pend_mirror[k], 0, 1);
		}
	}
	table_rebuild(t);
}

static void deployments_loaded(struct app *a, cJSON *deps)
{
	struct screen_state *st = screen_state_of(a, &screen_deployments);
	struct table *t = &st->table;
	const cJSON *e;
	int i = 0;

	if (deps == NULL) {
		screen_loaded(a, &screen_deployments, 0);
		return;
	}
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(deps, "value"))
	{
		struct table_row *r = table_add(t);

		if (r == NULL || i >= a->dep.n)
			break;
		r->idx = i;
		snprintf(r->key, sizeof r->key, "%s", a->dep.name[i]);
		data_cell(r->cell[DC_NAME], r->key);
		data_state_cell(a, r, DC_STATE, data_str(e, "properties.provisioningState"),
				a->endpoint, r->key);
		data_asset_short(data_str(e, "properties.model"), r->cell[DC_MODEL], TABLE_CELL);
		i++;
	}
	cJSON_Delete(st->doc);
	st->doc = deps;
	app_copy(deployments_shown(st), 64, a->endpoint);
	deployments_live(a, st);
	screen_loaded(a, &screen_deployments, 1);
}

static void deployments_load(struct app *a, struct screen_state *st)
{
	(void)st;
	data_load_endpoint(a, "deployments", deployments_loaded);
}

static void deployments_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	(void)live_due;
	if (list_due)
		deployments_load(a, st);
}

/* One endpoint only: a much smaller answer than the totals of all. */
static const char *deployments_live_query(struct app *a, struct screen_state *st, char *path,
					  size_t len)
{
	(void)st;
	snprintf(path, len, "/v1/metrics?window=60&endpoint=%.64s", a->endpoint);
	return a->endpoint;
}

static void deployments_select(struct app *a, struct screen_state *st, struct screen_sel *out)
{
	struct table_row *r = table_selected(&st->table);

	app_copy(out->endpoint, sizeof out->endpoint, a->endpoint);
	if (r != NULL)
		app_copy(out->deployment, sizeof out->deployment, r->key);
}

static void deployments_title(struct app *a, struct screen_state *st, char *buf, size_t len)
{
	(void)st;
	snprintf(buf, len, "Deployments/%s", a->endpoint);
}

/* ":dep [NAME]", Enter on an endpoint: the deployments of that endpoint. */
static void deployments_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	const char *ep = arg[0] ? arg : from->endpoint[0] ? from->endpoint : a->endpoint;
	struct screen_state *st = screen_state_of(a, &screen_deployments);
	struct table *t = &st->table;

	if (ep[0] == '\0')
		return;
	if (ep != a->endpoint)
		app_copy(a->endpoint, sizeof a->endpoint, ep);
	if (strcmp(ep, deployments_shown(st)) != 0) {
		/* never the rows of the endpoint shown before */
		table_clear(t);
		cJSON_Delete(st->doc);
		st->doc = NULL;
		st->loaded_ms = 0;
		cJSON_Delete(a->endpoint_doc);
		a->endpoint_doc = NULL;
		a->scoring_uri[0] = '\0';
		deployments_shown(st)[0] = '\0';
	}
	t->cursor = 0;
	t->cursor_key[0] = '\0';
	screen_show(a, &screen_deployments, 1);
}

/* The traffic bar of deployment k in w columns: "█████░░░░░  90%". */
static void draw_slider(struct app *a, int k, struct rect r, int cursor)
{
	const struct app_deploys *d = &a->dep;
	int pct = d->pend_live[k], pending = pct != d->live[k] || d->pend_mirror[k] != d->mirror[k];
	int bw = r.w - 5, filled = (int)lround(pct * bw / 100.0);
	enum theme_elem e = cursor ? THEME_CURSOR : pending ? THEME_SLIDER_PENDING : THEME_SLIDER;
	char bar[4 * 256 + 8];
	size_t used = 0;

	if (bw < 1)
		bw = 0, filled = 0;
	for (int i = 0; i < bw && used + 4 < sizeof bar; i++) {
		const char *g = i < filled ? (a->utf8 ? "\xe2\x96\x88" : "#")
					   : (a->utf8 ? "\xe2\x96\x91" : ".");

		memcpy(bar + used, g, strlen(g));
		used += strlen(g);
	}
	snprintf(bar + used, sizeof bar - used, "%4d%%", pct);
	draw_text(a, e, r.y, r.x, r.w, bar);
}

static int deployments_cell(struct app *a, const struct table_row *row, int col, struct rect r,
			    int cursor)
{
	int k = row->idx;
	char buf[TABLE_CELL + 8];

	if (k >= a->dep.n)
		return 0;
	if (col == DC_TRAFFIC) {
		draw_slider(a, k, r, cursor);
		return 1;
	}
	if (col != DC_MIRROR || cursor)
		return 0;
	snprintf(buf, sizeof buf, "%*s", r.w, row->cell[col]);
	draw_text(a,
		  a->dep.pend_mirror[k] != a->dep.mirror[k] ? THEME_SLIDER_PENDING : THEME_MIRROR,
		  r.y, r.x, r.w, buf);
	return 1;
}

static void deployments_draw(struct app *a, struct screen_state *st, struct rect r)
{
	const cJSON *d = draw_selected_doc(&st->table, st->doc);
	char buf[1024], model[128], env[128];
	int y = r.y;

	if (strcmp(a->dep.endpoint, a->endpoint) != 0)
		return; /* still loading */
	snprintf(buf, sizeof buf, "%s (m switches)  scoring %s",
		 a->dep.mirror_mode ? "MIRROR share" : "LIVE share", a->scoring_uri);
	draw_kv(a, &y, r, "sliders", buf);
	if (ops_row_state(a, a->endpoint, NULL, buf, sizeof buf))
		draw_kv(a, &y, r, "endpoint", buf);
	y = draw_latency(a, r, y, a->endpoint, &a->dep);
	if (d == NULL)
		return;
	data_asset_short(data_str(d, "properties.model"), model, sizeof model);
	data_asset_short(data_str(d, "properties.environmentId"), env, sizeof env);
	snprintf(buf, sizeof buf, "%s  environment %s  instances %.0f", model, env,
		 data_num(d, "sku.capacity"));
	draw_kv(a, &y, r, "model", buf);
	draw_kv(a, &y, r, "error", data_str(d, "properties.error"));
}

static int pending(const struct app_deploys *d)
{
	for (int i = 0; i < d->n; i++)
		if (d->pend_live[i] != d->live[i] || d->pend_mirror[i] != d->mirror[i])
			return 1;
	return 0;
}

/* "churn: blue 100->90, green 0->10; mirror green 0->20" */
static int deployments_pending(struct app *a, struct screen_state *st, char *buf, size_t len)
{
	const struct app_deploys *d = &a->dep;
	size_t used;

	(void)st;
	if (!pending(d) || a->readonly)
		return 0;
	used = (size_t)snprintf(buf, len, "%s:", d->endpoint);
	for (int i = 0; i < d->n && used < len; i++) {
		int n = 0;

		if (d->pend_live[i] != d->live[i])
			n = snprintf(buf + used, len - used, " %s %d->%d", d->name[i], d->live[i],
				     d->pend_live[i]);
		else if (d->pend_mirror[i] != d->mirror[i])
			n = snprintf(buf + used, len - used, " mirror %s %d->%d", d->name[i],
				     d->mirror[i], d->pend_mirror[i]);
		if (n > 0)
			used += (size_t)n;
	}
	return 1;
}

static void slide(struct app *a, struct screen_state *st, int delta)
{
	struct app_deploys *d = &a->dep;
	struct table_row *r = table_selected(&st->table);
	int k = r ? r->idx : -1;

	if (k < 0 || k >= d->n)
		return;
	if (d->mirror_mode) {
		if (slider_mirror_move(d->pend_mirror, d->pend_live, d->n, k, delta) < 0) {
			app_message(a, 1,
				    "mirror goes only to a deployment with 0%% live traffic "
				    "(at most %d%%)",
				    SLIDER_MAX_MIRROR);
			return;
		}
	} else {
		slider_move(d->pend_live, d->n, k, delta);
		for (int i = 0; i < d->n; i++)
			if (d->pend_live[i] > 0)
				d->pend_mirror[i] = 0; /* Azure: no mirror to a live deployment */
	}
	deployments_live(a, st);
	app_message(
	    a, 0, pending(d) ? "pending change: Enter applies, Esc discards" : "no change pending");
}

static void mirror_mode(struct app *a)
{
	a->dep.mirror_mode = !a->dep.mirror_mode;
	if (a->dep.mirror_mode)
		app_message(a, 0,
			    "sliders now edit the MIRROR share (0-%d%%, only to a deployment "
			    "without live traffic); m goes back",
			    SLIDER_MAX_MIRROR);
	else
		app_message(a, 0, "sliders now edit the LIVE share");
}

/* {"traffic": {...}, "mirrorTraffic": {...}}: what replaces the endpoint's. */
static cJSON *traffic_props(const struct app_deploys *d)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(p, "traffic"),
	      *m = cJSON_AddObjectToObject(p, "mirrorTraffic");

	for (int i = 0; i < d->n; i++) {
		cJSON_AddNumberToObject(t, d->name[i], d->pend_live[i]);
		if (d->pend_mirror[i] > 0)
			cJSON_AddNumberToObject(m, d->name[i], d->pend_mirror[i]);
	}
	return p;
}

/* The change was accepted (it may still run: the endpoint's row says so) or refused. */
static void traffic_accepted(struct app *a, int ok, const struct error *err, const char *tag)
{
	(void)err;
	if (ok && strcmp(tag, a->endpoint) == 0) {
		for (int i = 0; i < a->dep.n; i++) {
			a->dep.live[i] = a->dep.pend_live[i];
			a->dep.mirror[i] = a->dep.pend_mirror[i];
		}
		screen_load_of(a, &screen_deployments);
	}
	screen_applied(a, ok);
}

/* Azure changes traffic with a full PUT of the endpoint (its PATCH takes
 * tags only): the runtime takes the same. */
static void apply_traffic(struct app *a, struct screen_state *st)
{
	char path[256], what[128];
	cJSON *props = traffic_props(&a->dep);

	(void)st;
	snprintf(path, sizeof path, "/onlineEndpoints/%s", a->endpoint);
	snprintf(what, sizeof what, "traffic of %.64s", a->endpoint);
	struct ops_names n = {what, "traffic applied", traffic_accepted, a->endpoint};

	ops_update_endpoint(a, path, props, &n);
	cJSON_Delete(props);
	app_message(a, 0, "applying the traffic change...");
}

static void discard(struct app *a, struct screen_state *st)
{
	struct app_deploys *d = &a->dep;

	for (int i = 0; i < d->n; i++) {
		d->pend_live[i] = d->live[i];
		d->pend_mirror[i] = d->mirror[i];
	}
	deployments_live(a, st);
	app_message(a, 0, "pending changes discarded");
}

static void deployments_delete(struct app *a, const char *name)
{
	char what[128], path[256];

	snprintf(what, sizeof what, "deployment %.40s of %.40s", name, a->endpoint);
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s", a->endpoint, name);
	dialog_delete(a, what, "A deployment with live or mirror traffic is refused.", path, "");
}

static int deployments_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	static const int delta[KA_COUNT] = {
	    [KA_SLIDE_DOWN1] = -1,
	    [KA_SLIDE_UP1] = 1,
	    [KA_SLIDE_DOWN10] = -10,
	    [KA_SLIDE_UP10] = 10,
	};
	struct table_row *r = table_selected(&st->table);

	switch (b->action) {
	case KA_SLIDE_DOWN1:
	case KA_SLIDE_UP1:
	case KA_SLIDE_DOWN10:
	case KA_SLIDE_UP10:
		slide(a, st, delta[b->action]);
		return 1;
	case KA_MIRROR_MODE:
		mirror_mode(a);
		return 1;
	case KA_APPLY:
		if (!pending(&a->dep))
			screen_open(a, &screen_logs, "");
		else if (a->readonly)
			app_message(a, 1, "read-only: traffic cannot be changed");
		else
			apply_traffic(a, st);
		return 1;
	case KA_DISCARD:
		if (!pending(&a->dep))
			actions_back(a);
		else
			discard(a, st);
		return 1;
	case KA_DELETE:
		if (r != NULL)
			deployments_delete(a, r->key);
		return 1;
	default:
		return 0;
	}
}

const struct screen screen_deployments = {
    .name = "Deployments",
    .commands = {"dep", "deployments", "deployment"},
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .data_size = 64,
    .args = data_endpoint_names,
    .open = deployments_open,
    .load = deployments_load,
    .tick = deployments_tick,
    .live = deployments_live,
    .live_query = deployments_live_query,
    .select = deployments_select,
    .title = deployments_title,
    .draw = deployments_draw,
    .cell = deployments_cell,
    .key = deployments_key,
    .pending = deployments_pending,
    .apply = apply_traffic,
    .discard = discard,
};
