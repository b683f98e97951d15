/* entra.c: Entra ID's token endpoint, device-code login and its cache. */
#include "api/entra.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/codec.h"
#include "state/file.h"

#define ENTRA_FORM_MAX 16384
#define ENTRA_CACHE_MAX 65536
#define ENTRA_DEVICE_MAX_S 900 /* AAD gives the user 15 minutes */

void entra_authority(char *buf, size_t len)
{
	const char *a = getenv("AZURE_AUTHORITY_HOST");

	if (a == NULL || a[0] == '\0')
		a = ENTRA_DEFAULT_AUTHORITY;
	snprintf(buf, len, "%s%s", strstr(a, "://") != NULL ? "" : "https://", a);
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
}

const char *entra_form_escape(const char *s, char *buf, size_t len)
{
	char *e = curl_easy_escape(NULL, s, 0);

	snprintf(buf, len, "%s", e != NULL ? e : "");
	if (e != NULL) {
		memset(e, 0, strlen(e));
		curl_free(e);
	}
	return buf;
}

/* A number that may come as a JSON number or a string ("3599"). */
static long long entra_number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	long long n = 0;

	if (cJSON_IsNumber(v))
		return codec_number_in(v, -1e15, 1e15, &n) ? n : 0;
	if (cJSON_IsString(v))
		return strtoll(v->valuestring, NULL, 10);
	return 0;
}

int entra_parse_token(const char *json, size_t len, struct credential_token *t, char *refresh,
		      size_t rlen, struct error *err)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "refresh_token");
	long long now = (long long)time(NULL);
	int rc = -1;

	credential_token_clear(t);
	if (!cJSON_IsString(at) || strlen(at->valuestring) >= sizeof t->value) {
		error_set(err, 502, "BadResponse", "the token answer has no usable access_token");
		goto out;
	}
	snprintf(t->value, sizeof t->value, "%s", at->valuestring);
	t->expires_on = entra_number(doc, "expires_on");
	if (t->expires_on == 0)
		t->expires_on = now + entra_number(doc, "expires_in");
	if (entra_number(doc, "refresh_in") > 0)
		t->refresh_on = now + entra_number(doc, "refresh_in");
	if (refresh != NULL && rlen > 0)
		snprintf(refresh, rlen, "%s", cJSON_IsString(rt) ? rt->valuestring : "");
	rc = 0;
out:
	if (cJSON_IsString(at))
		memset(at->valuestring, 0, strlen(at->valuestring));
	if (cJSON_IsString(rt))
		memset(rt->valuestring, 0, strlen(rt->valuestring));
	cJSON_Delete(doc);
	return rc;
}

/* AAD's {"error","error_description"} as err (first line of the description). */
static int entra_answer_error(const struct client_response *rs, struct error *err)
{
	cJSON *doc = cJSON_ParseWithLength(rs->body, rs->len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "error_description");

	if (!cJSON_IsString(e)) {
		cJSON_Delete(doc);
		return client_answer_error(rs, "the token endpoint", err);
	}
	const char *desc = cJSON_IsString(d) ? d->valuestring : "";
	error_set(err, 401, e->valuestring, "Entra ID refused: %.*s", (int)strcspn(desc, "\r\n"),
		  desc);
	cJSON_Delete(doc);
	return -1;
}

/* POSTs a form to {authority}/{tenant}/oauth2/v2.0/{what}; the answer in rs. */
static int entra_post(struct client *http, const char *tenant, const char *what,
		      const char *form, struct client_response *rs, struct error *err)
{
	char url[1024], auth[512], te[256];
	struct client_request rq = {.method = "POST", .url = url, .body = form,
				    .len = strlen(form),
				    .content_type = "application/x-www-form-urlencoded",
				    .auth = CLIENT_AUTH_NONE};

	entra_authority(auth, sizeof auth);
	snprintf(url, sizeof url, "%s/%s/oauth2/v2.0/%s", auth,
		 entra_form_escape(tenant, te, sizeof te), what);
	return client_send(http, &rq, rs, err);
}

int entra_token_request(struct client *http, const char *tenant, const char *form,
			struct credential_token *t, char *refresh, size_t rlen, struct error *err)
{
	struct client_response rs;
	int rc = entra_post(http, tenant, "token", form, &rs, err);

	if (rc == 0 && rs.status != 200)
		rc = entra_answer_error(&rs, err);
	else if (rc == 0)
		rc = entra_parse_token(rs.body, rs.len, t, refresh, rlen, err);
	if (rs.body != NULL)
		memset(rs.body, 0, rs.len);
	client_response_cleanup(&rs);
	return rc;
}

int entra_client_token(struct client *http, const char *tenant, const char *client_id,
		       const char *secret_or_assertion, int is_secret, const char *scope,
		       struct credential_token *t, struct error *err)
{
	char *form = malloc(ENTRA_FORM_MAX), *sec = malloc(ENTRA_FORM_MAX);
	char cid[256], sc[256];
	int rc = -1;

