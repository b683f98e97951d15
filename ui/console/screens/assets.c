/* screens/assets.c: version detail and deletion for Models and Environments. */
#include "ui/console/screens/assets.h"

#include <stdio.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"

void assets_draw(struct app *a, struct screen_state *st, struct rect r)
{
	const cJSON *v = draw_selected_doc(&st->table, st->doc);
	int y = r.y;

	if (v == NULL)
		return;
	draw_kv(a, &y, r, "id", data_str(v, "id"));
	draw_kv(a, &y, r, "modelUri", data_str(v, "properties.modelUri"));
	draw_kv(a, &y, r, "sha256", data_str(v, "properties.properties.sha256"));
	draw_kv(a, &y, r, "interpreter", data_str(v, "properties.interpreterPath"));
	draw_kv(a, &y, r, "description", data_str(v, "properties.description"));
}

void assets_delete(struct app *a, struct screen_state *st, const char *kind)
{
	struct table_row *r = table_selected(&st->table);
	char title[128], path[512];
	const char *sep = r ? strchr(r->key, ':') : NULL;

	if (sep == NULL)
		return;
	snprintf(title, sizeof title, "Delete %s version %.80s?", kind, r->key);
	snprintf(path, sizeof path, "/%ss/%.*s/versions/%s", kind, (int)(sep - r->key), r->key,
		 sep + 1);
	dialog_delete(a, title, "A version used by a deployment is refused.", path, "");
}
