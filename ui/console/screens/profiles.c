/* screens/profiles.c: the profiles of the config file (docs/profiles.md);
 * Enter or ":profile NAME" switches to one live. */
#include "ui/console/screen.h"

#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"

static const struct table_col cols[] = {
    {"", 1, 0, 0, 0},	  {"NAME", 14, 0, 1, 0}, {"BACKEND", 8, 0, 0, 0},
    {"URL", 36, 0, 0, 0}, {"RO", 3, 0, 0, 1},	 {"THEME", 12, 0, 0, 1},
};

static const enum keys_action acts[] = {KA_OPEN, KA_NONE};

static void profiles_load(struct app *a, struct screen_state *st)
{
	struct table *t = &st->table;

	table_clear(t);
	for (size_t i = 0; i < a->profiles.count; i++) {
		const struct profile *p = &a->profiles.items[i];
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		r->idx = (int)i;
		snprintf(r->key, sizeof r->key, "%s", p->name);
		data_cell(r->cell[0], strcmp(p->name, a->prof.name) ? "" : "*");
		data_cell(r->cell[1], p->name);
		data_cell(r->cell[2], p->backend);
		data_cell(r->cell[3], p->url);
		data_cell(r->cell[4], p->readonly ? "yes" : "");
		data_cell(r->cell[5], p->theme);
	}
	screen_loaded(a, &screen_profiles, 1);
}

static void profiles_args(struct app *a, void (*add)(void *ctx, const char *word), void *ctx)
{
	for (size_t i = 0; i < a->profiles.count; i++)
		add(ctx, a->profiles.items[i].name);
}

static void profiles_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	(void)from;
	if (arg[0])
		a->switch_profile(a, arg);
	else
		screen_show(a, &screen_profiles, 1);
}

static void profiles_draw(struct app *a, struct screen_state *st, struct rect r)
{
	struct table_row *row = table_selected(&st->table);
	const struct profile *p = row ? profile_find(&a->profiles, row->key) : NULL;
	int y = r.y;

	draw_kv(a, &y, r, "config", a->profiles.path);
	if (p == NULL)
		return;
	draw_kv(a, &y, r, "url", p->url);
	draw_kv(a, &y, r, "home", p->home);
	draw_kv(a, &y, r, "workspace", p->workspace);
	draw_kv(a, &y, r, "key file", p->admin_key_file);
	draw_kv(a, &y, r, "", "Enter switches to this profile");
}

static int profiles_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&st->table);

	if (b->action != KA_OPEN)
		return 0;
	if (r != NULL)
		a->switch_profile(a, r->key);
	return 1;
}

const struct screen screen_profiles = {
    .name = "Profiles",
    .commands = {"profile", "profiles", "ctx"},
    .jump = KA_JUMP_PROFILES,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .args = profiles_args,
    .open = profiles_open,
    .load = profiles_load,
    .draw = profiles_draw,
    .key = profiles_key,
};
