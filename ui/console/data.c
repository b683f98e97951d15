/* data.c: what the screens share to load through the API client. */
#include "ui/console/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/screen.h"

/* "a.b.c" member path. */
const cJSON *data_member(const cJSON *o, const char *path)
{
	char part[64];

	while (o != NULL && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof part)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, part);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

const char *data_str(const cJSON *o, const char *path)
{
	const cJSON *v = data_member(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

double data_num(const cJSON *o, const char *path)
{
	const cJSON *v = data_member(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int data_state_style(const char *s)
{
	if (strcmp(s, "Succeeded") == 0)
		return THEME_STATUS_OK;
	if (strcmp(s, "Failed") == 0 || strcmp(s, "Canceled") == 0)
		return THEME_STATUS_FAILED;
	return THEME_STATUS_PENDING;
}

void data_reachable(struct app *a, int ok)
{
	if (!ok)
		app_copy(a->state, sizeof a->state, "UNREACHABLE");
	else if (strcmp(a->state, "UNREACHABLE") == 0)
		app_copy(a->state, sizeof a->state, a->rt ? "embedded runtime" : "connected");
}

int data_call(struct app *a, const char *method, const char *path, const cJSON *body, cJSON **out)
{
	struct error err = {0};

	if (a->c == NULL) {
		app_message(a, 1, "not connected");
		return -1;
	}
	if (client_call(a->c, method, path, body, out, &err) == 0) {
		data_reachable(a, 1);
		return 0;
	}
	if (err.status == 0)
		data_reachable(a, 0);
	if (err.status)
		app_message(a, 1, "%s %s: %d %s", method, path, err.status, err.message);
	else
		app_message(a, 1, "%s", err.message);
	return -1;
}

void data_set_num(struct table_row *r, int col, double v, int decimals, int pct)
{
	r->num[col] = v;
	if (isnan(v))
		snprintf(r->cell[col], TABLE_CELL, "-");
	else
		snprintf(r->cell[col], TABLE_CELL, "%.*f%s",
			 decimals >= 0 ? decimals
			 : v < 1       ? 3
			 : v < 10      ? 2
			 : v < 100     ? 1
				       : 0,
			 v, pct ? "%" : "");
}

void data_cell(char *cell, const char *src)
{
	size_t n = strlen(src);

	if (n >= TABLE_CELL)
		n = TABLE_CELL - 1;
	memcpy(cell, src, n);
	cell[n] = '\0';
}

void data_fill_stats(struct table_row *r, int rps, const struct live_stats *s)
{
	data_set_num(r, rps, s ? s->rps : NAN, 1, 0);
	data_set_num(r, rps + 1, s ? s->p50 : NAN, -1, 0);
	data_set_num(r, rps + 2, s ? s->p99 : NAN, -1, 0);
	data_set_num(r, rps + 3, s && !isnan(s->err_rate) ? s->err_rate * 100 : NAN, 1, 0);
}

void data_traffic_text(const cJSON *traffic, char *buf, size_t len)
{
	const cJSON *t;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(t, traffic)
	{
		int n;

		if (!cJSON_IsNumber(t) || t->valueint == 0)
			continue;
		n = snprintf(buf + used, len - used, "%s%s %d", used ? " " : "", t->string,
			     t->valueint);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "-");
}

/* ".../models/NAME/versions/V" -> "NAME:V" */
void data_asset_short(const char *id, char *buf, size_t len)
{
	const char *v = strstr(id, "/versions/");
	const char *n;

	if (v == NULL) {
		snprintf(buf, len, "%s", strncmp(id, "azureml:", 8) == 0 ? id + 8 : id);
		return;
	}
	n = v;
	while (n > id && n[-1] != '/')
		n--;
	snprintf(buf, len, "%.*s:%s", (int)(v - n), n, v + 10);
}

static int traffic_of(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* Fills a->dep from the endpoint's traffic maps, keeping pending shares when
 * the deployment set did not change. */
static void sync_deploys(struct app *a, const cJSON *list)
{
	struct app_deploys old = a->dep, *d = &a->dep;
	const cJSON *e, *traffic = data_member(a->endpoint_doc, "properties.traffic");
	const cJSON *mirror = data_member(a->endpoint_doc, "properties.mirrorTraffic");
	int same;

	d->n = 0;
	cJSON_ArrayForEach(e, list)
	{
		if (d->n >= LIVE_MAX_DEPS)
			break;
		snprintf(d->name[d->n], sizeof d->name[0], "%s", data_str(e, "name"));
		d->live[d->n] = traffic_of(traffic, d->name[d->n]);
		d->mirror[d->n] = traffic_of(mirror, d->name[d->n]);
		d->n++;
	}
	same = old.n == d->n;
	for (int i = 0; same && i < d->n; i++)
		same = strcmp(old.name[i], d->name[i]) == 0;
	for (int i = 0; i < d->n; i++) {
		d->pend_live[i] = same ? old.pend_live[i] : d->live[i];
		d->pend_mirror[i] = same ? old.pend_mirror[i] : d->mirror[i];
	}
	if (!same)
		d->mirror_mode = 0;
}

int data_load_endpoint(struct app *a, cJSON **deployments)
{
	char path[256];
	cJSON *ep = NULL, *doc = NULL;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", a->endpoint);
	if (data_call(a, "GET", path, NULL, &ep) < 0)
		return -1;
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments", a->endpoint);
	if (data_call(a, "GET", path, NULL, &doc) < 0) {
		cJSON_Delete(ep);
		return -1;
	}
	cJSON_Delete(a->endpoint_doc);
	a->endpoint_doc = ep;
	snprintf(a->scoring_uri, sizeof a->scoring_uri, "%s",
		 data_str(ep, "properties.scoringUri"));
	sync_deploys(a, cJSON_GetObjectItemCaseSensitive(doc, "value"));
	*deployments = doc;
	return 0;
}

/* Rows of one model's (or environment's) versions. */
static void add_versions(struct app *a, struct table *t, const char *kind, const char *name,
			 cJSON *all)
{
	char path[256];
	cJSON *doc = NULL, *v;

	snprintf(path, sizeof path, "/%s/%s/versions", kind, name);
	if (data_call(a, "GET", path, NULL, &doc) < 0)
		return;
	while ((v = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(doc, "value"), 0))) {
		struct table_row *r = table_add(t);

		if (r == NULL) {
			cJSON_Delete(v);
			break;
		}
		r->idx = cJSON_GetArraySize(all);
		cJSON_AddItemToArray(all, v);
		data_cell(r->cell[0], name);
		data_cell(r->cell[1], data_str(v, "name"));
		r->num[1] = strtod(r->cell[1], NULL);
		snprintf(r->key, sizeof r->key, "%s:%s", name, r->cell[1]);
	}
	cJSON_Delete(doc);
}

/* List containers, then each one's versions. */
int data_load_assets(struct app *a, const char *kind, struct table *t, cJSON **out)
{
	char path[64];
	cJSON *doc = NULL, *all = cJSON_CreateArray();
	const cJSON *e;

	snprintf(path, sizeof path, "/%s", kind);
	if (all == NULL || data_call(a, "GET", path, NULL, &doc) < 0) {
		cJSON_Delete(all);
		return -1;
	}
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	    add_versions(a, t, kind, data_str(e, "name"), all);
	cJSON_Delete(doc);
	cJSON_Delete(*out);
	*out = all;
	return 0;
}

int data_load_live(struct app *a)
{
	char *text = NULL;
	size_t len = 0;
	struct error err = {0};
	char path[160];
	const char *focus;

	if (a->c == NULL)
		return -1;
	focus = screen_live_query(a, path, sizeof path);
	if (client_get_text(a->c, path, &text, &len, &err) < 0) {
		if (err.status == 0)
			data_reachable(a, 0);
		live_free(&a->live);
		screen_live(a);
		return -1;
	}
	live_parse(&a->live, text, focus);
	free(text);
	screen_live(a);
	return 0;
}

int data_endpoint_key(struct app *a, const char *ep, struct scoring_target *t)
{
	struct error err = {0};

	if (a->c == NULL) {
		app_message(a, 1, "not connected");
		return -1;
	}
	if (scoring_target(a->c, ep, t, &err) == 0)
		return 0;
	app_message(a, 1, "%s: %s", ep, err.message);
	return -1;
}
