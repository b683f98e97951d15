/* data.c: screens loaded through the API client. */
#include "ui/console/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/slider.h"

enum { EC_NAME, EC_STATE, EC_AUTH, EC_TRAFFIC, EC_RPS, EC_P50, EC_P99, EC_ERR };
static const struct table_col endpoint_cols[] = {
    {"NAME", 16, 0, 1, 0}, {"STATE", 9, 0, 0, 0}, {"AUTH", 5, 0, 0, 1},	 {"TRAFFIC", 17, 0, 0, 0},
    {"RPS", 6, 1, 0, 0},   {"P50ms", 6, 1, 0, 0}, {"P99ms", 6, 1, 0, 0}, {"ERR%", 5, 1, 0, 0},
};

enum { DC_NAME, DC_STATE, DC_TRAFFIC, DC_MIRROR, DC_RPS, DC_P50, DC_P99, DC_ERR, DC_MODEL };
static const struct table_col deployment_cols[] = {
    {"NAME", 12, 0, 1, 0},  {"STATE", 9, 0, 0, 0}, {"TRAFFIC", 18, 1, 0, 0},
    {"MIRROR", 6, 1, 0, 0}, {"RPS", 6, 1, 0, 0},   {"P50ms", 6, 1, 0, 0},
    {"P99ms", 6, 1, 0, 0},  {"ERR%", 5, 1, 0, 0},  {"MODEL", 20, 0, 0, 1},
};

static const struct table_col model_cols[] = {
    {"NAME", 20, 0, 1, 0}, {"VER", 4, 1, 0, 0},		 {"TYPE", 12, 0, 0, 0},
    {"SIZE", 10, 1, 0, 0}, {"DESCRIPTION", 28, 0, 0, 1},
};

static const struct table_col env_cols[] = {
    {"NAME", 20, 0, 1, 0},
    {"VER", 4, 1, 0, 0},
    {"KIND", 7, 0, 0, 0},
    {"INTERPRETER / MODULES", 44, 0, 0, 1},
};

static const struct table_col profile_cols[] = {
    {"", 1, 0, 0, 0},	  {"NAME", 14, 0, 1, 0}, {"BACKEND", 8, 0, 0, 0},
    {"URL", 36, 0, 0, 0}, {"RO", 3, 0, 0, 1},	 {"THEME", 12, 0, 0, 1},
};

static const struct table_col theme_cols[] = {
    {"", 1, 0, 0, 0},
    {"THEME", 30, 0, 1, 0},
};

#define NCOLS(a) ((int)(sizeof a / sizeof a[0]))

void data_init_tables(struct app *a)
{
	table_init(&a->tables[KEYS_SCR_ENDPOINTS], endpoint_cols, NCOLS(endpoint_cols));
	table_init(&a->tables[KEYS_SCR_DEPLOYMENTS], deployment_cols, NCOLS(deployment_cols));
	table_init(&a->tables[KEYS_SCR_MODELS], model_cols, NCOLS(model_cols));
	table_init(&a->tables[KEYS_SCR_ENVS], env_cols, NCOLS(env_cols));
	table_init(&a->tables[KEYS_SCR_PROFILES], profile_cols, NCOLS(profile_cols));
	table_init(&a->tables[KEYS_SCR_THEMES], theme_cols, NCOLS(theme_cols));
}

