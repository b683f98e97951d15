/*
 * entra.h: Microsoft Entra ID's v2 token endpoint, and the login that keeps
 * a refresh token for `mldeck login --device-code`.
 *
 *   POST {authority}/{tenant}/oauth2/v2.0/token       client credentials,
 *        client assertion (workload identity), refresh token, device code
 *   POST {authority}/{tenant}/oauth2/v2.0/devicecode  starts a device login
 *
 * authority is AZURE_AUTHORITY_HOST (https:// added when it has no scheme),
 * default https://login.microsoftonline.com. Errors carry AAD's
 * error_description (AADSTS codes), never a secret.
 *
 * The login cache is $XDG_STATE_HOME/mldeck/azure-login.json (default
 * ~/.local/state/mldeck/): JSON with the authority, tenant, client id and
 * refresh token, written atomically with mode 0600 in a 0700 directory, and
 * refused when another user owns it or others may read it.
 *
 * Threads: the functions are reentrant; the client passed in is used by the
 * calling thread only.
 */
#ifndef API_ENTRA_H
#define API_ENTRA_H

#include <stddef.h>

#include "api/client.h"
#include "api/credential.h"
#include "state/error.h"

#define ENTRA_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define ENTRA_CLI_CLIENT_ID "04b07795-8ddb-461a-bbee-02f9e1bf7b46" /* Azure CLI's public app */

/* The authority (no trailing slash) into buf. */
void entra_authority(char *buf, size_t len);
/* A token answer ({"access_token", "expires_in" | "expires_on", "refresh_in"})
 * into *t, and its refresh_token into refresh (may be NULL). 0, or -1. */
int entra_parse_token(const char *json, size_t len, struct credential_token *t, char *refresh,
		      size_t rlen, struct error *err);
/* POSTs the form to the tenant's token endpoint; the token into *t and a new
 * refresh token (if any) into refresh. 0, or -1 with AAD's reason. */
int entra_token_request(struct client *http, const char *tenant, const char *form,
			struct credential_token *t, char *refresh, size_t rlen, struct error *err);
/* Client credentials with a secret (1) or a federated assertion (0). */
int entra_client_token(struct client *http, const char *tenant, const char *client_id,
		       const char *secret_or_assertion, int is_secret, const char *scope,
		       struct credential_token *t, struct error *err);

/* The device-code login: shows AAD's message (URL and code) through show,
 * polls until the user has signed in (or 15 minutes pass), and writes the
 * login cache. 0, or -1 with err. */
int entra_device_login(struct client *http, const char *tenant, const char *client_id,
		       void (*show)(void *ctx, const char *message), void *ctx,
		       struct error *err);
/* A token for scope from the login cache (refreshing it with the refresh
 * token, and saving the new one). 0; 1 when there is no login; -1 on error. */
int entra_cached_token(struct client *http, const char *scope, struct credential_token *t,
		       struct error *err);
/* The login cache's path into buf; -1 when neither XDG_STATE_HOME nor HOME is set. */
int entra_cache_path(char *buf, size_t len);
/* Removes the login cache. 0 (also when there was none), -1 with err. */
int entra_logout(struct error *err);

/* Percent-encodes s for a form into buf. */
const char *entra_form_escape(const char *s, char *buf, size_t len);

#endif
