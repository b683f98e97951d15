/* upload.c: datastore + Blob uploads of model and code files (see upload.h). */
#include "api/upload.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/azure.h"

#define UPLOAD_READ ((size_t)1 << 20)

struct upload_file {
	char *rel; /* relative to the uploaded folder; the file name for a file */
	char *abs;
	long long size;
};

struct upload_list {
	struct upload_file *items;
	size_t n, cap;
};

static void upload_list_free(struct upload_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].rel);
		free(l->items[i].abs);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

static int upload_add(struct upload_list *l, const char *rel, const char *abs, long long size,
		      struct error *err)
{
	if (l->n == UPLOAD_MAX_FILES)
		return error_set(err, 400, "TooManyFiles", "more than %d files to upload",
				 UPLOAD_MAX_FILES);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct upload_file *p = realloc(l->items, cap * sizeof *p);
		if (p == NULL)
			return error_set(err, 500, "NoMemory", "out of memory");
		l->items = p, l->cap = cap;
	}
	struct upload_file *f = &l->items[l->n];
	f->rel = strdup(rel), f->abs = strdup(abs), f->size = size;
	if (f->rel == NULL || f->abs == NULL) {
		free(f->rel), free(f->abs);
		return error_set(err, 500, "NoMemory", "out of memory");
	}
	l->n++;
	return 0;
}

/* Adds the files under abs (shown as rel) to l, depth first. */
static int upload_walk(struct upload_list *l, const char *abs, const char *rel, int depth,
		       struct error *err)
{
	DIR *d = opendir(abs);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return error_set(err, 400, "BadPath", "%s: %s", abs, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char a[PATH_MAX], r[PATH_MAX];
		struct stat lst, st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(a, sizeof a, "%s/%s", abs, e->d_name) >= (int)sizeof a ||
		    snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >=
			(int)sizeof r)
			rc = error_set(err, 400, "BadPath", "path too long under %s", abs);
		else if (lstat(a, &lst) < 0 || stat(a, &st) < 0)
			continue; /* vanished, or a dangling link */
		else if (S_ISDIR(lst.st_mode) && depth < 64)
			rc = upload_walk(l, a, r, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			rc = upload_add(l, r, a, (long long)st.st_size, err);
	}
	closedir(d);
	return rc;
}

static int upload_cmp(const void *a, const void *b)
{
	return strcmp(((const struct upload_file *)a)->rel, ((const struct upload_file *)b)->rel);
}

/* The files of path (a file or a folder), sorted; *name is its last part. */
static int upload_list_of(const char *path, struct upload_list *l, char *name, size_t nlen,
			  struct error *err)
{
	char abs[PATH_MAX];
	struct stat st;

	if (realpath(path, abs) == NULL || stat(abs, &st) < 0)
		return error_set(err, 400, "BadPath", "%s: %s", path, strerror(errno));
	const char *base = strrchr(abs, '/');
	snprintf(name, nlen, "%s", base != NULL && base[1] ? base + 1 : abs);
	if (S_ISREG(st.st_mode))
		return upload_add(l, name, abs, (long long)st.st_size, err);
	if (!S_ISDIR(st.st_mode))
		return error_set(err, 400, "BadPath", "%s is neither a file nor a folder", path);
	if (upload_walk(l, abs, "", 0, err) < 0)
		return -1;
	if (l->n == 0)
		return error_set(err, 400, "BadPath", "%s holds no files", path);
	qsort(l->items, l->n, sizeof l->items[0], upload_cmp);
	return 0;
}

/* Feeds one file's bytes to the digest. */
static int upload_digest_file(EVP_MD_CTX *md, const struct upload_file *f, char *buf,
			      struct error *err)
{
	FILE *in = fopen(f->abs, "rb");
	size_t n;

	if (in == NULL)
		return error_set(err, 400, "BadPath", "%s: %s", f->abs, strerror(errno));
	while ((n = fread(buf, 1, UPLOAD_READ, in)) > 0)
		EVP_DigestUpdate(md, buf, n);
	int bad = ferror(in);
	fclose(in);
	return bad ? error_set(err, 400, "BadPath", "cannot read %s", f->abs) : 0;
}

