/* scoring.c: an endpoint's scoring URL and data-plane credential. */
#include "api/scoring.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* "/onlineEndpoints/EP" + suffix, EP percent-encoded; -1 when it cannot be. */
static int scoring_path(char *buf, size_t len, const char *ep, const char *suffix,
			struct error *err)
{
	char *e = curl_easy_escape(NULL, ep, 0);
	int n = e != NULL ? snprintf(buf, len, "/onlineEndpoints/%s%s", e, suffix) : -1;

	curl_free(e);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 400, "BadName", "endpoint name %.64s is not usable", ep);
	return 0;
}

/* The string at obj.member (one level of "a.b"), or "". */
static const char *scoring_str(const cJSON *obj, const char *outer, const char *inner)
{
	const cJSON *o = outer != NULL ? cJSON_GetObjectItemCaseSensitive(obj, outer) : obj;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, inner);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int scoring_uses_token(const char *auth_mode)
{
	return strcmp(auth_mode, "AMLToken") == 0 || strcmp(auth_mode, "AADToken") == 0;
}

/* GET of the endpoint, for its authMode and scoringUri (caller frees). */
static cJSON *scoring_endpoint(struct client *c, const char *ep, struct error *err)
{
	char path[512];
	cJSON *doc = NULL;

	if (scoring_path(path, sizeof path, ep, "", err) < 0 ||
	    client_call(c, "GET", path, NULL, &doc, err) < 0)
		return NULL;
	if (doc == NULL)
		error_set(err, 502, "BadResponse", "empty answer for endpoint %s", ep);
	return doc;
}

int scoring_credential(struct client *c, const char *ep, const char *auth_mode, char *buf,
		       size_t len, struct error *err)
{
	char path[512], mode[16];
	cJSON *doc = NULL;
	int rc = -1;

	if (auth_mode == NULL) {
		if ((doc = scoring_endpoint(c, ep, err)) == NULL)
			return -1;
		snprintf(mode, sizeof mode, "%s", scoring_str(doc, "properties", "authMode"));
		cJSON_Delete(doc);
		doc = NULL;
		auth_mode = mode;
	}
	int token = scoring_uses_token(auth_mode);
	const char *field = token ? "accessToken" : "primaryKey";
	if (scoring_path(path, sizeof path, ep, token ? "/token" : "/listKeys", err) < 0 ||
	    client_call(c, "POST", path, NULL, &doc, err) < 0)
		return -1;
	const char *v = scoring_str(doc, NULL, field);
	if (v[0] == '\0' || strlen(v) >= len) {
		error_set(err, 502, "BadResponse", "no usable %s in the answer of %s", field, path);
	} else {
		snprintf(buf, len, "%s", v);
		rc = 0;
	}
	cJSON_Delete(doc);
	return rc;
}

int scoring_target(struct client *c, const char *ep, struct scoring_target *t, struct error *err)
{
	cJSON *doc;
	int rc;

	memset(t, 0, sizeof *t);
	if ((doc = scoring_endpoint(c, ep, err)) == NULL)
		return -1;
	const char *mode = scoring_str(doc, "properties", "authMode");
	snprintf(t->auth_mode, sizeof t->auth_mode, "%s", mode[0] != '\0' ? mode : "Key");
	rc = client_scoring_url(c, ep, scoring_str(doc, "properties", "scoringUri"), t->url,
				sizeof t->url, err);
	cJSON_Delete(doc);
	if (rc < 0)
		return -1;
	if (client_unix_socket(c) != NULL)
		snprintf(t->unix_socket, sizeof t->unix_socket, "%s", client_unix_socket(c));
	return scoring_credential(c, ep, t->auth_mode, t->credential, sizeof t->credential, err);
}

int scoring_batch_target(struct client *c, const char *ep, struct scoring_target *t,
			 struct error *err)
{
	char path[512], *e = curl_easy_escape(NULL, ep, 0);
	cJSON *doc = NULL;
	int n = e != NULL ? snprintf(path, sizeof path, "/batchEndpoints/%s", e) : -1, rc;

	curl_free(e);
	memset(t, 0, sizeof *t);
	if (n < 0 || (size_t)n + 10 >= sizeof path)
		return error_set(err, 400, "BadName", "batch endpoint name %.64s is not usable", ep);
	if (!client_is_runtime(c))
		return error_set(err, 400, "NotLocal",
				 "invoking a batch endpoint on Azure takes a Microsoft Entra token "
				 "for https://ml.azure.com, which this profile does not get yet");
	if (client_call(c, "GET", path, NULL, &doc, err) < 0)
		return -1;
	snprintf(t->auth_mode, sizeof t->auth_mode, "%s", "Key");
	rc = client_batch_url(c, ep, scoring_str(doc, "properties", "scoringUri"), t->url,
			      sizeof t->url, err);
	cJSON_Delete(doc);
	doc = NULL;
	if (rc < 0)
		return -1;
	if (client_unix_socket(c) != NULL)
		snprintf(t->unix_socket, sizeof t->unix_socket, "%s", client_unix_socket(c));
	strncat(path, "/listkeys", sizeof path - strlen(path) - 1);
	if (client_call(c, "POST", path, NULL, &doc, err) < 0)
		return -1;
	rc = snprintf(t->credential, sizeof t->credential, "%s",
		      scoring_str(doc, NULL, "primaryKey"));
	cJSON_Delete(doc);
	if (rc <= 0 || (size_t)rc >= sizeof t->credential)
		return error_set(err, 502, "BadResponse", "no usable key for batch endpoint %s",
				 ep);
	return 0;
}

void scoring_target_cleanup(struct scoring_target *t)
{
	if (t != NULL)
		memset(t->credential, 0, sizeof t->credential);
}
