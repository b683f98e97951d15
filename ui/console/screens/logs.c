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

static void logs_loaded(struct app *a, struct data_call *c)
{
	struct logs *l = screen_state_of(a, &screen_logs)->data;
	char tag[160];

	snprintf(tag, sizeof tag, "%s/%s", l->ep, l->dep);
	if (strcmp(tag, c->tag) != 0)
		return; /* the log of another deployment */
	if (c->job.rc < 0) {
		data_report(a, c->method, c->path, &c->job);
		screen_loaded(a, &screen_logs, 0);
		return;
	}
	free(l->text);
	l->text = strdup(data_str(c->out, "content"));
	screen_loaded(a, &screen_logs, 1);
}

static void logs_load(struct app *a, struct screen_state *st)
{
	struct logs *l = st->data;
	char path[256], tag[160];
	cJSON *body;

	if (l->ep[0] == '\0') {
		screen_loaded(a, &screen_logs, 1);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "tail", LOGS_TAIL);
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s/getLogs", l->ep, l->dep);
	snprintf(tag, sizeof tag, "%s/%s", l->ep, l->dep);
	data_call(a, "logs", "POST", path, body, tag, logs_loaded);
	cJSON_Delete(body);
}

static void logs_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	struct logs *l = st->data;

	/* Azure's getLogs is an ARM call (counted as a write): every list period there */
	if (l->follow && (a->info.azure ? list_due : live_due))
		logs_load(a, st);
}

/* Opens the log of ep/dep. */
static void logs_show(struct app *a, const char *ep, const char *dep)
{
	struct logs *l = screen_state_of(a, &screen_logs)->data;

	app_copy(l->ep, sizeof l->ep, ep);
	app_copy(l->dep, sizeof l->dep, dep);
	free(l->text);
	l->text = NULL;
	screen_show(a, &screen_logs, 1);
}

/* The endpoint came: the log of its deployment with the most traffic. */
static void busiest_loaded(struct app *a, struct data_call *c)
{
	const cJSON *t;
	char dep[64] = "";
	int best = -1;

	if (c->job.rc < 0) {
		data_report(a, c->method, c->path, &c->job);
		return;
	}
	cJSON_ArrayForEach(t, data_member(c->out, "properties.traffic"))
	{
		if (cJSON_IsNumber(t) && t->valueint > best) {
			best = t->valueint;
			app_copy(dep, sizeof dep, t->string);
		}
	}
	if (best < 0)
		app_message(a, 1, "endpoint %s has no deployment with traffic", c->tag);
	else
		logs_show(a, c->tag, dep);
}

/* `l` on an endpoint (its busiest deployment), Enter on a deployment,
 * ":logs [ENDPOINT]". */
static void logs_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	const char *ep = arg[0] ? arg : from->endpoint;
	char path[256];

	if (ep[0] == '\0')
		return;
	if (!arg[0] && from->deployment[0]) {
		logs_show(a, from->endpoint, from->deployment);
		return;
	}
	snprintf(path, sizeof path, "/onlineEndpoints/%s", ep);
	data_call(a, "logs-open", "GET", path, NULL, ep, busiest_loaded);
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

static char *logs_text(struct app *a, struct screen_state *st, char *title, size_t tlen, int *line)
{
	struct logs *l = st->data;

	(void)a;
	if (l->text == NULL)
		return NULL;
	snprintf(title, tlen, "log of %s/%s", l->ep, l->dep);
	*line = st->top;
	return strdup(l->text);
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
    .args = data_endpoint_names,
    .open = logs_open,
    .enter = logs_enter,
    .load = logs_load,
    .tick = logs_tick,
    .select = logs_select,
    .draw = logs_draw,
    .key = logs_key,
    .text = logs_text,
    .cleanup = logs_cleanup,
};
