/* credential.c: DefaultAzureCredential's chain, with a per-scope token cache. */
#include "api/credential.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "api/client.h"
#include "api/entra.h"
#include "api/msi.h"
#include "state/codec.h"
#include "state/file.h"

#define CREDENTIAL_SCOPES 4
#define CREDENTIAL_WHY_MAX 1024
#define CREDENTIAL_ASSERTION_MAX 16384
#define CREDENTIAL_FAR (1LL << 40) /* a token with no known expiry */

struct credential_slot {
	char scope[160];
	struct credential_token tok;
};

struct credential {
	pthread_mutex_t lock;
	int refs;
	struct client *http; /* Entra ID */
	struct client *imds; /* managed identity: short connect timeout, no retries */
	int chosen;	     /* index in credential_chain, -1 before the first token */
	char tenant[128];
	struct credential_slot slots[CREDENTIAL_SCOPES];
};

/* A source: 0 with a token, 1 when not set up here (why says so), -1 failed. */
struct credential_source {
	const char *name;
	int (*get)(struct credential *cr, const char *scope, struct credential_token *t, char *why,
		   size_t wlen, struct error *err);
};

void credential_token_clear(struct credential_token *t)
{
	memset(t, 0, sizeof *t);
}

int credential_token_fresh(const struct credential_token *t, long long now)
{
	if (t->value[0] == '\0' || now >= t->expires_on - CREDENTIAL_MARGIN_S)
		return 0;
	return t->refresh_on == 0 || now < t->refresh_on;
}

long long credential_jwt_exp(const char *tok)
{
	const char *p = strchr(tok, '.');
	const char *q = p != NULL ? strchr(p + 1, '.') : NULL;
	unsigned char in[4096], out[3072];
	size_t n = q != NULL ? (size_t)(q - p - 1) : 0;
	long long exp = 0;

	if (n == 0 || n + 4 > sizeof in)
		return 0;
	for (size_t i = 0; i < n; i++)
		in[i] = p[1 + i] == '-' ? '+' : p[1 + i] == '_' ? '/' : (unsigned char)p[1 + i];
	while (n % 4 != 0)
		in[n++] = '=';
	int m = EVP_DecodeBlock(out, in, (int)n);
	if (m <= 0)
		return 0;
	cJSON *doc = cJSON_ParseWithLength((const char *)out, (size_t)m);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "exp");
	codec_number_in(e, 0, 1e15, &exp);
	cJSON_Delete(doc);
	return exp;
}

/* "https://x/.default" -> "https://x" (the resource of v1 endpoints). */
static void credential_resource(const char *scope, char *buf, size_t len)
{
	const char *d = strstr(scope, "/.default");

	snprintf(buf, len, "%.*s", d != NULL ? (int)(d - scope) : (int)strlen(scope), scope);
}

static const char *credential_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* 1. AZURE_ACCESS_TOKEN: used as given, its expiry read from the JWT. */
static int credential_from_token(struct credential *cr, const char *scope,
				 struct credential_token *t, char *why, size_t wlen,
				 struct error *err)
{
	const char *v = credential_env("AZURE_ACCESS_TOKEN");
	size_t n;

	(void)cr, (void)scope;
	if (v == NULL)
		return snprintf(why, wlen, "AZURE_ACCESS_TOKEN is not set"), 1;
	for (n = strlen(v); n > 0 && isspace((unsigned char)v[n - 1]); n--)
		;
	if (n >= sizeof t->value)
		return error_set(err, 401, "NoCredential", "AZURE_ACCESS_TOKEN is too long");
	snprintf(t->value, sizeof t->value, "%.*s", (int)n, v);
	t->expires_on = credential_jwt_exp(t->value);
	if (t->expires_on != 0 && t->expires_on <= (long long)time(NULL))
		return error_set(err, 401, "ExpiredToken",
				 "AZURE_ACCESS_TOKEN expired %lld s ago: get a new one, or unset "
				 "it to use another sign-in",
				 (long long)time(NULL) - t->expires_on);
	if (t->expires_on == 0)
		t->expires_on = CREDENTIAL_FAR;
	else
		t->expires_on += CREDENTIAL_MARGIN_S; /* ours to use to the end */
	return 0;
}

/* 2. A service principal's secret. */
static int credential_from_secret(struct credential *cr, const char *scope,
				  struct credential_token *t, char *why, size_t wlen,
				  struct error *err)
{
	const char *tenant = credential_env("AZURE_TENANT_ID");
	const char *id = credential_env("AZURE_CLIENT_ID");
	const char *secret = credential_env("AZURE_CLIENT_SECRET");

	if (tenant == NULL || id == NULL || secret == NULL)
		return snprintf(why, wlen,
				"AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not "
				"all set"),
		       1;
	return entra_client_token(cr->http, tenant, id, secret, 1, scope, t, err);
}

