/* screen.c: the screen table and the dispatcher. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/actions.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"

#define SCREEN(n) &screen_##n,
static const struct screen *const screens[] = {
#include "ui/console/screens/list.h"
};
#undef SCREEN

#define NSCREENS (sizeof screens / sizeof screens[0])
#define HISTORY 16

struct screen_nav {
	size_t cur;	      /* index of the active screen */
	size_t back[HISTORY]; /* the screens Esc goes back to */
	int depth;
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

/* Rebuilds every table view (filters and sorts), as after any load. */
static void rebuild_all(struct app *a)
{
	for (size_t i = 0; i < NSCREENS; i++)
		if (screens[i]->cols != NULL)
			table_rebuild(&a->nav->st[i].table);
}

int screen_load_of(struct app *a, const struct screen *s)
{
	int rc = s->load ? s->load(a, screen_state_of(a, s)) : 0;

	rebuild_all(a);
	return rc;
}

int screen_load(struct app *a)
{
	return screen_load_of(a, cur(a));
}

void screen_show(struct app *a, const struct screen *s, int push)
{
	struct screen_nav *n = a->nav;
	size_t i = screen_index(s);

	if (push && n->cur != i && n->depth < HISTORY)
		n->back[n->depth++] = n->cur;
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

void screen_open(struct app *a, const struct screen *s, const char *arg)
{
	struct screen_sel sel;

	screen_selection(a, &sel);
	if (s->open != NULL)
		s->open(a, &sel, arg ? arg : "");
	else
		screen_show(a, s, 0);
}

int screen_back(struct app *a)
{
	if (a->nav->depth == 0)
		return -1;
	a->nav->cur = a->nav->back[--a->nav->depth];
	screen_load(a);
	return 0;
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
	snprintf(path, len, "/v1/metrics?window=60&summary=1");
	if (cur(a)->live_query != NULL)
		return cur(a)->live_query(a, cur_state(a), path, len);
	return NULL;
}

void screen_clear_backend(struct app *a)
{
	for (size_t i = 0; i < NSCREENS; i++)
		if ((screens[i]->flags & SCREEN_BACKEND) && screens[i]->cols != NULL)
			table_clear(&a->nav->st[i].table);
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

void screen_title(struct app *a, char *buf, size_t len)
{
	if (cur(a)->title != NULL)
		cur(a)->title(a, cur_state(a), buf, len);
	else
		snprintf(buf, len, "%s", cur(a)->name);
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
	draw_table(a, &st->table, a->lay.table, s->cell);
	draw_hline(a, a->lay.detail.y, a->lay.detail.x, a->lay.detail.w);
	if (s->draw != NULL)
		s->draw(a, st, draw_detail_rect(a));
}
