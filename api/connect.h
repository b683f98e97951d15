/*
 * connect.h: from a profile and the environment to a ready client.
 *
 * Overrides: MLDECK_URL (base URL) and MLDECK_ADMIN_KEY (credential) win over
 * the profile. Local backend: the credential is read from admin_key_file,
 * default HOME/admin.key. azureml: Entra ID tokens from the credential chain
 * (api/credential.h: AZURE_ACCESS_TOKEN, a service principal, workload or
 * managed identity, `mldeck login`, the Azure CLI), asked for at the first
 * request and refreshed before they expire; the profile's ca_file and
 * connect_to apply to every connection. Not thread-safe only in the sense
 * that getenv is read; call from one thread at a time.
 */
#ifndef API_CONNECT_H
#define API_CONNECT_H

#include <stdio.h>

#include "api/client.h"
#include "api/credential.h"
#include "api/profile.h"
#include "state/error.h"

struct connect_info {
	char base_url[512];
	char ws_path[512];
	char credential[4096];
	char key_source[PROFILE_PATH_MAX + 32]; /* where the credential came from, for messages */
	struct credential *cred;		/* azureml: the token source (a reference) */
	char ca_file[PROFILE_PATH_MAX];
	char connect_to[512];
	int azure; /* the profile's backend is azureml */
	FILE *trace; /* input, kept by connect_resolve: -v's stream for every client made */
};

/* Fills *out; -1 with a clear message when no credential can be found. */
int connect_resolve(const struct profile *p, struct connect_info *out, struct error *err);
/* connect_resolve + client_new. The client is the caller's (client_free).
 * info may be NULL; when given it is filled too. */
struct client *connect_client(const struct profile *p, struct connect_info *info,
			      struct error *err);
/* 1 when the URL's host is 127.0.0.0/8, localhost or [::1]. */
int connect_is_loopback(const char *url);
/* A client for *info with the given timeout (0: default); NULL with err. */
struct client *connect_info_client(const struct connect_info *info, long timeout_ms,
				   struct error *err);
/* Wipes the credential and drops the token source. */
void connect_info_cleanup(struct connect_info *info);

#endif