	if (form == NULL || sec == NULL) {
		error_set(err, 500, "NoMemory", "out of memory");
		goto out;
	}
	entra_form_escape(secret_or_assertion, sec, ENTRA_FORM_MAX);
	snprintf(form, ENTRA_FORM_MAX,
		 "grant_type=client_credentials&client_id=%s&scope=%s&%s=%s%s",
		 entra_form_escape(client_id, cid, sizeof cid),
		 entra_form_escape(scope, sc, sizeof sc),
		 is_secret ? "client_secret" : "client_assertion", sec,
		 is_secret ? ""
			   : "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
			     "client-assertion-type%3Ajwt-bearer");
	rc = entra_token_request(http, tenant, form, t, NULL, 0, err);
out:
	if (form != NULL)
		memset(form, 0, ENTRA_FORM_MAX);
	if (sec != NULL)
		memset(sec, 0, ENTRA_FORM_MAX);
	free(form);
	free(sec);
	return rc;
}

/* ---- the login cache ---------------------------------------------------- */

int entra_cache_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/mldeck/azure-login.json", xdg);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s/.local/state/mldeck/azure-login.json", home);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The cache as JSON; NULL with err (status 404 when there is none). */
static cJSON *entra_cache_read(char *path, size_t plen, struct error *err)
{
	struct stat st;
	size_t len;

	if (entra_cache_path(path, plen) < 0)
		return error_set(err, 404, "NoLogin", "neither XDG_STATE_HOME nor HOME is set"),
		       NULL;
	if (stat(path, &st) < 0)
		return error_set(err, 404, "NoLogin", "no login at %s", path), NULL;
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return error_set(err, 401, "InsecureLogin",
				 "refusing %s: it must be yours and private (chmod 600 %s), or "
				 "log in again",
				 path, path),
		       NULL;
	char *text = file_read(path, ENTRA_CACHE_MAX, &len);
	cJSON *doc = text != NULL ? cJSON_ParseWithLength(text, len) : NULL;
	if (text != NULL)
		memset(text, 0, len);
	free(text);
	if (doc == NULL)
		error_set(err, 401, "BadLogin", "%s is unreadable: log in again", path);
	return doc;
}

static int entra_cache_write(cJSON *doc, struct error *err)
{
	char path[PATH_MAX];
	int rc;

	if (entra_cache_path(path, sizeof path) < 0)
		return error_set(err, 500, "NoStateDir", "neither XDG_STATE_HOME nor HOME is set");
	char *text = cJSON_PrintUnformatted(doc);
	if (text == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	rc = 0;
	if (file_write_atomic(path, text, strlen(text), 0600) < 0)
		rc = error_set(err, 500, "StorageError", "cannot write %s: %s", path,
			       strerror(errno));
	memset(text, 0, strlen(text));
	free(text);
	return rc;
}

static const char *entra_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Replaces (or adds) a string member. */
static void entra_set(cJSON *o, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	cJSON_AddStringToObject(o, name, value);
}

/* Saves a fresh login: refresh token and the token of scope. */
static int entra_cache_save(cJSON *doc, const char *scope, const struct credential_token *t,
			    const char *refresh, struct error *err)
{
	char auth[512];

	entra_authority(auth, sizeof auth);
	entra_set(doc, "authority", auth);
	if (refresh[0] != '\0')
		entra_set(doc, "refreshToken", refresh);
	entra_set(doc, "scope", scope);
	entra_set(doc, "accessToken", t->value);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "expiresOn");
	cJSON_AddNumberToObject(doc, "expiresOn", (double)t->expires_on);
	return entra_cache_write(doc, err);
}

/* A new token for scope with the cached refresh token. */
static int entra_refresh(struct client *http, cJSON *doc, const char *scope,
			 struct credential_token *t, struct error *err)
{
	char *form = malloc(ENTRA_FORM_MAX), *rt = malloc(ENTRA_FORM_MAX);
	char cid[256], sc[300], refresh[CREDENTIAL_TOKEN_MAX], full[300];
	int rc = -1;

	if (form == NULL || rt == NULL) {
		error_set(err, 500, "NoMemory", "out of memory");
		goto out;
	}
	snprintf(full, sizeof full, "%s offline_access", scope);
	snprintf(form, ENTRA_FORM_MAX,
		 "grant_type=refresh_token&client_id=%s&scope=%s&refresh_token=%s",
		 entra_form_escape(entra_str(doc, "clientId"), cid, sizeof cid),
		 entra_form_escape(full, sc, sizeof sc),
		 entra_form_escape(entra_str(doc, "refreshToken"), rt, ENTRA_FORM_MAX));
	rc = entra_token_request(http, entra_str(doc, "tenant"), form, t, refresh, sizeof refresh,
				 err);
	if (rc == 0)
		rc = entra_cache_save(doc, scope, t, refresh, err);
	memset(refresh, 0, sizeof refresh);
out:
	if (form != NULL)
		memset(form, 0, ENTRA_FORM_MAX);
	if (rt != NULL)
		memset(rt, 0, ENTRA_FORM_MAX);
	free(form);
	free(rt);
	return rc;
}

int entra_cached_token(struct client *http, const char *scope, struct credential_token *t,
		       struct error *err)
{
	char path[PATH_MAX];
	cJSON *doc = entra_cache_read(path, sizeof path, err);
	const cJSON *exp;
	int rc;