/* 3. Workload identity: a federated token file as the client assertion. */
static int credential_from_workload(struct credential *cr, const char *scope,
				    struct credential_token *t, char *why, size_t wlen,
				    struct error *err)
{
	const char *tenant = credential_env("AZURE_TENANT_ID");
	const char *id = credential_env("AZURE_CLIENT_ID");
	const char *file = credential_env("AZURE_FEDERATED_TOKEN_FILE");
	size_t len;

	if (tenant == NULL || id == NULL || file == NULL)
		return snprintf(why, wlen, "AZURE_FEDERATED_TOKEN_FILE is not set"), 1;
	char *a = file_read(file, CREDENTIAL_ASSERTION_MAX, &len);
	if (a == NULL)
		return error_set(err, 401, "NoCredential", "cannot read AZURE_FEDERATED_TOKEN_FILE %s",
				 file);
	while (len > 0 && isspace((unsigned char)a[len - 1]))
		a[--len] = '\0';
	int rc = entra_client_token(cr->http, tenant, id, a, 0, scope, t, err);
	memset(a, 0, len);
	free(a);
	return rc;
}

/* 4. Managed identity. */
static int credential_from_msi(struct credential *cr, const char *scope,
			       struct credential_token *t, char *why, size_t wlen,
			       struct error *err)
{
	char resource[160];

	credential_resource(scope, resource, sizeof resource);
	return msi_token(cr->imds, resource, t, why, wlen, err);
}

/* 5. `mldeck login --device-code`. */
static int credential_from_login(struct credential *cr, const char *scope,
				 struct credential_token *t, char *why, size_t wlen,
				 struct error *err)
{
	int rc = entra_cached_token(cr->http, scope, t, err);

	if (rc == 1)
		snprintf(why, wlen, "not logged in with `mldeck login --device-code`");
	return rc;
}

/* az's answer: accessToken and expires_on (or the older local-time expiresOn). */
static int credential_parse_az(const char *text, size_t len, struct credential_token *t)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "accessToken");
	const cJSON *eo = cJSON_GetObjectItemCaseSensitive(doc, "expires_on");
	const cJSON *es = cJSON_GetObjectItemCaseSensitive(doc, "expiresOn");
	struct tm tm = {0};
	int rc = -1;

	if (cJSON_IsString(at) && strlen(at->valuestring) < sizeof t->value) {
		snprintf(t->value, sizeof t->value, "%s", at->valuestring);
		if (cJSON_IsNumber(eo))
			codec_number_in(eo, 0, 1e15, &t->expires_on);
		else if (cJSON_IsString(es) && strptime(es->valuestring, "%Y-%m-%d %H:%M:%S", &tm))
			tm.tm_isdst = -1, t->expires_on = (long long)mktime(&tm);
		if (t->expires_on == 0)
			t->expires_on = credential_jwt_exp(t->value);
		rc = t->expires_on > 0 ? 0 : -1;
		memset(at->valuestring, 0, strlen(at->valuestring));
	}
	cJSON_Delete(doc);
	return rc;
}

/* 6. The Azure CLI: exit 127 is "not installed", any other failure "not
 * logged in"; both let the chain end with the whole story. */
static int credential_from_cli(struct credential *cr, const char *scope,
			       struct credential_token *t, char *why, size_t wlen,
			       struct error *err)
{
	char cmd[512], resource[160], buf[16384];
	int ok_tenant = cr->tenant[0] != '\0';

	(void)err;
	for (const char *p = cr->tenant; *p; p++)
		ok_tenant &= isalnum((unsigned char)*p) || *p == '-' || *p == '.';
	credential_resource(scope, resource, sizeof resource);
	snprintf(cmd, sizeof cmd, "az account get-access-token --resource %s%s%s -o json 2>/dev/null",
		 resource, ok_tenant ? " --tenant " : "", ok_tenant ? cr->tenant : "");
	FILE *p = popen(cmd, "r");
	size_t n = p != NULL ? fread(buf, 1, sizeof buf - 1, p) : 0;
	int st = p != NULL ? pclose(p) : -1;
	int rc = st == 0 && credential_parse_az(buf, n, t) == 0 ? 0 : 1;
	memset(buf, 0, sizeof buf);
	if (rc == 1)
		snprintf(why, wlen, "%s",
			 WIFEXITED(st) && WEXITSTATUS(st) == 127
			     ? "the Azure CLI is not installed"
			     : "`az account get-access-token` failed (run `az login`)");
	return rc;
}

static const struct credential_source credential_chain[] = {
    {"AZURE_ACCESS_TOKEN", credential_from_token},
    {"environment (service principal secret)", credential_from_secret},
    {"workload identity", credential_from_workload},
    {"managed identity", credential_from_msi},
    {"mldeck login", credential_from_login},
    {"Azure CLI", credential_from_cli},
};
#define CREDENTIAL_NSOURCES (sizeof credential_chain / sizeof credential_chain[0])

