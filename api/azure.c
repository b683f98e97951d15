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
