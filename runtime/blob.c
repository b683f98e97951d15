/*
 * blob.c: the default datastore's Blob endpoint (see blob.h).
 *
 * Choices beyond blob.h:
 *  - blob names: 1-1024 bytes of path segments, none empty, "." or "..", no
 *    control characters, no backslash; a name whose parent is a blob (or a
 *    blob over a "directory") is 409.
 *  - the SharedKey canonicalized resource uses the URL path as the client
 *    encoded it; the runtime re-encodes the decoded path the way the SDK does
 *    (RFC 3986 unreserved characters and '/' kept, the rest %XX).
 *  - block ids are kept as their hex, staged in HOME/tmp/blocks/SHA/;
 *    a block list concatenates them into the blob and drops the stage.
 */
#include "runtime/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "runtime/auth.h"
#include "runtime/core.h"
#include "state/file.h"

#define ACCOUNT_LABEL "mldeck"
#define BLOB_NAME_MAX 1024
#define META_MAX (64 * 1024)
#define BLOCKLIST_MAX (4 * 1024 * 1024)
#define CLOCK_SKEW 900 /* seconds a signed request's date may be off */
#define SAS_HOURS 24

/* One parsed Blob request: /ACCOUNT/CONTAINER[/NAME]. */
struct blob_req {
	struct runtime *rt;
	const struct server_request *rq;
	struct server_response *rs;
	char account[128];
	char container[64];
	char name[BLOB_NAME_MAX + 1]; /* "" for the container itself */
	char path[PATH_MAX];          /* HOME/blobs/CONTAINER/NAME */
	char meta[PATH_MAX];          /* HOME/blobmeta/CONTAINER/NAME.json */
};

/* ---- small helpers ------------------------------------------------------ */

static void b64(const unsigned char *in, size_t n, char *out, size_t len)
{
	if (len < 4 * ((n + 2) / 3) + 1) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decodes standard base64; the byte count, or -1. */
static int unb64(const char *in, unsigned char *out, size_t len)
{
	size_t n = strlen(in);
	int k;

	if (n == 0 || n % 4 != 0 || len < n / 4 * 3)
		return -1;
	k = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (k < 0)
		return -1;
	if (n >= 1 && in[n - 1] == '=')
		k--;
	if (n >= 2 && in[n - 2] == '=')
		k--;
	return k;
}

/* base64 with '-' and '_' for '+' and '/': a safe file name. */
static void b64name(const unsigned char *in, size_t n, char *out, size_t len)
{
	b64(in, n, out, len);
	for (; *out != '\0'; out++)
		*out = *out == '+' ? '-' : *out == '/' ? '_' : *out;
}

static void http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Azure's error: XML body and x-ms-error-code. */
static void blob_error(struct server_response *rs, int status, const char *code, const char *msg)
{
	char *body = malloc(512);

	if (body != NULL)
		snprintf(body, 512,
			 "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
			 "<Message>%.300s</Message></Error>",
			 code, msg);
	free(rs->body);
	rs->status = status;
	rs->body = body;
	rs->len = body != NULL ? strlen(body) : 0;
	rs->content_type = "application/xml";
	server_reply_header(rs, "x-ms-error-code", code);
}

/* ---- keys and names ----------------------------------------------------- */

void blob_init(struct runtime *rt)
{
	unsigned char mac[32], id[32];
	unsigned int n = 0;

	HMAC(EVP_sha256(), rt->admin_key, (int)strlen(rt->admin_key),
	     (const unsigned char *)"mldeck-blob-account-key-v1", 26, mac, &n);
	b64(mac, sizeof mac, rt->blob_key, sizeof rt->blob_key);
	HMAC(EVP_sha256(), rt->admin_key, (int)strlen(rt->admin_key),
	     (const unsigned char *)"mldeck-workspace-id-v1", 22, id, &n);
	id[6] = (unsigned char)((id[6] & 0x0f) | 0x40); /* a version 4 UUID */
	id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
	snprintf(rt->workspace_id, sizeof rt->workspace_id,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1],
		 id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12],
		 id[13], id[14], id[15]);
}

static void container_name(const struct runtime *rt, char *buf, size_t len)
{
	snprintf(buf, len, "azureml-blobstore-%s", rt->workspace_id);
}

/* "host[:port]" out of "scheme://host[:port]". */
static const char *url_host(const char *base_url)
{
	const char *p = strstr(base_url, "://");

	return p != NULL ? p + 3 : base_url;
}

int blob_uses_sas(const char *base_url)
{
	const char *h = url_host(base_url);

	return strncmp(h, "127.0.0.1", 9) != 0 && strncmp(h, "localhost", 9) != 0;
}

void blob_datastore(const struct runtime *rt, const char *base_url, char *account, size_t alen,
		    char *container, size_t clen, struct codec_datastore *out)
{
	snprintf(account, alen, "%s/" ACCOUNT_LABEL, url_host(base_url));
	container_name(rt, container, clen);
	memset(out, 0, sizeof *out);
	out->account_name = account;
	out->container_name = container;
	out->endpoint = "core.windows.net";
}

