/* msi.c: managed identity tokens (IMDS, App Service, Arc). */
#include "api/msi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/entra.h"
#include "state/file.h"

#define MSI_ARC_KEY_MAX 4096

int msi_arc_key_path_ok(const char *path)
{
	size_t n = strlen(path), d = strlen(MSI_ARC_KEY_DIR);

	return n > d + 4 && strncmp(path, MSI_ARC_KEY_DIR, d) == 0 &&
	       strchr(path + d, '/') == NULL && strstr(path, "..") == NULL &&
	       strcmp(path + n - 4, ".key") == 0;
}

/* base + "?api-version=V&resource=R[&client_id=C]" into url. */
static void msi_url(char *url, size_t len, const char *base, const char *version,
		    const char *resource)
{
	const char *cid = getenv("AZURE_CLIENT_ID");
	char r[512], c[300] = "";

	if (cid != NULL && cid[0] != '\0')
		snprintf(c, sizeof c, "&client_id=%s", entra_form_escape(cid, r, sizeof r));
	snprintf(url, len, "%s%capi-version=%s&resource=%s%s", base,
		 strchr(base, '?') != NULL ? '&' : '?', version,
		 entra_form_escape(resource, r, sizeof r), c);
}

/* GETs url with headers; 0 with a token, else the answer's error. */
static int msi_get(struct client *http, const char *url, const char *const *headers,
		   struct client_response *rs, struct credential_token *t, struct error *err)
{
	struct client_request rq = {.method = "GET", .url = url, .headers = headers,
				    .auth = CLIENT_AUTH_NONE};

	if (client_send(http, &rq, rs, err) < 0)
		return -1;
	if (rs->status != 200)
		return client_answer_error(rs, "the managed identity endpoint", err);
	return entra_parse_token(rs->body, rs->len, t, NULL, 0, err);
}

static int msi_app_service(struct client *http, const char *ep, const char *resource,
			   struct credential_token *t, struct error *err)
{
	char url[2048], hdr[600];
	const char *headers[] = {hdr, NULL};
	struct client_response rs;

	snprintf(hdr, sizeof hdr, "X-IDENTITY-HEADER: %s", getenv("IDENTITY_HEADER"));
	msi_url(url, sizeof url, ep, "2019-08-01", resource);
	int rc = msi_get(http, url, headers, &rs, t, err);
	memset(hdr, 0, sizeof hdr);
	client_response_cleanup(&rs);
	return rc;
}

/* Arc answers 401 naming a key file whose content is the credential. */
static int msi_arc(struct client *http, const char *ep, const char *resource,
		   struct credential_token *t, struct error *err)
{
	char url[2048], realm[1024], auth[MSI_ARC_KEY_MAX + 64];
	const char *headers[] = {"Metadata: true", NULL, NULL};
	struct client_response rs;
	size_t len;

	msi_url(url, sizeof url, ep, "2020-06-01", resource);
	int rc = msi_get(http, url, headers, &rs, t, err);
	if (rc == 0 || rs.status != 401) {
		client_response_cleanup(&rs);
		return rc;
	}
	const char *w = client_header(&rs, "WWW-Authenticate", realm, sizeof realm);
	const char *eq = w != NULL ? strstr(w, "realm=") : NULL;
	client_response_cleanup(&rs);
	if (eq == NULL || !msi_arc_key_path_ok(eq + 6))
		return error_set(err, 401, "ManagedIdentity",
				 "Azure Arc named a key file outside %s: refused", MSI_ARC_KEY_DIR);
	char *key = file_read(eq + 6, MSI_ARC_KEY_MAX, &len);
	if (key == NULL)
		return error_set(err, 401, "ManagedIdentity", "cannot read Arc's key file %s",
				 eq + 6);
	snprintf(auth, sizeof auth, "Authorization: Basic %s", key);
	memset(key, 0, len);
	free(key);
	headers[1] = auth;
	rc = msi_get(http, url, headers, &rs, t, err);
	memset(auth, 0, sizeof auth);
	client_response_cleanup(&rs);
	return rc;
}

static int msi_imds(struct client *http, const char *resource, struct credential_token *t,
		    char *why, size_t wlen, struct error *err)
{
	const char *host = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	const char *headers[] = {"Metadata: true", NULL};
	char base[512], url[2048], ct[128];
	struct client_response rs;

	if (host == NULL || host[0] == '\0')
		host = MSI_IMDS_HOST;
	size_t hl = strlen(host);
	while (hl > 0 && host[hl - 1] == '/')
		hl--;
	snprintf(base, sizeof base, "%.*s/metadata/identity/oauth2/token", (int)hl, host);
	msi_url(url, sizeof url, base, "2018-02-01", resource);
	int rc = msi_get(http, url, headers, &rs, t, err);
	/* No answer, or one that is not IMDS's (a filter, Docker Desktop's 403):
	 * no managed identity here. 400 is IMDS saying none is assigned. */
	if (rc < 0 && (rs.status == 0 || rs.status == 400 || rs.status == 403 ||
		       client_header(&rs, "Content-Type", ct, sizeof ct) == NULL ||
		       strstr(ct, "json") == NULL)) {
		snprintf(why, wlen, "managed identity: %s",
			 rs.status == 0 ? "no answer from IMDS"
			 : rs.status == 400 ? "no identity assigned to this machine"
					    : "no IMDS here");
		rc = 1;
	}
	client_response_cleanup(&rs);
	return rc;
}

int msi_token(struct client *http, const char *resource, struct credential_token *t, char *why,
	      size_t wlen, struct error *err)
{
	const char *ep = getenv("IDENTITY_ENDPOINT");

	credential_token_clear(t);
	if (ep != NULL && ep[0] != '\0' && getenv("IDENTITY_HEADER") != NULL)
		return msi_app_service(http, ep, resource, t, err);
	if (ep != NULL && ep[0] != '\0' && getenv("IMDS_ENDPOINT") != NULL)
		return msi_arc(http, ep, resource, t, err);
	return msi_imds(http, resource, t, why, wlen, err);
}
