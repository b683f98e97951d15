/*
 * connect.h: from a profile and the environment to a ready client.
 *
 * Overrides: MLDECK_URL (base URL), MLDECK_ADMIN_KEY (credential) and
 * MLDECK_CA_FILE (the PEM bundle trusted for https) win over the profile. An
 * https URL on a local profile with no ca_file trusts HOME/tls-cert.pem, the
 * certificate `mldeck serve --tls` generates, when it exists. Local backend:
 * the credential is read from admin_key_file, default HOME/admin.key.
 * azureml: Entra ID tokens from the credential chain (api/credential.h:
 * AZURE_ACCESS_TOKEN, a service principal, workload or managed identity,
 * `mldeck login`, the Azure CLI), asked for at the first request and
 * refreshed before they expire; the CA file and the profile's connect_to
 * apply to every connection, token requests included. Not thread-safe only
 * in the sense that getenv is read; call from one thread at a time.
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
	char ca_file[PROFILE_PATH_MAX + 16]; /* "" = $SSL_CERT_FILE, else the system's */
	char key_source[PROFILE_PATH_MAX + 32]; /* where the credential came from, for messages */
	char unix_socket[108]; /* "" or the tunnel's local socket every request goes through */
	int dataplane_at_base; /* an mldeck runtime: score at base/endpoints/{ep}/score */
	struct credential *cred; /* azureml: the token source (a reference) */
	char connect_to[512];
	int azure;   /* the profile's backend is azureml */
	FILE *trace; /* input, kept by connect_resolve: -v's stream for every client made */
};

/* The profile's URL, unless MLDECK_URL overrides it. */
const char *connect_url(const struct profile *p);
/* Fills *out for a profile reached directly (http://, https://); -1 with a
 * clear message when no credential can be found. An ssh:// profile is
 * resolved by its transport (transport_info in api/transport.h). */
int connect_resolve(const struct profile *p, struct connect_info *out, struct error *err);
/* For a runtime reached through the local Unix socket sock of a tunnel whose
 * far end gave key: base URL http://localhost, the socket, and key as the
 * credential unless MLDECK_ADMIN_KEY overrides it. */
int connect_resolve_tunnel(const struct profile *p, const char *sock, const char *key,
			   struct connect_info *out, struct error *err);
/* A client for *info (client_new); NULL with err on ENOMEM. */
struct client *connect_info_client(const struct connect_info *info, long timeout_ms,
				   struct error *err);
/* connect_resolve + client_new. The client is the caller's (client_free).
 * info may be NULL; when given it is filled too. */
struct client *connect_client(const struct profile *p, struct connect_info *info,
			      struct error *err);
/* The path of the executable name found on PATH into buf; -1 when none. */
int connect_find_program(const char *name, char *buf, size_t len);
/* 1 when the URL's host is 127.0.0.0/8, localhost or [::1]. */
int connect_is_loopback(const char *url);
/* 1 when c's backend runs on this machine, so a path here is a path there: a
 * loopback URL reached directly. 0 through an ssh:// tunnel (its base URL is
 * http://localhost, but the runtime is on the far host) or for any other URL. */
int connect_same_host(const struct client *c);
/* *dst = *src, taking a reference on the token source: clean both. */
void connect_info_copy(struct connect_info *dst, const struct connect_info *src);
/* Wipes the credential and drops the token source. */
void connect_info_cleanup(struct connect_info *info);

#endif
