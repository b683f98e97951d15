/* screens/logs.c: the last lines of one deployment's log (getLogs), following
 * new lines each refresh; scrolling up pauses, f/G/End follows again. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"

#define LOGS_TAIL 1000

struct logs {
	char ep[64], dep[64];
	char *text; /* heap */
	int follow;
};

static const enum keys_action acts[] = {KA_FOLLOW, KA_TEST, KA_NONE};

static int logs_load(struct app *a, struct screen_state *st)
{
	struct logs *l = st->data;
	char path[256];
	cJSON *body, *out = NULL;
	int rc;

	if (l->ep[0] == '\0')
		return 0;
	body = cJSON_CreateObject();
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s/getLogs", l->ep, l->dep);
	cJSON_AddNumberToObject(body, "tail", LOGS_TAIL);
	rc = data_call(a, "POST", path, body, &out);
	cJSON_Delete(body);
	if (rc == 0) {
		free(l->text);
		l->text = strdup(data_str(out, "content"));
	}
	cJSON_Delete(out);
	return rc;
}

static void logs_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	struct logs *l = st->data;

	(void)list_due;
	if (live_due && l->follow)
		logs_load(a, st);
}

/* The deployment with the most traffic of an endpoint. */
static int busiest_deployment(struct app *a, const char *ep, char *out, size_t len)
{
	char path[256];
	cJSON *e = NULL, *t;
	int best = -1;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", ep);
	if (data_call(a, "GET", path, NULL, &e) < 0)
		return -1;
	cJSON_ArrayForEach(t, data_member(e, "properties.traffic"))
	{
		if (cJSON_IsNumber(t) && t->valueint > best) {
			best = t->valueint;
			snprintf(out, len, "%s", t->string);
		}
	}
	cJSON_Delete(e);
	return best < 0 ? -1 : 0;
}

/* `l` on an endpoint (its busiest deployment), Enter on a deployment, ":logs". */
static void logs_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	struct screen_state *st = screen_state_of(a, &screen_logs);
	struct logs *l = st->data;
	char dep[64];

	(void)arg;
	if (from->endpoint[0] == '\0' || a->c == NULL)
		return;
	if (from->deployment[0]) {
		app_copy(dep, sizeof dep, from->deployment);
	} else if (busiest_deployment(a, from->endpoint, dep, sizeof dep) < 0) {
		app_message(a, 1, "endpoint %s has no deployment with traffic", from->endpoint);
		return;
	}
	app_copy(l->ep, sizeof l->ep, from->endpoint);
	app_copy(l->dep, sizeof l->dep, dep);
	free(l->text);
	l->text = NULL;
	screen_show(a, &screen_logs, 1);
}

static void logs_enter(struct app *a, struct screen_state *st)
{
	struct logs *l = st->data;

	(void)a;
	l->follow = 1;
}

static void logs_select(struct app *a, struct screen_state *st, struct screen_sel *out)
{
	struct logs *l = st->data;

	(void)a;
	app_copy(out->endpoint, sizeof out->endpoint, l->ep);
	app_copy(out->deployment, sizeof out->deployment, l->dep);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n + 1;
}

static void logs_draw(struct app *a, struct screen_state *st, struct rect r)
{
	struct logs *l = st->data;
	char title[200];
	int total = count_lines(l->text);

	snprintf(title, sizeof title, "LOGS %s/%s  %s", l->ep, l->dep,
		 l->follow ? "(following)" : "(paused: f follows)");
	draw_text(a, THEME_TITLE, r.y, r.x, r.w, title);
	r.y++;
	r.h--;
	if (l->follow || st->top > total - r.h)
		st->top = total - r.h;
	if (st->top < 0)
		st->top = 0;
	draw_lines(a, r, l->text ? l->text : "(empty)", st->top, THEME_NORMAL);
}

static int logs_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct logs *l = st->data;

	(void)a;
	if (b->action == KA_FOLLOW) {
		l->follow = 1;
		return 1;
	}
	if (keys_is_move(b->action))
		l->follow = 0; /* then scrolled as any text */
	return 0;
}

static void logs_cleanup(struct screen_state *st)
{
	struct logs *l = st->data;

	free(l->text);
}

const struct screen screen_logs = {
    .name = "Logs",
    .commands = {"logs", "log"},
    .acts = acts,
    .data_size = sizeof(struct logs),
    .open = logs_open,
    .enter = logs_enter,
    .load = logs_load,
    .tick = logs_tick,
    .select = logs_select,
    .draw = logs_draw,
    .key = logs_key,
    .cleanup = logs_cleanup,
};
