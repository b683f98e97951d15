/* screen.c: the screen table and the dispatcher. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/actions.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/pretty.h"
#include "ui/console/draw.h"

#define SCREEN(n) &screen_##n,
static const struct screen *const screens[] = {
#include "ui/console/screens/list.h"
};
#undef SCREEN

#define NSCREENS (sizeof screens / sizeof screens[0])
#define HISTORY 16

/* What was about to happen when the pending question was asked. */
enum screen_leave_kind { LEAVE_NONE, LEAVE_SHOW, LEAVE_OPEN, LEAVE_BACK, LEAVE_QUIT };

struct screen_leave {
	enum screen_leave_kind kind;
	const struct screen *to;
	int push;
	char arg[128];
	int applying; /* Apply was chosen: waiting for the answer */
};

struct screen_nav {
	size_t cur;	      /* index of the active screen */
	size_t back[HISTORY]; /* the screens Esc goes back to */
	int depth;
	struct screen_leave leave;
	char *view_text; /* the viewer's (screen_view) */
	char view_title[160];
	int view_line;
	struct screen_state st[NSCREENS];
};

const struct screen *const *screen_all(size_t *count)
{
	*count = NSCREENS;
	return screens;
}

static size_t screen_index(const struct screen *s)
{
	for (size_t i = 0; i < NSCREENS; i++)
		if (screens[i] == s)
			return i;
	abort(); /* a screen missing from list.h */
}

int screen_binds(const struct screen *s, const struct keys_binding *b)
{
	if (b->flags & KEYS_GLOBAL)
		return 1;
	if ((b->flags & KEYS_TABLES) && s->cols != NULL)
		return 1;
	for (const enum keys_action *k = s->acts; k && *k != KA_NONE; k++)
		if (*k == b->action)
			return 1;
	return 0;
}

const struct screen *screen_by_command(const char *word)
{
	for (size_t i = 0; i < NSCREENS; i++)
		for (int k = 0; k < 5 && screens[i]->commands[k]; k++)
			if (strcmp(screens[i]->commands[k], word) == 0)
				return screens[i];
	return NULL;
}

void screen_init(struct app *a)
{
	a->nav = calloc(1, sizeof *a->nav);
	if (a->nav == NULL)
		abort();
	for (size_t i = 0; i < NSCREENS; i++) {
		struct screen_state *st = &a->nav->st[i];

		if (screens[i]->cols != NULL)
			table_init(&st->table, screens[i]->cols, screens[i]->ncols);
		if (screens[i]->data_size > 0 &&
		    (st->data = calloc(1, screens[i]->data_size)) == NULL)
			abort();
	}
}

void screen_free(struct app *a)
{
	if (a->nav == NULL)
		return;
	for (size_t i = 0; i < NSCREENS; i++) {
		struct screen_state *st = &a->nav->st[i];

		if (screens[i]->cleanup != NULL)
			screens[i]->cleanup(st);
		table_free(&st->table);
		cJSON_Delete(st->doc);
		free(st->data);
	}
	free(a->nav->view_text);
	free(a->nav);
	a->nav = NULL;
}

static const struct screen *cur(const struct app *a)
{
	return screens[a->nav->cur];
}

static struct screen_state *cur_state(struct app *a)
{
	return &a->nav->st[a->nav->cur];
}

const struct screen *screen_current(const struct app *a)
{
	return cur(a);
}

struct table *screen_table(struct app *a)
{
	return cur(a)->cols != NULL ? &cur_state(a)->table : NULL;
}

struct screen_state *screen_state_of(struct app *a, const struct screen *s)
{
	return &a->nav->st[screen_index(s)];
}

struct table *screen_table_of(struct app *a, const struct screen *s)
{
	return s->cols != NULL ? &a->nav->st[screen_index(s)].table : NULL;
}

void screen_load_of(struct app *a, const struct screen *s)
{
	struct screen_state *st = screen_state_of(a, s);

	if (s->load == NULL) {
		screen_loaded(a, s, 1);
		return;
	}
	st->loading = 1;
	s->load(a, st);
}

void screen_load(struct app *a)
{
	screen_load_of(a, cur(a));
}

void screen_refresh(struct app *a)
{
	cur_state(a)->refreshing = 1;
	screen_load(a);
}

