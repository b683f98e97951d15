/*
 * blob.h: the part of the Azure Blob Storage REST API uploads need: Put Blob,
 * Put Block, Put Block List, Set Blob Metadata, Get Blob Properties (HEAD).
 *
 * Requests are authorised with the account key (Shared Key: HMAC-SHA256 of
 * the string-to-sign of the Storage docs, x-ms-version BLOB_VERSION) or
 * with a SAS query, as the datastore's listSecrets gave; every body carries
 * its Content-MD5, which the service checks, and the MD5 it echoes is
 * checked here too. Requests go through the client's one request path
 * (client_send: TLS, connect-to, retries of 503/500 and resets), never with
 * the client's ARM bearer.
 *
 * Threads: those of the client passed in.
 */
#ifndef API_BLOB_H
#define API_BLOB_H

#include <stddef.h>

#include "api/client.h"
#include "state/error.h"

#define BLOB_VERSION "2021-12-02"

struct blob_target {
	char account[64];
	char container[128];
	char endpoint[128]; /* storage suffix: "core.windows.net" */
	char key[256];	    /* base64 account key, or "" with a SAS */
	char sas[2048];	    /* SAS query without '?', or "" */
};

/* https://{account}.blob.{endpoint}/{container}/{name} with name's
 * segments percent-encoded, then "?query" (and the SAS) when given. */
int blob_url(const struct blob_target *t, const char *name, const char *query, char *buf,
	     size_t len);
/* MD5 of data, base64, into out (25 bytes). */
void blob_md5_b64(const void *data, size_t len, char out[25]);

/* HEAD: 1 when the blob exists (its headers in rs: x-ms-meta-*, Content-MD5,
 * Content-Length), 0 when it does not, -1 with err. rs is the caller's. */
int blob_head(struct client *c, const struct blob_target *t, const char *name,
	      struct client_response *rs, struct error *err);
/* Put Blob (a block blob of len bytes). 0 or -1. */
int blob_put(struct client *c, const struct blob_target *t, const char *name, const void *data,
	     size_t len, struct error *err);
/* Put Block number idx of a blob; its id is blob_block_id(idx). */
int blob_put_block(struct client *c, const struct blob_target *t, const char *name, int idx,
		   const void *data, size_t len, struct error *err);
/* Put Block List: blocks 0..n-1 become the blob; md5_b64 is the MD5 of the
 * whole content, kept as the blob's Content-MD5. */
int blob_put_block_list(struct client *c, const struct blob_target *t, const char *name, int n,
			const char *md5_b64, struct error *err);
/* Set Blob Metadata: meta is NULL-terminated "name: value" (x-ms-meta- is added). */
int blob_set_metadata(struct client *c, const struct blob_target *t, const char *name,
		      const char *const *meta, struct error *err);

/* The Shared Key string-to-sign for a request (exposed for its unit test):
 * headers are "Name: value" lines (Content-Length included when non-zero);
 * path is the encoded URL path; query the raw query (may be NULL). */
int blob_string_to_sign(const char *method, const char *account, const char *path,
			const char *query, const char *const *headers, char *out, size_t len);

#endif
