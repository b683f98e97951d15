/* client.c: the resource API client over one libcurl easy handle (keep-alive). */
#include "api/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/credential.h"
#include "api/retry.h"

#define CLIENT_API_VERSION "api-version=2024-04-01"
#define CLIENT_MAX_BODY ((size_t)64 << 20) /* answers past this are refused */
#define CLIENT_MAX_HEAD ((size_t)64 << 10)
#define CLIENT_URL_MAX 8192 /* ARM asks clients to take URLs of at least 4 KB */
#define CLIENT_MAX_ITEMS 200000
#define CLIENT_CACHE_SLOTS 4			 /* GET answers kept for If-None-Match */
#define CLIENT_CACHE_MAX ((size_t)16 << 20) /* larger answers are not kept */

/* The last answer to a GET of url, with its ETag (the runtime's hash of it). */
struct client_cached {
	char *url;
	char etag[72];
	char *body;
	size_t len;
	unsigned long used; /* for least-recently-used replacement */
};

struct client_cache {
	pthread_mutex_t lock;
	unsigned long clock;
	int nslots;
	struct client_cached slot[]; /* nslots of them */
};

struct client {
	CURL *curl;
	char *base_url;
	char *ws_path;
	char *credential;
	struct credential *cred;
	char *ca_file;
	struct curl_slist *connect_to;
	char *unix_socket; /* NULL: TCP */
	int dataplane_at_base;
	long timeout_ms;
	long connect_timeout_ms;
	int no_proxy;
	int max_retries;
	FILE *trace;
	uint64_t rng;
	char curl_err[CURL_ERROR_SIZE];
	atomic_int cancelled;	   /* client_cancel was called */
	pthread_mutex_t sock_lock; /* sock against close during client_cancel */
	curl_socket_t sock;	   /* the open connection, or CURL_SOCKET_BAD */
	struct client_cache *cache; /* own, or shared (client_share_cache) */
	struct client_cache *own;
};

/* A growing buffer with a cap. */
struct client_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int overflow;
};

static char *client_strdup(const char *s)
{
	size_t n = strlen(s != NULL ? s : "");
	char *d = malloc(n + 1);

	if (d != NULL)
		memcpy(d, s != NULL ? s : "", n + 1);
	return d;
}

/* "a,b,c" into a curl list (connect-to rules). */
static struct curl_slist *client_split(const char *s, int *ok)
{
	struct curl_slist *l = NULL, *n;
	char item[512];

	*ok = 1;
	while (s != NULL && *s != '\0') {
		size_t k = strcspn(s, ",");
		while (k > 0 && *s == ' ')
			s++, k--;
		if (k > 0 && k < sizeof item) {
			snprintf(item, sizeof item, "%.*s", (int)k, s);
			if ((n = curl_slist_append(l, item)) == NULL)
				*ok = 0;
			else
				l = n;
		}
		s += k + (s[k] == ',');
	}
	return l;
}

static uint64_t client_seed(const void *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid() ^
	       (uint64_t)(uintptr_t)p;
}

struct client *client_new(const struct client_config *cfg)
{
	struct client *c = calloc(1, sizeof *c);
	int ok = 1;

	if (c == NULL)
		return NULL;
	c->curl = curl_easy_init();
	c->base_url = client_strdup(cfg->base_url);
	c->ws_path = client_strdup(cfg->ws_path);
	c->credential = client_strdup(cfg->credential);
	c->ca_file = client_strdup(cfg->ca_file);
	c->connect_to = client_split(cfg->connect_to, &ok);
	c->cred = cfg->cred != NULL ? credential_ref(cfg->cred) : NULL;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	c->sock = CURL_SOCKET_BAD;
	pthread_mutex_init(&c->sock_lock, NULL);
	c->connect_timeout_ms = cfg->connect_timeout_ms;
	c->no_proxy = cfg->no_proxy;
	c->max_retries = cfg->max_retries == 0 ? RETRY_DEFAULT_MAX : cfg->max_retries;
	c->trace = cfg->trace;
	c->rng = client_seed(c) | 1;
	c->dataplane_at_base = cfg->dataplane_at_base;
	int via_socket = cfg->unix_socket != NULL && cfg->unix_socket[0] != '\0';
	c->unix_socket = via_socket ? client_strdup(cfg->unix_socket) : NULL;
	c->cache = c->own = client_cache_new(CLIENT_CACHE_SLOTS);
	if (c->curl == NULL || c->base_url == NULL || c->ws_path == NULL || c->credential == NULL ||
	    c->ca_file == NULL || !ok || (via_socket && c->unix_socket == NULL) || c->own == NULL) {
		client_free(c);
		return NULL;
	}
	/* Trailing slashes would double up with the paths we append. */
	for (size_t n = strlen(c->base_url); n > 0 && c->base_url[n - 1] == '/'; n--)
		c->base_url[n - 1] = '\0';
	return c;
}

