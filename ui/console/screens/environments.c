/* screens/environments.c: one row per environment version, with its kind and
 * its interpreter and required modules (python). */
#include "ui/console/screen.h"

#include <stdio.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/screens/assets.h"

static const struct table_col cols[] = {
    {"NAME", 20, 0, 1, 0},
    {"VER", 4, 1, 0, 0},
    {"KIND", 7, 0, 0, 0},
    {"INTERPRETER / MODULES", 44, 0, 0, 1},
};

static const enum keys_action acts[] = {KA_DELETE, KA_NONE};

static void modules_text(const cJSON *v, char *buf, size_t len)
{
	const cJSON *m;
	size_t used;

	used = (size_t)snprintf(buf, len, "%s", data_str(v, "properties.interpreterPath"));
	cJSON_ArrayForEach(m, data_member(v, "properties.requiredModules"))
	{
		int n;

		if (!cJSON_IsString(m) || used >= len)
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", m->valuestring);
		if (n > 0)
			used += (size_t)n;
	}
}

static void environments_loaded(struct app *a, cJSON *versions)
{
	struct screen_state *st = screen_state_of(a, &screen_environments);
	struct table *t = &st->table;

	if (versions == NULL) {
		screen_loaded(a, &screen_environments, 0);
		return;
	}
	assets_rows(t, versions);
	for (int i = 0; i < t->nrows; i++) {
		struct table_row *r = &t->rows[i];
		const cJSON *v = cJSON_GetArrayItem(versions, r->idx);

		data_cell(r->cell[2], data_str(v, "properties.environmentKind"));
		modules_text(v, r->cell[3], TABLE_CELL);
	}
	cJSON_Delete(st->doc);
	st->doc = versions;
	screen_loaded(a, &screen_environments, 1);
}

static void environments_load(struct app *a, struct screen_state *st)
{
	(void)st;
	data_load_assets(a, "environments", environments_loaded);
}

static int environments_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	if (b->action != KA_DELETE)
		return 0;
	assets_delete(a, st, "environment");
	return 1;
}

const struct screen screen_environments = {
    .name = "Environments",
    .commands = {"env", "envs", "environments", "environment"},
    .jump = KA_JUMP_ENVS,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .load = environments_load,
    .draw = assets_draw,
    .key = environments_key,
};
