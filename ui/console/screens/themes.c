/* screens/themes.c: the themes of the theme directory, the current one
 * starred, and a preview of every element in its style; Enter or
 * ":theme NAME" switches live. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <string.h>

#include "ui/console/actions.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"

static const struct table_col cols[] = {
    {"", 1, 0, 0, 0},
    {"THEME", 30, 0, 1, 0},
};

static const enum keys_action acts[] = {KA_OPEN, KA_NONE};

static void themes_load(struct app *a, struct screen_state *st)
{
	struct table *t = &st->table;
	char names[APP_MAX_THEMES][64];
	int n = theme_list(a->theme_dir, names, APP_MAX_THEMES);

	table_clear(t);
	for (int i = 0; i < n; i++) {
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		snprintf(r->key, sizeof r->key, "%.63s", names[i]);
		data_cell(r->cell[0], strcmp(names[i], a->theme.name) ? "" : "*");
		data_cell(r->cell[1], names[i]);
	}
	screen_loaded(a, &screen_themes, 1);
}

static void themes_args(struct app *a, void (*add)(void *ctx, const char *word), void *ctx)
{
	char names[APP_MAX_THEMES][64];
	int n = theme_list(a->theme_dir, names, APP_MAX_THEMES);

	for (int i = 0; i < n; i++)
		add(ctx, names[i]);
}

static void themes_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	(void)from;
	if (arg[0])
		actions_theme(a, arg);
	else
		screen_show(a, &screen_themes, 1);
}

/* A preview of the current theme: every element in its own style. */
static void themes_draw(struct app *a, struct screen_state *st, struct rect r)
{
	int x = r.x, y = r.y;

	(void)st;
	for (int e = 0; e < THEME_COUNT && y < r.y + r.h; e++) {
		const char *k = theme_elem_key((enum theme_elem)e);
		int w = (int)strlen(k) + 1;

		if (x + w > r.x + r.w) {
			x = r.x;
			y++;
			if (y >= r.y + r.h)
				break;
		}
		draw_text(a, (enum theme_elem)e, y, x, w - 1, k);
		x += w;
	}
}

static int themes_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&st->table);

	if (b->action != KA_OPEN)
		return 0;
	if (r != NULL)
		actions_theme(a, r->key);
	return 1;
}

const struct screen screen_themes = {
    .name = "Themes",
    .commands = {"theme", "themes"},
    .flags = SCREEN_ARG_STAYS,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .args = themes_args,
    .open = themes_open,
    .load = themes_load,
    .draw = themes_draw,
    .key = themes_key,
};