void client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	pthread_mutex_destroy(&c->sock_lock);
	client_cache_free(c->own);
	free(c->base_url);
	free(c->ws_path);
	if (c->credential != NULL) {
		memset(c->credential, 0, strlen(c->credential));
		free(c->credential);
	}
	credential_unref(c->cred);
	free(c->ca_file);
	free(c->unix_socket);
	curl_slist_free_all(c->connect_to);
	free(c);
}

const char *client_base_url(const struct client *c)
{
	return c->base_url;
}

const char *client_ws_path(const struct client *c)
{
	return c->ws_path;
}

int client_token(struct client *c, const char *scope, char *buf, size_t len, struct error *err)
{
	if (c->cred == NULL)
		return 1;
	return credential_token(c->cred, scope, buf, len, err) < 0 ? -1 : 0;
}

FILE *client_trace(const struct client *c)
{
	return c->trace;
}

const char *client_unix_socket(const struct client *c)
{
	return c->unix_socket;
}

const char *client_credential(const struct client *c)
{
	return c->credential;
}

int client_is_runtime(const struct client *c)
{
	return c->dataplane_at_base;
}

int client_batch_url(const struct client *c, const char *ep, const char *scoring_uri, char *buf,
		     size_t len, struct error *err)
{
	char *e;
	int n;

	if (!c->dataplane_at_base)
		return client_scoring_url(c, ep, scoring_uri, buf, len, err);
	if ((e = curl_easy_escape(c->curl, ep, 0)) == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	n = snprintf(buf, len, "%s/batch/%s/jobs", c->base_url, e);
	curl_free(e);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 400, "UrlTooLong", "the scoring URL of %s is too long", ep);
	return 0;
}

int client_scoring_url(const struct client *c, const char *ep, const char *scoring_uri, char *buf,
		       size_t len, struct error *err)
{
	char *e = NULL;
	int n;

	if (!c->dataplane_at_base) {
		if (scoring_uri == NULL || scoring_uri[0] == '\0')
			return error_set(err, 409, "NoScoringUri",
					 "endpoint %s has no scoringUri yet", ep);
		n = snprintf(buf, len, "%s", scoring_uri);
	} else {
		if ((e = curl_easy_escape(c->curl, ep, 0)) == NULL)
			return error_set(err, 500, "NoMemory", "out of memory");
		n = snprintf(buf, len, "%s/endpoints/%s/score", c->base_url, e);
		curl_free(e);
	}
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 400, "UrlTooLong", "the scoring URL of %s is too long", ep);
	return 0;
}

static size_t client_buf_add(struct client_buf *b, const char *ptr, size_t n)
{
	if (b->len + n > b->max) {
		b->overflow = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (d == NULL)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static size_t client_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return client_buf_add(userdata, ptr, size * nmemb);
}

/* Keeps the header lines of the last answer only (1xx and redirects reset). */
static size_t client_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct client_buf *h = userdata;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		h->len = 0;
	if (client_buf_add(h, ptr, n) != n)
		h->overflow = 1; /* a header past the cap is dropped, the answer kept */
	return n;
}

