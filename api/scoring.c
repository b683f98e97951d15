/* scoring.c: an endpoint's scoring URL and data-plane credential. */
#include "api/scoring.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/credential.h"
#include "state/codec.h"

#define SCORING_CACHE 32
#define SCORING_KEY_MAX 1200

/* AML tokens of endpoints, kept until their refreshAfterTimeUtc. */
struct scoring_cached {
	char key[SCORING_KEY_MAX]; /* base URL + workspace + endpoint */
	char token[4096];
	long long refresh_at;
};

static struct scoring_cached scoring_cache[SCORING_CACHE];
static pthread_mutex_t scoring_lock = PTHREAD_MUTEX_INITIALIZER;

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

static void scoring_cache_key(struct client *c, const char *ep, char *key, size_t len)
{
	snprintf(key, len, "%s%s/%s", client_base_url(c), client_ws_path(c), ep);
}

/* A cached token still good at now into buf; 0 when there is none. */
static int scoring_cache_get(const char *key, char *buf, size_t len, long long *refresh_at)
{
	long long now = (long long)time(NULL);
	int found = 0;

	pthread_mutex_lock(&scoring_lock);
	for (size_t i = 0; i < SCORING_CACHE && !found; i++) {
		struct scoring_cached *e = &scoring_cache[i];
		if (strcmp(e->key, key) == 0 && now < e->refresh_at && strlen(e->token) < len) {
			snprintf(buf, len, "%s", e->token);
			*refresh_at = e->refresh_at;
			found = 1;
		}
	}
	pthread_mutex_unlock(&scoring_lock);
	return found;
}

static void scoring_cache_put(const char *key, const char *token, long long refresh_at)
{
	struct scoring_cached *slot = &scoring_cache[0];

	if (strlen(token) >= sizeof slot->token || strlen(key) >= sizeof slot->key)
		return;
	pthread_mutex_lock(&scoring_lock);
	for (size_t i = 0; i < SCORING_CACHE; i++) {
		struct scoring_cached *e = &scoring_cache[i];
		if (strcmp(e->key, key) == 0 || e->refresh_at < slot->refresh_at)
			slot = e;
		if (strcmp(e->key, key) == 0)
			break;
	}
	snprintf(slot->key, sizeof slot->key, "%s", key);
	snprintf(slot->token, sizeof slot->token, "%s", token);
	slot->refresh_at = refresh_at;
	pthread_mutex_unlock(&scoring_lock);
}

void scoring_forget(struct client *c, const char *ep)
{
	char key[SCORING_KEY_MAX];

	scoring_cache_key(c, ep, key, sizeof key);
	pthread_mutex_lock(&scoring_lock);
	for (size_t i = 0; i < SCORING_CACHE; i++)
		if (strcmp(scoring_cache[i].key, key) == 0)
			memset(&scoring_cache[i], 0, sizeof scoring_cache[i]);
	pthread_mutex_unlock(&scoring_lock);
}

/* When a token answer says to fetch a new one: refreshAfterTimeUtc, else a
 * little before expiryTimeUtc, else in an hour. */
static long long scoring_refresh_at(const cJSON *doc)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(doc, "refreshAfterTimeUtc");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, "expiryTimeUtc");
	long long now = (long long)time(NULL);

	long long t;

	if (codec_number_in(r, 1, 1e15, &t))
		return t;
	if (codec_number_in(x, 1, 1e15, &t))
		return t - CREDENTIAL_MARGIN_S;
	return now + 3600;
}

/* POST listKeys or token; the key or token into buf. */
static int scoring_fetch(struct client *c, const char *ep, int token, char *buf, size_t len,
			 long long *refresh_at, struct error *err)
{
	char path[512];
	cJSON *doc = NULL;
	const char *field = token ? "accessToken" : "primaryKey";
	int rc = -1;

	if (scoring_path(path, sizeof path, ep, token ? "/token" : "/listKeys", err) < 0 ||
	    client_call(c, "POST", path, NULL, &doc, err) < 0)
		return -1;
	const char *v = scoring_str(doc, NULL, field);
	if (v[0] == '\0' || strlen(v) >= len) {
		error_set(err, 502, "BadResponse", "no usable %s in the answer of %s", field, path);
	} else {
		snprintf(buf, len, "%s", v);
		*refresh_at = token ? scoring_refresh_at(doc) : 0;
		rc = 0;
	}
	cJSON_Delete(doc);
	return rc;
}

int scoring_credential(struct client *c, const char *ep, const char *auth_mode, char *buf,
		       size_t len, long long *refresh_at, struct error *err)
{
	char mode[16], key[SCORING_KEY_MAX];
	long long at = 0;
	cJSON *doc = NULL;
	int rc;

	if (auth_mode == NULL) {
		if ((doc = scoring_endpoint(c, ep, err)) == NULL)
			return -1;
		snprintf(mode, sizeof mode, "%s", scoring_str(doc, "properties", "authMode"));
		cJSON_Delete(doc);
		auth_mode = mode;
	}
	if (refresh_at == NULL)
		refresh_at = &at;
	*refresh_at = 0;
	if (strcmp(auth_mode, "AADToken") == 0 &&
	    (rc = client_token(c, CREDENTIAL_ML_SCOPE, buf, len, err)) <= 0) {
		if (rc == 0)
			*refresh_at = (long long)time(NULL) + CREDENTIAL_MARGIN_S;
		return rc;
	}
	if (!scoring_uses_token(auth_mode))
		return scoring_fetch(c, ep, 0, buf, len, refresh_at, err);
	scoring_cache_key(c, ep, key, sizeof key);
	if (scoring_cache_get(key, buf, len, refresh_at))
		return 0;
	if (scoring_fetch(c, ep, 1, buf, len, refresh_at, err) < 0)
		return -1;
	scoring_cache_put(key, buf, *refresh_at);
	return 0;
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
	return scoring_credential(c, ep, t->auth_mode, t->credential, sizeof t->credential,
				  &t->refresh_at, err);
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
	/* the client's own credential (the admin key): an endpoint key may name
	 * no path on the runtime's host (docs/security.md) */
	rc = snprintf(t->credential, sizeof t->credential, "%s",
		      client_credential(c) != NULL ? client_credential(c) : "");
	if (rc <= 0 || (size_t)rc >= sizeof t->credential)
		return error_set(err, 401, "NoCredential",
				 "no credential to invoke batch endpoint %s with", ep);
	return 0;
}

void scoring_target_cleanup(struct scoring_target *t)
{
	if (t != NULL)
		memset(t->credential, 0, sizeof t->credential);
}
