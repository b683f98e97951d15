/* datacollector.c: a deployment's dataCollector, parsed, checked, written (datacollector.h). */
#include "state/datacollector.h"

#include "state/batch.h"
#include "state/resource.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const rolling_names[] = {"Year", "Month", "Day", "Hour", "Minute"};

const char *dc_rolling_name(enum dc_rolling r)
{
	return (unsigned)r < 5 ? rolling_names[r] : "Hour";
}

static int bad(struct error *err, const char *field, const char *want)
{
	return error_set(err, 400, "ValidationError", "properties.dataCollector%s must be %s",
			 field, want);
}

int datacollector_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      ((c == '_' || c == '-') && i > 0)))
			return 0;
	}
	return 1;
}

/* An HTTP header name: a token of at most DC_HEADER_MAX characters. */
static int header_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DC_HEADER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("!#$%&'*+-.^_`|~", s[i]) &&
		    !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int collection_from_json(const cJSON *o, struct dc_collection *c, struct error *err)
{
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "dataCollectionMode");
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(o, "samplingRate");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "dataId");
	char field[DC_NAME_MAX + 64];

	c->sampling_rate = 1.0;
	if (!cJSON_IsObject(o)) {
		snprintf(field, sizeof field, ".collections.%s", c->name);
		return bad(err, field, "an object");
	}
	if (mode && !cJSON_IsNull(mode)) {
		if (!cJSON_IsString(mode) || (strcasecmp(mode->valuestring, "Enabled") &&
					      strcasecmp(mode->valuestring, "Disabled"))) {
			snprintf(field, sizeof field, ".collections.%s.dataCollectionMode", c->name);
			return bad(err, field, "Enabled or Disabled");
		}
		c->enabled = strcasecmp(mode->valuestring, "Enabled") == 0;
	}
	if (rate && !cJSON_IsNull(rate)) {
		if (!cJSON_IsNumber(rate) || !(rate->valuedouble >= 0 && rate->valuedouble <= 1)) {
			snprintf(field, sizeof field, ".collections.%s.samplingRate", c->name);
			return bad(err, field, "a number from 0 to 1 (1 collects every request)");
		}
		c->sampling_rate = rate->valuedouble;
	}
	if (id && !cJSON_IsNull(id)) {
		if (!cJSON_IsString(id) || strlen(id->valuestring) > DC_DATA_ID_MAX) {
			snprintf(field, sizeof field, ".collections.%s.dataId", c->name);
			return bad(err, field, "a data asset id of at most 512 characters");
		}
		snprintf(c->data_id, sizeof c->data_id, "%s", id->valuestring);
	}
	return 0;
}

static int collections_from_json(const cJSON *cs, struct datacollector *d, struct error *err)
{
	const cJSON *it;

	if (!cJSON_IsObject(cs))
		return bad(err, ".collections", "an object of collection name -> settings");
	cJSON_ArrayForEach(it, cs)
	{
		struct dc_collection *c;
		if (cJSON_IsNull(it))
			continue;
		if (!datacollector_name_ok(it->string))
			return error_set(err, 400, "ValidationError",
					 "properties.dataCollector.collections: '%.80s' is not a "
					 "collection name (1-64 letters, digits, '_' or '-')",
					 it->string);
		if (datacollector_find(d, it->string))
			return error_set(err, 400, "ValidationError",
					 "properties.dataCollector.collections names '%s' twice",
					 it->string);
		if (d->n == DC_COLLECTIONS_MAX)
			return bad(err, ".collections", "at most 16 collections");
		c = &d->items[d->n];
		memset(c, 0, sizeof *c);
		snprintf(c->name, sizeof c->name, "%s", it->string);
		if (collection_from_json(it, c, err) < 0)
			return -1;
		d->n++;
	}
	return 0;
}

static int headers_from_json(const cJSON *rl, struct datacollector *d, struct error *err)
{
	const cJSON *h, *it;

	if (rl == NULL || cJSON_IsNull(rl))
		return 0;
	if (!cJSON_IsObject(rl))
		return bad(err, ".requestLogging", "an object");
	h = cJSON_GetObjectItemCaseSensitive(rl, "captureHeaders");
	if (h == NULL || cJSON_IsNull(h))
		return 0;
	if (!cJSON_IsArray(h))
		return bad(err, ".requestLogging.captureHeaders", "an array of header names");
	cJSON_ArrayForEach(it, h)
	{
		if (!cJSON_IsString(it) || !header_ok(it->valuestring))
			return bad(err, ".requestLogging.captureHeaders", "an array of header names");
		if (d->nheaders == DC_HEADERS_MAX)
			return bad(err, ".requestLogging.captureHeaders", "at most 16 names");
		snprintf(d->headers[d->nheaders++], DC_HEADER_MAX + 1, "%s", it->valuestring);
	}
	return 0;
}

