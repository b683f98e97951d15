/* azure.c: a workspace's region, ARM path parts and asset ids. */
#include "api/azure.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int azure_location(struct client *c, const char *fallback, char *buf, size_t len,
		   struct error *err)
{
	cJSON *doc = NULL;

	if (client_call(c, "GET", "", NULL, &doc, err) < 0) {
		if (fallback == NULL || (err->status != 404 && err->status != 405))
			return -1;
		error_clear(err);
		snprintf(buf, len, "%s", fallback);
		return 0;
	}
	const cJSON *loc = cJSON_GetObjectItemCaseSensitive(doc, "location");
	int ok = cJSON_IsString(loc) && loc->valuestring[0] != '\0' && strlen(loc->valuestring) < len;
	if (ok)
		snprintf(buf, len, "%s", loc->valuestring);
	cJSON_Delete(doc);
	if (!ok && fallback == NULL)
		return error_set(err, 502, "BadResponse", "the workspace has no location");
	if (!ok)
		snprintf(buf, len, "%s", fallback);
	return 0;
}

/* Copies the segment after "/name/" in path into out. */
static int azure_segment(const char *path, const char *name, char *out, size_t len)
{
	char key[64];
	size_t kl = (size_t)snprintf(key, sizeof key, "/%s/", name);
	const char *p = path;

	while ((p = strchr(p, '/')) != NULL && strncasecmp(p, key, kl) != 0)
		p++;
	if (p == NULL)
		return -1;
	p += kl;
	size_t n = strcspn(p, "/");
	if (n == 0 || n >= len)
		return -1;
	snprintf(out, len, "%.*s", (int)n, p);
	return 0;
}

int azure_ws_parts(const struct client *c, struct azure_ws *out)
{
	const char *p = client_ws_path(c);

	if (azure_segment(p, "subscriptions", out->subscription, sizeof out->subscription) < 0 ||
	    azure_segment(p, "resourceGroups", out->resource_group,
			  sizeof out->resource_group) < 0 ||
	    azure_segment(p, "workspaces", out->workspace, sizeof out->workspace) < 0)
		return -1;
	return 0;
}

int azure_asset_id(const struct client *c, const char *kind, const char *name,
		   const char *version, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s/versions/%s", client_ws_path(c), kind, name, version);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Copies member name of from (if present and not null) into to. */
static void azure_keep(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);

	if (v != NULL && !cJSON_IsNull(v))
		cJSON_AddItemToObject(to, name, cJSON_Duplicate(v, 1));
}

cJSON *azure_endpoint_body(const cJSON *current)
{
	static const char *const props[] = {"authMode", "description", "traffic",
					    "mirrorTraffic", "publicNetworkAccess"};
	cJSON *body = cJSON_CreateObject();
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(current, "properties");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(current, "identity");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(id, "type");
	cJSON *p;

	azure_keep(body, current, "location");
	azure_keep(body, current, "tags");
	azure_keep(body, current, "kind");
	if (cJSON_IsString(type))
		cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "identity"), "type",
					type->valuestring);
	p = cJSON_AddObjectToObject(body, "properties");
	for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
		azure_keep(p, cp, props[i]);
	return body;
}

void azure_replace(cJSON *obj, const char *name, const cJSON *v)
{
	if (v == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	cJSON_AddItemToObject(obj, name, cJSON_Duplicate(v, 1));
}