/* SHA-256 over (path, size, bytes) of every file: the first 32 hex digits. */
static int upload_hash(const struct upload_list *l, char hash[33], long long *bytes,
		       struct error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *buf = malloc(UPLOAD_READ), num[32];
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int rc = 0;

	if (md == NULL || buf == NULL) {
		rc = error_set(err, 500, "NoMemory", "out of memory");
		goto out;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	*bytes = 0;
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		int k = snprintf(num, sizeof num, "%lld", l->items[i].size);
		EVP_DigestUpdate(md, l->items[i].rel, strlen(l->items[i].rel) + 1);
		EVP_DigestUpdate(md, num, (size_t)k + 1);
		rc = upload_digest_file(md, &l->items[i], buf, err);
		*bytes += l->items[i].size;
	}
	EVP_DigestFinal_ex(md, out, &n);
	for (unsigned i = 0; i < 16; i++)
		snprintf(hash + 2 * i, 3, "%02x", out[i]);
out:
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

static const char *upload_str(const cJSON *o, const char *path)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "properties");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p != NULL ? p : o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int upload_datastore(struct client *c, struct blob_target *t, struct error *err)
{
	cJSON *ds = NULL, *sec = NULL;
	int rc = -1;

	memset(t, 0, sizeof *t);
	if (client_call(c, "GET", "/datastores/workspaceblobstore", NULL, &ds, err) < 0 ||
	    client_call(c, "POST", "/datastores/workspaceblobstore/listSecrets", NULL, &sec,
			err) < 0)
		goto out;
	if (strcmp(upload_str(ds, "datastoreType"), "AzureBlob") != 0) {
		error_set(err, 502, "BadDatastore", "workspaceblobstore is not an Azure Blob datastore");
		goto out;
	}
	snprintf(t->account, sizeof t->account, "%s", upload_str(ds, "accountName"));
	snprintf(t->container, sizeof t->container, "%s", upload_str(ds, "containerName"));
	snprintf(t->endpoint, sizeof t->endpoint, "%s",
		 upload_str(ds, "endpoint")[0] ? upload_str(ds, "endpoint") : "core.windows.net");
	const char *sas = upload_str(sec, "sasToken");
	snprintf(t->key, sizeof t->key, "%s", upload_str(sec, "key"));
	snprintf(t->sas, sizeof t->sas, "%s", sas[0] == '?' ? sas + 1 : sas);
	if (t->account[0] == '\0' || t->container[0] == '\0' || (t->key[0] == '\0' && !t->sas[0]))
		error_set(err, 502, "BadDatastore", "workspaceblobstore lacks an account, a "
				"container or a credential");
	else
		rc = 0;
out:
	if (sec != NULL) {
		char *p = cJSON_PrintUnformatted(sec);
		if (p != NULL)
			memset(p, 0, strlen(p)), free(p);
	}
	cJSON_Delete(ds);
	cJSON_Delete(sec);
	return rc;
}

struct upload_job {
	struct client *c;
	const struct blob_target *t;
	upload_progress_fn progress;
	void *ctx;
	char *buf; /* UPLOAD_BLOCK bytes */
};

/* One file in blocks, the whole file's MD5 kept with the list. */
static int upload_blocks(struct upload_job *j, FILE *in, const struct upload_file *f,
			 const char *name, struct error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	char md5[25];
	unsigned int n = 0;
	long long done = 0;
	int idx = 0, rc = 0;
	size_t got;

	if (md == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	EVP_DigestInit_ex(md, EVP_md5(), NULL);
	while (rc == 0 && (got = fread(j->buf, 1, UPLOAD_BLOCK, in)) > 0) {
		EVP_DigestUpdate(md, j->buf, got);
		rc = blob_put_block(j->c, j->t, name, idx++, j->buf, got, err);
		done += (long long)got;
		if (rc == 0 && j->progress != NULL)
			j->progress(j->ctx, f->rel, done, f->size);
	}
	EVP_DigestFinal_ex(md, out, &n);
	EVP_MD_CTX_free(md);
	EVP_EncodeBlock((unsigned char *)md5, out, (int)n);
	if (rc == 0 && done != f->size)
		rc = error_set(err, 400, "BadPath", "%s changed while it was uploaded", f->abs);
	return rc < 0 ? -1 : blob_put_block_list(j->c, j->t, name, idx, md5, err);
}

static int upload_file(struct upload_job *j, const struct upload_file *f, const char *name,
		       struct error *err)
{
	FILE *in = fopen(f->abs, "rb");
	int rc;

	if (in == NULL)
		return error_set(err, 400, "BadPath", "%s: %s", f->abs, strerror(errno));
	if ((size_t)f->size > UPLOAD_SINGLE_MAX) {
		rc = upload_blocks(j, in, f, name, err);
	} else {
		size_t got = fread(j->buf, 1, UPLOAD_SINGLE_MAX, in);
		rc = got == (size_t)f->size ? blob_put(j->c, j->t, name, j->buf, got, err)
					    : error_set(err, 400, "BadPath",
							"%s changed while it was uploaded", f->abs);
		if (rc == 0 && j->progress != NULL)
			j->progress(j->ctx, f->rel, f->size, f->size);
	}
	fclose(in);
	return rc;
}

/* The blob name of file i: dir, plus its relative path for a folder. */
static void upload_blob_name(const struct upload_result *r, const struct upload_list *l,
			     size_t i, int folder, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->dir, folder ? "/" : "", folder ? l->items[i].rel : "");
}

