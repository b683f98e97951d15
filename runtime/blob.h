/*
 * blob.h: the workspace's default datastore (workspaceblobstore) and the
 * subset of the Azure Blob REST API the Azure SDK uses to upload to it, served
 * by the runtime itself and stored in its home (HOME/blobs/CONTAINER/PATH,
 * metadata in HOME/blobmeta/CONTAINER/PATH.json, staged blocks under HOME/tmp).
 *
 * Addressing. The SDK always builds https://{accountName}.blob.core.windows.net,
 * so the datastore's accountName is "HOST:PORT/mldeck" (the address the client
 * used): blob requests arrive as /mldeck.blob.core.windows.net/CONTAINER/PATH,
 * the path-style addressing Azurite uses. One container exists:
 * azureml-blobstore-{workspaceId}.
 *
 * Operations: PUT blob (BlockBlob, If-None-Match: *, Content-MD5 checked),
 * PUT ?comp=block, PUT ?comp=blocklist (Latest/Uncommitted ids), PUT
 * ?comp=metadata, HEAD and GET blob, GET ?restype=container&comp=list (prefix).
 * Errors are Azure's XML with x-ms-error-code.
 *
 * Auth, as Azure checks it: SharedKey (Authorization: SharedKey ACCOUNT:SIG,
 * HMAC-SHA256 with the account key over Azure's string-to-sign, x-ms-date or
 * Date within 15 minutes) or a service SAS (sv >= 2020-12-06: sig over the
 * signed fields with the account key, st/se in force, sp granting the verb,
 * sr b or c covering the path, spr allowing the scheme, sip (IPv4 address or
 * range) holding the client; si is refused: there are no stored access
 * policies). The key is what
 * listSecrets returns; anything else is 403 AuthenticationFailed. Checked
 * from the request line and headers only, before any body is read.
 *
 * Thread-safe (no state beyond the files); blocking file I/O.
 */
#ifndef RUNTIME_BLOB_H
#define RUNTIME_BLOB_H

#include <stddef.h>

#include "runtime/server.h"
#include "state/codec.h"

struct runtime;

/* Whether a request is for the Blob endpoint (first segment "*.blob.*"). */
int blob_is_path(const struct server_request *rq);
/* 0 when the request carries a valid SharedKey or SAS, else -1 with a 403
 * (AuthenticationFailed) in err. Reads only the request line and headers. */
int blob_authorize(struct runtime *rt, const struct server_request *rq, struct error *err);
/* The pre-auth hook's part for Blob requests (server_admit_fn): the
 * credential first, then a PUT's body is spooled to a file (up to limit),
 * other verbs take none. -1 with Azure's error in rs. */
int blob_admit(struct runtime *rt, const struct server_request *rq, struct server_admission *ad,
	       size_t limit, struct server_response *rs);
/* Serves one Blob request (authorizes it first). */
void blob_handle(struct runtime *rt, const struct server_request *rq, struct server_response *rs);

/* The datastore as the ARM side describes it to a client that reached us at
 * base_url ("https://HOST:PORT"); buffers hold the strings. */
void blob_datastore(const struct runtime *rt, const char *base_url, char *account, size_t alen,
		    char *container, size_t clen, struct codec_datastore *out);
/* listSecrets: {"secretsType":"AccountKey","key":...} for a client on
 * loopback (the SDK signs with the key), else a container SAS
 * {"secretsType":"Sas","sasToken":...} valid 24 hours (the SDK derives no
 * account name from other hosts, so it cannot sign with a key). */
cJSON *blob_secrets(const struct runtime *rt, const char *base_url);
/* Whether the client at base_url gets SAS credentials (see blob_secrets). */
int blob_uses_sas(const char *base_url);

/* Maps a URI that names a path of the datastore to that path relative to the
 * home ("blobs/CONTAINER/PATH"): azureml://[subscriptions/S/resourcegroups/
 * RG/workspaces/W/]datastores/workspaceblobstore/paths/PATH, or an http(s)
 * URL with /azureml-blobstore-{workspaceId}/PATH in it (the Blob URL the SDK
 * sends, whatever its host and account); a trailing '/' (a folder) is
 * dropped. 1 when mapped, 0 when the URI
 * is not one of these (a host path, say), -1 with a 400 when it is one but
 * names something outside the datastore. */
int blob_resolve(const struct runtime *rt, const char *uri, char *rel, size_t len,
		 struct error *err);

/* The account key and workspace id, derived from the admin key at start. */
void blob_init(struct runtime *rt);

#endif