void screen_loaded(struct app *a, const struct screen *s, int ok)
{
	struct screen_state *st = screen_state_of(a, s);

	st->loading = 0;
	a->trim_due = 1;
	if (ok)
		st->loaded_ms = app_now_ms();
	if (s->cols != NULL)
		table_rebuild(&st->table);
	if (st->refreshing && ok)
		app_message(a, 0, "refreshed");
	st->refreshing = 0;
}

long long screen_age_ms(struct app *a)
{
	const struct screen_state *st = cur_state(a);

	if (!(cur(a)->flags & SCREEN_BACKEND) || st->loaded_ms == 0)
		return -1;
	return app_now_ms() - st->loaded_ms;
}

static void show_now(struct app *a, const struct screen *s, int push)
{
	struct screen_nav *n = a->nav;
	size_t i = screen_index(s);

	if (push && n->cur != i) {
		if (n->depth == HISTORY) /* the oldest goes */
			memmove(n->back, n->back + 1, (HISTORY - 1) * sizeof n->back[0]);
		else
			n->depth++;
		n->back[n->depth - 1] = n->cur;
	}
	if (!push)
		n->depth = 0;
	n->cur = i;
	a->message[0] = '\0';
	if (s->enter != NULL)
		s->enter(a, &n->st[i]);
	screen_load(a);
	data_load_live(a);
}

void screen_selection(struct app *a, struct screen_sel *out)
{
	memset(out, 0, sizeof *out);
	if (cur(a)->select != NULL)
		cur(a)->select(a, cur_state(a), out);
}

static void open_now(struct app *a, const struct screen *s, const char *arg)
{
	struct screen_sel sel;

	screen_selection(a, &sel);
	if (s->open != NULL)
		s->open(a, &sel, arg);
	else
		show_now(a, s, 1);
}

static int back_now(struct app *a)
{
	if (a->nav->depth == 0)
		return -1;
	a->nav->cur = a->nav->back[--a->nav->depth];
	screen_load(a);
	return 0;
}

/* Does what the pending question held back. */
static void leave_run(struct app *a)
{
	struct screen_leave l = a->nav->leave;

	a->nav->leave.kind = LEAVE_NONE;
	if (l.kind == LEAVE_SHOW)
		show_now(a, l.to, l.push);
	else if (l.kind == LEAVE_OPEN)
		open_now(a, l.to, l.arg);
	else if (l.kind == LEAVE_BACK)
		back_now(a);
	else if (l.kind == LEAVE_QUIT)
		a->quit = 1;
}

static void leave_chosen(struct app *a, int button)
{
	struct screen_leave *l = &a->nav->leave;

	if (button == 0) {
		l->applying = 1;
		cur(a)->apply(a, cur_state(a));
	} else if (button == 1) {
		cur(a)->discard(a, cur_state(a));
		leave_run(a);
	} else {
		l->kind = LEAVE_NONE;
		app_message(a, 0,
			    "stayed: the changes are still pending (Enter applies, Esc discards)");
	}
}

/* 1 when the active screen holds changes that leaving would drop: the
 * question is asked and what was about to happen waits for the answer. */
static int leave_held(struct app *a, enum screen_leave_kind kind, const struct screen *to, int push,
		      const char *arg)
{
	static const char *const buttons[] = {"Apply", "Discard", "Stay"};
	struct screen_leave *l = &a->nav->leave;
	char what[256] = "";

	if (cur(a)->pending == NULL || !cur(a)->pending(a, cur_state(a), what, sizeof what))
		return 0;
	*l = (struct screen_leave){.kind = kind, .to = to, .push = push};
	app_copy(l->arg, sizeof l->arg, arg ? arg : "");
	dialog_open(a, "Pending traffic changes would be lost", what, buttons, 3, 2, 2,
		    leave_chosen);
	return 1;
}

void screen_show(struct app *a, const struct screen *s, int push)
{
	if (s != cur(a) && leave_held(a, LEAVE_SHOW, s, push, NULL))
		return;
	show_now(a, s, push);
}

void screen_open(struct app *a, const struct screen *s, const char *arg)
{
	arg = arg ? arg : "";
	if (!(arg[0] && (s->flags & SCREEN_ARG_STAYS)) && leave_held(a, LEAVE_OPEN, s, 0, arg))
		return;
	open_now(a, s, arg);
}

int screen_back(struct app *a)
{
	if (a->nav->depth == 0)
		return -1;
	if (leave_held(a, LEAVE_BACK, NULL, 0, NULL))
		return 0;
	return back_now(a);
}

void screen_quit(struct app *a)
{
	if (!leave_held(a, LEAVE_QUIT, NULL, 0, NULL))
		a->quit = 1;
}