/* "a.b.c" member path. */
static const cJSON *member(const cJSON *o, const char *path)
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
	const cJSON *v = member(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

double data_num(const cJSON *o, const char *path)
{
	const cJSON *v = member(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int state_style(const char *s)
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

static int call(struct app *a, const char *method, const char *path, const cJSON *body, cJSON **out)
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

/* A number cell: decimals digits, "%" appended when pct. */
static void set_num(struct table_row *r, int col, double v, int decimals, int pct)
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

/* Copies src into a cell, cut to fit. */
static void cell_set(char *cell, const char *src)
{
	size_t n = strlen(src);

	if (n >= TABLE_CELL)
		n = TABLE_CELL - 1;
	memcpy(cell, src, n);
	cell[n] = '\0';
}

static void fill_stats(struct table_row *r, int rps, const struct live_stats *s)
{
	set_num(r, rps, s ? s->rps : NAN, 1, 0);
	set_num(r, rps + 1, s ? s->p50 : NAN, -1, 0);
	set_num(r, rps + 2, s ? s->p99 : NAN, -1, 0);
	set_num(r, rps + 3, s && !isnan(s->err_rate) ? s->err_rate * 100 : NAN, 1, 0);
}

/* "blue 90 green 10" */
static void traffic_text(const cJSON *traffic, char *buf, size_t len)
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

static void replace_doc(struct app *a, enum keys_screen s, cJSON *doc)
{
	cJSON_Delete(a->docs[s]);
	a->docs[s] = doc;
}

int data_load_endpoints(struct app *a)
{
	struct table *t = &a->tables[KEYS_SCR_ENDPOINTS];
	cJSON *doc = NULL;
	const cJSON *e;
	int i = 0;

	if (call(a, "GET", "/onlineEndpoints", NULL, &doc) < 0)
		return -1;
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	{
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		r->idx = i++;
		snprintf(r->key, sizeof r->key, "%s", data_str(e, "name"));
		cell_set(r->cell[EC_NAME], r->key);
		cell_set(r->cell[EC_STATE], data_str(e, "properties.provisioningState"));
		r->style = state_style(r->cell[EC_STATE]);
		cell_set(r->cell[EC_AUTH], data_str(e, "properties.authMode"));
		traffic_text(member(e, "properties.traffic"), r->cell[EC_TRAFFIC], TABLE_CELL);
	}
	replace_doc(a, KEYS_SCR_ENDPOINTS, doc);
	data_fill_live(a);
	return 0;
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
	const cJSON *e, *traffic = member(a->endpoint_doc, "properties.traffic");
	const cJSON *mirror = member(a->endpoint_doc, "properties.mirrorTraffic");
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

int data_load_deployments(struct app *a)
{
	struct table *t = &a->tables[KEYS_SCR_DEPLOYMENTS];
	char path[256];
	cJSON *ep = NULL, *doc = NULL;
	const cJSON *e;
	int i = 0;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", a->endpoint);
	if (call(a, "GET", path, NULL, &ep) < 0)
		return -1;
	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments", a->endpoint);
	if (call(a, "GET", path, NULL, &doc) < 0) {
		cJSON_Delete(ep);
		return -1;
	}
	cJSON_Delete(a->endpoint_doc);
	a->endpoint_doc = ep;
	snprintf(a->scoring_uri, sizeof a->scoring_uri, "%s",
		 data_str(ep, "properties.scoringUri"));
	sync_deploys(a, cJSON_GetObjectItemCaseSensitive(doc, "value"));
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	{
		struct table_row *r = table_add(t);

		if (r == NULL || i >= a->dep.n)
			break;
		r->idx = i;
		snprintf(r->key, sizeof r->key, "%s", a->dep.name[i]);
		cell_set(r->cell[DC_NAME], r->key);
		snprintf(r->cell[DC_STATE], TABLE_CELL, "%s",
			 data_str(e, "properties.provisioningState"));
		r->style = state_style(r->cell[DC_STATE]);
		data_asset_short(data_str(e, "properties.model"), r->cell[DC_MODEL], TABLE_CELL);
		i++;
	}
	replace_doc(a, KEYS_SCR_DEPLOYMENTS, doc);
	data_fill_live(a);
	return 0;
}

/* Rows of one model's (or environment's) versions. */
static void add_versions(struct app *a, struct table *t, const char *kind, const char *name,
			 cJSON *all)
{
	char path[256];
	cJSON *doc = NULL, *v;

	snprintf(path, sizeof path, "/%s/%s/versions", kind, name);
	if (call(a, "GET", path, NULL, &doc) < 0)
		return;
	while ((v = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(doc, "value"), 0))) {
		struct table_row *r = table_add(t);

		if (r == NULL) {
			cJSON_Delete(v);
			break;
		}
		r->idx = cJSON_GetArraySize(all);
		cJSON_AddItemToArray(all, v);
		cell_set(r->cell[0], name);
		cell_set(r->cell[1], data_str(v, "name"));
		r->num[1] = strtod(r->cell[1], NULL);
		snprintf(r->key, sizeof r->key, "%s:%s", name, r->cell[1]);
	}
	cJSON_Delete(doc);
}

/* Both asset screens: list containers, then each one's versions. */
static int load_assets(struct app *a, enum keys_screen s, const char *kind)
{
	struct table *t = &a->tables[s];
	cJSON *doc = NULL, *all = cJSON_CreateArray();
	const cJSON *e;

	if (all == NULL ||
	    call(a, "GET", kind[0] == 'm' ? "/models" : "/environments", NULL, &doc) < 0) {
		cJSON_Delete(all);
		return -1;
	}
	table_clear(t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	    add_versions(a, t, kind, data_str(e, "name"), all);
	cJSON_Delete(doc);
	replace_doc(a, s, all);
	return 0;
}

static void modules_text(const cJSON *v, char *buf, size_t len)
{
	const cJSON *m;
	size_t used;

	used = (size_t)snprintf(buf, len, "%s", data_str(v, "properties.interpreterPath"));
	cJSON_ArrayForEach(m, member(v, "properties.requiredModules"))
	{
		int n;

		if (!cJSON_IsString(m) || used >= len)
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", m->valuestring);
		if (n > 0)
			used += (size_t)n;
	}
}

int data_load_models(struct app *a)
{
	struct table *t = &a->tables[KEYS_SCR_MODELS];

	if (load_assets(a, KEYS_SCR_MODELS, "models") < 0)
		return -1;
	for (int i = 0; i < t->nrows; i++) {
		struct table_row *r = &t->rows[i];
		const cJSON *v = cJSON_GetArrayItem(a->docs[KEYS_SCR_MODELS], r->idx);
		const char *size = data_str(v, "properties.properties.size");

		cell_set(r->cell[2], data_str(v, "properties.modelType"));
		cell_set(r->cell[3], size);
		r->num[3] = size[0] ? strtod(size, NULL) : NAN;
		cell_set(r->cell[4], data_str(v, "properties.description"));
	}
	return 0;
}

int data_load_envs(struct app *a)
{
	struct table *t = &a->tables[KEYS_SCR_ENVS];

	if (load_assets(a, KEYS_SCR_ENVS, "environments") < 0)
		return -1;
	for (int i = 0; i < t->nrows; i++) {
		struct table_row *r = &t->rows[i];
		const cJSON *v = cJSON_GetArrayItem(a->docs[KEYS_SCR_ENVS], r->idx);

		cell_set(r->cell[2], data_str(v, "properties.environmentKind"));
		modules_text(v, r->cell[3], TABLE_CELL);
	}
	return 0;
}

void data_load_profiles(struct app *a)
{
	struct table *t = &a->tables[KEYS_SCR_PROFILES];

	table_clear(t);
	for (size_t i = 0; i < a->profiles.count; i++) {
		const struct profile *p = &a->profiles.items[i];
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		r->idx = (int)i;
		snprintf(r->key, sizeof r->key, "%s", p->name);
		cell_set(r->cell[0], strcmp(p->name, a->prof.name) ? "" : "*");
		cell_set(r->cell[1], p->name);
		cell_set(r->cell[2], p->backend);
		cell_set(r->cell[3], p->url);
		cell_set(r->cell[4], p->readonly ? "yes" : "");
		cell_set(r->cell[5], p->theme);
	}
	table_rebuild(t);
}

void data_load_themes(struct app *a)
{
	struct table *t = &a->tables[KEYS_SCR_THEMES];
	char names[APP_MAX_THEMES][64];
	int n = theme_list(a->theme_dir, names, APP_MAX_THEMES);

	table_clear(t);
	for (int i = 0; i < n; i++) {
		struct table_row *r = table_add(t);

		if (r == NULL)
			break;
		snprintf(r->key, sizeof r->key, "%.63s", names[i]);
		cell_set(r->cell[0], strcmp(names[i], a->theme.name) ? "" : "*");
		cell_set(r->cell[1], names[i]);
	}
	table_rebuild(t);
}

int data_load_logs(struct app *a)
{
	char path[256];
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	int rc;

	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s/getLogs", a->logs.ep,
		 a->logs.dep);
	cJSON_AddNumberToObject(body, "tail", APP_LOG_TAIL);
	rc = call(a, "POST", path, body, &out);
	cJSON_Delete(body);
	if (rc == 0) {
		free(a->logs.text);
		a->logs.text = strdup(data_str(out, "content"));
	}
	cJSON_Delete(out);
	return rc;
}

int data_load_live(struct app *a)
{
	char *text = NULL;
	size_t len = 0;
	struct error err = {0};
	const char *focus = a->screen == KEYS_SCR_DEPLOYMENTS ? a->endpoint : NULL;
	struct table_row *sel = table_selected(&a->tables[KEYS_SCR_ENDPOINTS]);
	char path[160] = "/v1/metrics?window=60&summary=1";

	if (a->c == NULL)
		return -1;
	if (focus == NULL && a->screen == KEYS_SCR_ENDPOINTS && sel != NULL)
		focus = sel->key;
	/* totals for every endpoint, deployments and history for the focused one */
	if (focus)
		snprintf(path, sizeof path, "/v1/metrics?window=60&summary=1&detail=%.64s", focus);
	/* the Deployments screen needs one endpoint only: a much smaller answer */
	if (a->screen == KEYS_SCR_DEPLOYMENTS)
		snprintf(path, sizeof path, "/v1/metrics?window=60&endpoint=%.64s", a->endpoint);
	if (client_get_text(a->c, path, &text, &len, &err) < 0) {
		if (err.status == 0)
			data_reachable(a, 0);
		live_free(&a->live);
		data_fill_live(a);
		return -1;
	}
	live_parse(&a->live, text, focus);
	free(text);
	data_fill_live(a);
	return 0;
}

void data_fill_live(struct app *a)
{
	struct table *te = &a->tables[KEYS_SCR_ENDPOINTS], *td = &a->tables[KEYS_SCR_DEPLOYMENTS];
	const struct live_endpoint *le = live_endpoint(&a->live, a->endpoint);

	for (int i = 0; i < te->nrows; i++) {
		const struct live_endpoint *e = live_endpoint(&a->live, te->rows[i].key);

		fill_stats(&te->rows[i], EC_RPS, e ? &e->total : NULL);
	}
	for (int i = 0; i < td->nrows; i++) {
		struct table_row *r = &td->rows[i];
		int k = r->idx;

		fill_stats(r, DC_RPS, live_deployment(le, r->key));
		if (k < a->dep.n) {
			set_num(r, DC_TRAFFIC, a->dep.pend_live[k], 0, 1);
			set_num(r, DC_MIRROR, a->dep.pend_mirror[k], 0, 1);
		}
	}
	table_rebuild(te);
	table_rebuild(td);
}

int data_load_screen(struct app *a)
{
	int rc = 0;

	switch (a->screen) {
	case KEYS_SCR_ENDPOINTS:
		rc = data_load_endpoints(a);
		break;
	case KEYS_SCR_DEPLOYMENTS:
		rc = data_load_deployments(a);
		break;
	case KEYS_SCR_MODELS:
		rc = data_load_models(a);
		break;
	case KEYS_SCR_ENVS:
		rc = data_load_envs(a);
		break;
	case KEYS_SCR_LOGS:
		rc = data_load_logs(a);
		break;
	case KEYS_SCR_PROFILES:
		data_load_profiles(a);
		break;
	case KEYS_SCR_THEMES:
		data_load_themes(a);
		break;
	default:
		break;
	}
	for (int s = 0; s < KEYS_SCR_COUNT; s++)
		if (app_table(a, s))
			table_rebuild(&a->tables[s]);
	return rc;
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