struct credential *credential_new(const struct credential_config *cfg)
{
	struct credential *cr = calloc(1, sizeof *cr);

	if (cr == NULL)
		return NULL;
	struct client_config http = {.base_url = "", .ws_path = "", .credential = "",
				     .timeout_ms = 30000, .ca_file = cfg->ca_file,
				     .connect_to = cfg->connect_to, .trace = cfg->trace};
	struct client_config imds = http;
	imds.timeout_ms = 5000;
	imds.connect_timeout_ms = MSI_CONNECT_TIMEOUT_MS;
	imds.max_retries = -1;
	imds.no_proxy = 1;
	cr->http = client_new(&http);
	cr->imds = client_new(&imds);
	if (cr->http == NULL || cr->imds == NULL) {
		client_free(cr->http);
		client_free(cr->imds);
		free(cr);
		return NULL;
	}
	snprintf(cr->tenant, sizeof cr->tenant, "%s", cfg->tenant != NULL ? cfg->tenant : "");
	pthread_mutex_init(&cr->lock, NULL);
	cr->refs = 1;
	cr->chosen = -1;
	return cr;
}

struct credential *credential_ref(struct credential *cr)
{
	pthread_mutex_lock(&cr->lock);
	cr->refs++;
	pthread_mutex_unlock(&cr->lock);
	return cr;
}

void credential_unref(struct credential *cr)
{
	if (cr == NULL)
		return;
	pthread_mutex_lock(&cr->lock);
	int last = --cr->refs == 0;
	pthread_mutex_unlock(&cr->lock);
	if (!last)
		return;
	client_free(cr->http);
	client_free(cr->imds);
	pthread_mutex_destroy(&cr->lock);
	memset(cr, 0, sizeof *cr);
	free(cr);
}

/* The slot of scope (the least useful one is reused). */
static struct credential_slot *credential_slot(struct credential *cr, const char *scope)
{
	struct credential_slot *s = &cr->slots[0];

	for (size_t i = 0; i < CREDENTIAL_SCOPES; i++) {
		if (strcmp(cr->slots[i].scope, scope) == 0)
			return &cr->slots[i];
		if (cr->slots[i].tok.expires_on < s->tok.expires_on)
			s = &cr->slots[i];
	}
	credential_token_clear(&s->tok);
	snprintf(s->scope, sizeof s->scope, "%s", scope);
	return s;
}

/* Walks the chain (or asks the source chosen before) for a token. */
static int credential_fetch(struct credential *cr, const char *scope, struct credential_token *t,
			    struct error *err)
{
	char why[CREDENTIAL_WHY_MAX] = "", one[256];
	size_t from = cr->chosen >= 0 ? (size_t)cr->chosen : 0;
	size_t to = cr->chosen >= 0 ? from + 1 : CREDENTIAL_NSOURCES;

	for (size_t i = from; i < to; i++) {
		one[0] = '\0';
		int rc = credential_chain[i].get(cr, scope, t, one, sizeof one, err);
		if (rc == 0) {
			cr->chosen = (int)i;
			return 0;
		}
		if (rc < 0)
			return -1;
		size_t n = strlen(why);
		snprintf(why + n, sizeof why - n, "%s%s", n ? "; " : "", one);
	}
	return error_set(err, 401, "NoCredential", "no Azure credential: %s", why);
}

int credential_token(struct credential *cr, const char *scope, char *buf, size_t len,
		     struct error *err)
{
	int rc = 0;

	pthread_mutex_lock(&cr->lock);
	struct credential_slot *s = credential_slot(cr, scope);
	if (!credential_token_fresh(&s->tok, (long long)time(NULL)))
		rc = credential_fetch(cr, scope, &s->tok, err);
	if (rc == 0 && strlen(s->tok.value) >= len)
		rc = error_set(err, 401, "NoCredential", "the token is longer than %zu bytes", len);
	if (rc == 0)
		snprintf(buf, len, "%s", s->tok.value);
	else
		credential_token_clear(&s->tok);
	pthread_mutex_unlock(&cr->lock);
	return rc;
}

void credential_invalidate(struct credential *cr, const char *scope)
{
	pthread_mutex_lock(&cr->lock);
	for (size_t i = 0; i < CREDENTIAL_SCOPES; i++)
		if (strcmp(cr->slots[i].scope, scope) == 0)
			credential_token_clear(&cr->slots[i].tok);
	pthread_mutex_unlock(&cr->lock);
}

void credential_source(struct credential *cr, char *buf, size_t len)
{
	pthread_mutex_lock(&cr->lock);
	snprintf(buf, len, "%s", cr->chosen >= 0 ? credential_chain[cr->chosen].name : "");
	pthread_mutex_unlock(&cr->lock);
}