static int hmac_b64(const char *key_b64, const char *text, char *out, size_t len)
{
	unsigned char key[64], mac[32];
	unsigned int n = 0;
	int k = unb64(key_b64, key, sizeof key);

	if (k <= 0 || HMAC(EVP_sha256(), key, k, (const unsigned char *)text, strlen(text), mac,
			   &n) == NULL)
		return -1;
	b64(mac, n, out, len);
	return 0;
}

static void iso_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The service SAS string-to-sign (sv >= 2020-12-06), fields in order. */
static void sas_string(const char *const f[16], char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < 16 && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "\n" : "", f[i] ? f[i] : "");
}

cJSON *blob_secrets(const struct runtime *rt, const char *base_url)
{
	char container[96], res[256], st[32], se[32], sts[1024], sig[64], token[512];
	const char *f[16] = {0};
	time_t now = time(NULL);
	cJSON *o = cJSON_CreateObject();

	if (!blob_uses_sas(base_url)) {
		cJSON_AddStringToObject(o, "secretsType", "AccountKey");
		cJSON_AddStringToObject(o, "key", rt->blob_key);
		return o;
	}
	container_name(rt, container, sizeof container);
	snprintf(res, sizeof res, "/blob/" ACCOUNT_LABEL "/%s", container);
	iso_utc(now - 300, st, sizeof st);
	iso_utc(now + SAS_HOURS * 3600, se, sizeof se);
	f[0] = "racwdl", f[1] = st, f[2] = se, f[3] = res, f[6] = "https", f[7] = "2021-12-02",
	f[8] = "c";
	sas_string(f, sts, sizeof sts);
	hmac_b64(rt->blob_key, sts, sig, sizeof sig);
	snprintf(token, sizeof token, "sv=2021-12-02&st=%s&se=%s&sr=c&sp=racwdl&spr=https&sig=", st,
		 se);
	for (size_t i = 0, n = strlen(token); sig[i] != '\0' && n + 4 < sizeof token; i++)
		n += (size_t)snprintf(token + n, sizeof token - n,
				      sig[i] == '+' ? "%%2B" : sig[i] == '/' ? "%%2F" :
				      sig[i] == '=' ? "%%3D" : "%c", sig[i]);
	cJSON_AddStringToObject(o, "secretsType", "Sas");
	cJSON_AddStringToObject(o, "sasToken", token);
	return o;
}

/* ---- paths -------------------------------------------------------------- */

/* A blob name the home can hold: see the file comment. */
static int name_ok(const char *s)
{
	size_t n = strlen(s), seg = 0;

	if (n == 0 || n > BLOB_NAME_MAX || s[0] == '/')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == '\0') {
			if (seg == 0 || (seg == 1 && s[i - 1] == '.') ||
			    (seg == 2 && s[i - 1] == '.' && s[i - 2] == '.'))
				return 0;
			seg = 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return 0;
		seg++;
	}
	return 1;
}

/* Splits rq->path into account, container and name, and the file paths. */
static int parse(struct blob_req *b)
{
	const char *p = b->rq->path + 1, *slash;
	const char *home = b->rt->home;
	size_t n;

	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof b->account)
		return -1;
	memcpy(b->account, p, n);
	b->account[n] = '\0';
	if (slash == NULL)
		return -1;
	p = slash + 1;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof b->container)
		return -1;
	memcpy(b->container, p, n);
	b->container[n] = '\0';
	b->name[0] = '\0';
	if (slash != NULL && slash[1] != '\0') {
		if (!name_ok(slash + 1) || strlen(slash + 1) >= sizeof b->name)
			return -1;
		snprintf(b->name, sizeof b->name, "%s", slash + 1);
	}
	if (snprintf(b->path, sizeof b->path, "%s/blobs/%s/%s", home, b->container, b->name) >=
		(int)sizeof b->path ||
	    snprintf(b->meta, sizeof b->meta, "%s/blobmeta/%s/%s.json", home, b->container,
		     b->name) >= (int)sizeof b->meta)
		return -1;
	return 0;
}

int blob_is_path(const struct server_request *rq)
{
	return rq->segc >= 1 && strstr(rq->segv[0], ".blob.") != NULL;
}


int blob_resolve(const struct runtime *rt, const char *uri, char *rel, size_t len,
		 struct error *err)
{
	char container[96], path[BLOB_NAME_MAX + 1];
	const char *p, *name;
	size_t n;