int datacollector_from_json(const cJSON *o, struct datacollector *out, struct error *err)
{
	const cJSON *rate;

	memset(out, 0, sizeof *out);
	out->rolling = DC_ROLL_HOUR;
	if (!cJSON_IsObject(o))
		return bad(err, "", "an object with \"collections\"");
	if (collections_from_json(cJSON_GetObjectItemCaseSensitive(o, "collections"), out, err) < 0)
		return -1;
	rate = cJSON_GetObjectItemCaseSensitive(o, "rollingRate");
	if (rate && !cJSON_IsNull(rate)) {
		size_t i;
		for (i = 0; i < 5 && !(cJSON_IsString(rate) &&
				       strcasecmp(rate->valuestring, rolling_names[i]) == 0);
		     i++)
			;
		if (i == 5)
			return bad(err, ".rollingRate", "Year, Month, Day, Hour or Minute");
		out->rolling = (enum dc_rolling)i;
	}
	return headers_from_json(cJSON_GetObjectItemCaseSensitive(o, "requestLogging"), out, err);
}

cJSON *datacollector_to_json(const struct datacollector *d)
{
	cJSON *o = cJSON_CreateObject(), *cs = cJSON_AddObjectToObject(o, "collections"), *h;

	for (size_t i = 0; i < d->n; i++) {
		const struct dc_collection *c = &d->items[i];
		cJSON *x = cJSON_AddObjectToObject(cs, c->name);
		cJSON_AddStringToObject(x, "dataCollectionMode", c->enabled ? "Enabled" : "Disabled");
		cJSON_AddNumberToObject(x, "samplingRate", c->sampling_rate);
		if (c->data_id[0])
			cJSON_AddStringToObject(x, "dataId", c->data_id);
	}
	cJSON_AddStringToObject(o, "rollingRate", dc_rolling_name(d->rolling));
	h = cJSON_AddArrayToObject(cJSON_AddObjectToObject(o, "requestLogging"), "captureHeaders");
	for (size_t i = 0; i < d->nheaders; i++)
		cJSON_AddItemToArray(h, cJSON_CreateString(d->headers[i]));
	if (cs == NULL || h == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int datacollector_from_text(const char *text, struct datacollector *out, struct error *err)
{
	cJSON *o = cJSON_Parse(text);
	int rc;

	if (o == NULL)
		return error_set(err, 500, "CorruptState", "a stored dataCollector is not JSON");
	rc = datacollector_from_json(o, out, err);
	cJSON_Delete(o);
	return rc;
}

char *datacollector_to_text(const struct datacollector *d)
{
	cJSON *o = datacollector_to_json(d);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

const struct dc_collection *datacollector_find(const struct datacollector *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->items[i].name, name) == 0)
			return &d->items[i];
	return NULL;
}

int datacollector_active(const struct datacollector *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].enabled && d->items[i].sampling_rate > 0)
			return 1;
	return 0;
}

static int register_one(struct workspace *ws, const struct deployment *d, const char *coll,
			struct error *err)
{
	struct data_version dv;
	char uri[512];
	int created, rc;

	memset(&dv, 0, sizeof dv);
	snprintf(dv.name, sizeof dv.name, "%s-%s-%s", d->endpoint, d->name, coll);
	if (workspace_data_find(ws, dv.name, NULL) != NULL)
		return 0;
	snprintf(dv.version, sizeof dv.version, "1");
	dv.type = DATA_URI_FOLDER;
	snprintf(uri, sizeof uri,
		 "azureml://datastores/workspaceblobstore/paths/modelDataCollector/%s/%s/%s",
		 d->endpoint, d->name, coll);
	dv.uri = uri;
	dv.description = (char *)"production data the deployment's data collector writes";
	dv.created = d->created;
	rc = workspace_data_put(ws, &dv, &created, err);
	return rc;
}

int datacollector_register(struct workspace *ws, const struct deployment *d, struct error *err)
{
	struct datacollector dc;

	if (d->data_collector == NULL)
		return 0;
	if (datacollector_from_text(d->data_collector, &dc, err) < 0)
		return -1;
	for (size_t i = 0; i < dc.n; i++)
		if (dc.items[i].enabled && register_one(ws, d, dc.items[i].name, err) < 0)
			return -1;
	return 0;
}

int datacollector_period(enum dc_rolling r, int64_t t, char *buf, size_t len, int64_t *end)
{
	struct tm tm, next;
	time_t tt = (time_t)t;
	int n;

	gmtime_r(&tt, &tm);
	next = tm;
	next.tm_sec = 0;
	switch (r) {
	case DC_ROLL_YEAR:
		n = snprintf(buf, len, "%04d", tm.tm_year + 1900);
		next.tm_year++, next.tm_mon = 0, next.tm_mday = 1, next.tm_hour = next.tm_min = 0;
		break;
	case DC_ROLL_MONTH:
		n = snprintf(buf, len, "%04d/%02d", tm.tm_year + 1900, tm.tm_mon + 1);
		next.tm_mon++, next.tm_mday = 1, next.tm_hour = next.tm_min = 0;
		break;
	case DC_ROLL_DAY:
		n = snprintf(buf, len, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		next.tm_mday++, next.tm_hour = next.tm_min = 0;
		break;
	case DC_ROLL_MINUTE:
		n = snprintf(buf, len, "%04d/%02d/%02d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			     tm.tm_mday, tm.tm_hour, tm.tm_min);
		next.tm_min++;
		break;
	default:
		n = snprintf(buf, len, "%04d/%02d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			     tm.tm_mday, tm.tm_hour);
		next.tm_hour++, next.tm_min = 0;
		break;
	}
	if (end)
		*end = (int64_t)timegm(&next);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
