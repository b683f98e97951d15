/* blob.c: Azure Blob Storage requests, Shared Key or SAS (see blob.h). */
#include "api/blob.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BLOB_SIGN_MAX 8192
#define BLOB_HEADERS_MAX 24
#define BLOB_URL_MAX 8192

/* Percent-encodes a blob name, keeping '/' between segments. */
static int blob_escape_name(const char *name, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || strchr("-_.~/", *p) != NULL;
		if (o + 4 >= len)
			return -1;
		if (keep) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}

/* "/container/escaped-name" into buf. */
static int blob_path(const struct blob_target *t, const char *name, char *buf, size_t len)
{
	char esc[BLOB_URL_MAX];

	if (blob_escape_name(name, esc, sizeof esc) < 0)
		return -1;
	int n = snprintf(buf, len, "/%s/%s", t->container, esc);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int blob_url(const struct blob_target *t, const char *name, const char *query, char *buf,
	     size_t len)
{
	char path[BLOB_URL_MAX];
	int q = query != NULL && query[0] != '\0', s = t->sas[0] != '\0';

	if (blob_path(t, name, path, sizeof path) < 0)
		return -1;
	int n = snprintf(buf, len, "https://%s.blob.%s%s%s%s%s%s", t->account, t->endpoint, path,
			 q || s ? "?" : "", q ? query : "", q && s ? "&" : "", s ? t->sas : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void blob_b64(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

void blob_md5_b64(const void *data, size_t len, char out[25])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
	blob_b64(md, n, out);
}

/* The value of header name in "Name: value" lines, or "". */
static const char *blob_hval(const char *const *headers, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);

	buf[0] = '\0';
	for (size_t i = 0; headers[i] != NULL; i++)
		if (strncasecmp(headers[i], name, nl) == 0 && headers[i][nl] == ':') {
			const char *v = headers[i] + nl + 1;
			while (*v == ' ')
				v++;
			snprintf(buf, len, "%s", v);
		}
	return buf;
}

static int blob_cmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes s (n bytes) lower-cased. */
static size_t blob_lower(char *out, size_t len, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	return i;
}

/* Appends "x-ms-name:value\n" for every x-ms- header, sorted by name. */
static size_t blob_canon_headers(const char *const *headers, char *out, size_t len)
{
	const char *xms[BLOB_HEADERS_MAX];
	size_t n = 0, o = 0;

	for (size_t i = 0; headers[i] != NULL && n < BLOB_HEADERS_MAX; i++)
		if (strncasecmp(headers[i], "x-ms-", 5) == 0)
			xms[n++] = headers[i];
	qsort(xms, n, sizeof xms[0], blob_cmp);
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		size_t k = strcspn(xms[i], ":");
		const char *v = xms[i] + k + (xms[i][k] == ':');
		while (*v == ' ')
			v++;
		o += blob_lower(out + o, len - o, xms[i], k);
		o += (size_t)snprintf(out + o, len - o, ":%s\n", v);
	}
	return o < len ? o : len;
}

/* "\nname:decoded value" for every query parameter, sorted by name. */
static size_t blob_canon_query(const char *query, char *out, size_t len)
{
	char copy[2048], *items[16];
	size_t n = 0, o = 0;

	snprintf(copy, sizeof copy, "%s", query != NULL ? query : "");
	for (char *p = copy; *p != '\0' && n < 16;) {
		items[n++] = p;
		p += strcspn(p, "&");
		if (*p == '&')
			*p++ = '\0';
	}
	qsort(items, n, sizeof items[0], blob_cmp);
	for (size_t i = 0; i < n && o < len; i++) {
		char *eq = strchr(items[i], '=');
		char *v = curl_easy_unescape(NULL, eq != NULL ? eq + 1 : "", 0, NULL);
		size_t k = eq != NULL ? (size_t)(eq - items[i]) : strlen(items[i]);
		o += (size_t)snprintf(out + o, len - o, "\n");
		o += blob_lower(out + o, len - o, items[i], k);
		o += (size_t)snprintf(out + o, len - o, ":%s", v != NULL ? v : "");
		curl_free(v);
	}
	return o < len ? o : len;
}

int blob_string_to_sign(const char *method, const char *account, const char *path,
			const char *query, const char *const *headers, char *out, size_t len)
{
	static const char *const std[] = {
	    "Content-Encoding", "Content-Language",    "Content-Length", "Content-MD5",
	    "Content-Type",     "Date",		       "If-Modified-Since", "If-Match",
	    "If-None-Match",    "If-Unmodified-Since", "Range"};
	char v[512];
	size_t o = (size_t)snprintf(out, len, "%s\n", method);

	for (size_t i = 0; i < sizeof std / sizeof std[0] && o < len; i++) {
		blob_hval(headers, std[i], v, sizeof v);
		if (strcmp(std[i], "Content-Length") == 0 && strcmp(v, "0") == 0)
			v[0] = '\0';
		o += (size_t)snprintf(out + o, len - o, "%s\n", v);
	}
	if (o < len)
		o += blob_canon_headers(headers, out + o, len - o);
	if (o < len)
		o += (size_t)snprintf(out + o, len - o, "/%s%s", account, path);
	if (o < len)
		o += blob_canon_query(query, out + o, len - o);
	return o < len ? 0 : -1;
}

/* "Authorization: SharedKey account:signature" into line. */
static int blob_sign(const struct blob_target *t, const char *method, const char *path,
		     const char *query, const char *const *headers, char *line, size_t len)
{
	unsigned char key[192], mac[EVP_MAX_MD_SIZE];
	char sts[BLOB_SIGN_MAX], sig[96];
	unsigned int maclen = 0;
	size_t kl = strlen(t->key);

	if (kl == 0 || kl > 256 || blob_string_to_sign(method, t->account, path, query, headers,
							 sts, sizeof sts) < 0)
		return -1;
	int n = EVP_DecodeBlock(key, (const unsigned char *)t->key, (int)kl);
	if (n < 0)
		return -1;
	n -= (t->key[kl - 1] == '=') + (kl > 1 && t->key[kl - 2] == '=');
	HMAC(EVP_sha256(), key, n, (const unsigned char *)sts, strlen(sts), mac, &maclen);
	memset(key, 0, sizeof key);
	blob_b64(mac, maclen, sig);
	snprintf(line, len, "Authorization: SharedKey %s:%s", t->account, sig);
	return 0;
}

/* x-ms-date in RFC 1123 form, month and day names fixed (not the locale's). */
static void blob_date(char *line, size_t len)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(line, len, "x-ms-date: %s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
		 tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The Blob service's error: x-ms-error-code and the XML <Message>. */
static int blob_error(const struct client_response *rs, const char *what, struct error *err)
{
	char code[64] = "BlobError";
	const char *m = rs->body != NULL ? strstr(rs->body, "<Message>") : NULL;
	const char *e = m != NULL ? strstr(m, "</Message>") : NULL;

	client_header(rs, "x-ms-error-code", code, sizeof code);
	if (m != NULL && e != NULL)
		return error_set(err, (int)rs->status, code, "Blob storage, %s: %.*s", what,
				 (int)(e - m - 9), m + 9);
	return error_set(err, (int)rs->status, code, "Blob storage, %s: HTTP %ld", what,
			 rs->status);
}

struct blob_req {
	const char *method, *name, *query, *ctype;
	const void *body;
	size_t len;
	const char *const *extra; /* more "Name: value" lines, NULL-terminated */
};

/* One signed request; the answer in rs. */
static int blob_send(struct client *c, const struct blob_target *t, const struct blob_req *b,
		     struct client_response *rs, struct error *err)
{
	char url[BLOB_URL_MAX], path[BLOB_URL_MAX], date[80], ver[40], clen[40], ctype[120];
	char auth[256];
	const char *signed_h[BLOB_HEADERS_MAX + 4];
	const char *sent[BLOB_HEADERS_MAX + 4];
	size_t n = 0, m = 0;

	if (blob_url(t, b->name, b->query, url, sizeof url) < 0 ||
	    blob_path(t, b->name, path, sizeof path) < 0)
		return error_set(err, 400, "BadPath", "blob name too long: %.200s", b->name);
	blob_date(date, sizeof date);
	snprintf(ver, sizeof ver, "x-ms-version: %s", BLOB_VERSION);
	snprintf(clen, sizeof clen, "Content-Length: %zu", b->len);
	snprintf(ctype, sizeof ctype, "Content-Type: %s", b->ctype != NULL ? b->ctype : "");
	sent[m++] = signed_h[n++] = date;
	sent[m++] = signed_h[n++] = ver;
	if (strcmp(b->method, "PUT") == 0)
		signed_h[n++] = clen;
	if (b->ctype != NULL)
		signed_h[n++] = ctype;
	for (size_t i = 0; b->extra != NULL && b->extra[i] != NULL && m < BLOB_HEADERS_MAX; i++)
		sent[m++] = signed_h[n++] = b->extra[i];
	signed_h[n] = NULL;
	if (t->sas[0] == '\0') {
		if (blob_sign(t, b->method, path, b->query, signed_h, auth, sizeof auth) < 0)
			return error_set(err, 401, "BadKey", "the storage account key is unusable");
		sent[m++] = auth;
	}
	sent[m] = NULL;
	struct client_request rq = {.method = b->method, .url = url, .body = b->body,
				    .len = b->len, .content_type = b->ctype, .headers = sent,
				    .auth = CLIENT_AUTH_NONE};
	int rc = client_send(c, &rq, rs, err);
	memset(auth, 0, sizeof auth);
	return rc;
}

/* A write whose answer must be `want`, with the MD5 it echoes checked. */
static int blob_write(struct client *c, const struct blob_target *t, const struct blob_req *b,
		      long want, const char *md5, const char *what, struct error *err)
{
	struct client_response rs;
	char echoed[64];
	int rc = blob_send(c, t, b, &rs, err);

	if (rc == 0 && rs.status != want)
		rc = blob_error(&rs, what, err);
	if (rc == 0 && md5 != NULL && client_header(&rs, "Content-MD5", echoed, sizeof echoed) &&
	    echoed[0] != '\0' && strcmp(echoed, md5) != 0)
		rc = error_set(err, 502, "Md5Mismatch", "Blob storage, %s: stored MD5 %s, sent %s",
			       what, echoed, md5);
	client_response_cleanup(&rs);
	return rc;
}

int blob_head(struct client *c, const struct blob_target *t, const char *name,
	      struct client_response *rs, struct error *err)
{
	struct blob_req b = {.method = "HEAD", .name = name};

	if (blob_send(c, t, &b, rs, err) < 0)
		return -1;
	if (rs->status == 200)
		return 1;
	if (rs->status == 404)
		return 0;
	return blob_error(rs, "HEAD", err);
}

int blob_put(struct client *c, const struct blob_target *t, const char *name, const void *data,
	     size_t len, struct error *err)
{
	char md5[25], h[64];
	const char *extra[] = {"x-ms-blob-type: BlockBlob", h, NULL};
	struct blob_req b = {.method = "PUT", .name = name, .ctype = "application/octet-stream",
			     .body = data, .len = len, .extra = extra};

	blob_md5_b64(data, len, md5);
	snprintf(h, sizeof h, "Content-MD5: %s", md5);
	return blob_write(c, t, &b, 201, md5, "Put Blob", err);
}

/* Block ids: base64 of a fixed-width number, the same length for every block. */
static void blob_block_id(int idx, char *out, size_t len)
{
	char raw[24];

	/* 12 bytes: 16 base64 characters, no padding. */
	snprintf(raw, sizeof raw, "blk-%08d", idx % 100000000);
	if (len >= 17)
		blob_b64((const unsigned char *)raw, 12, out);
}

int blob_put_block(struct client *c, const struct blob_target *t, const char *name, int idx,
		   const void *data, size_t len, struct error *err)
{
	char md5[25], h[64], id[32], q[96];
	const char *extra[] = {h, NULL};
	char *e;
	struct blob_req b = {.method = "PUT", .name = name, .query = q,
			     .ctype = "application/octet-stream", .body = data, .len = len,
			     .extra = extra};

	blob_md5_b64(data, len, md5);
	snprintf(h, sizeof h, "Content-MD5: %s", md5);
	blob_block_id(idx, id, sizeof id);
	e = curl_easy_escape(NULL, id, 0);
	snprintf(q, sizeof q, "comp=block&blockid=%s", e != NULL ? e : "");
	curl_free(e);
	return blob_write(c, t, &b, 201, md5, "Put Block", err);
}

int blob_put_block_list(struct client *c, const struct blob_target *t, const char *name, int n,
			const char *md5_b64, struct error *err)
{
	size_t cap = 64 + (size_t)n * 48, o;
	char *xml = malloc(cap), id[32], h[80];
	const char *extra[] = {h, NULL};
	int rc;

	if (xml == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	o = (size_t)snprintf(xml, cap, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (int i = 0; i < n; i++) {
		blob_block_id(i, id, sizeof id);
		o += (size_t)snprintf(xml + o, cap - o, "<Latest>%s</Latest>", id);
	}
	o += (size_t)snprintf(xml + o, cap - o, "</BlockList>");
	snprintf(h, sizeof h, "x-ms-blob-content-md5: %s", md5_b64);
	struct blob_req b = {.method = "PUT", .name = name, .query = "comp=blocklist",
			     .ctype = "application/xml", .body = xml, .len = o, .extra = extra};
	rc = blob_write(c, t, &b, 201, NULL, "Put Block List", err);
	free(xml);
	return rc;
}

int blob_set_metadata(struct client *c, const struct blob_target *t, const char *name,
		      const char *const *meta, struct error *err)
{
	char lines[BLOB_HEADERS_MAX][300];
	const char *extra[BLOB_HEADERS_MAX + 1];
	size_t n = 0;

	for (; meta[n] != NULL && n < BLOB_HEADERS_MAX; n++) {
		snprintf(lines[n], sizeof lines[n], "x-ms-meta-%s", meta[n]);
		extra[n] = lines[n];
	}
	extra[n] = NULL;
	struct blob_req b = {.method = "PUT", .name = name, .query = "comp=metadata",
			     .ctype = "application/octet-stream", .extra = extra};
	return blob_write(c, t, &b, 200, NULL, "Set Blob Metadata", err);
}