/* 1 when the first blob says a complete upload of the same size is there. */
static int upload_done_before(struct client *c, const struct blob_target *t, const char *first,
			      long long size, struct error *err)
{
	struct client_response rs;
	char v[64];
	int found = blob_head(c, t, first, &rs, err);
	int done = found == 1 &&
		   client_header(&rs, "x-ms-meta-upload_status", v, sizeof v) != NULL &&
		   strcmp(v, "completed") == 0 &&
		   client_header(&rs, "Content-Length", v, sizeof v) != NULL &&
		   strtoll(v, NULL, 10) == size;
	client_response_cleanup(&rs);
	return found < 0 ? -1 : done;
}

static int upload_send(struct client *c, const struct blob_target *t,
		       const struct upload_list *l, int folder, const char *asset,
		       const char *version, struct upload_job *j, struct upload_result *r,
		       struct error *err)
{
	char name[PATH_MAX + 1300], first[PATH_MAX + 1300], m1[300], m2[300];
	const char *meta[] = {"upload_status: completed", m1, m2, NULL};

	upload_blob_name(r, l, 0, folder, first, sizeof first);
	int before = upload_done_before(c, t, first, l->items[0].size, err);
	if (before != 0)
		return before < 0 ? -1 : (r->reused = 1, 0);
	for (size_t i = 0; i < l->n; i++) {
		upload_blob_name(r, l, i, folder, name, sizeof name);
		if (upload_file(j, &l->items[i], name, err) < 0)
			return -1;
	}
	snprintf(m1, sizeof m1, "name: %s", asset);
	snprintf(m2, sizeof m2, "version: %s", version);
	return blob_set_metadata(c, t, first, meta, err);
}

/* The result's names once the hash is known. */
static int upload_names(struct client *c, const struct blob_target *t, const char *name,
			struct upload_result *r, struct error *err)
{
	struct azure_ws ws;

	if (azure_ws_parts(c, &ws) < 0)
		return error_set(err, 400, "BadConfig", "the profile's workspace path is not an "
				 "ARM path");
	if (strlen(name) > NAME_MAX)
		return error_set(err, 400, "BadPath", "file name too long: %.64s...", name);
	snprintf(r->dir, sizeof r->dir, "LocalUpload/%s/%.255s", r->hash, name);
	snprintf(r->azureml_uri, sizeof r->azureml_uri,
		 "azureml://subscriptions/%s/resourcegroups/%s/workspaces/%s/datastores/"
		 "workspaceblobstore/paths/%s",
		 ws.subscription, ws.resource_group, ws.workspace, r->dir);
	struct blob_target bare = *t;
	bare.sas[0] = '\0';
	if (blob_url(&bare, r->dir, NULL, r->blob_url, sizeof r->blob_url) < 0)
		return error_set(err, 400, "BadPath", "upload path too long");
	return 0;
}

int upload_path(struct client *c, const char *path, const char *asset, const char *version,
		upload_progress_fn progress, void *ctx, struct upload_result *out,
		struct error *err)
{
	struct upload_list l = {0};
	struct blob_target t;
	struct upload_job j = {c, &t, progress, ctx, NULL};
	char name[PATH_MAX];
	struct stat st;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (upload_list_of(path, &l, name, sizeof name, err) < 0 ||
	    upload_hash(&l, out->hash, &out->bytes, err) < 0 ||
	    upload_datastore(c, &t, err) < 0 || upload_names(c, &t, name, out, err) < 0)
		goto out;
	if ((j.buf = malloc(UPLOAD_BLOCK)) == NULL) {
		error_set(err, 500, "NoMemory", "out of memory");
		goto out;
	}
	out->files = (int)l.n;
	int folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	rc = upload_send(c, &t, &l, folder, asset, version, &j, out, err);
out:
	memset(&t, 0, sizeof t);
	free(j.buf);
	upload_list_free(&l);
	return rc;
}

int upload_code(struct client *c, const char *dir, upload_progress_fn progress, void *ctx,
		struct upload_result *out, char *id, size_t idlen, struct error *err)
{
	char name[40], path[200];
	const char *h = out->hash;
	cJSON *body, *props, *doc = NULL;
	int rc;

	if (upload_path(c, dir, "code", "1", progress, ctx, out, err) < 0)
		return -1;
	snprintf(name, sizeof name, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	snprintf(path, sizeof path, "/codes/%s/versions/1", name);
	body = cJSON_CreateObject();
	props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddBoolToObject(props, "isAnonymous", 1);
	cJSON_AddStringToObject(props, "codeUri", out->blob_url);
	rc = client_call(c, "PUT", path, body, &doc, err);
	cJSON_Delete(body);
	cJSON_Delete(doc);
	if (rc == 0 && azure_asset_id(c, "codes", name, "1", id, idlen) < 0)
		rc = error_set(err, 400, "BadPath", "code id too long");
	return rc;
}
