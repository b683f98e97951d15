/* live.c: /v1/metrics JSON to struct live. */
#include "ui/console/live.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE_MAX_ENDPOINTS 100000

static double num_or_nan(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The last LIVE_SERIES entries of series[key] into out. */
static int parse_series(const cJSON *series, const char *key, double *out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(series, key);
	int n = cJSON_GetArraySize(arr), start = n > LIVE_SERIES ? n - LIVE_SERIES : 0, k = 0;

	if (!cJSON_IsArray(arr))
		return 0;
	for (int i = start; i < n; i++) {
		const cJSON *v = cJSON_GetArrayItem(arr, i);

		out[k++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	}
	return k;
}

static void parse_stats(const cJSON *o, struct live_stats *s)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	double rq = num_or_nan(o, "requests"), er = num_or_nan(o, "errors");

	memset(s, 0, sizeof *s);
	if (cJSON_IsString(name))
		snprintf(s->name, sizeof s->name, "%s", name->valuestring);
	s->requests = isnan(rq) ? 0 : (long)rq;
	s->errors = isnan(er) ? 0 : (long)er;
	s->rps = num_or_nan(o, "rps");
	s->p50 = num_or_nan(o, "p50");
	s->p99 = num_or_nan(o, "p99");
	s->err_rate = num_or_nan(o, "errorRate");
	if (isnan(s->err_rate) && s->requests > 0 && !isnan(er))
		s->err_rate = (double)s->errors / (double)s->requests;
}

static void parse_history(struct live *l, const cJSON *d, const char *name)
{
	const cJSON *series = cJSON_GetObjectItemCaseSensitive(d, "series");
	struct live_series *s;

	if (l->nseries >= LIVE_MAX_DEPS || !cJSON_IsObject(series))
		return;
	s = &l->series[l->nseries++];
	snprintf(s->name, sizeof s->name, "%s", name);
	s->n = parse_series(series, "p99", s->p99s);
	parse_series(series, "p50", s->p50s);
}

int live_parse(struct live *l, const char *json, const char *series_for)
{
	cJSON *doc = cJSON_Parse(json);
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(doc, "endpoints");
	const cJSON *e;
	int n = cJSON_GetArraySize(eps), k = 0;

	live_free(l);
	if (!cJSON_IsArray(eps)) {
		cJSON_Delete(doc);
		return -1;
	}
	if (n > LIVE_MAX_ENDPOINTS)
		n = LIVE_MAX_ENDPOINTS;
	l->eps = calloc((size_t)(n ? n : 1), sizeof *l->eps);
	if (l->eps == NULL) {
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_ArrayForEach(e, eps)
	{
		struct live_endpoint *le = &l->eps[k];
		const cJSON *d, *deps = cJSON_GetObjectItemCaseSensitive(e, "deployments");
		int nd = cJSON_GetArraySize(deps);

		if (k >= n)
			break;
		int focus;

		parse_stats(e, &le->total);
		focus = series_for != NULL && strcmp(series_for, le->total.name) == 0;
		/* room for the deployments the answer lists only: with 1,000
		 * endpoints the totals alone are most of it */
		if (nd > 0 && (le->deps = calloc((size_t)(nd < LIVE_MAX_DEPS ? nd : LIVE_MAX_DEPS),
						 sizeof *le->deps)) == NULL)
			nd = 0;
		cJSON_ArrayForEach(d, deps)
		{
			if (le->ndeps >= LIVE_MAX_DEPS || le->ndeps >= nd)
				break;
			parse_stats(d, &le->deps[le->ndeps]);
			if (focus)
				parse_history(l, d, le->deps[le->ndeps].name);
			le->ndeps++;
		}
		k++;
	}
	l->n = k;
	l->ok = 1;
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(doc, "source");
	double grain = num_or_nan(doc, "grainSeconds");
	snprintf(l->source, sizeof l->source, "%s",
		 cJSON_IsString(src) ? src->valuestring : "mldeck runtime");
	l->grain_s = isnan(grain) || grain < 1 ? 1 : (int)grain;
	cJSON_Delete(doc);
	return 0;
}

void live_free(struct live *l)
{
	for (int i = 0; l->eps != NULL && i < l->n; i++)
		free(l->eps[i].deps);
	free(l->eps);
	l->eps = NULL;
	l->n = 0;
	l->ok = 0;
	l->nseries = 0;
	l->next = 0;
	free(l->query);
	l->query = NULL;
}

#define LIVE_LIST "&endpoints="

void live_set_query(struct live *l, const char *path)
{
	free(l->query);
	l->query = strdup(path);
}

int live_answers(const struct live *l, const char *path)
{
	return l->query != NULL && strcmp(l->query, path) == 0;
}

int live_covers(const struct live *l, const char *name)
{
	const char *list = l->query != NULL ? strstr(l->query, LIVE_LIST) : NULL;
	size_t n = strlen(name);

	if (list == NULL)
		return 1;
	for (const char *p = list + strlen(LIVE_LIST); p != NULL;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0' || p[n] == '&'))
			return 1;
	return 0;
}

/* Endpoint names are letters, digits and dashes: nothing to encode. */
static int live_plain(const char *name)
{
	if (name[0] == '\0')
		return 0;
	for (; *name; name++)
		if (!(*name >= 'a' && *name <= 'z') && !(*name >= 'A' && *name <= 'Z') &&
		    !(*name >= '0' && *name <= '9') && *name != '-')
			return 0;
	return 1;
}

int live_query_endpoints(char *path, size_t len, const char *const *names, int n)
{
	size_t start = strlen(path), o = start;

	for (int i = 0; i < n; i++) {
		int k = snprintf(path + o, len - o, "%s%s", i ? "," : LIVE_LIST, names[i]);

		if (!live_plain(names[i]) || k < 0 || (size_t)k >= len - o) {
			path[start] = '\0';
			return -1;
		}
		o += (size_t)k;
	}
	if (n == 0 && snprintf(path + o, len - o, "%s", LIVE_LIST) >= (int)(len - o)) {
		path[start] = '\0';
		return -1;
	}
	return 0;
}

int live_query_same(const char *x, const char *y)
{
	const char *lx = strstr(x, LIVE_LIST), *ly = strstr(y, LIVE_LIST);
	size_t nx = lx ? (size_t)(lx - x) : strlen(x), ny = ly ? (size_t)(ly - y) : strlen(y);

	return nx == ny && strncmp(x, y, nx) == 0;
}

const struct live_endpoint *live_endpoint(struct live *l, const char *name)
{
	for (int k = 0; k < l->n; k++) {
		int i = (l->next + k) % l->n;

		if (strcmp(l->eps[i].total.name, name) == 0) {
			l->next = i + 1;
			return &l->eps[i];
		}
	}
	return NULL;
}

const struct live_stats *live_deployment(const struct live_endpoint *e, const char *name)
{
	if (e == NULL)
		return NULL;
	for (int i = 0; i < e->ndeps; i++)
		if (strcmp(e->deps[i].name, name) == 0)
			return &e->deps[i];
	return NULL;
}

const struct live_series *live_series_of(const struct live *l, const char *deployment)
{
	for (int i = 0; i < l->nseries; i++)
		if (strcmp(l->series[i].name, deployment) == 0)
			return &l->series[i];
	return NULL;
}