void screen_applied(struct app *a, int ok)
{
	struct screen_leave *l = &a->nav->leave;

	if (!l->applying)
		return;
	l->applying = 0;
	if (ok)
		leave_run(a);
	else
		l->kind = LEAVE_NONE;
}

void screen_tick(struct app *a, int list_due, int live_due)
{
	if (cur(a)->tick != NULL)
		cur(a)->tick(a, cur_state(a), list_due, live_due);
}

void screen_live(struct app *a)
{
	if (cur(a)->live != NULL)
		cur(a)->live(a, cur_state(a));
}

const char *screen_live_query(struct app *a, char *path, size_t len)
{
	path[0] = '\0';
	if (cur(a)->live_query == NULL)
		return NULL;
	snprintf(path, len, "/v1/metrics?window=60&summary=1");
	return cur(a)->live_query(a, cur_state(a), path, len);
}

void screen_clear_backend(struct app *a)
{
	for (size_t i = 0; i < NSCREENS; i++)
		if (screens[i]->flags & SCREEN_BACKEND) {
			struct screen_state *st = &a->nav->st[i];

			if (screens[i]->cols != NULL)
				table_clear(&st->table);
			cJSON_Delete(st->doc);
			st->doc = NULL;
			st->loaded_ms = 0;
		}
}

void screen_scroll(struct app *a, int d)
{
	struct screen_state *st = cur_state(a);

	if (cur(a)->cols != NULL) {
		table_move(&st->table, d);
		return;
	}
	st->top += d;
	if (st->top < 0)
		st->top = 0;
}

void screen_key(struct app *a, int ch)
{
	const struct keys_binding *b = keys_lookup(ch, cur(a), a->readonly);

	if (b == NULL) {
		const struct keys_binding *off = keys_lookup(ch, cur(a), 0);

		if (off != NULL)
			app_message(a, 1, "read-only: '%s' (%s) is off", off->keyname, off->hint);
		return;
	}
	if (cur(a)->key != NULL && cur(a)->key(a, cur_state(a), b))
		return;
	actions_run(a, b);
}

/* "Endpoints (3/1003) /fr": rows shown of rows, and the filter. */
void screen_title(struct app *a, char *buf, size_t len)
{
	const struct table *t = screen_table(a);
	size_t n;

	if (cur(a)->title != NULL)
		cur(a)->title(a, cur_state(a), buf, len);
	else
		snprintf(buf, len, "%s", cur(a)->name);
	n = strlen(buf);
	if (t == NULL || n >= len)
		return;
	if (t->filter[0])
		snprintf(buf + n, len - n, " (%d/%d) /%s", t->nview, t->nrows, t->filter);
	else
		snprintf(buf + n, len - n, " (%d)", t->nrows);
}

void screen_draw(struct app *a)
{
	const struct screen *s = cur(a);
	struct screen_state *st = cur_state(a);

	if (s->cols == NULL) {
		if (s->draw != NULL)
			s->draw(a, st, draw_body_rect(a));
		return;
	}
	draw_table(a, &st->table, a->lay.table, s->cell,
		   st->loading && st->loaded_ms == 0 ? "(loading...)" : NULL);
	draw_hline(a, a->lay.detail.y, a->lay.detail.x, a->lay.detail.w);
	if (s->draw != NULL)
		s->draw(a, st, draw_detail_rect(a));
}

char *screen_text(struct app *a, char *title, size_t tlen, int *line)
{
	const cJSON *item;
	struct table_row *row;

	*line = 0;
	if (cur(a)->text != NULL)
		return cur(a)->text(a, cur_state(a), title, tlen, line);
	row = cur(a)->cols ? table_selected(&cur_state(a)->table) : NULL;
	item = row ? draw_selected_doc(&cur_state(a)->table, cur_state(a)->doc) : NULL;
	if (item == NULL)
		return NULL;
	snprintf(title, tlen, "%s: %s", cur(a)->name, row->key);
	return pretty_item(item);
}

void screen_view(struct app *a, const char *title, char *text, int line)
{
	free(a->nav->view_text);
	a->nav->view_text = text;
	app_copy(a->nav->view_title, sizeof a->nav->view_title, title);
	a->nav->view_line = line;
	screen_show(a, &screen_viewer, 1);
}

const char *screen_viewed(struct app *a, const char **title, int *line)
{
	*title = a->nav->view_title;
	*line = a->nav->view_line;
	return a->nav->view_text;
}
