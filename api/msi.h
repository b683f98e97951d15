/*
 * msi.h: managed identity tokens, from whichever endpoint this machine has:
 *
 *   IDENTITY_ENDPOINT + IDENTITY_HEADER   App Service / Functions / Container
 *                                         Apps (api-version 2019-08-01,
 *                                         X-IDENTITY-HEADER)
 *   IDENTITY_ENDPOINT + IMDS_ENDPOINT     Azure Arc (api-version 2020-06-01; a
 *                                         401 names a key file under
 *                                         MSI_ARC_KEY_DIR, sent back as Basic)
 *   otherwise IMDS                        http://169.254.169.254 (or
 *                                         AZURE_POD_IDENTITY_AUTHORITY_HOST),
 *                                         Metadata: true, api-version 2018-02-01
 *
 * AZURE_CLIENT_ID selects a user-assigned identity. IMDS is probed with a
 * short connect timeout: no answer means "no managed identity here".
 *
 * Threads: reentrant; the clients passed in are the caller's.
 */
#ifndef API_MSI_H
#define API_MSI_H

#include "api/client.h"
#include "api/credential.h"
#include "state/error.h"

#define MSI_IMDS_HOST "http://169.254.169.254"
#define MSI_ARC_KEY_DIR "/var/opt/azcmagent/tokens/"
#define MSI_CONNECT_TIMEOUT_MS 500

/* A token for resource (e.g. "https://management.azure.com"). 0; 1 when this
 * machine has no managed identity (why says so); -1 when it has one that
 * failed (err). http is a client with a short timeout. */
int msi_token(struct client *http, const char *resource, struct credential_token *t, char *why,
	      size_t wlen, struct error *err);
/* 1 when path is a key file Arc may name: directly in MSI_ARC_KEY_DIR, ends
 * in ".key", no "..". */
int msi_arc_key_path_ok(const char *path);

#endif
