/* screens/models.c: one row per model version. */
#include "ui/console/screen.h"

#include <math.h>
#include <stdlib.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/screens/assets.h"

static const struct table_col cols[] = {
    {"NAME", 20, 0, 1, 0}, {"VER", 4, 1, 0, 0},		 {"TYPE", 12, 0, 0, 0},
    {"SIZE", 10, 1, 0, 0}, {"DESCRIPTION", 28, 0, 0, 1},
};

static const enum keys_action acts[] = {KA_DELETE, KA_NONE};

static void models_loaded(struct app *a, cJSON *versions)
{
	struct screen_state *st = screen_state_of(a, &screen_models);
	struct table *t = &st->table;

	if (versions == NULL) {
		screen_loaded(a, &screen_models, 0);
		return;
	}
	assets_rows(t, versions);
	for (int i = 0; i < t->nrows; i++) {
		struct table_row *r = &t->rows[i];
		const cJSON *v = cJSON_GetArrayItem(versions, r->idx);
		const char *size = data_str(v, "properties.properties.size");

		data_cell(r->cell[2], data_str(v, "properties.modelType"));
		data_cell(r->cell[3], size);
		r->num[3] = size[0] ? strtod(size, NULL) : NAN;
		data_cell(r->cell[4], data_str(v, "properties.description"));
	}
	cJSON_Delete(st->doc);
	st->doc = versions;
	screen_loaded(a, &screen_models, 1);
}

static void models_load(struct app *a, struct screen_state *st)
{
	(void)st;
	data_load_assets(a, "models", models_loaded);
}

static int models_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	if (b->action != KA_DELETE)
		return 0;
	assets_delete(a, st, "model");
	return 1;
}

const struct screen screen_models = {
    .name = "Models",
    .commands = {"model", "models", "mo"},
    .jump = KA_JUMP_MODELS,
    .acts = acts,
    .cols = cols,
    .ncols = sizeof cols / sizeof cols[0],
    .flags = SCREEN_BACKEND,
    .load = models_load,
    .draw = assets_draw,
    .key = models_key,
};