	container_name(rt, container, sizeof container);
	if (strncmp(uri, "azureml://", 10) == 0) {
		p = strstr(uri, "/datastores/");
		if (p == NULL && strncmp(uri, "azureml://datastores/", 21) == 0)
			p = uri + 9;
		if (p == NULL || strncmp(p, "/datastores/workspaceblobstore/paths/", 37) != 0)
			return error_set(err, 400, "ValidationError",
					 "'%.200s' names a datastore this workspace does not have "
					 "(only workspaceblobstore)",
					 uri);
		name = p + 37;
	} else if (strncmp(uri, "https://", 8) == 0 || strncmp(uri, "http://", 7) == 0) {
		/* the SDK names uploads https://ACCOUNT-HOST[/ACCOUNT.blob...]/CONTAINER/PATH */
		char seg[128];

		snprintf(seg, sizeof seg, "/%s/", container);
		p = strstr(strstr(uri, "://") + 3, seg);
		if (p == NULL)
			return error_set(err, 400, "ValidationError",
					 "'%.200s' is not a path of the workspace's datastore "
					 "(container %s)",
					 uri, container);
		name = p + strlen(seg);
	} else {
		return 0;
	}
	while (*name == '/')
		name++;
	n = strlen(name);
	while (n > 0 && name[n - 1] == '/') /* a folder: ".../paths/data/" */
		n--;
	if (n >= sizeof path)
		return error_set(err, 400, "ValidationError", "'%.200s' is too long", uri);
	memcpy(path, name, n);
	path[n] = '\0';
	if (!name_ok(path) || snprintf(rel, len, "blobs/%s/%s", container, path) >= (int)len)
		return error_set(err, 400, "ValidationError", "'%.200s' is not a valid path", uri);
	return 1;
}

/* ---- auth --------------------------------------------------------------- */

