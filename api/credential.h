/*
 * credential.h: Microsoft Entra ID tokens for Azure, from the first source
 * that has one, in the order of azure-identity's DefaultAzureCredential and
 * with its environment variables:
 *
 *   1. AZURE_ACCESS_TOKEN              a token you got elsewhere (ours; not refreshed)
 *   2. AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
 *                                      a service principal (client credentials)
 *   3. AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_FEDERATED_TOKEN_FILE
 *                                      workload identity (a federated assertion)
 *   4. managed identity                IDENTITY_ENDPOINT + IDENTITY_HEADER (App
 *                                      Service, Functions), IDENTITY_ENDPOINT +
 *                                      IMDS_ENDPOINT (Arc), else IMDS (VMs, AKS);
 *                                      AZURE_CLIENT_ID picks a user-assigned one
 *   5. `mldeck login --device-code`    the refresh token kept in the user's
 *                                      state dir (entra.h)
 *   6. the Azure CLI                   `az account get-access-token`
 *
 * AZURE_AUTHORITY_HOST points 2, 3 and 5 at another cloud (or a test
 * double); AZURE_POD_IDENTITY_AUTHORITY_HOST does the same for IMDS. A
 * source that is not set up here is skipped; one that is set up but fails
 * (a wrong secret) stops the chain with its error, as azure-identity does.
 * The first source that answers is kept for the life of the credential.
 *
 * Tokens are cached per scope until five minutes before they expire (or
 * their refresh_in time), handed out by copy, wiped when dropped, and never
 * written to the trace or to error messages.
 *
 * Threads: every function may be called from any thread; a credential is
 * shared between clients by reference (credential_ref / credential_unref).
 */
#ifndef API_CREDENTIAL_H
#define API_CREDENTIAL_H

#include <stddef.h>
#include <stdio.h>

#include "state/error.h"

#define CREDENTIAL_ARM_SCOPE "https://management.azure.com/.default"
#define CREDENTIAL_ML_SCOPE "https://ml.azure.com/.default"
#define CREDENTIAL_TOKEN_MAX 8192
#define CREDENTIAL_MARGIN_S 300 /* refresh this long before expiry */

/* How token endpoints are reached (the profile's TLS and routing). */
struct credential_config {
	const char *ca_file;	/* NULL: as client.h says */
	const char *connect_to; /* NULL, or curl --connect-to rules */
	FILE *trace;		/* NULL, or -v's stream */
	const char *tenant;	/* NULL, or the profile's tenant (for the login cache) */
};

/* A token and when it stops being good (epoch seconds). */
struct credential_token {
	char value[CREDENTIAL_TOKEN_MAX];
	long long expires_on;
	long long refresh_on; /* 0, or when the issuer asks for a new one (refresh_in) */
};

struct credential;

/* A credential that looks for a source at its first token. NULL on ENOMEM.
 * The caller holds one reference. */
struct credential *credential_new(const struct credential_config *cfg);
struct credential *credential_ref(struct credential *cr);
/* Drops a reference; the last one wipes the tokens and frees. NULL: no-op. */
void credential_unref(struct credential *cr);

/* A bearer token for scope (e.g. CREDENTIAL_ARM_SCOPE) into buf. 0, or -1
 * with err: 401 NoCredential naming every source tried, or the error of the
 * source that failed. May block on the network (token endpoints). */
int credential_token(struct credential *cr, const char *scope, char *buf, size_t len,
		     struct error *err);
/* Forgets the cached token of scope (a server refused it); the next call
 * asks the source again. */
void credential_invalidate(struct credential *cr, const char *scope);
/* The name of the source in use ("" before the first token). */
void credential_source(struct credential *cr, char *buf, size_t len);

/* Wipes t. */
void credential_token_clear(struct credential_token *t);
/* 1 when t can still be used at now (not within the margin of its expiry). */
int credential_token_fresh(const struct credential_token *t, long long now);
/* The expiry of a JWT (its "exp" claim, epoch seconds), 0 when tok is not a
 * readable JWT. */
long long credential_jwt_exp(const char *tok);

#endif