const char *client_header(const struct client_response *rs, const char *name, char *buf,
			  size_t len)
{
	size_t nl = strlen(name);
	const char *p = rs->head;

	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (ll > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;
			size_t vl = ll - nl - 1;
			while (vl > 0 && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			snprintf(buf, len, "%.*s", (int)vl, v);
			return buf;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return NULL;
}

void client_response_cleanup(struct client_response *rs)
{
	if (rs == NULL)
		return;
	free(rs->body);
	free(rs->head);
	memset(rs, 0, sizeof *rs);
}

/* "scheme://host[:port]" length of url (its origin), 0 when not absolute. */
static size_t client_origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL || strncasecmp(url, "http", 4) != 0)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

static int client_same_origin(const struct client *c, const char *url)
{
	size_t a = client_origin_len(c->base_url), b = client_origin_len(url);

	return a > 0 && a == b && strncasecmp(c->base_url, url, a) == 0;
}

/* The URL of rq into url: verbatim, or base + ws + path + api-version. */
static int client_url(const struct client *c, const struct client_request *rq, char *url,
		      size_t len, struct error *err)
{
	int n;

	if (rq->url != NULL)
		n = snprintf(url, len, "%s", rq->url);
	else
		n = snprintf(url, len, "%s%s%s%c%s", c->base_url, c->ws_path, rq->path,
			     strchr(rq->path, '?') != NULL ? '&' : '?', CLIENT_API_VERSION);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 400, "UrlTooLong", "request URL is too long");
	if (rq->url != NULL && rq->auth == CLIENT_AUTH_BEARER && !client_same_origin(c, url))
		return error_set(err, 502, "ForeignUrl",
				 "refusing to send the credential of %s to %.200s", c->base_url,
				 url);
	return 0;
}

/* The trace's copy of a URL, with SAS signatures hidden. */
static void client_redact(const char *url, char *out, size_t len)
{
	const char *sig = strstr(url, "sig=");

	if (sig == NULL)
		snprintf(out, len, "%s", url);
	else
		snprintf(out, len, "%.*ssig=REDACTED%s", (int)(sig - url), url,
			 sig + strcspn(sig, "&"));
}

/* The connection's socket is recorded so that client_cancel can shut it down. */
static curl_socket_t client_open_cb(void *userdata, curlsocktype purpose,
				    struct curl_sockaddr *addr)
{
	struct client *c = userdata;
	curl_socket_t s;

	(void)purpose;
	if (atomic_load(&c->cancelled))
		return CURL_SOCKET_BAD;
	s = socket(addr->family, addr->socktype, addr->protocol);
	pthread_mutex_lock(&c->sock_lock);
	c->sock = s;
	pthread_mutex_unlock(&c->sock_lock);
	return s;
}

static int client_close_cb(void *userdata, curl_socket_t s)
{
	struct client *c = userdata;

	pthread_mutex_lock(&c->sock_lock);
	if (c->sock == s)
		c->sock = CURL_SOCKET_BAD;
	pthread_mutex_unlock(&c->sock_lock);
	return close(s);
}

/* Ends a transfer still connecting when cancelled (called about once a second). */
static int client_progress_cb(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut,
			      curl_off_t un)
{
	struct client *c = userdata;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&c->cancelled);
}

void client_cancel(struct client *c)
{
	atomic_store(&c->cancelled, 1);
	pthread_mutex_lock(&c->sock_lock);
	if (c->sock != CURL_SOCKET_BAD)
		shutdown(c->sock, SHUT_RDWR);
	pthread_mutex_unlock(&c->sock_lock);
}

void client_setopt_network(const struct client *c, void *curl_easy)
{
	const char *ca = c->ca_file[0] ? c->ca_file : getenv("SSL_CERT_FILE");
	const char *capath = getenv("SSL_CERT_DIR");
	CURL *e = curl_easy;

	if (ca != NULL && ca[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	if (capath != NULL && capath[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAPATH, capath);
	if (c->connect_to != NULL)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
	if (c->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (c->unix_socket != NULL)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
}

/* Resets the shared handle to the options common to every request. */
static void client_prepare(struct client *c, const char *url, struct client_buf *b,
			   struct client_buf *h)
{
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, client_header_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	if (c->connect_timeout_ms > 0)
		curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "mldeck");
	curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETFUNCTION, client_open_cb);
	curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_CLOSESOCKETFUNCTION, client_close_cb);
	curl_easy_setopt(c->curl, CURLOPT_CLOSESOCKETDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, client_progress_cb);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	client_setopt_network(c, c->curl);
	c->curl_err[0] = '\0';
}

/* Sets the method and body; PUT/PATCH/POST carry a body (possibly empty). */
static void client_set_body(CURL *curl, const char *method, const void *data, size_t len)
{
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		return;
	}
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "DELETE") == 0 && data == NULL)
		return;
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data != NULL ? data : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(data != NULL ? len : 0));
}

