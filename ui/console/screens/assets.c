/* screens/assets.c: version detail and deletion for Models and Environments. */
#include "ui/console/screens/assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"

void assets_rows(struct table *t, const cJSON *versions)
{
	const cJSON *v;
	int i = 0;

	table_clear(t);
	cJSON_ArrayForEach(v, versions)
	{
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		r->idx = i++;
		data_cell(r->cell[0], data_str(v, "_name"));
		data_cell(r->cell[1], data_str(v, "name"));
		r->num[1] = strtod(r->cell[1], NULL);
		snprintf(r->key, sizeof r->key, "%s:%s", r->cell[0], r->cell[1]);
	}
}

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
	char what[128], path[512];
	const char *sep = r ? strchr(r->key, ':') : NULL;

	if (sep == NULL)
		return;
	snprintf(what, sizeof what, "%s version %.80s", kind, r->key);
	snprintf(path, sizeof path, "/%ss/%.*s/versions/%s", kind, (int)(sep - r->key), r->key,
		 sep + 1);
	dialog_delete(a, what, "A version used by a deployment is refused.", path, "");
}