/* The decoded path encoded back the way the SDK encodes it. */
static void encode_path(const char *in, char *out, size_t len)
{
	static const char safe[] = "-._~/";
	size_t o = 0;

	for (; *in != '\0' && o + 4 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(safe, c) != NULL)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
	}
	out[o] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t count(char **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* Appends fmt to buf at *n, bounded. */
static void put(char *buf, size_t len, size_t *n, const char *s, const char *t)
{
	if (*n < len)
		*n += (size_t)snprintf(buf + *n, len - *n, "%s%s", s, t);
}

/* The standard headers of the SharedKey string-to-sign. */
static void sign_std_headers(const struct server_request *rq, char *buf, size_t len, size_t *n)
{
	static const char *const names[] = {
		"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
		"Content-Type",     "Date",		 "If-Modified-Since", "If-Match",
		"If-None-Match",    "If-Unmodified-Since", "Range"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *v = server_header(rq, names[i]);

		if (v == NULL || (i == 2 && strcmp(v, "0") == 0))
			v = "";
		put(buf, len, n, v, "\n");
	}
}

/* x-ms-* headers, lower-cased and sorted, "name:value\n" each. */
static void sign_ms_headers(const struct server_request *rq, char *buf, size_t len, size_t *n)
{
	char **h = server_header_list(rq);
	size_t k = count(h);

	for (size_t i = 0; i < k; i++)
		for (char *c = h[i]; *c != ':' && *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	qsort(h, k, sizeof *h, cmp_str);
	for (size_t i = 0; i < k; i++) {
		char *colon = strchr(h[i], ':');

		if (strncmp(h[i], "x-ms-", 5) != 0 || colon == NULL)
			continue;
		*colon = '\0';
		put(buf, len, n, h[i], ":");
		put(buf, len, n, colon + 2, "\n");
	}
	free(h);
}

/* "/ACCOUNT/path" and the sorted query as "\nname:value". */
static void sign_resource(const struct server_request *rq, const char *account, char *buf,
			  size_t len, size_t *n)
{
	char path[PATH_MAX * 3];
	char **q = server_query_list(rq);
	size_t k = count(q);

	encode_path(rq->path, path, sizeof path);
	put(buf, len, n, "/", account);
	put(buf, len, n, path, "");
	qsort(q, k, sizeof *q, cmp_str);
	for (size_t i = 0; i < k; i++) {
		char *eq = strchr(q[i], '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		for (char *c = q[i]; *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		put(buf, len, n, "\n", q[i]);
		put(buf, len, n, ":", eq + 1);
	}
	free(q);
}

static int date_fresh(const struct server_request *rq)
{
	const char *d = server_header(rq, "x-ms-date");
	struct tm tm;
	time_t t;

	if (d == NULL)
		d = server_header(rq, "Date");
	memset(&tm, 0, sizeof tm);
	if (d == NULL || strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
		return 0;
	t = timegm(&tm);
	return t > time(NULL) - CLOCK_SKEW && t < time(NULL) + CLOCK_SKEW;
}

static int shared_key_ok(struct runtime *rt, const struct server_request *rq, const char *auth)
{
	char account[128], sts[16384], want[64];
	const char *colon = strrchr(auth, ':');
	size_t n = 0, alen = colon != NULL ? (size_t)(colon - auth) : 0;

	if (colon == NULL || alen == 0 || alen >= sizeof account || !date_fresh(rq))
		return 0;
	memcpy(account, auth, alen);
	account[alen] = '\0';
	put(sts, sizeof sts, &n, rq->method, "\n");
	sign_std_headers(rq, sts, sizeof sts, &n);
	sign_ms_headers(rq, sts, sizeof sts, &n);
	sign_resource(rq, account, sts, sizeof sts, &n);
	if (n >= sizeof sts || hmac_b64(rt->blob_key, sts, want, sizeof want) < 0)
		return 0;
	return auth_equal(colon + 1, want);
}

/* Whether a SAS's permissions (sp) allow the request, as Azure's: writing
 * content or a block list takes w (write) or c (create: a new blob; the
 * runtime does not tell new from existing here), metadata w, a listing l,
 * reads r. */
static int sas_grants(const struct server_request *rq, const char *sp)
{
	const char *comp = server_query(rq, "comp");

	if (strcmp(rq->method, "PUT") == 0)
		return strchr(sp, 'w') != NULL ||
		       ((comp == NULL || strcmp(comp, "metadata")) && strchr(sp, 'c') != NULL);
	if (comp != NULL && !strcmp(comp, "list"))
		return strchr(sp, 'l') != NULL;
	return strchr(sp, 'r') != NULL;
}

static time_t iso_parse(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return (time_t)-1;
	return timegm(&tm);
}

static int ipv4_of(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (strncmp(s, "::ffff:", 7) == 0 && strchr(s + 7, '.') != NULL)
		s += 7; /* an IPv4 client on a dual-stack socket */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* A SAS's sip: one IPv4 address or "FIRST-LAST"; the client must be in it
 * (Azure's sip is IPv4 only, so an IPv6 client never is). */
static int sas_ip_ok(const char *sip, const char *peer)
{
	char first[64];
	const char *dash;
	uint32_t lo, hi, ip;

	if (sip == NULL)
		return 1;
	dash = strchr(sip, '-');
	snprintf(first, sizeof first, "%.*s", dash ? (int)(dash - sip) : (int)strlen(sip), sip);
	if (ipv4_of(first, &lo) < 0 || ipv4_of(dash ? dash + 1 : first, &hi) < 0 ||
	    ipv4_of(peer, &ip) < 0)
		return 0;
	return ip >= lo && ip <= hi;
}

static int sas_ok(struct runtime *rt, const struct blob_req *b)
{
	static const char *const keys[16] = {"sp", "st", "se", NULL,   "si",   "sip",
					     "spr", "sv", "sr", "snapshot", "ses", "rscc",
					     "rscd", "rsce", "rscl", "rsct"};
	const struct server_request *rq = b->rq;
	const char *f[16], *sig = server_query(rq, "sig"), *sr = server_query(rq, "sr");
	const char *sp = server_query(rq, "sp"), *sv = server_query(rq, "sv");
	char res[PATH_MAX], sts[8192], want[64];
	time_t now = time(NULL), st, se;

	/* si names a stored access policy: the container has none */
	if (sig == NULL || sr == NULL || sp == NULL || sv == NULL || strcmp(sv, "2020-12-06") < 0 ||
	    !sas_grants(rq, sp) || server_query(rq, "si") != NULL ||
	    !sas_ip_ok(server_query(rq, "sip"), rq->peer))
		return 0;
	if ((strcmp(sr, "b") == 0 && b->name[0] != '\0') || strcmp(sr, "c") == 0)
		snprintf(res, sizeof res, "/blob/%s/%s%s%s", ACCOUNT_LABEL, b->container,
			 sr[0] == 'b' ? "/" : "", sr[0] == 'b' ? b->name : "");
	else
		return 0;
	se = iso_parse(server_query(rq, "se"));
	st = server_query(rq, "st") != NULL ? iso_parse(server_query(rq, "st")) : 0;
	if (se == (time_t)-1 || se < now || st == (time_t)-1 || st > now + CLOCK_SKEW)
		return 0;
	if (server_query(rq, "spr") != NULL && strcmp(server_query(rq, "spr"), "https") == 0 &&
	    strcmp(rt->scheme, "https") != 0)
		return 0;
	for (int i = 0; i < 16; i++)
		f[i] = keys[i] != NULL ? server_query(rq, keys[i]) : res;
	sas_string(f, sts, sizeof sts);
	return hmac_b64(rt->blob_key, sts, want, sizeof want) == 0 && auth_equal(sig, want);
}

int blob_authorize(struct runtime *rt, const struct server_request *rq, struct error *err)
{
	struct blob_req b;
	const char *auth = server_header(rq, "Authorization");

	memset(&b, 0, sizeof b);
	b.rt = rt;
	b.rq = rq;
	if (parse(&b) < 0)
		return error_set(err, 400, "InvalidUri", "not a blob or container path");
	if (auth != NULL && strncmp(auth, "SharedKey ", 10) == 0 ? shared_key_ok(rt, rq, auth + 10)
								  : sas_ok(rt, &b))
		return 0;
	return error_set(err, 403, "AuthenticationFailed",
			 "Server failed to authenticate the request. Make sure the value of "
			 "Authorization header (SharedKey with the datastore's key, x-ms-date "
			 "within 15 minutes) or the SAS token is formed correctly.");
}

/* ---- metadata sidecars -------------------------------------------------- */

/* A fresh file name under HOME/tmp (never the client's request id: it is not
 * a safe file name). -1 when it does not fit. */
static int tmp_path(const struct blob_req *b, const char *tag, char *buf, size_t len)
{
	static atomic_ulong next;
	int n = snprintf(buf, len, "%s/tmp/%s-%ld-%lu", b->rt->home, tag, (long)getpid(),
			 (unsigned long)atomic_fetch_add(&next, 1));

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* data into path whole or not at all: a temporary in HOME/tmp, fsync, rename. */
static int write_atomic(const struct blob_req *b, const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd, rc, saved;

	if (tmp_path(b, "meta", tmp, sizeof tmp) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	rc = file_write_all(fd, data, len) < 0 || fsync(fd) < 0 ? -1 : 0;
	saved = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0) {
		saved = errno;
		unlink(tmp);
	}
	errno = saved;
	return rc;
}


/* The blob's x-ms-meta-* headers as {"name": value} (lower-cased names). */
static cJSON *meta_from_headers(const struct server_request *rq)
{
	char **h = server_header_list(rq);
	cJSON *m = cJSON_CreateObject();

	for (size_t i = 0; h != NULL && h[i] != NULL; i++) {
		char *colon = strchr(h[i], ':');

		if (colon == NULL || strncasecmp(h[i], "x-ms-meta-", 10) != 0)
			continue;
		*colon = '\0';
		for (char *c = h[i]; *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		cJSON_AddStringToObject(m, h[i] + 10, colon + 2);
	}
	free(h);
	return m;
}

static cJSON *meta_read(const struct blob_req *b)
{
	size_t n;
	char *text = file_read(b->meta, META_MAX, &n);
	cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;

	free(text);
	return j != NULL ? j : cJSON_CreateObject();
}

/* Writes the sidecar: {"meta": {...}, "md5": "...", "type": "..."}. */
static int meta_write(const struct blob_req *b, cJSON *doc, struct error *err)
{
	char dir[PATH_MAX], *text, *slash;
	int rc;

	snprintf(dir, sizeof dir, "%s", b->meta);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (file_mkdirs(dir, 0700) < 0)
		return error_set(err, 500, "InternalError", "cannot create %s", dir);
	text = cJSON_PrintUnformatted(doc);
	if (text == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	rc = write_atomic(b, b->meta, text, strlen(text));
	free(text);
	return rc < 0 ? error_set(err, 500, "InternalError", "cannot write %s: %s", b->meta,
				  strerror(errno))
		      : 0;
}

/* ETag, Last-Modified and the version of an existing blob's answers. */
static void describe(const struct blob_req *b, const struct stat *st)
{
	char etag[48], date[64];

	snprintf(etag, sizeof etag, "\"0x%llX%09lX\"", (unsigned long long)st->st_mtim.tv_sec,
		 (unsigned long)st->st_mtim.tv_nsec);
	http_date(st->st_mtim.tv_sec, date, sizeof date);
	server_reply_header(b->rs, "ETag", etag);
	server_reply_header(b->rs, "Last-Modified", date);
	server_reply_header(b->rs, "x-ms-version", "2021-12-02");
}

static void add_meta_headers(struct server_response *rs, const cJSON *doc)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "meta"), *it;
	char name[128];

	cJSON_ArrayForEach(it, m)
	{
		if (!cJSON_IsString(it))
			continue;
		snprintf(name, sizeof name, "x-ms-meta-%s", it->string);
		server_reply_header(rs, name, it->valuestring);
	}
}

/* ---- reads -------------------------------------------------------------- */

/* "bytes=START-[END]" (x-ms-range, else Range) within size; 0 when there is
 * none, 1 with off and len set, -1 when unsatisfiable. */
static int byte_range(const struct server_request *rq, uint64_t size, uint64_t *off,
		      uint64_t *len)
{
	const char *r = server_header(rq, "x-ms-range");
	unsigned long long a, z;
	char *end;

	if (r == NULL)
		r = server_header(rq, "Range");
	if (r == NULL || strncmp(r, "bytes=", 6) != 0)
		return 0;
	a = strtoull(r + 6, &end, 10);
	if (end == r + 6 || *end != '-' || a >= size)
		return -1;
	z = end[1] != '\0' ? strtoull(end + 1, &end, 10) : size - 1;
	if (*end != '\0' && *end != '-')
		return -1;
	if (z >= size)
		z = size - 1;
	if (z < a)
		return -1;
	*off = a;
	*len = z - a + 1;
	return 1;
}

static void blob_read(struct blob_req *b)
{
	const cJSON *type, *md5;
	uint64_t off = 0, len = 0;
	char text[96];
	struct stat st;
	cJSON *doc;
	int ranged;

	if (b->name[0] == '\0' || stat(b->path, &st) < 0 || !S_ISREG(st.st_mode))
		return blob_error(b->rs, 404, "BlobNotFound", "The specified blob does not exist.");
	ranged = byte_range(b->rq, (uint64_t)st.st_size, &off, &len);
	if (ranged < 0)
		return blob_error(b->rs, 416, "InvalidRange",
				  "The range specified is invalid for the current size of the "
				  "resource.");
	doc = meta_read(b);
	type = cJSON_GetObjectItemCaseSensitive(doc, "type");
	md5 = cJSON_GetObjectItemCaseSensitive(doc, "md5");
	server_reply_file(b->rs, ranged ? 206 : 200, b->path,
			  cJSON_IsString(type) ? type->valuestring : "application/octet-stream");
	if (ranged) {
		server_reply_file_range(b->rs, off, len);
		snprintf(text, sizeof text, "bytes %llu-%llu/%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1), (unsigned long long)st.st_size);
		server_reply_header(b->rs, "Content-Range", text);
		if (cJSON_IsString(md5)) /* the whole blob's, as Azure: x-ms-blob-content-md5 */
			server_reply_header(b->rs, "x-ms-blob-content-md5", md5->valuestring);
	} else if (cJSON_IsString(md5)) {
		server_reply_header(b->rs, "Content-MD5", md5->valuestring);
	}
	describe(b, &st);
	server_reply_header(b->rs, "x-ms-blob-type", "BlockBlob");
	server_reply_header(b->rs, "Accept-Ranges", "bytes");
	add_meta_headers(b->rs, doc);
	cJSON_Delete(doc);
}

/* Blob names under dir (relative to base), for a prefix listing. */
static void list_dir(const char *base, const char *rel, const char *prefix, char *out,
		     size_t len, size_t *n, int depth)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", base, rel);
	if (depth > 32 || (d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		if (snprintf(path, sizeof path, "%s/%s", base, sub) >= (int)sizeof path ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			list_dir(base, sub, prefix, out, len, n, depth + 1);
		else if (S_ISREG(st.st_mode) && strncmp(sub, prefix, strlen(prefix)) == 0 &&
			 *n + strlen(sub) + 256 < len)
			*n += (size_t)snprintf(out + *n, len - *n,
					       "<Blob><Name>%s</Name><Properties><Content-Length>"
					       "%lld</Content-Length><BlobType>BlockBlob</BlobType>"
					       "</Properties></Blob>",
					       sub, (long long)st.st_size);
	}
	closedir(d);
}

static void container_list(struct blob_req *b)
{
	const char *prefix = server_query(b->rq, "prefix");
	char base[PATH_MAX];
	size_t cap = 1 << 20, n = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return blob_error(b->rs, 500, "InternalError", "out of memory");
	if (prefix == NULL || strchr(prefix, '<') != NULL || strchr(prefix, '&') != NULL)
		prefix = "";
	if (snprintf(base, sizeof base, "%s/blobs/%s", b->rt->home, b->container) >=
	    (int)sizeof base)
		base[0] = '\0';
	n += (size_t)snprintf(out, cap,
			      "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
			      "ContainerName=\"%s\"><Prefix>%s</Prefix><Blobs>",
			      b->container, prefix);
	list_dir(base, "", prefix, out, cap - 64, &n, 0);
	snprintf(out + n, cap - n, "</Blobs><NextMarker /></EnumerationResults>");
	free(b->rs->body);
	b->rs->status = 200;
	b->rs->body = out;
	b->rs->len = strlen(out);
	b->rs->content_type = "application/xml";
}

/* ---- writes ------------------------------------------------------------- */

/* MD5 of a file, base64. */
static int file_md5(const char *path, char *out, size_t len)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
		if (fd >= 0)
			close(fd);
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	while ((r = read(fd, buf, sizeof buf)) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (r < 0)
		return -1;
	b64(md, mdlen, out, len);
	return 0;
}

/* The request body as a file: the spool, or the in-memory body written out. */
static const char *body_file(struct blob_req *b, char *tmp, size_t len)
{
	int fd;

	if (b->rq->upload_path != NULL)
		return b->rq->upload_path;
	if (tmp_path(b, "blob", tmp, len) < 0)
		return NULL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (b->rq->body_len > 0 &&
	    write(fd, b->rq->body, b->rq->body_len) != (ssize_t)b->rq->body_len) {
		close(fd);
		unlink(tmp);
		return NULL;
	}
	close(fd);
	return tmp;
}

/* Moves a complete file into place as the blob, with its sidecar. */
static int commit_blob(struct blob_req *b, const char *src, const char *md5, struct error *err)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	cJSON *doc;
	int fd;

	snprintf(dir, sizeof dir, "%s", b->path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (file_mkdirs(dir, 0700) < 0)
		return error_set(err, 409, "InvalidBlobOrBlock",
				 "a blob exists where this name needs a directory");
	if (stat(b->path, &st) == 0 && S_ISDIR(st.st_mode))
		return error_set(err, 409, "InvalidBlobOrBlock",
				 "blobs exist under this name as a directory");
	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	if (rename(src, b->path) < 0)
		return error_set(err, 500, "InternalError", "cannot store the blob: %s",
				 strerror(errno));
	doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, "meta", meta_from_headers(b->rq));
	if (md5 != NULL)
		cJSON_AddStringToObject(doc, "md5", md5);
	if (meta_write(b, doc, err) < 0) {
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_Delete(doc);
	return 0;
}

/* A write's answer. md5: of the request's content (Azure returns it so the
 * client can check what arrived: the blob, the block, the block list), or
 * NULL when the request has none. */
static void created(struct blob_req *b, int status, const char *md5)
{
	struct stat st;

	free(b->rs->body);
	b->rs->body = NULL;
	b->rs->len = 0;
	b->rs->status = status;
	b->rs->content_type = NULL;
	if (stat(b->path, &st) == 0)
		describe(b, &st);
	if (md5 != NULL)
		server_reply_header(b->rs, "Content-MD5", md5);
	server_reply_header(b->rs, "x-ms-request-server-encrypted", "true");
}

static void put_blob(struct blob_req *b)
{
	const char *want = server_header(b->rq, "Content-MD5");
	const char *inm = server_header(b->rq, "If-None-Match");
	char tmp[PATH_MAX], md5[32];
	const char *src = body_file(b, tmp, sizeof tmp);
	struct error err;
	struct stat st;

	if (src == NULL)
		return blob_error(b->rs, 500, "InternalError", "cannot receive the body");
	if (file_md5(src, md5, sizeof md5) < 0) {
		unlink(src);
		return blob_error(b->rs, 500, "InternalError", "cannot read the body");
	}
	if (want != NULL && strcmp(want, md5) != 0) {
		unlink(src);
		return blob_error(b->rs, 400, "Md5Mismatch",
				  "The MD5 value specified in the request did not match with the "
				  "MD5 value calculated by the server.");
	}
	if (inm != NULL && strcmp(inm, "*") == 0 && stat(b->path, &st) == 0) {
		unlink(src);
		return blob_error(b->rs, 409, "BlobAlreadyExists",
				  "The specified blob already exists.");
	}
	if (commit_blob(b, src, md5, &err) < 0) {
		unlink(src);
		return blob_error(b->rs, err.status, err.code, err.message);
	}
	created(b, 201, md5);
}

/* HOME/tmp/blocks/SHA256(container/name) */
static void stage_dir(const struct blob_req *b, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char key[BLOB_NAME_MAX + 80], h[2 * EVP_MAX_MD_SIZE + 1];

	snprintf(key, sizeof key, "%s/%s", b->container, b->name);
	EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL);
	b64name(md, n, h, sizeof h);
	if (snprintf(buf, len, "%s/tmp/blocks/%s", b->rt->home, h) >= (int)len)
		buf[0] = '\0';
}

static int block_path(const struct blob_req *b, const char *id, char *buf, size_t len)
{
	unsigned char raw[64];
	char dir[PATH_MAX], h[129];
	int n = unb64(id, raw, sizeof raw);

	if (n <= 0)
		return -1;
	b64name(raw, (size_t)n, h, sizeof h);
	stage_dir(b, dir, sizeof dir);
	return snprintf(buf, len, "%s/%s", dir, h) < (int)len ? 0 : -1;
}

static void put_block(struct blob_req *b)
{
	const char *id = server_query(b->rq, "blockid");
	const char *want = server_header(b->rq, "Content-MD5");
	char dst[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], md5[32];
	const char *src;

	if (id == NULL || block_path(b, id, dst, sizeof dst) < 0)
		return blob_error(b->rs, 400, "InvalidQueryParameterValue",
				  "blockid must be base64 of at most 64 bytes");
	stage_dir(b, dir, sizeof dir);
	if (file_mkdirs(dir, 0700) < 0 || (src = body_file(b, tmp, sizeof tmp)) == NULL)
		return blob_error(b->rs, 500, "InternalError", "cannot stage the block");
	if (file_md5(src, md5, sizeof md5) < 0 || (want != NULL && strcmp(want, md5) != 0)) {
		unlink(src);
		return blob_error(b->rs, 400, "Md5Mismatch",
				  "The MD5 value specified in the request did not match with the "
				  "MD5 value calculated by the server.");
	}
	if (rename(src, dst) < 0) {
		unlink(src);
		return blob_error(b->rs, 500, "InternalError", "cannot stage the block");
	}
	created(b, 201, md5);
}

/* Appends the staged block ID (text between tags) to fd. */
static int append_block(struct blob_req *b, const char *id, int out)
{
	char path[PATH_MAX], buf[65536];
	int in, rc = 0;
	ssize_t r;

	if (block_path(b, id, path, sizeof path) < 0 || (in = open(path, O_RDONLY)) < 0)
		return -1;
	while (rc == 0 && (r = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)r) != r)
			rc = -1;
	close(in);
	return rc;
}

/* Walks <Latest>/<Uncommitted> ids of the block list into out; -1 on a
 * malformed list or a missing block, -2 on <Committed> (not kept). */
static int assemble(struct blob_req *b, const char *xml, int out)
{
	const char *p = strstr(xml, "<BlockList>");
	char id[128];

	if (p == NULL)
		return -1;
	while ((p = strchr(p + 1, '<')) != NULL && strncmp(p, "</BlockList>", 12) != 0) {
		const char *tag = p + 1, *gt = strchr(p, '>'), *end;
		size_t n;

		if (gt == NULL)
			return -1;
		if (strncmp(tag, "Committed>", 10) == 0)
			return -2;
		if (strncmp(tag, "Latest>", 7) != 0 && strncmp(tag, "Uncommitted>", 12) != 0)
			return -1;
		end = strchr(gt, '<');
		n = end != NULL ? (size_t)(end - gt - 1) : 0;
		if (end == NULL || n == 0 || n >= sizeof id)
			return -1;
		memcpy(id, gt + 1, n);
		id[n] = '\0';
		if (append_block(b, id, out) < 0)
			return -1;
		p = strchr(end + 1, '>');
		if (p == NULL)
			return -1;
	}
	return p != NULL ? 0 : -1;
}

static int rm_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(path);

	if (d == NULL)
		return unlink(path);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
			unlink(sub);
	}
	closedir(d);
	return rmdir(path);
}

static void put_block_list(struct blob_req *b)
{
	char tmp[PATH_MAX], body[PATH_MAX], dir[PATH_MAX], md5[32];
	const char *src = body_file(b, body, sizeof body);
	size_t n;
	char *xml = src != NULL ? file_read(src, BLOCKLIST_MAX, &n) : NULL;
	char list_md5[32] = "";
	struct error err;
	int fd, rc;

	if (src != NULL) {
		file_md5(src, list_md5, sizeof list_md5);
		unlink(src);
	}
	if (xml == NULL)
		return blob_error(b->rs, 400, "InvalidXmlDocument", "the block list is unreadable");
	fd = tmp_path(b, "blocklist", tmp, sizeof tmp) < 0
		     ? -1
		     : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 ? -1 : assemble(b, xml, fd);
	if (fd >= 0)
		close(fd);
	free(xml);
	if (rc < 0) {
		unlink(tmp);
		return blob_error(b->rs, 400, "InvalidBlockList",
				  rc == -2 ? "committed blocks are not kept: list every block as "
					     "Latest or Uncommitted"
					   : "the block list names a block that was not staged, or "
					     "is malformed");
	}
	if (file_md5(tmp, md5, sizeof md5) < 0 || commit_blob(b, tmp, md5, &err) < 0) {
		unlink(tmp);
		return blob_error(b->rs, 500, "InternalError", "cannot store the blob");
	}
	stage_dir(b, dir, sizeof dir);
	rm_tree(dir);
	created(b, 201, list_md5[0] ? list_md5 : NULL);
}

static void put_metadata(struct blob_req *b)
{
	struct error err;
	struct stat st;
	cJSON *doc;

	if (b->name[0] == '\0' || stat(b->path, &st) < 0 || !S_ISREG(st.st_mode))
		return blob_error(b->rs, 404, "BlobNotFound", "The specified blob does not exist.");
	doc = meta_read(b);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "meta");
	cJSON_AddItemToObject(doc, "meta", meta_from_headers(b->rq));
	if (meta_write(b, doc, &err) < 0) {
		cJSON_Delete(doc);
		return blob_error(b->rs, 500, "InternalError", err.message);
	}
	cJSON_Delete(doc);
	created(b, 200, NULL);
}

/* ---- dispatch ----------------------------------------------------------- */

static void put_route(struct blob_req *b)
{
	const char *comp = server_query(b->rq, "comp");
	const char *type = server_header(b->rq, "x-ms-blob-type");

	if (b->name[0] == '\0')
		return blob_error(b->rs, 409, "ContainerAlreadyExists",
				  "The specified container already exists.");
	if (comp == NULL) {
		if (type != NULL && strcmp(type, "BlockBlob") != 0)
			return blob_error(b->rs, 400, "UnsupportedHeader",
					  "only BlockBlob blobs are supported");
		return put_blob(b);
	}
	if (strcmp(comp, "block") == 0)
		return put_block(b);
	if (strcmp(comp, "blocklist") == 0)
		return put_block_list(b);
	if (strcmp(comp, "metadata") == 0)
		return put_metadata(b);
	blob_error(b->rs, 400, "UnsupportedQueryParameter", "this comp= is not supported");
}

int blob_admit(struct runtime *rt, const struct server_request *rq, struct server_admission *ad,
	       size_t limit, struct server_response *rs)
{
	struct error err;

	if (blob_authorize(rt, rq, &err) < 0) {
		blob_error(rs, err.status, err.code, err.message);
		return -1;
	}
	if (strcmp(rq->method, "PUT") == 0) {
		ad->body = SERVER_BODY_SPOOL;
		ad->limit = limit;
	} else {
		ad->limit = 0;
	}
	return 0;
}

void blob_handle(struct runtime *rt, const struct server_request *rq, struct server_response *rs)
{
	char want[96];
	struct blob_req b;
	struct error err;

	memset(&b, 0, sizeof b);
	b.rt = rt;
	b.rq = rq;
	b.rs = rs;
	if (blob_authorize(rt, rq, &err) < 0)
		return blob_error(rs, err.status, err.code, err.message);
	parse(&b);
	container_name(rt, want, sizeof want);
	if (strcmp(b.container, want) != 0)
		return blob_error(rs, 404, "ContainerNotFound",
				  "The specified container does not exist.");
	if (strcmp(rq->method, "PUT") == 0)
		return put_route(&b);
	if (strcmp(rq->method, "GET") == 0 && b.name[0] == '\0' &&
	    server_query(rq, "comp") != NULL && strcmp(server_query(rq, "comp"), "list") == 0)
		return container_list(&b);
	if (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0)
		return blob_read(&b);
	blob_error(rs, 405, "UnsupportedHttpVerb", "The resource doesn't support this verb.");
}