/* The upload file name rides in the path's `filename=` query and is also sent
 * as x-mldeck-filename, so either runtime convention works. */
static struct curl_slist *client_filename_header(struct curl_slist *h, const char *path)
{
	const char *q = path != NULL ? strchr(path, '?') : NULL;
	const char *f = q != NULL ? strstr(q, "filename=") : NULL;
	char line[320];

	if (f == NULL)
		return h;
	f += strlen("filename=");
	size_t n = strcspn(f, "&");
	char *raw = curl_easy_unescape(NULL, f, (int)n, NULL);
	if (raw == NULL)
		return h;
	snprintf(line, sizeof line, "x-mldeck-filename: %s", raw);
	curl_free(raw);
	return curl_slist_append(h, line);
}

static uint64_t client_rand(struct client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* x-ms-client-request-id: a random UUID, so a request can be traced in Azure. */
static struct curl_slist *client_request_id(struct client *c, struct curl_slist *h)
{
	uint64_t a = client_rand(c), b = client_rand(c);
	char line[96];

	snprintf(line, sizeof line,
		 "x-ms-client-request-id: %08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
		 (unsigned)((b >> 48) & 0x3fff) | 0x8000, (unsigned long long)(b & 0xffffffffffffULL));
	return curl_slist_append(h, line);
}

/* The bearer for this request into buf ("" when none): the credential's
 * current token, or the static one. */
static int client_bearer(struct client *c, char *buf, size_t len, struct error *err)
{
	if (c->cred != NULL)
		return credential_token(c->cred, CREDENTIAL_ARM_SCOPE, buf, len, err);
	snprintf(buf, len, "%s", c->credential);
	return 0;
}

static struct curl_slist *client_headers(struct client *c, const struct client_request *rq,
					 struct error *err, int *failed)
{
	char line[8300];
	struct curl_slist *h = NULL;
	const char *ct = rq->content_type != NULL ? rq->content_type : "application/json";

	*failed = 0;
	if (rq->auth == CLIENT_AUTH_BEARER) {
		char tok[8192];
		if (client_bearer(c, tok, sizeof tok, err) < 0) {
			*failed = 1;
			return NULL;
		}
		snprintf(line, sizeof line, "Authorization: Bearer %s", tok);
		memset(tok, 0, sizeof tok);
		h = curl_slist_append(h, line);
		memset(line, 0, sizeof line);
		h = client_request_id(c, h);
	}
	if (rq->body != NULL || rq->content_type != NULL) {
		snprintf(line, sizeof line, "Content-Type: %s", ct);
		h = curl_slist_append(h, line);
	}
	if (rq->content_type == NULL || strstr(rq->content_type, "json") != NULL)
		h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	for (size_t i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++)
		h = curl_slist_append(h, rq->headers[i]);
	return client_filename_header(h, rq->path);
}

static double client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One try: curl's result code (CURLE_OK when an answer came, in rs). */
static CURLcode client_try(struct client *c, const struct client_request *rq, const char *url,
			   struct curl_slist *h, struct client_response *rs)
{
	struct client_buf b = {.max = CLIENT_MAX_BODY}, hb = {.max = CLIENT_MAX_HEAD};

	client_response_cleanup(rs);
	client_prepare(c, url, &b, &hb);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	client_set_body(c->curl, rq->method, rq->body, rq->len);
	double t0 = client_now_ms();
	CURLcode cr = curl_easy_perform(c->curl);
	rs->latency_ms = client_now_ms() - t0;
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	if (cr == CURLE_WRITE_ERROR && b.overflow)
		cr = CURLE_FILESIZE_EXCEEDED;
	if (cr == CURLE_OK)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	rs->body = b.data != NULL ? b.data : client_strdup("");
	rs->len = b.len;
	rs->head = hb.data != NULL ? hb.data : client_strdup("");
	rs->head_len = hb.len;
	return cr;
}

/* Waits ms between tries, in slices, ending early when cancelled. */
static void client_sleep_ms(struct client *c, long ms)
{
	while (ms > 0 && !atomic_load(&c->cancelled)) {
		long step = ms > 100 ? 100 : ms;
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Writes the answer's line to the trace: status, time and ARM's budget. */
static void client_trace_answer(struct client *c, const struct client_response *rs)
{
	static const char *const budget[] = {"x-ms-ratelimit-remaining-subscription-reads",
					     "x-ms-ratelimit-remaining-subscription-writes",
					     "x-ms-ratelimit-remaining-subscription-deletes"};
	char v[64], extra[160] = "";

	for (size_t i = 0; i < sizeof budget / sizeof budget[0]; i++)
		if (client_header(rs, budget[i], v, sizeof v) != NULL)
			snprintf(extra, sizeof extra, " (%s left: %s)",
				 budget[i] + strlen("x-ms-ratelimit-remaining-subscription-"), v);
	fprintf(c->trace, "mldeck: < %ld in %.0f ms%s\n", rs->status, rs->latency_ms, extra);
}

/* How long to wait before retry `attempt`, from the answer's headers. */
static long client_wait_ms(struct client *c, const struct client_response *rs, int attempt,
			   const char **why)
{
	static const char *const names[] = {"retry-after-ms", "x-ms-retry-after-ms", "Retry-After"};
	char v[128];
	long ms = -1;

	*why = "backoff";
	for (size_t i = 0; i < sizeof names / sizeof names[0] && ms < 0; i++) {
		if (client_header(rs, names[i], v, sizeof v) == NULL)
			continue;
		ms = i < 2 ? retry_after_ms(v, 0) / 1000 : retry_after_ms(v, time(NULL));
		*why = names[i];
	}
	double jitter = 0.5 + (double)(client_rand(c) % 1000) / 2000.0;
	return retry_delay_ms(attempt, ms, jitter);
}

/* Decides on a retry after a try; 1 to go again (after waiting). */
static int client_again(struct client *c, const struct client_request *rq, CURLcode cr,
			struct client_response *rs, int attempt)
{
	const char *why;

	if (rq->no_retry || c->max_retries < 0 || attempt > c->max_retries ||
	    atomic_load(&c->cancelled))
		return 0;
	if (!retry_should(cr == CURLE_OK ? rs->status : 0, (int)cr, rq->method))
		return 0;
	long ms = client_wait_ms(c, rs, attempt, &why);
	if (ms > RETRY_AFTER_MAX_MS)
		return 0;
	if (c->trace != NULL) {
		char what[128];
		if (cr != CURLE_OK)
			snprintf(what, sizeof what, "%s", curl_easy_strerror(cr));
		else
			snprintf(what, sizeof what, "HTTP %ld%s", rs->status,
				 rs->status == 429 ? " (throttled)" : "");
		fprintf(c->trace, "mldeck: %s: retry %d of %d in %.1f s (%s)\n", what, attempt,
			c->max_retries, (double)ms / 1000.0, why);
	}
	client_sleep_ms(c, ms);
	return !atomic_load(&c->cancelled);
}

/* A 401 with a refreshable credential: forget the token, try once more. */
static int client_reauth(struct client *c, const struct client_request *rq,
			 const struct client_response *rs, int *done)
{
	if (*done || rq->auth != CLIENT_AUTH_BEARER || c->cred == NULL || rs->status != 401)
		return 0;
	*done = 1;
	credential_invalidate(c->cred, CREDENTIAL_ARM_SCOPE);
	return 1;
}

struct client_cache *client_cache_new(int slots)
{
	struct client_cache *cc =
	    calloc(1, sizeof *cc + (size_t)(slots > 0 ? slots : 1) * sizeof cc->slot[0]);

	if (cc == NULL)
		return NULL;
	cc->nslots = slots > 0 ? slots : 1;
	pthread_mutex_init(&cc->lock, NULL);
	return cc;
}

void client_cache_free(struct client_cache *cc)
{
	if (cc == NULL)
		return;
	for (int i = 0; i < cc->nslots; i++) {
		free(cc->slot[i].url);
		free(cc->slot[i].body);
	}
	pthread_mutex_destroy(&cc->lock);
	free(cc);
}

void client_share_cache(struct client *c, struct client_cache *cc)
{
	c->cache = cc != NULL ? cc : c->own;
}

/* The slot of url (lock held), or NULL. */
static struct client_cached *client_cache_find(struct client_cache *cc, const char *url)
{
	for (int i = 0; i < cc->nslots; i++)
		if (cc->slot[i].url != NULL && strcmp(cc->slot[i].url, url) == 0)
			return &cc->slot[i];
	return NULL;
}

/* The ETag kept for url into etag ("" when none). */
static void client_cache_etag(struct client_cache *cc, const char *url, char *etag, size_t len)
{
	struct client_cached *e;

	pthread_mutex_lock(&cc->lock);
	e = client_cache_find(cc, url);
	snprintf(etag, len, "%s", e != NULL ? e->etag : "");
	pthread_mutex_unlock(&cc->lock);
}

/* Keeps rs's body as the answer to url with etag, in the least recently used
 * slot (lock held). */
static void client_cache_keep(struct client_cache *cc, const char *url, const char *etag,
			      const struct client_response *rs)
{
	struct client_cached *e = client_cache_find(cc, url);

	if (rs->len > CLIENT_CACHE_MAX)
		return;
	if (e == NULL) {
		e = &cc->slot[0];
		for (int i = 1; i < cc->nslots; i++)
			if (cc->slot[i].used < e->used)
				e = &cc->slot[i];
	}
	free(e->url);
	free(e->body);
	e->url = client_strdup(url);
	e->body = malloc(rs->len + 1);
	if (e->url == NULL || e->body == NULL) {
		free(e->url);
		free(e->body);
		memset(e, 0, sizeof *e);
		return;
	}
	memcpy(e->body, rs->body, rs->len + 1);
	e->len = rs->len;
	snprintf(e->etag, sizeof e->etag, "%s", etag);
	e->used = ++cc->clock;
}

/* The final answer to a GET of url asked with If-None-Match: asked (""
 * when not): a 304 becomes the kept answer with status 200 ("the one you
 * have"); a 200 with an ETag is kept for the next GET. -1 when a 304 names
 * an answer no longer kept (another client's answers pushed it out). */
static int client_cache_answer(struct client_cache *cc, const char *url, const char *asked,
			       struct client_response *rs)
{
	char etag[sizeof cc->slot[0].etag], *d = NULL;
	struct client_cached *e;
	int rc = 0;

	pthread_mutex_lock(&cc->lock);
	e = client_cache_find(cc, url);
	if (rs->status == 304 && asked[0] != '\0') {
		if (e == NULL || strcmp(e->etag, asked) != 0 || (d = malloc(e->len + 1)) == NULL) {
			rc = -1;
		} else {
			memcpy(d, e->body, e->len + 1);
			free(rs->body);
			rs->body = d;
			rs->len = e->len;
			rs->status = 200;
			e->used = ++cc->clock;
		}
	} else if (rs->status == 200 && client_header(rs, "ETag", etag, sizeof etag) != NULL) {
		client_cache_keep(cc, url, etag, rs);
	}
	pthread_mutex_unlock(&cc->lock);
	return rc;
}

int client_send(struct client *c, const struct client_request *rq, struct client_response *rs,
		struct error *err)
{
	char url[CLIENT_URL_MAX], shown[CLIENT_URL_MAX], inm[100], kept[72] = "";
	int failed, reauthed = 0, get = strcmp(rq->method, "GET") == 0;
	CURLcode cr = CURLE_OK;

	memset(rs, 0, sizeof *rs);
	if (client_url(c, rq, url, sizeof url, err) < 0)
		return -1;
	client_redact(url, shown, sizeof shown);
	if (get)
		client_cache_etag(c->cache, url, kept, sizeof kept);
	snprintf(inm, sizeof inm, "If-None-Match: %s", kept);
	for (int attempt = 1;; attempt++) {
		struct curl_slist *h = client_headers(c, rq, err, &failed);
		if (failed)
			return -1;
		if (kept[0] != '\0')
			h = curl_slist_append(h, inm);
		if (c->trace != NULL)
			fprintf(c->trace, "mldeck: > %s %s\n", rq->method, shown);
		cr = client_try(c, rq, url, h, rs);
		curl_slist_free_all(h);
		if (cr == CURLE_OK && c->trace != NULL)
			client_trace_answer(c, rs);
		if (cr == CURLE_OK && client_reauth(c, rq, rs, &reauthed))
			continue;
		if (cr == CURLE_OK && get && client_cache_answer(c->cache, url, kept, rs) < 0) {
			kept[0] = '\0'; /* the answer it names is gone: ask for the whole */
			continue;
		}
		if (!client_again(c, rq, cr, rs, attempt))
			break;
		rs->retries++;
	}
	if (cr == CURLE_OK)
		return 0;
	if (cr == CURLE_FILESIZE_EXCEEDED)
		return error_set(err, 0, "ResponseTooLarge", "answer from %s is over %zu MiB", shown,
				 CLIENT_MAX_BODY >> 20);
	if (atomic_load(&c->cancelled))
		return error_set(err, 0, "Cancelled", "cancelled: %s", shown);
	if (c->unix_socket != NULL)
		return error_set(err, 0, "Unreachable",
				 "cannot reach the runtime through the ssh tunnel (%s): %s",
				 c->unix_socket, c->curl_err[0] ? c->curl_err : curl_easy_strerror(cr));
	return error_set(err, 0, "Unreachable", "cannot reach %s: %s", shown,
			 c->curl_err[0] ? c->curl_err : curl_easy_strerror(cr));
}

int client_answer_error(const struct client_response *rs, const char *what, struct error *err)
{
	cJSON *doc = rs->len > 0 ? cJSON_ParseWithLength(rs->body, rs->len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");

	if (cJSON_IsString(msg)) {
		error_set(err, (int)rs->status, cJSON_IsString(code) ? code->valuestring : "Error",
			  "%s", msg->valuestring);
	} else {
		int n = rs->len > 200 ? 200 : (int)rs->len;
		error_set(err, (int)rs->status, "HttpError", "HTTP %ld from %s: %.*s", rs->status,
			  what, n, rs->body != NULL ? rs->body : "");
	}
	cJSON_Delete(doc);
	return -1;
}

/* Parses a 2xx body into *out (NULL when empty). */
static int client_parse_ok(const char *what, const struct client_response *rs, cJSON **out,
			   struct error *err)
{
	if (out == NULL)
		return 0;
	*out = NULL;
	if (rs->len == 0)
		return 0;
	*out = cJSON_ParseWithLength(rs->body, rs->len);
	if (*out == NULL)
		return error_set(err, 502, "BadResponse", "answer from %s is not JSON", what);
	return 0;
}

static int client_is_url(const char *path)
{
	return strncmp(path, "https://", 8) == 0 || strncmp(path, "http://", 7) == 0;
}

/* The ARM call shared by the JSON and raw variants. */
static int client_arm(struct client *c, const struct client_request *rq, cJSON **out,
		      struct client_response *keep, struct error *err)
{
	struct client_response rs;
	const char *what = rq->url != NULL ? rq->url : rq->path;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (client_send(c, rq, &rs, err) == 0) {
		if (rs.status < 200 || rs.status > 299)
			client_answer_error(&rs, what, err);
		else
			rc = client_parse_ok(what, &rs, out, err);
	}
	if (keep != NULL)
		*keep = rs;
	else
		client_response_cleanup(&rs);
	return rc;
}

int client_call_raw(struct client *c, const char *method, const char *path, const void *data,
		    size_t len, const char *content_type, cJSON **out, struct error *err)
{
	struct client_request rq = {.method = method, .body = data, .len = len,
				    .content_type = content_type};

	*(client_is_url(path) ? &rq.url : &rq.path) = path;
	return client_arm(c, &rq, out, NULL, err);
}

int client_call_resp(struct client *c, const char *method, const char *path, const cJSON *body,
		     cJSON **out, struct client_response *rs, struct error *err)
{
	struct client_request rq = {.method = method};
	char *text = NULL;
	int rc;

	if (rs != NULL)
		memset(rs, 0, sizeof *rs);
	if (body != NULL && (text = cJSON_PrintUnformatted(body)) == NULL)
		return error_set(err, 500, "NoMemory", "cannot encode the request body");
	rq.body = text;
	rq.len = text != NULL ? strlen(text) : 0;
	*(client_is_url(path) ? &rq.url : &rq.path) = path;
	rc = client_arm(c, &rq, out, rs, err);
	free(text);
	return rc;
}

int client_call(struct client *c, const char *method, const char *path, const cJSON *body,
		cJSON **out, struct error *err)
{
	return client_call_resp(c, method, path, body, out, NULL, err);
}

/* Moves the items of page's "value" to the end of all; -1 past the cap. */
static int client_take_page(cJSON *page, cJSON *all, size_t *n, struct error *err)
{
	cJSON *val = cJSON_GetObjectItemCaseSensitive(page, "value"), *x;

	if (!cJSON_IsArray(val))
		return error_set(err, 502, "BadResponse", "a list answer has no \"value\" array");
	while ((x = cJSON_DetachItemFromArray(val, 0)) != NULL) {
		if (++*n > CLIENT_MAX_ITEMS) {
			cJSON_Delete(x);
			return error_set(err, 502, "BadResponse", "list over %d items",
					 CLIENT_MAX_ITEMS);
		}
		cJSON_AddItemToArray(all, x);
	}
	return 0;
}

int client_list(struct client *c, const char *path, cJSON **out, struct error *err)
{
	cJSON *doc = cJSON_CreateObject(), *page = NULL;
	cJSON *all = cJSON_AddArrayToObject(doc, "value");
	char next[CLIENT_URL_MAX];
	size_t n = 0;

	*out = NULL;
	snprintf(next, sizeof next, "%s", path);
	for (int pages = 0; next[0] != '\0'; pages++) {
		const cJSON *link;
		if (pages == CLIENT_MAX_PAGES) {
			error_set(err, 502, "BadResponse", "list over %d pages", CLIENT_MAX_PAGES);
			goto fail;
		}
		if (client_call(c, "GET", next, NULL, &page, err) < 0 ||
		    client_take_page(page, all, &n, err) < 0)
			goto fail;
		link = cJSON_GetObjectItemCaseSensitive(page, "nextLink");
		snprintf(next, sizeof next, "%s", cJSON_IsString(link) ? link->valuestring : "");
		if (next[0] != '\0' && !client_is_url(next)) {
			error_set(err, 502, "BadResponse", "nextLink is not a URL: %.200s", next);
			goto fail;
		}
		cJSON_Delete(page);
		page = NULL;
	}
	*out = doc;
	return 0;
fail:
	cJSON_Delete(page);
	cJSON_Delete(doc);
	return -1;
}

int client_get_text(struct client *c, const char *path, char **out, size_t *len, struct error *err)
{
	char url[CLIENT_URL_MAX];
	struct client_request rq = {.method = "GET", .url = url};
	struct client_response rs;

	*out = NULL;
	snprintf(url, sizeof url, "%s%s", c->base_url, path);
	if (client_send(c, &rq, &rs, err) < 0) {
		client_response_cleanup(&rs);
		return -1;
	}
	if (rs.status < 200 || rs.status > 299) {
		client_answer_error(&rs, url, err);
		client_response_cleanup(&rs);
		return -1;
	}
	*out = rs.body;
	if (len != NULL)
		*len = rs.len;
	rs.body = NULL;
	client_response_cleanup(&rs);
	return 0;
}

int client_score(struct client *c, const char *scoring_uri, const char *key, const char *deployment,
		 const char *body, size_t len, int *status, char **out, size_t *out_len,
		 char *chosen, size_t chosen_len, double *latency_ms, struct error *err)
{
	char auth[4200], dep[300];
	const char *headers[] = {auth, deployment != NULL && deployment[0] ? dep : NULL, NULL};
	struct client_request rq = {.method = "POST", .url = scoring_uri, .body = body,
				    .len = len, .headers = headers, .auth = CLIENT_AUTH_NONE,
				    .no_retry = 1};
	struct client_response rs;

	if (chosen != NULL && chosen_len > 0)
		chosen[0] = '\0';
	*out = NULL;
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", key != NULL ? key : "");
	snprintf(dep, sizeof dep, "azureml-model-deployment: %s", deployment ? deployment : "");
	int rc = client_send(c, &rq, &rs, err);
	memset(auth, 0, sizeof auth);
	if (latency_ms != NULL)
		*latency_ms = rs.latency_ms;
	if (rc == 0) {
		*status = (int)rs.status;
		if (chosen != NULL && chosen_len > 0)
			client_header(&rs, "azureml-model-deployment", chosen, chosen_len);
		*out = rs.body;
		if (out_len != NULL)
			*out_len = rs.len;
		rs.body = NULL;
	}
	client_response_cleanup(&rs);
	return rc;
}