	credential_token_clear(t);
	if (doc == NULL)
		return err->status == 404 ? 1 : -1;
	exp = cJSON_GetObjectItemCaseSensitive(doc, "expiresOn");
	if (strcmp(entra_str(doc, "scope"), scope) == 0 && cJSON_IsNumber(exp) &&
	    strlen(entra_str(doc, "accessToken")) < sizeof t->value) {
		snprintf(t->value, sizeof t->value, "%s", entra_str(doc, "accessToken"));
		codec_number_in(exp, 0, 1e15, &t->expires_on);
	}
	if (credential_token_fresh(t, (long long)time(NULL)))
		rc = 0;
	else
		rc = entra_refresh(http, doc, scope, t, err);
	cJSON_Delete(doc);
	return rc;
}

int entra_logout(struct error *err)
{
	char path[PATH_MAX];

	if (entra_cache_path(path, sizeof path) < 0)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return error_set(err, 500, "StorageError", "cannot remove %s: %s", path,
				 strerror(errno));
	return 0;
}

/* ---- device code ---------------------------------------------------------- */

struct entra_device {
	char device_code[2048];
	long interval;
	long expires_in;
};

static int entra_device_start(struct client *http, const char *tenant, const char *client_id,
			      struct entra_device *d, void (*show)(void *, const char *),
			      void *ctx, struct error *err)
{
	char form[1024], cid[256], sc[256];
	struct client_response rs;

	snprintf(form, sizeof form, "client_id=%s&scope=%s",
		 entra_form_escape(client_id, cid, sizeof cid),
		 entra_form_escape(CREDENTIAL_ARM_SCOPE " offline_access", sc, sizeof sc));
	int rc = entra_post(http, tenant, "devicecode", form, &rs, err);
	if (rc == 0 && rs.status != 200)
		rc = entra_answer_error(&rs, err);
	cJSON *doc = rc == 0 ? cJSON_ParseWithLength(rs.body, rs.len) : NULL;
	const char *code = entra_str(doc, "device_code"), *msg = entra_str(doc, "message");
	if (rc == 0 && (code[0] == '\0' || strlen(code) >= sizeof d->device_code))
		rc = error_set(err, 502, "BadResponse", "the device code answer has no code");
	if (rc == 0) {
		snprintf(d->device_code, sizeof d->device_code, "%s", code);
		d->interval = entra_number(doc, "interval") > 0 ? entra_number(doc, "interval") : 5;
		d->expires_in = entra_number(doc, "expires_in");
		if (d->expires_in <= 0 || d->expires_in > ENTRA_DEVICE_MAX_S)
			d->expires_in = ENTRA_DEVICE_MAX_S;
		show(ctx, msg[0] ? msg : entra_str(doc, "verification_uri"));
	}
	cJSON_Delete(doc);
	client_response_cleanup(&rs);
	return rc;
}

/* Polls until signed in: 0 with the tokens, or -1. */
static int entra_device_poll(struct client *http, const char *tenant, const char *client_id,
			     struct entra_device *d, struct credential_token *t, char *refresh,
			     size_t rlen, struct error *err)
{
	char form[4096], cid[256], dc[3072];
	time_t end = time(NULL) + d->expires_in;

	snprintf(form, sizeof form,
		 "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Adevice_code&"
		 "client_id=%s&device_code=%s",
		 entra_form_escape(client_id, cid, sizeof cid),
		 entra_form_escape(d->device_code, dc, sizeof dc));
	while (time(NULL) < end) {
		struct timespec ts = {d->interval, 0};
		nanosleep(&ts, NULL);
		if (entra_token_request(http, tenant, form, t, refresh, rlen, err) == 0)
			return 0;
		if (strcmp(err->code, "slow_down") == 0)
			d->interval += 5;
		else if (strcmp(err->code, "authorization_pending") != 0)
			return -1;
	}
	return error_set(err, 401, "expired_token", "the code expired before anyone signed in");
}

int entra_device_login(struct client *http, const char *tenant, const char *client_id,
		       void (*show)(void *ctx, const char *message), void *ctx,
		       struct error *err)
{
	struct entra_device d = {0};
	struct credential_token t;
	char refresh[CREDENTIAL_TOKEN_MAX];
	int rc;

	if (entra_device_start(http, tenant, client_id, &d, show, ctx, err) < 0)
		return -1;
	rc = entra_device_poll(http, tenant, client_id, &d, &t, refresh, sizeof refresh, err);
	if (rc == 0 && refresh[0] == '\0')
		rc = error_set(err, 502, "BadResponse", "Entra ID gave no refresh token");
	if (rc == 0) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "version", 1);
		cJSON_AddStringToObject(doc, "tenant", tenant);
		cJSON_AddStringToObject(doc, "clientId", client_id);
		rc = entra_cache_save(doc, CREDENTIAL_ARM_SCOPE, &t, refresh, err);
		cJSON_Delete(doc);
	}
	credential_token_clear(&t);
	memset(refresh, 0, sizeof refresh);
	memset(&d, 0, sizeof d);
	return rc;
}
