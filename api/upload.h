/*
 * upload.h: files into a workspace the way Azure ML's own clients put them
 * there. The workspace's default datastore (GET datastores/workspaceblobstore,
 * POST listSecrets) names a Blob container and gives its key or SAS; a file
 * or a folder goes to LocalUpload/{hash}/{name}[/...] where {hash} is 32 hex
 * digits of a SHA-256 over the relative paths, sizes and bytes, so identical
 * content always lands at the same place. When the first blob is there with
 * upload_status=completed (written last, after every file) and the right
 * size, nothing is sent again: re-registering identical content reuses it.
 * Files up to UPLOAD_SINGLE_MAX go in one Put Blob; larger ones in blocks
 * of UPLOAD_BLOCK bytes, each with its Content-MD5, then Put Block List with
 * the whole file's MD5.
 *
 * Folders: regular files and symbolic links to files, depth first in
 * byte order of their paths; symbolic links to folders are not followed.
 *
 * Threads: those of the client passed in.
 */
#ifndef API_UPLOAD_H
#define API_UPLOAD_H

#include "api/blob.h"
#include "api/client.h"
#include "state/error.h"

#define UPLOAD_SINGLE_MAX ((size_t)4 << 20)
#define UPLOAD_BLOCK ((size_t)4 << 20)
#define UPLOAD_MAX_FILES 10000

struct upload_result {
	char hash[33];	       /* the content's 32 hex digits */
	char dir[1200];	       /* "LocalUpload/{hash}/{name}" inside the container */
	char azureml_uri[2048]; /* azureml://subscriptions/.../datastores/workspaceblobstore/paths/{dir} */
	char blob_url[2048];   /* https://{account}.blob.{suffix}/{container}/{dir} */
	int files;
	long long bytes;
	int reused; /* 1: identical content was there already; nothing was sent */
};

/* Called as bytes go out: file (relative name), done and total of that file. */
typedef void (*upload_progress_fn)(void *ctx, const char *file, long long done,
				   long long total);

/* The datastore's container and credential. 0 or -1 with err. */
int upload_datastore(struct client *c, struct blob_target *t, struct error *err);
/* Uploads the file or folder at path (tagged with the asset's name and
 * version in the blob metadata). progress may be NULL. 0 or -1 with err. */
int upload_path(struct client *c, const char *path, const char *asset, const char *version,
		upload_progress_fn progress, void *ctx, struct upload_result *out,
		struct error *err);
/* Uploads folder dir and registers it as an anonymous code version (name
 * from the content hash, version "1"; PUT again when it exists answers 200).
 * Its ARM id into id. 0 or -1 with err. */
int upload_code(struct client *c, const char *dir, upload_progress_fn progress, void *ctx,
		struct upload_result *out, char *id, size_t idlen, struct error *err);

#endif
